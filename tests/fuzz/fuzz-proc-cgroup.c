/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_proc_cgroup(): /proc/PID/cgroup. */
#include "fuzz.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GHashTable) table = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        GHashTableIter iter;
        gpointer key, value;
        int r;

        r = capfs_parse_proc_cgroup((const char *) data, size, &table);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return 0;
        }

        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                const char *controller = key, *path = value;

                /* "" is the cgroup2 line; any other key is one controller of a list. */
                FUZZ_CHECK(!strpbrk(controller, ",:\n"));
                FUZZ_CHECK(path[0] == '/');
                FUZZ_CHECK(!strchr(path, '\n'));
                g_string_append_printf(text, "1:%s:%s\n", controller, path);
        }

        FUZZ_CHECK(capfs_parse_proc_cgroup(text->str, text->len, &again) == 0);
        FUZZ_CHECK(g_hash_table_size(again) == g_hash_table_size(table));
        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value))
                FUZZ_CHECK(g_strcmp0(g_hash_table_lookup(again, key), value) == 0);
        return 0;
}
