/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_cpuset(), and capfs_format_cpuset() round-tripping whatever it accepts. */
#include "fuzz.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GArray) cpus = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL), text_again = g_string_new(NULL);
        int r;

        r = capfs_parse_cpuset((const char *) data, size, &cpus);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                return 0;
        }
        FUZZ_CHECK(cpus && cpus->len <= CAPFS_CPUSET_LIMIT);
        for (guint i = 0; i < cpus->len; i++) {
                guint cpu = g_array_index(cpus, guint, i);

                FUZZ_CHECK(cpu < CAPFS_CPUSET_LIMIT);
                FUZZ_CHECK(i == 0 || g_array_index(cpus, guint, i - 1) < cpu);
        }

        capfs_format_cpuset((const guint *) cpus->data, cpus->len, text);
        r = capfs_parse_cpuset(text->str, text->len, &again);
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(again->len == cpus->len);
        /* An empty GArray's data may be NULL, which memcmp() must not see even for 0 bytes. */
        FUZZ_CHECK(cpus->len == 0 || memcmp(again->data, cpus->data, cpus->len * sizeof(guint)) == 0);

        /* The formatted form is canonical: formatting it again changes nothing. */
        capfs_format_cpuset((const guint *) again->data, again->len, text_again);
        FUZZ_CHECK(g_string_equal(text, text_again));
        return 0;
}
