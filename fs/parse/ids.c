/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ids the cgroup view reads and is given: a task's pid in each pid namespace
 * (NSpid), a pid written to cgroup.procs, and the user namespace maps.
 */
#include <limits.h>

#include "parse.h"
#include "scan.h"

int capfs_parse_status_nspids(const char *buf, size_t len, GArray **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;

        while (capfs_scan_line(&s, &line)) {
                g_autoptr(GArray) pids = NULL;

                if (!capfs_scan_word(&line, "NSpid:"))
                        continue;

                pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
                for (;;) {
                        size_t blanks = capfs_scan_skip_blanks(&line);
                        uint64_t value;
                        pid_t pid;
                        int r;

                        if (capfs_scan_rest_is_space(&line))
                                break;
                        if (blanks == 0)
                                return -EINVAL;
                        r = capfs_scan_u64(&line, &value);
                        if (r < 0)
                                return r;
                        if (value == 0)
                                return -EINVAL;
                        if (value > INT_MAX)
                                return -ERANGE;
                        /* No kernel nests pid namespaces deeper than 32; a longer line is not from one. */
                        if (pids->len >= CAPFS_PIDNS_LEVELS_MAX)
                                return -ERANGE;
                        pid = (pid_t) value;
                        g_array_append_val(pids, pid);
                }
                if (pids->len == 0)
                        return -EINVAL;
                *ret = g_steal_pointer(&pids);
                return 0;
        }
        return -ENOENT;
}

int capfs_parse_written_pid(const char *buf, size_t len, pid_t *ret) {
        CapfsScan s = capfs_scan_init(buf, len);
        const char *digits;
        uint64_t value;

        capfs_scan_skip_space(&s);
        digits = s.pos;
        if (capfs_scan_u64(&s, &value) < 0)
                return -EINVAL;
        /*
         * The kernel reads the value with base 0: "010" is 8 to it and "0x10" 16. Rather
         * than guess which pid a writer meant, only plain decimal is taken.
         */
        if (s.pos - digits > 1 && digits[0] == '0')
                return -EINVAL;
        if (!capfs_scan_rest_is_space(&s))
                return -EINVAL;
        if (value > INT_MAX)
                return -EINVAL;
        *ret = (pid_t) value;
        return 0;
}

/* Blanks, then a number: whatever else follows a number fails the next field's digit check. */
static int scan_u32_field(CapfsScan *line, uint32_t *ret) {
        uint64_t value;
        int r;

        capfs_scan_skip_blanks(line);
        r = capfs_scan_u64(line, &value);
        if (r < 0)
                return r;
        if (value > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) value;
        return 0;
}

int capfs_parse_id_map(const char *buf, size_t len, uint32_t id, uint32_t *ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        bool found = false;
        uint32_t mapped = 0;

        while (capfs_scan_line(&s, &line)) {
                uint32_t inside, outside, count;
                int r;

                if (capfs_scan_rest_is_space(&line))
                        continue;
                /* "         0     100000      65536": fields are right-aligned with blanks. */
                r = scan_u32_field(&line, &inside);
                if (r >= 0)
                        r = scan_u32_field(&line, &outside);
                if (r >= 0)
                        r = scan_u32_field(&line, &count);
                if (r < 0)
                        return r;
                if (!capfs_scan_rest_is_space(&line) || count == 0)
                        return -EINVAL;
                /* The kernel refuses ranges that wrap in 32 bits (so (u32) -1 is never in one); so does
                 * this. */
                if ((uint64_t) inside + count > UINT32_MAX || (uint64_t) outside + count > UINT32_MAX)
                        return -ERANGE;
                if (!found && id >= inside && (uint64_t) id <= (uint64_t) inside + count - 1) {
                        found = true;
                        mapped = outside + (id - inside);
                }
        }
        if (!found)
                return -ENOENT;
        *ret = mapped;
        return 0;
}
