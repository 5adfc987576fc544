/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the fuzz targets share: the libFuzzer entry point and checks that survive NDEBUG. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() is what libFuzzer and the replay driver both report as a crash. */
#define FUZZ_CHECK(cond)                                                                         \
        do {                                                                                     \
                if (!(cond)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                 \
                }                                                                                \
        } while (0)

/* A parser may only fail the ways parse.h documents. */
#define FUZZ_CHECK_ERRNO(r) FUZZ_CHECK((r) == -EINVAL || (r) == -ERANGE)

/* Two tables of string -> guint64*. */
static inline bool fuzz_u64_tables_equal(GHashTable *a, GHashTable *b) {
        GHashTableIter iter;
        gpointer key;

        if (g_hash_table_size(a) != g_hash_table_size(b))
                return false;
        g_hash_table_iter_init(&iter, a);
        while (g_hash_table_iter_next(&iter, &key, NULL)) {
                uint64_t mine, other;

                if (!capfs_keyed_get(a, key, &mine) || !capfs_keyed_get(b, key, &other) || mine != other)
                        return false;
        }
        return true;
}

/* A key of a parsed table: a non-empty C string that the parser cut at a field boundary. */
static inline void fuzz_check_key(const char *key) {
        FUZZ_CHECK(key && key[0] != '\0');
        for (const char *p = key; *p; p++)
                FUZZ_CHECK(*p != ' ' && *p != '\t' && *p != '\n');
}
