/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/uptime: "SECONDS.CC IDLE.CC", both in seconds with two decimals. */
#include "parse.h"
#include "scan.h"

int capfs_parse_uptime(const char *buf, size_t len, uint64_t *uptime_cs, uint64_t *idle_cs) {
        CapfsScan s = capfs_scan_init(buf, len);
        uint64_t uptime, idle;
        int r;

        capfs_scan_skip_space(&s);
        r = capfs_scan_hundredths(&s, &uptime);
        if (r < 0)
                return r;
        if (capfs_scan_skip_blanks(&s) == 0)
                return -EINVAL;
        r = capfs_scan_hundredths(&s, &idle);
        if (r < 0)
                return r;
        if (!capfs_scan_rest_is_space(&s))
                return -EINVAL;
        if (uptime_cs)
                *uptime_cs = uptime;
        if (idle_cs)
                *idle_cs = idle;
        return 0;
}
