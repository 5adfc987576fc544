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

/*
 * Values live in the table's value pointers where a pointer holds 64 bits: a render parses a
 * hundred of these lines, and a boxed value per line was as many allocations again.
 */
#if GLIB_SIZEOF_VOID_P >= 8
#define VALUE_STORE(v) ((gpointer) (guintptr) (v))
#define VALUE_LOAD(p) ((uint64_t) (guintptr) (p))
#define VALUE_FREE NULL
#else
#define VALUE_STORE(v) g_memdup2(&(guint64){(v)}, sizeof(guint64))
#define VALUE_LOAD(p) (*(const guint64 *) (p))
#define VALUE_FREE g_free
#endif

GHashTable *capfs_keyed_new(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, VALUE_FREE);
}

void capfs_keyed_set(GHashTable *table, char *key, uint64_t value) {
        g_hash_table_replace(table, key, VALUE_STORE(value));
}

int capfs_parse_keyed_u64(const char *buf, size_t len, GHashTable **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GHashTable) table = capfs_keyed_new();

        while (capfs_scan_line(&s, &line)) {
                CapfsScan key;
                uint64_t value;

                /* Newer kernels add lines of other shapes (memory.stat's per-node ones); they are not ours.
                 */
                if (!scan_keyed_line(&line, &key, &value))
                        continue;
                capfs_keyed_set(table, g_strndup(key.pos, capfs_scan_len(&key)), value);
        }

        *ret = g_steal_pointer(&table);
        return 0;
}

bool capfs_keyed_get(GHashTable *table, const char *key, uint64_t *ret) {
        gpointer value;

        if (!table || !key || !g_hash_table_lookup_extended(table, key, NULL, &value))
                return false;
        if (ret)
                *ret = VALUE_LOAD(value);
        return true;
}
