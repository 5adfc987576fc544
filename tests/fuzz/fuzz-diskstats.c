/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs_parse_diskstats(): /proc/diskstats, the devices and how many counters each line has. */
#include "fuzz.h"
#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GArray) lines = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        int r;

        r = capfs_parse_diskstats((const char *) data, size, &lines);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                FUZZ_CHECK(!lines);
                return 0;
        }

        for (guint i = 0; i < lines->len; i++) {
                const CapfsDiskstatsLine *line = &g_array_index(lines, CapfsDiskstatsLine, i);

                fuzz_check_key(line->name);
                FUZZ_CHECK(line->counters >= 11);
                /* Written back as the kernel prints it, the line must parse to the same. */
                g_string_append_printf(text, "%4u %7u %s", line->major, line->minor, line->name);
                for (unsigned c = 0; c < line->counters; c++)
                        g_string_append(text, " 0");
                g_string_append_c(text, '\n');
        }
        FUZZ_CHECK(capfs_parse_diskstats(text->str, text->len, &again) == 0);
        FUZZ_CHECK(again->len == lines->len);
        for (guint i = 0; i < lines->len; i++) {
                const CapfsDiskstatsLine *a = &g_array_index(lines, CapfsDiskstatsLine, i);
                const CapfsDiskstatsLine *b = &g_array_index(again, CapfsDiskstatsLine, i);

                FUZZ_CHECK(a->major == b->major && a->minor == b->minor && a->counters == b->counters);
                FUZZ_CHECK(g_str_equal(a->name, b->name));
        }
        return 0;
}
