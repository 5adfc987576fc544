/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/uptime: "SECONDS.CC IDLE.CC", both in seconds with two decimals. */
#include "parse.h"
#include "scan.h"

/* "123", "123.4" or "123.45"; digits past the second decimal are dropped, not rounded. */
static int scan_centiseconds(CapfsScan *s, uint64_t *ret) {
        uint64_t seconds, fraction = 0;
        unsigned digits = 0;
        int r;

        r = capfs_scan_u64(s, &seconds);
        if (r < 0)
                return r;
        if (capfs_scan_char(s, '.')) {
                for (; !capfs_scan_eof(s) && capfs_scan_is_digit(*s->pos); s->pos++, digits++)
                        if (digits < 2)
                                fraction = fraction * 10 + (uint64_t) (*s->pos - '0');
                if (digits == 0)
                        return -EINVAL;
                if (digits == 1)
                        fraction *= 10;
        }
        if (seconds > (UINT64_MAX - fraction) / 100)
                return -ERANGE;
        *ret = seconds * 100 + fraction;
        return 0;
}

int capfs_parse_uptime(const char *buf, size_t len, uint64_t *uptime_cs, uint64_t *idle_cs) {
        CapfsScan s = capfs_scan_init(buf, len);
        uint64_t uptime, idle;
        int r;

        capfs_scan_skip_space(&s);
        r = scan_centiseconds(&s, &uptime);
        if (r < 0)
                return r;
        if (capfs_scan_skip_blanks(&s) == 0)
                return -EINVAL;
        r = scan_centiseconds(&s, &idle);
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
