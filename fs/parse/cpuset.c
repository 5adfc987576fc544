/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CPU lists as cpuset.cpus, cpuset.effective_cpus and sys/devices/system/cpu/online print them. */
#include "parse.h"
#include "scan.h"

typedef struct CpuRange {
        unsigned first;
        unsigned last;
} CpuRange;

static int compare_ranges(gconstpointer a, gconstpointer b) {
        const CpuRange *x = a, *y = b;

        if (x->first != y->first)
                return x->first < y->first ? -1 : 1;
        if (x->last != y->last)
                return x->last < y->last ? -1 : 1;
        return 0;
}

/* "N" or "N-M", no blanks inside. */
static int scan_range(CapfsScan *s, CpuRange *ret) {
        uint64_t first, last;
        int r;

        r = capfs_scan_u64(s, &first);
        if (r < 0)
                return r;
        last = first;
        if (capfs_scan_char(s, '-')) {
                r = capfs_scan_u64(s, &last);
                if (r < 0)
                        return r;
        }
        if (first > last)
                return -EINVAL;
        if (last >= CAPFS_CPUSET_LIMIT)
                return -ERANGE;
        *ret = (CpuRange){(unsigned) first, (unsigned) last};
        return 0;
}

int capfs_parse_cpuset(const char *buf, size_t len, GArray **ret) {
        CapfsScan s = capfs_scan_init(buf, len);
        g_autoptr(GArray) ranges = g_array_new(FALSE, FALSE, sizeof(CpuRange));
        g_autoptr(GArray) cpus = g_array_new(FALSE, FALSE, sizeof(guint));
        unsigned next = 0; /* every CPU below is already in @cpus */
        int r;

        capfs_scan_skip_space(&s);
        while (!capfs_scan_eof(&s)) {
                CpuRange range;

                r = scan_range(&s, &range);
                if (r < 0)
                        return r;
                g_array_append_val(ranges, range);

                capfs_scan_skip_blanks(&s);
                if (capfs_scan_char(&s, ',')) {
                        capfs_scan_skip_blanks(&s);
                        /* A trailing comma must be followed by another item. */
                        if (capfs_scan_eof(&s))
                                return -EINVAL;
                        continue;
                }
                capfs_scan_skip_space(&s);
                if (!capfs_scan_eof(&s))
                        return -EINVAL;
        }

        /*
         * Merging sorted ranges instead of filling a bitmap per item keeps a long list of
         * "0-65535,0-65535,..." linear in the input; the output is bounded by the limit.
         */
        g_array_sort(ranges, compare_ranges);
        for (guint i = 0; i < ranges->len; i++) {
                const CpuRange *range = &g_array_index(ranges, CpuRange, i);

                for (unsigned cpu = MAX(range->first, next); cpu <= range->last; cpu++)
                        g_array_append_val(cpus, cpu);
                next = MAX(next, range->last + 1);
        }

        *ret = g_steal_pointer(&cpus);
        return 0;
}

void capfs_format_cpuset(const guint *cpus, size_t n, GString *out) {
        size_t i = 0;

        while (i < n) {
                size_t last = i;

                while (last + 1 < n && cpus[last] != G_MAXUINT && cpus[last + 1] == cpus[last] + 1)
                        last++;
                if (i > 0)
                        g_string_append_c(out, ',');
                if (last == i)
                        g_string_append_printf(out, "%u", cpus[i]);
                else
                        g_string_append_printf(out, "%u-%u", cpus[i], cpus[last]);
                i = last + 1;
        }
}
