/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_io_stat() and capfs_parse_blkio(): per-device I/O statistics. */
#include <inttypes.h>

#include "fuzz.h"
#include "parse/parse.h"

/* Checks the shape of a device table and writes it back in @separator's syntax. */
static void check_devices(GHashTable *devices, const char *separator, GString *text) {
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, devices);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                GHashTable *stats = value;
                GHashTableIter stat_iter;
                gpointer stat_key;
                unsigned major, minor;
                char canonical[32];
                int consumed = 0;

                /* "MAJ:MIN" as the kernel prints it, whatever zeros the input had. */
                FUZZ_CHECK(sscanf(key, "%u:%u%n", &major, &minor, &consumed) == 2);
                FUZZ_CHECK((size_t) consumed == strlen(key));
                snprintf(canonical, sizeof(canonical), "%u:%u", major, minor);
                FUZZ_CHECK(g_str_equal(canonical, key));
                FUZZ_CHECK(g_hash_table_size(stats) > 0);

                g_hash_table_iter_init(&stat_iter, stats);
                while (g_hash_table_iter_next(&stat_iter, &stat_key, NULL)) {
                        uint64_t stat_value;

                        fuzz_check_key(stat_key);
                        FUZZ_CHECK(capfs_keyed_get(stats, stat_key, &stat_value));
                        g_string_append_printf(text, "%s %s%s%" PRIu64 "\n", (const char *) key,
                                               (const char *) stat_key, separator, stat_value);
                }
        }
}

static void check_same_devices(GHashTable *a, GHashTable *b) {
        GHashTableIter iter;
        gpointer key, value;

        FUZZ_CHECK(g_hash_table_size(a) == g_hash_table_size(b));
        g_hash_table_iter_init(&iter, a);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                GHashTable *other = g_hash_table_lookup(b, key);

                FUZZ_CHECK(other && fuzz_u64_tables_equal(value, other));
        }
}

static void check_io_stat(const uint8_t *data, size_t size) {
        g_autoptr(GHashTable) devices = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        GHashTableIter iter;
        gpointer key, value;

        FUZZ_CHECK(capfs_parse_io_stat((const char *) data, size, &devices) == 0);
        g_hash_table_iter_init(&iter, devices);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                GHashTableIter stat_iter;
                gpointer stat_key;

                g_hash_table_iter_init(&stat_iter, value);
                while (g_hash_table_iter_next(&stat_iter, &stat_key, NULL))
                        FUZZ_CHECK(!strchr(stat_key, '='));
        }
        check_devices(devices, "=", text);
        FUZZ_CHECK(capfs_parse_io_stat(text->str, text->len, &again) == 0);
        check_same_devices(devices, again);
}

static void check_blkio(const uint8_t *data, size_t size) {
        g_autoptr(GHashTable) devices = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        GHashTableIter iter;
        gpointer value;

        FUZZ_CHECK(capfs_parse_blkio((const char *) data, size, &devices) == 0);
        g_hash_table_iter_init(&iter, devices);
        while (g_hash_table_iter_next(&iter, NULL, &value))
                FUZZ_CHECK(!g_hash_table_contains(value, "Total"));
        check_devices(devices, " ", text);
        FUZZ_CHECK(capfs_parse_blkio(text->str, text->len, &again) == 0);
        check_same_devices(devices, again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_io_stat(data, size);
        check_blkio(data, size);
        return 0;
}
