/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Single-value limit knobs (memory.max, memory.limit_in_bytes, pids.max, cpu.cfs_quota_us) and cpu.max. */
#include "parse.h"
#include "scan.h"

/*
 * v1 prints an unset memory limit as a huge number (PAGE_COUNTER_MAX pages in bytes); it
 * stays a number here, and callers cap it at the host's value like any other limit.
 */
static int scan_limit_value(CapfsScan *s, uint64_t *ret) {
        if (capfs_scan_word(s, "max") || capfs_scan_word(s, "-1")) {
                *ret = CAPFS_NO_LIMIT;
                return 0;
        }
        return capfs_scan_u64(s, ret);
}

int capfs_parse_limit(const char *buf, size_t len, uint64_t *ret) {
        CapfsScan s = capfs_scan_init(buf, len);
        uint64_t value;
        int r;

        capfs_scan_skip_space(&s);
        r = scan_limit_value(&s, &value);
        if (r < 0)
                return r;
        /* Also rejects "maxi", "-12" and "12abc", whose prefixes matched. */
        if (!capfs_scan_rest_is_space(&s))
                return -EINVAL;
        *ret = value;
        return 0;
}

int capfs_parse_cpu_max(const char *buf, size_t len, uint64_t *quota, uint64_t *period) {
        CapfsScan s = capfs_scan_init(buf, len);
        uint64_t q, p;
        int r;

        capfs_scan_skip_space(&s);
        if (capfs_scan_word(&s, "max"))
                q = CAPFS_NO_LIMIT;
        else {
                r = capfs_scan_u64(&s, &q);
                if (r < 0)
                        return r;
        }
        if (capfs_scan_skip_blanks(&s) == 0)
                return -EINVAL;
        r = capfs_scan_u64(&s, &p);
        if (r < 0)
                return r;
        if (!capfs_scan_rest_is_space(&s))
                return -EINVAL;
        /* Callers divide by the period. */
        if (p == 0)
                return -EINVAL;
        *quota = q;
        *period = p;
        return 0;
}
