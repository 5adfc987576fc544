/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fs/parse/ids.c: NSpid lines, pids written to cgroup.procs, and user namespace maps. */
#include <limits.h>

#include "fuzz.h"
#include "parse/parse.h"

static void check_nspids(const uint8_t *data, size_t size) {
        g_autoptr(GArray) pids = NULL;
        int r;

        r = capfs_parse_status_nspids((const char *) data, size, &pids);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL || r == -ERANGE || r == -ENOENT);
                FUZZ_CHECK(pids == NULL);
                return;
        }
        FUZZ_CHECK(pids->len >= 1 && pids->len <= CAPFS_PIDNS_LEVELS_MAX);
        for (guint i = 0; i < pids->len; i++)
                FUZZ_CHECK(g_array_index(pids, pid_t, i) > 0);
}

static void check_written_pid(const uint8_t *data, size_t size) {
        g_autofree char *again = NULL;
        pid_t pid = -1, reparsed = -1;
        int r;

        r = capfs_parse_written_pid((const char *) data, size, &pid);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL);
                FUZZ_CHECK(pid == -1);
                return;
        }
        FUZZ_CHECK(pid >= 0);
        /* What is taken is exactly one canonical decimal number: printing it reads back the same. */
        again = g_strdup_printf("%d", (int) pid);
        FUZZ_CHECK(capfs_parse_written_pid(again, strlen(again), &reparsed) == 0 && reparsed == pid);
        for (size_t i = 0; i < size; i++)
                FUZZ_CHECK(data[i] != '-' && data[i] != '+' && data[i] != 'x');
}

static void check_id_map(const uint8_t *data, size_t size) {
        const uint32_t ids[] = {0, 1, 65536, UINT32_MAX - 1};

        for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
                uint32_t mapped = 12345;
                int r = capfs_parse_id_map((const char *) data, size, ids[i], &mapped);

                if (r < 0) {
                        FUZZ_CHECK(r == -EINVAL || r == -ERANGE || r == -ENOENT);
                        FUZZ_CHECK(mapped == 12345);
                        continue;
                }
                /* No valid map reaches (u32) -1, the kernel's "no id". */
                FUZZ_CHECK(mapped != UINT32_MAX);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_nspids(data, size);
        check_written_pid(data, size);
        check_id_map(data, size);
        return 0;
}
