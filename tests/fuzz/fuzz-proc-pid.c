/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_status_nspid() and capfs_parse_pid_stat(): /proc/PID/status and /proc/PID/{,task/TID/}stat. */
#include "fuzz.h"
#include "parse/parse.h"

static void check_nspid(const uint8_t *data, size_t size) {
        pid_t innermost;
        unsigned levels;
        int r;

        r = capfs_parse_status_nspid((const char *) data, size, &innermost, &levels);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL || r == -ERANGE || r == -ENOENT);
                return;
        }
        FUZZ_CHECK(innermost > 0);
        FUZZ_CHECK(levels >= 1);
}

static void check_pid_stat(const uint8_t *data, size_t size) {
        CapfsPidStat stat;
        int r;

        r = capfs_parse_pid_stat((const char *) data, size, &stat);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return;
        }
        FUZZ_CHECK(stat.ppid >= 0);
        FUZZ_CHECK(stat.num_threads >= 1);
        FUZZ_CHECK(stat.state != ' ' && stat.state != '\t' && stat.state != '\n');
}

/* The task name is the task's choice: used as one, any bytes must leave the other fields intact. */
static void check_stat_with_comm(const uint8_t *data, size_t size) {
        g_autoptr(GString) line = g_string_new("4242 (");
        CapfsPidStat stat = {0};

        g_string_append_len(line, (const char *) data, (gssize) size);
        g_string_append(line, ") D 31 1 1 0 -1 4194560 1 0 0 0 5 6 0 0 -51 -20 17 0 987654 2445312 220 0\n");
        FUZZ_CHECK(capfs_parse_pid_stat(line->str, line->len, &stat) == 0);
        FUZZ_CHECK(stat.state == 'D' && stat.ppid == 31 && stat.num_threads == 17 &&
                   stat.starttime == 987654);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_nspid(data, size);
        check_pid_stat(data, size);
        check_stat_with_comm(data, size);
        return 0;
}
