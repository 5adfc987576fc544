/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/loadavg: "LOAD1 LOAD5 LOAD15 RUNNING/TOTAL LASTPID", loads with two decimals. */
#include "parse.h"
#include "scan.h"

int capfs_parse_loadavg(const char *buf, size_t len, CapfsLoadavgLine *ret) {
        CapfsScan s = capfs_scan_init(buf, len);
        CapfsLoadavgLine line;
        uint64_t last_pid;
        int r;

        capfs_scan_skip_space(&s);
        for (unsigned i = 0; i < G_N_ELEMENTS(line.load_hundredths); i++) {
                r = capfs_scan_hundredths(&s, &line.load_hundredths[i]);
                if (r < 0)
                        return r;
                if (capfs_scan_skip_blanks(&s) == 0)
                        return -EINVAL;
        }
        r = capfs_scan_u64(&s, &line.running);
        if (r < 0)
                return r;
        if (!capfs_scan_char(&s, '/'))
                return -EINVAL;
        r = capfs_scan_u64(&s, &line.total);
        if (r < 0)
                return r;
        if (capfs_scan_skip_blanks(&s) == 0)
                return -EINVAL;
        r = capfs_scan_u64(&s, &last_pid);
        if (r < 0)
                return r;
        if (!capfs_scan_rest_is_space(&s))
                return -EINVAL;
        *ret = line;
        return 0;
}
