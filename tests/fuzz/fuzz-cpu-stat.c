/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs_parse_stat_cpus(), capfs_parse_u64_list() and capfs_parse_cpuacct_usage_all():
 * CPU time as /proc/stat and cgroup v1 cpuacct print it. Whatever parses must print
 * back, in the kernel's syntax, to text that parses to the same values.
 */
#include <inttypes.h>

#include "fuzz.h"
#include "parse/parse.h"

static void check_stat_cpus(const uint8_t *data, size_t size) {
        g_autoptr(GArray) lines = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        int r;

        r = capfs_parse_stat_cpus((const char *) data, size, &lines);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                FUZZ_CHECK(!lines);
                return;
        }
        FUZZ_CHECK(lines->len > 0);
        for (guint i = 0; i < lines->len; i++) {
                const CapfsStatCpu *l = &g_array_index(lines, CapfsStatCpu, i);

                FUZZ_CHECK(l->cpu >= -1 && l->cpu < (int) CAPFS_CPUSET_LIMIT);
                FUZZ_CHECK(l->fields >= 4 && l->fields <= CAPFS_STAT_CPU_FIELDS);
                if (l->cpu < 0)
                        g_string_append(text, "cpu ");
                else
                        g_string_append_printf(text, "cpu%d", l->cpu);
                for (unsigned f = 0; f < l->fields; f++)
                        g_string_append_printf(text, " %" PRIu64, l->value[f]);
                for (unsigned f = l->fields; f < CAPFS_STAT_CPU_FIELDS; f++)
                        FUZZ_CHECK(l->value[f] == 0);
                g_string_append_c(text, '\n');
        }
        FUZZ_CHECK(capfs_parse_stat_cpus(text->str, text->len, &again) == 0);
        FUZZ_CHECK(again->len == lines->len);
        FUZZ_CHECK(memcmp(again->data, lines->data, lines->len * sizeof(CapfsStatCpu)) == 0);
}

static void print_u64s(const GArray *values, GString *text) {
        for (guint i = 0; i < values->len; i++)
                g_string_append_printf(text, "%" PRIu64 " ", g_array_index(values, guint64, i));
        g_string_append_c(text, '\n');
}

static bool same_u64s(const GArray *a, const GArray *b) {
        return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len * sizeof(guint64)) == 0);
}

static void check_u64_list(const uint8_t *data, size_t size) {
        g_autoptr(GArray) values = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        int r;

        r = capfs_parse_u64_list((const char *) data, size, &values);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                FUZZ_CHECK(!values);
                return;
        }
        FUZZ_CHECK(values->len <= CAPFS_CPUSET_LIMIT);
        print_u64s(values, text);
        FUZZ_CHECK(capfs_parse_u64_list(text->str, text->len, &again) == 0);
        FUZZ_CHECK(same_u64s(values, again));
}

static void check_usage_all(const uint8_t *data, size_t size) {
        g_autoptr(GArray) user = NULL, system = NULL, user2 = NULL, system2 = NULL;
        g_autoptr(GString) text = g_string_new("cpu user system\n");
        int r;

        r = capfs_parse_cpuacct_usage_all((const char *) data, size, &user, &system);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                FUZZ_CHECK(!user && !system);
                return;
        }
        FUZZ_CHECK(user->len == system->len && user->len <= CAPFS_CPUSET_LIMIT);
        for (guint i = 0; i < user->len; i++)
                g_string_append_printf(text, "%u %" PRIu64 " %" PRIu64 "\n", i,
                                       g_array_index(user, guint64, i), g_array_index(system, guint64, i));
        FUZZ_CHECK(capfs_parse_cpuacct_usage_all(text->str, text->len, &user2, &system2) == 0);
        FUZZ_CHECK(same_u64s(user, user2) && same_u64s(system, system2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_stat_cpus(data, size);
        check_u64_list(data, size);
        check_usage_all(data, size);
        return 0;
}
