/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "key value" statistics: memory.stat, cpu.stat, cpuacct.stat, /proc/meminfo. */
#include "parse.h"
#include "scan.h"

/* "key 123", "Key:   123 kB": false for any other shape. */
static bool scan_keyed_line(CapfsScan *line, CapfsScan *key, uint64_t *value) {
        if (!capfs_scan_token(line, key))
                return false;
        if (key->end[-1] == ':')
                key->end--;
        if (capfs_scan_len(key) == 0 || capfs_scan_has_nul(key))
                return false;
        if (capfs_scan_skip_blanks(line) == 0)
                return false;
        if (capfs_scan_u64(line, value) < 0)
                return false;
        if (capfs_scan_skip_blanks(line) > 0)
                (void) capfs_scan_word(line, "kB");
        return capfs_scan_rest_is_space(line);
}

int capfs_parse_keyed_u64(const char *buf, size_t len, GHashTable **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GHashTable) table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

        while (capfs_scan_line(&s, &line)) {
                CapfsScan key;
                uint64_t value;
                guint64 *stored;

                /* Newer kernels add lines of other shapes (memory.stat's per-node ones); they are not ours.
                 */
                if (!scan_keyed_line(&line, &key, &value))
                        continue;
                stored = g_new(guint64, 1);
                *stored = value;
                g_hash_table_replace(table, g_strndup(key.pos, capfs_scan_len(&key)), stored);
        }

        *ret = g_steal_pointer(&table);
        return 0;
}

bool capfs_keyed_get(GHashTable *table, const char *key, uint64_t *ret) {
        const guint64 *value;

        if (!table || !key)
                return false;
        value = g_hash_table_lookup(table, key);
        if (!value)
                return false;
        if (ret)
                *ret = *value;
        return true;
}
