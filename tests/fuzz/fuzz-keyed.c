/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_keyed_u64(): memory.stat, cpu.stat, /proc/meminfo. */
#include <inttypes.h>

#include "fuzz.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GHashTable) table = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        GHashTableIter iter;
        gpointer key;

        FUZZ_CHECK(capfs_parse_keyed_u64((const char *) data, size, &table) == 0);
        FUZZ_CHECK(table);

        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                uint64_t looked_up;

                fuzz_check_key(key);
                FUZZ_CHECK(capfs_keyed_get(table, key, &looked_up));
                /* "key:" would lose its own colon when read back; the written one goes first. */
                g_string_append_printf(text, "%s:\t%" PRIu64 " kB\n", (const char *) key, looked_up);
        }

        FUZZ_CHECK(capfs_parse_keyed_u64(text->str, text->len, &again) == 0);
        FUZZ_CHECK(fuzz_u64_tables_equal(table, again));
        return 0;
}
