/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/status and /proc/PID/stat: the fields that find a container's init. */
#include <limits.h>

#include "parse.h"
#include "scan.h"

static int scan_pid(CapfsScan *s, pid_t *ret) {
        uint64_t value;
        int r;

        r = capfs_scan_u64(s, &value);
        if (r < 0)
                return r;
        if (value > INT_MAX)
                return -ERANGE;
        *ret = (pid_t) value;
        return 0;
}

int capfs_parse_status_nspid(const char *buf, size_t len, pid_t *innermost, unsigned *levels) {
        CapfsScan s = capfs_scan_init(buf, len), line;

        while (capfs_scan_line(&s, &line)) {
                pid_t pid = 0;
                unsigned count = 0;
                int r;

                if (!capfs_scan_word(&line, "NSpid:"))
                        continue;

                /* "NSpid:\t2000\t1": from the pid namespace of this /proc down to the process's own. */
                for (;;) {
                        size_t blanks = capfs_scan_skip_blanks(&line);

                        if (capfs_scan_rest_is_space(&line))
                                break;
                        if (blanks == 0)
                                return -EINVAL;
                        r = scan_pid(&line, &pid);
                        if (r < 0)
                                return r;
                        if (pid == 0)
                                return -EINVAL;
                        if (count == UINT_MAX)
                                return -ERANGE;
                        count++;
                }
                if (count == 0)
                        return -EINVAL;
                if (innermost)
                        *innermost = pid;
                if (levels)
                        *levels = count;
                return 0;
        }
        /* Kernels before 4.1 have no NSpid line. */
        return -ENOENT;
}

/* One signed decimal field of /proc/PID/stat (tpgid and nice can be negative), preceded by its space. */
static int skip_stat_field(CapfsScan *s) {
        uint64_t ignored;

        if (!capfs_scan_char(s, ' '))
                return -EINVAL;
        (void) capfs_scan_char(s, '-');
        return capfs_scan_u64(s, &ignored);
}

int capfs_parse_pid_stat(const char *buf, size_t len, CapfsPidStat *ret) {
        CapfsScan s = capfs_scan_init(buf, len);
        CapfsPidStat stat = {0};
        const char *comm_end;
        uint64_t threads;
        pid_t pid;
        int r;

        r = scan_pid(&s, &pid);
        if (r < 0)
                return r;
        if (!capfs_scan_word(&s, " ("))
                return -EINVAL;
        /*
         * The task name may contain anything, ")" and " (" and newlines included, up to
         * TASK_COMM_LEN or longer for workqueue threads; nothing after it contains ')'.
         */
        comm_end = memrchr(s.pos, ')', capfs_scan_len(&s));
        if (!comm_end)
                return -EINVAL;
        s.pos = comm_end + 1;

        if (!capfs_scan_char(&s, ' ') || capfs_scan_eof(&s) || capfs_scan_is_space(*s.pos))
                return -EINVAL;
        stat.state = *s.pos++;
        if (!capfs_scan_char(&s, ' '))
                return -EINVAL;
        r = scan_pid(&s, &stat.ppid);
        if (r < 0)
                return r;
        /* Fields 5 (pgrp) to 19 (nice) lie between ppid and num_threads. */
        for (unsigned field = 5; field <= 19; field++) {
                r = skip_stat_field(&s);
                if (r < 0)
                        return r;
        }
        if (!capfs_scan_char(&s, ' '))
                return -EINVAL;
        r = capfs_scan_u64(&s, &threads);
        if (r < 0)
                return r;
        if (threads == 0 || threads > UINT32_MAX)
                return -EINVAL;
        stat.num_threads = (unsigned) threads;
        /* Field 21, itrealvalue. */
        r = skip_stat_field(&s);
        if (r < 0)
                return r;
        if (!capfs_scan_char(&s, ' '))
                return -EINVAL;
        r = capfs_scan_u64(&s, &stat.starttime);
        if (r < 0)
                return r;
        if (!capfs_scan_eof(&s) && !capfs_scan_is_space(*s.pos))
                return -EINVAL;

        *ret = stat;
        return 0;
}
