/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/diskstats: which devices the host has, and how many counters its kernel prints per line. */
#include "parse.h"
#include "scan.h"

static void clear_line(gpointer data) {
        CapfsDiskstatsLine *line = data;

        g_free(line->name);
}

static int parse_line(CapfsScan *line, CapfsDiskstatsLine *ret) {
        uint64_t major, minor, ignored;
        CapfsScan name;
        unsigned counters = 0;

        capfs_scan_skip_blanks(line);
        if (capfs_scan_u64(line, &major) < 0 || capfs_scan_skip_blanks(line) == 0 ||
            capfs_scan_u64(line, &minor) < 0 || capfs_scan_skip_blanks(line) == 0 ||
            !capfs_scan_token(line, &name))
                return -EINVAL;
        if (major > UINT32_MAX || minor > UINT32_MAX)
                return -ERANGE;
        if (capfs_scan_has_nul(&name))
                return -EINVAL;

        for (;;) {
                size_t blanks = capfs_scan_skip_blanks(line);

                if (capfs_scan_rest_is_space(line))
                        break;
                if (blanks == 0 || capfs_scan_u64(line, &ignored) < 0)
                        return -EINVAL;
                counters++;
        }
        /* The oldest format (before 4.18) has 11 counters; fewer means this is not diskstats. */
        if (counters < 11)
                return -EINVAL;

        *ret = (CapfsDiskstatsLine){
                .major = (unsigned) major,
                .minor = (unsigned) minor,
                .name = g_strndup(name.pos, capfs_scan_len(&name)),
                .counters = counters,
        };
        return 0;
}

int capfs_parse_diskstats(const char *buf, size_t len, GArray **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GArray) lines = g_array_new(false, false, sizeof(CapfsDiskstatsLine));

        g_array_set_clear_func(lines, clear_line);
        while (capfs_scan_line(&s, &line)) {
                CapfsDiskstatsLine parsed;
                int r;

                if (capfs_scan_rest_is_space(&line))
                        continue;
                r = parse_line(&line, &parsed);
                if (r < 0)
                        return r;
                g_array_append_val(lines, parsed);
        }

        *ret = g_steal_pointer(&lines);
        return 0;
}
