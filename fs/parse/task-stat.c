/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/stat for the load sampler: the task's state and its process's thread count. */
#include "parse.h"
#include "scan.h"

/* A field that may be negative (tpgid, priority, nice), with the space before it. */
static int skip_signed_field(CapfsScan *s) {
        uint64_t ignored;

        if (!capfs_scan_char(s, ' '))
                return -EINVAL;
        (void) capfs_scan_char(s, '-');
        return capfs_scan_u64(s, &ignored);
}

int capfs_parse_task_stat(const char *buf, size_t len, char *state, unsigned *threads) {
        CapfsScan s = capfs_scan_init(buf, len);
        const char *comm_end;
        uint64_t pid, nr;
        char st;
        int r;

        r = capfs_scan_u64(&s, &pid);
        if (r < 0)
                return r;
        if (!capfs_scan_word(&s, " ("))
                return -EINVAL;
        /* The name may hold ")" itself; no field after it does, so the last one ends it. */
        comm_end = memrchr(s.pos, ')', capfs_scan_len(&s));
        if (!comm_end)
                return -EINVAL;
        s.pos = comm_end + 1;
        if (!capfs_scan_char(&s, ' ') || capfs_scan_eof(&s) || capfs_scan_is_space(*s.pos))
                return -EINVAL;
        st = *s.pos++;

        /* Fields 4 (ppid) to 19 (nice), then 20: num_threads. */
        for (unsigned field = 4; field <= 19; field++) {
                r = skip_signed_field(&s);
                if (r < 0)
                        return r;
        }
        if (!capfs_scan_char(&s, ' '))
                return -EINVAL;
        r = capfs_scan_u64(&s, &nr);
        if (r < 0)
                return r;
        if (nr == 0 || nr > UINT32_MAX || (!capfs_scan_eof(&s) && !capfs_scan_is_space(*s.pos)))
                return -EINVAL;

        if (state)
                *state = st;
        if (threads)
                *threads = (unsigned) nr;
        return 0;
}
