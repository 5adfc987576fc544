/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_task_stat(): a task's state and its process's thread count, from /proc/PID/stat. */
#include "fuzz.h"
#include "parse/parse.h"

static void check_task_stat(const uint8_t *data, size_t size) {
        char state = 0;
        unsigned threads = 0;
        int r;

        r = capfs_parse_task_stat((const char *) data, size, &state, &threads);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return;
        }
        FUZZ_CHECK(threads >= 1);
        FUZZ_CHECK(state != ' ' && state != '\t' && state != '\n');
}

/* The task name is the task's choice: whatever it holds, the fields after it must come out intact. */
static void check_stat_with_comm(const uint8_t *data, size_t size) {
        g_autoptr(GString) stat = g_string_new("4242 (");
        char state = 0;
        unsigned threads = 0;

        g_string_append_len(stat, (const char *) data, (gssize) size);
        g_string_append(stat, ") D 31 1 1 0 -1 4194560 1 0 0 0 5 6 0 0 -51 -20 17 0 987654 2445312 220 0\n");
        FUZZ_CHECK(capfs_parse_task_stat(stat->str, stat->len, &state, &threads) == 0);
        FUZZ_CHECK(state == 'D' && threads == 17);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_task_stat(data, size);
        check_stat_with_comm(data, size);
        return 0;
}
