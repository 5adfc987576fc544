/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-device I/O statistics: cgroup2 io.stat and the v1 blkio.* files. */
#include "parse.h"
#include "scan.h"

static GHashTable *new_device_table(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
}

/* "8:0", written back as "%u:%u" so that "08:00" and "8:0" are one device. */
static int scan_device(CapfsScan *line, char **ret) {
        uint64_t major, minor;

        if (capfs_scan_u64(line, &major) < 0 || !capfs_scan_char(line, ':') ||
            capfs_scan_u64(line, &minor) < 0)
                return -EINVAL;
        if (major > UINT32_MAX || minor > UINT32_MAX)
                return -ERANGE;
        if (!capfs_scan_eof(line) && !capfs_scan_is_blank(*line->pos))
                return -EINVAL;
        *ret = g_strdup_printf("%u:%u", (unsigned) major, (unsigned) minor);
        return 0;
}

static void set_device_stat(GHashTable *devices, const char *device, const CapfsScan *key, uint64_t value) {
        GHashTable *stats = g_hash_table_lookup(devices, device);

        if (!stats) {
                stats = capfs_keyed_new();
                g_hash_table_insert(devices, g_strdup(device), stats);
        }
        capfs_keyed_set(stats, g_strndup(key->pos, capfs_scan_len(key)), value);
}

/* "rbytes=123": false for a pair of another shape, such as iocost's "cost.vrate=100.00". */
static bool scan_pair(const CapfsScan *pair, CapfsScan *key, uint64_t *value) {
        const char *equals = memchr(pair->pos, '=', capfs_scan_len(pair));
        CapfsScan number;

        if (!equals || equals == pair->pos)
                return false;
        *key = (CapfsScan){pair->pos, equals};
        if (capfs_scan_has_nul(key))
                return false;
        number = (CapfsScan){equals + 1, pair->end};
        return capfs_scan_u64(&number, value) >= 0 && capfs_scan_eof(&number);
}

int capfs_parse_io_stat(const char *buf, size_t len, GHashTable **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GHashTable) devices = new_device_table();

        while (capfs_scan_line(&s, &line)) {
                g_autofree char *device = NULL;
                CapfsScan pair;

                if (scan_device(&line, &device) < 0)
                        continue;
                for (;;) {
                        CapfsScan key;
                        uint64_t value;

                        capfs_scan_skip_space(&line);
                        if (!capfs_scan_token(&line, &pair))
                                break;
                        if (scan_pair(&pair, &key, &value))
                                set_device_stat(devices, device, &key, value);
                }
        }

        *ret = g_steal_pointer(&devices);
        return 0;
}

int capfs_parse_blkio(const char *buf, size_t len, GHashTable **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GHashTable) devices = new_device_table();

        while (capfs_scan_line(&s, &line)) {
                g_autofree char *device = NULL;
                CapfsScan op;
                uint64_t value;

                /* The closing "Total N" line has no device and goes here too. */
                if (scan_device(&line, &device) < 0)
                        continue;
                if (capfs_scan_skip_blanks(&line) == 0 || !capfs_scan_token(&line, &op) ||
                    capfs_scan_has_nul(&op))
                        continue;
                if (capfs_scan_skip_blanks(&line) == 0 || capfs_scan_u64(&line, &value) < 0 ||
                    !capfs_scan_rest_is_space(&line))
                        continue;
                /* The sum of the device's other lines; callers add up what they need. */
                if (capfs_scan_equals(&op, "Total"))
                        continue;
                set_device_stat(devices, device, &op, value);
        }

        *ret = g_steal_pointer(&devices);
        return 0;
}
