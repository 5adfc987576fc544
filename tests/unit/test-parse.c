/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel text parsers. Every input is handed over in a heap buffer of exactly its
 * length, without a NUL after it, so that a read past the end trips ASan in the sanitized
 * build instead of finding a convenient terminator.
 */
#include <errno.h>
#include <limits.h>

#include "parse/parse.h"

/* String literals keep their embedded NULs this way. */
#define TEXT(literal) (literal), (sizeof(literal) - 1)

static char *exact_copy(const char *text, size_t len) {
        return len > 0 ? g_memdup2(text, len) : NULL;
}

static int parse_cpuset(const char *text, size_t len, GArray **ret) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_cpuset(copy, len, ret);
}

static void assert_cpus(GArray *cpus, const guint *expected, size_t n) {
        g_assert_nonnull(cpus);
        g_assert_cmpmem(cpus->data, cpus->len * sizeof(guint), expected, n * sizeof(guint));
}

/* Parses @text, which must succeed, and compares the CPUs. */
static void check_cpuset(const char *text, size_t len, const guint *expected, size_t n) {
        g_autoptr(GArray) cpus = NULL;

        g_test_message("cpuset %.*s", (int) len, text);
        g_assert_cmpint(parse_cpuset(text, len, &cpus), ==, 0);
        assert_cpus(cpus, expected, n);
}

static void check_cpuset_error(const char *text, size_t len, int expected) {
        GArray *untouched = (GArray *) 0x1;

        g_test_message("cpuset %.*s", (int) len, text);
        g_assert_cmpint(parse_cpuset(text, len, &untouched), ==, expected);
        g_assert_true(untouched == (GArray *) 0x1);
}

static void test_cpuset_lists(void) {
        check_cpuset(TEXT("0-3,8,10-11\n"), (guint[]){0, 1, 2, 3, 8, 10, 11}, 7);
        check_cpuset(TEXT("0-3,8,10-11"), (guint[]){0, 1, 2, 3, 8, 10, 11}, 7);
        check_cpuset(TEXT("5"), (guint[]){5}, 1);
        check_cpuset(TEXT("1,3\n"), (guint[]){1, 3}, 2);
        check_cpuset(TEXT("0-0"), (guint[]){0}, 1);
        /* Leading zeros are still decimal, not octal. */
        check_cpuset(TEXT("010"), (guint[]){10}, 1);
        check_cpuset(TEXT("65535"), (guint[]){65535}, 1);
}

static void test_cpuset_empty(void) {
        g_autoptr(GArray) a = NULL, b = NULL, c = NULL, d = NULL;

        g_assert_cmpint(capfs_parse_cpuset(NULL, 0, &a), ==, 0);
        g_assert_cmpuint(a->len, ==, 0);
        g_assert_cmpint(capfs_parse_cpuset("", 0, &b), ==, 0);
        g_assert_cmpuint(b->len, ==, 0);
        g_assert_cmpint(parse_cpuset(TEXT("\n"), &c), ==, 0);
        g_assert_cmpuint(c->len, ==, 0);
        g_assert_cmpint(parse_cpuset(TEXT(" \t\n"), &d), ==, 0);
        g_assert_cmpuint(d->len, ==, 0);
}

static void test_cpuset_spaces(void) {
        check_cpuset(TEXT(" 0-1 , 3 \n"), (guint[]){0, 1, 3}, 3);
        check_cpuset(TEXT("0-1,\t3"), (guint[]){0, 1, 3}, 3);
        /* Blanks separate items; inside "N-M" they make no sense. */
        check_cpuset_error(TEXT("0 -1"), -EINVAL);
        check_cpuset_error(TEXT("0- 1"), -EINVAL);
        check_cpuset_error(TEXT("0 1"), -EINVAL);
        check_cpuset_error(TEXT("0,\n1"), -EINVAL);
}

static void test_cpuset_merged(void) {
        /* The kernel prints sorted disjoint ranges; written lists need not be. */
        check_cpuset(TEXT("8,0-3,2-5,3"), (guint[]){0, 1, 2, 3, 4, 5, 8}, 7);
        check_cpuset(TEXT("3,3,3"), (guint[]){3}, 1);
        check_cpuset(TEXT("4-7,0-9"), (guint[]){0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10);
        check_cpuset(TEXT("0-1,2-3"), (guint[]){0, 1, 2, 3}, 4);
}

static void test_cpuset_malformed(void) {
        check_cpuset_error(TEXT("3-1"), -EINVAL);
        check_cpuset_error(TEXT("1-0"), -EINVAL);
        check_cpuset_error(TEXT("1,,2"), -EINVAL);
        check_cpuset_error(TEXT(",1"), -EINVAL);
        check_cpuset_error(TEXT("1,"), -EINVAL);
        check_cpuset_error(TEXT("1,\n"), -EINVAL);
        check_cpuset_error(TEXT("1-"), -EINVAL);
        check_cpuset_error(TEXT("-1"), -EINVAL);
        check_cpuset_error(TEXT("1-2-3"), -EINVAL);
        check_cpuset_error(TEXT("a"), -EINVAL);
        check_cpuset_error(TEXT("0x1"), -EINVAL);
        check_cpuset_error(TEXT("+1"), -EINVAL);
        /* The kernel's stride syntax is accepted on write but never printed. */
        check_cpuset_error(TEXT("0-7:2/4"), -EINVAL);
        check_cpuset_error(TEXT("0\0,1"), -EINVAL);
        check_cpuset_error(TEXT("0-3\0"), -EINVAL);
}

static void test_cpuset_range_limit(void) {
        g_autoptr(GArray) cpus = NULL;

        check_cpuset_error(TEXT("65536"), -ERANGE);
        check_cpuset_error(TEXT("0-65536"), -ERANGE);
        check_cpuset_error(TEXT("0-4294967295"), -ERANGE);
        check_cpuset_error(TEXT("0-4294967296"), -ERANGE);
        check_cpuset_error(TEXT("99999999999999999999999"), -ERANGE);
        /* Reversed wins over too large: both are wrong, the first reason is reported. */
        check_cpuset_error(TEXT("70000-1"), -EINVAL);

        g_assert_cmpint(parse_cpuset(TEXT("0-65535\n"), &cpus), ==, 0);
        g_assert_cmpuint(cpus->len, ==, CAPFS_CPUSET_LIMIT);
        g_assert_cmpuint(g_array_index(cpus, guint, 0), ==, 0);
        g_assert_cmpuint(g_array_index(cpus, guint, CAPFS_CPUSET_LIMIT - 1), ==, CAPFS_CPUSET_LIMIT - 1);
}

/* Many overlapping whole ranges must cost the input's length, not length x CPUs. */
static void test_cpuset_huge_input(void) {
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(GArray) cpus = NULL;
        g_autofree char *copy = NULL;

        for (unsigned i = 0; i < 200000; i++)
                g_string_append(text, i ? ",0-65535" : "0-65535");
        copy = exact_copy(text->str, text->len);
        g_assert_cmpint(capfs_parse_cpuset(copy, text->len, &cpus), ==, 0);
        g_assert_cmpuint(cpus->len, ==, CAPFS_CPUSET_LIMIT);
        for (guint i = 0; i < cpus->len; i++)
                g_assert_cmpuint(g_array_index(cpus, guint, i), ==, i);
}

/* Only @len bytes count, whatever follows them in memory. */
static void test_cpuset_length_respected(void) {
        const char text[] = "0-31,40";

        check_cpuset(text, 3, (guint[]){0, 1, 2, 3}, 4);
        check_cpuset(text, 1, (guint[]){0}, 1);
        check_cpuset_error(text, 2, -EINVAL);
        check_cpuset_error(text, 5, -EINVAL);
}

static void check_format(const guint *cpus, size_t n, const char *expected) {
        g_autoptr(GString) out = g_string_new("cpus=");
        g_autoptr(GArray) parsed = NULL;

        capfs_format_cpuset(cpus, n, out);
        g_assert_cmpstr(out->str + strlen("cpus="), ==, expected);
        /* And back: what is printed parses to the same CPUs. */
        g_assert_cmpint(parse_cpuset(expected, strlen(expected), &parsed), ==, 0);
        assert_cpus(parsed, cpus, n);
}

static void test_cpuset_format(void) {
        check_format(NULL, 0, "");
        check_format((guint[]){5}, 1, "5");
        check_format((guint[]){0, 1}, 2, "0-1");
        check_format((guint[]){1, 3}, 2, "1,3");
        check_format((guint[]){0, 1, 2, 3, 8, 10, 11}, 7, "0-3,8,10-11");
        check_format((guint[]){0, 2, 3, 4, 6}, 5, "0,2-4,6");
        check_format((guint[]){65534, 65535}, 2, "65534-65535");
}

static void test_cpuset_format_no_wraparound(void) {
        g_autoptr(GString) out = g_string_new(NULL);

        /* G_MAXUINT + 1 wraps to 0; 0 after G_MAXUINT must not extend the run. */
        capfs_format_cpuset((guint[]){G_MAXUINT - 1, G_MAXUINT, 0}, 3, out);
        g_assert_cmpstr(out->str, ==, "4294967294-4294967295,0");
}

static int parse_limit(const char *text, size_t len, uint64_t *ret) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_limit(copy, len, ret);
}

static void check_limit(const char *text, size_t len, uint64_t expected) {
        uint64_t value = 0;

        g_test_message("limit %.*s", (int) len, text);
        g_assert_cmpint(parse_limit(text, len, &value), ==, 0);
        g_assert_cmpuint(value, ==, expected);
}

static void check_limit_error(const char *text, size_t len, int expected) {
        uint64_t value = 77;

        g_test_message("limit %.*s", (int) len, text);
        g_assert_cmpint(parse_limit(text, len, &value), ==, expected);
        g_assert_cmpuint(value, ==, 77);
}

static void test_limit(void) {
        g_assert_cmpuint(CAPFS_NO_LIMIT, ==, UINT64_MAX);
        check_limit(TEXT("268435456\n"), 268435456);
        check_limit(TEXT("268435456"), 268435456);
        check_limit(TEXT("0\n"), 0);
        check_limit(TEXT("max\n"), CAPFS_NO_LIMIT);
        check_limit(TEXT("max"), CAPFS_NO_LIMIT);
        check_limit(TEXT("-1\n"), CAPFS_NO_LIMIT);
        check_limit(TEXT(" 42 \n"), 42);
        /* v1's "no limit" is a real number of bytes; callers cap it at the host's memory. */
        check_limit(TEXT("9223372036854771712\n"), UINT64_C(9223372036854771712));
        check_limit(TEXT("18446744073709551615"), UINT64_MAX);
        check_limit("123456", 3, 123);
}

static void test_limit_malformed(void) {
        check_limit_error(NULL, 0, -EINVAL);
        check_limit_error(TEXT("\n"), -EINVAL);
        check_limit_error(TEXT("18446744073709551616"), -ERANGE);
        check_limit_error(TEXT("99999999999999999999999999\n"), -ERANGE);
        check_limit_error(TEXT("maxi"), -EINVAL);
        check_limit_error(TEXT("ma"), -EINVAL);
        check_limit_error(TEXT("MAX"), -EINVAL);
        check_limit_error(TEXT("-2"), -EINVAL);
        check_limit_error(TEXT("-12"), -EINVAL);
        check_limit_error(TEXT("-"), -EINVAL);
        check_limit_error(TEXT("+5"), -EINVAL);
        check_limit_error(TEXT("12abc"), -EINVAL);
        check_limit_error(TEXT("1 2"), -EINVAL);
        check_limit_error(TEXT("max max"), -EINVAL);
        check_limit_error(TEXT("1.5"), -EINVAL);
        check_limit_error(TEXT("4\0002"), -EINVAL);
        check_limit_error(TEXT("42\0"), -EINVAL);
}

static int parse_cpu_max(const char *text, size_t len, uint64_t *quota, uint64_t *period) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_cpu_max(copy, len, quota, period);
}

static void test_cpu_max(void) {
        uint64_t quota = 0, period = 0;

        g_assert_cmpint(parse_cpu_max(TEXT("max 100000\n"), &quota, &period), ==, 0);
        g_assert_cmpuint(quota, ==, CAPFS_NO_LIMIT);
        g_assert_cmpuint(period, ==, 100000);

        g_assert_cmpint(parse_cpu_max(TEXT("50000 100000\n"), &quota, &period), ==, 0);
        g_assert_cmpuint(quota, ==, 50000);
        g_assert_cmpuint(period, ==, 100000);

        g_assert_cmpint(parse_cpu_max(TEXT("150000\t250000"), &quota, &period), ==, 0);
        g_assert_cmpuint(quota, ==, 150000);
        g_assert_cmpuint(period, ==, 250000);
}

static void test_cpu_max_malformed(void) {
        static const struct {
                const char *text;
                int expected;
        } cases[] = {
                {"", -EINVAL},
                {"\n", -EINVAL},
                {"max", -EINVAL},
                {"max\n", -EINVAL},
                {"50000", -EINVAL},
                {"50000100000", -EINVAL},
                {"50000 0\n", -EINVAL},
                {"max 100000 5", -EINVAL},
                {"-1 100000", -EINVAL},
                {"maxi 100000", -EINVAL},
                {"max max", -EINVAL},
                {"50000 99999999999999999999999", -ERANGE},
                {"99999999999999999999999 100000", -ERANGE},
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                uint64_t quota = 7, period = 7;

                g_test_message("cpu.max %s", cases[i].text);
                g_assert_cmpint(parse_cpu_max(cases[i].text, strlen(cases[i].text), &quota, &period), ==,
                                cases[i].expected);
                g_assert_cmpuint(quota, ==, 7);
                g_assert_cmpuint(period, ==, 7);
        }
}

static GHashTable *parse_keyed(const char *text, size_t len) {
        g_autofree char *copy = exact_copy(text, len);
        GHashTable *table = NULL;

        g_assert_cmpint(capfs_parse_keyed_u64(copy, len, &table), ==, 0);
        g_assert_nonnull(table);
        return table;
}

static void assert_keyed(GHashTable *table, const char *key, uint64_t expected) {
        uint64_t value = 0;

        g_test_message("key %s", key);
        g_assert_true(capfs_keyed_get(table, key, &value));
        g_assert_cmpuint(value, ==, expected);
}

static void test_keyed_memory_stat(void) {
        g_autoptr(GHashTable) table = parse_keyed(TEXT("cache 9342976\n"
                                                       "rss 8486912\n"
                                                       "rss_huge 0\n"
                                                       "hierarchical_memory_limit 9223372036854771712\n"
                                                       "total_cache 9342976\n"));

        g_assert_cmpuint(g_hash_table_size(table), ==, 5);
        assert_keyed(table, "cache", 9342976);
        assert_keyed(table, "rss", 8486912);
        assert_keyed(table, "rss_huge", 0);
        assert_keyed(table, "hierarchical_memory_limit", UINT64_C(9223372036854771712));
        assert_keyed(table, "total_cache", 9342976);
        g_assert_false(capfs_keyed_get(table, "swap", NULL));
        g_assert_false(capfs_keyed_get(table, "", NULL));
}

static void test_keyed_meminfo(void) {
        g_autoptr(GHashTable) table = parse_keyed(TEXT("MemTotal:       16337176 kB\n"
                                                       "MemFree:         1000 kB\n"
                                                       "HugePages_Total:       0\n"
                                                       "Hugepagesize:       2048 kB"));

        g_assert_cmpuint(g_hash_table_size(table), ==, 4);
        /* The unit stays as written: the caller knows meminfo is in kB. */
        assert_keyed(table, "MemTotal", 16337176);
        assert_keyed(table, "MemFree", 1000);
        assert_keyed(table, "HugePages_Total", 0);
        assert_keyed(table, "Hugepagesize", 2048);
        g_assert_false(capfs_keyed_get(table, "MemTotal:", NULL));
}

static void test_keyed_skips_unparsable(void) {
        g_autoptr(GHashTable) table = parse_keyed(TEXT("good 1\n"
                                                       "bad x\n"
                                                       "novalue\n"
                                                       " 2\n"
                                                       ":\t5\n"
                                                       "negative -1\n"
                                                       "float 1.5\n"
                                                       "two 1 2\n"
                                                       "unit 3 MB\n"
                                                       "glued 3kB\n"
                                                       "huge 99999999999999999999\n"
                                                       "total=123 N0=123\n"
                                                       "nokey:5\n"
                                                       "\n"
                                                       "crlf 9\r\n"
                                                       "double:: 4\n"
                                                       "last 7"));

        assert_keyed(table, "good", 1);
        assert_keyed(table, "crlf", 9);
        assert_keyed(table, "double:", 4);
        assert_keyed(table, "last", 7);
        g_assert_cmpuint(g_hash_table_size(table), ==, 4);
}

static void test_keyed_edges(void) {
        g_autoptr(GHashTable) empty = parse_keyed(NULL, 0);
        g_autoptr(GHashTable) dup = parse_keyed(TEXT("a 1\na 2\n"));
        g_autoptr(GHashTable) nul = parse_keyed(TEXT("ke\0y 5\nk 5\0\nok\t6\n"));
        g_autoptr(GHashTable) cut = parse_keyed("key 12345\nother 1\n", 6);

        g_assert_cmpuint(g_hash_table_size(empty), ==, 0);
        /* A repeated key: the later line wins. */
        assert_keyed(dup, "a", 2);
        g_assert_cmpuint(g_hash_table_size(dup), ==, 1);
        assert_keyed(nul, "ok", 6);
        g_assert_cmpuint(g_hash_table_size(nul), ==, 1);
        assert_keyed(cut, "key", 12);
        g_assert_cmpuint(g_hash_table_size(cut), ==, 1);

        g_assert_false(capfs_keyed_get(NULL, "a", NULL));
        g_assert_false(capfs_keyed_get(dup, NULL, NULL));
        g_assert_true(capfs_keyed_get(dup, "a", NULL));
}

static int parse_proc_cgroup(const char *text, size_t len, GHashTable **ret) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_proc_cgroup(copy, len, ret);
}

static void assert_path(GHashTable *table, const char *key, const char *expected) {
        g_test_message("controller '%s'", key);
        g_assert_cmpstr(g_hash_table_lookup(table, key), ==, expected);
}

static void test_proc_cgroup_hybrid(void) {
        g_autoptr(GHashTable) table = NULL;

        g_assert_cmpint(parse_proc_cgroup(TEXT("12:cpu,cpuacct:/ct1\n"
                                               "9:name=systemd:/ct1/init.scope\n"
                                               "4:memory:/process_api/3c97f9e4\n"
                                               "3:cpuset:/\n"
                                               "0::/ct1/init.scope\n"),
                                          &table),
                        ==, 0);
        g_assert_cmpuint(g_hash_table_size(table), ==, 6);
        assert_path(table, "cpu", "/ct1");
        assert_path(table, "cpuacct", "/ct1");
        assert_path(table, "name=systemd", "/ct1/init.scope");
        assert_path(table, "memory", "/process_api/3c97f9e4");
        assert_path(table, "cpuset", "/");
        assert_path(table, "", "/ct1/init.scope");
        g_assert_null(g_hash_table_lookup(table, "cpu,cpuacct"));
}

static void test_proc_cgroup_v2(void) {
        g_autoptr(GHashTable) table = NULL, last = NULL, blank = NULL, empty = NULL;

        g_assert_cmpint(parse_proc_cgroup(TEXT("0::/\n"), &table), ==, 0);
        g_assert_cmpuint(g_hash_table_size(table), ==, 1);
        assert_path(table, "", "/");

        /* No newline at the end; the path may hold ':' and blanks, and " (deleted)" stays. */
        g_assert_cmpint(parse_proc_cgroup(TEXT("0::/a:b c/x (deleted)"), &last), ==, 0);
        assert_path(last, "", "/a:b c/x (deleted)");

        g_assert_cmpint(parse_proc_cgroup(TEXT("\n\n1:pids:/p\n\n"), &blank), ==, 0);
        g_assert_cmpuint(g_hash_table_size(blank), ==, 1);
        assert_path(blank, "pids", "/p");

        g_assert_cmpint(parse_proc_cgroup(NULL, 0, &empty), ==, 0);
        g_assert_cmpuint(g_hash_table_size(empty), ==, 0);
}

static void test_proc_cgroup_malformed(void) {
        static const struct {
                const char *text;
                size_t len;
                int expected;
        } cases[] = {
                {TEXT("x::/\n"), -EINVAL},
                {TEXT(":cpu:/\n"), -EINVAL},
                {TEXT("0:/\n"), -EINVAL},
                {TEXT("0\n"), -EINVAL},
                {TEXT("0:cpu\n"), -EINVAL},
                {TEXT("0:cpu:\n"), -EINVAL},
                {TEXT("0:cpu:relative\n"), -EINVAL},
                {TEXT("4:cpu,,memory:/\n"), -EINVAL},
                {TEXT("4:,cpu:/\n"), -EINVAL},
                {TEXT("4:cpu,:/\n"), -EINVAL},
                {TEXT("0::/a\0b\n"), -EINVAL},
                {TEXT("0::/\n4:cpu\n"), -EINVAL},
                {TEXT("99999999999999999999999:cpu:/\n"), -ERANGE},
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                GHashTable *untouched = (GHashTable *) 0x1;

                g_test_message("case %zu", i);
                g_assert_cmpint(parse_proc_cgroup(cases[i].text, cases[i].len, &untouched), ==,
                                cases[i].expected);
                g_assert_true(untouched == (GHashTable *) 0x1);
        }
}

static int parse_nspid(const char *text, size_t len, pid_t *innermost, unsigned *levels) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_status_nspid(copy, len, innermost, levels);
}

static void check_nspid(const char *text, size_t len, pid_t expected_pid, unsigned expected_levels) {
        pid_t pid = 0;
        unsigned levels = 0;

        g_test_message("status %.*s", (int) len, text);
        g_assert_cmpint(parse_nspid(text, len, &pid, &levels), ==, 0);
        g_assert_cmpint(pid, ==, expected_pid);
        g_assert_cmpuint(levels, ==, expected_levels);
}

static void check_nspid_error(const char *text, size_t len, int expected) {
        pid_t pid = 77;
        unsigned levels = 77;

        g_test_message("status %.*s", (int) len, text);
        g_assert_cmpint(parse_nspid(text, len, &pid, &levels), ==, expected);
        g_assert_cmpint(pid, ==, 77);
        g_assert_cmpuint(levels, ==, 77);
}

static void test_nspid_levels(void) {
        check_nspid(TEXT("Name:\tcat\nTgid:\t7256\nPid:\t7256\nPPid:\t7254\nNStgid:\t7256\n"
                         "NSpid:\t7256\nNSpgid:\t7254\nNSsid:\t2703\nKthread:\t0\n"),
                    7256, 1);
        check_nspid(TEXT("Name:\tsh\nNSpid:\t2000\t1\n"), 1, 2);
        check_nspid(TEXT("NSpid:\t3005\t12\t7\n"), 7, 3);
        check_nspid(TEXT("NSpid:\t4000\t300\t20\t1\nNSpgid:\t1\n"), 1, 4);
        /* No newline at the end, blanks after the last pid. */
        check_nspid(TEXT("Name:\tx\nNSpid:\t2000\t1 \t"), 1, 2);
        /* The first NSpid line counts. */
        check_nspid(TEXT("NSpid:\t5\nNSpid:\t6\t1\n"), 5, 1);
        /* Only @len bytes: the second level is outside. */
        check_nspid("NSpid:\t2000\t1\n", strlen("NSpid:\t2000"), 2000, 1);
}

static void test_nspid_malformed(void) {
        check_nspid_error(NULL, 0, -ENOENT);
        check_nspid_error(TEXT("Name:\tinit\nPid:\t1\n"), -ENOENT);
        /* Not at the start of a line, or a longer name. */
        check_nspid_error(TEXT("XNSpid:\t5\n"), -ENOENT);
        check_nspid_error(TEXT("NSpgid:\t7\n"), -ENOENT);
        check_nspid_error(TEXT("NSpid\n"), -ENOENT);
        check_nspid_error(TEXT("NSpid:\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:\t \n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:"), -EINVAL);
        /* A backslash and a 't' are not a tab. */
        check_nspid_error(TEXT("NSpid:\t2000\\t1\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:2000\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:\t0\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:\t-1\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:\t12a\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:\t12\0003\n"), -EINVAL);
        check_nspid_error(TEXT("NSpid:\t2147483648\n"), -ERANGE);
        check_nspid_error(TEXT("NSpid:\t99999999999999999999999\n"), -ERANGE);
}

static void test_nspid_optional_outputs(void) {
        pid_t pid = 0;
        unsigned levels = 0;

        g_assert_cmpint(parse_nspid(TEXT("NSpid:\t9\t3\n"), NULL, &levels), ==, 0);
        g_assert_cmpuint(levels, ==, 2);
        g_assert_cmpint(parse_nspid(TEXT("NSpid:\t9\t3\n"), &pid, NULL), ==, 0);
        g_assert_cmpint(pid, ==, 3);
}

static int parse_pid_stat(const char *text, size_t len, CapfsPidStat *ret) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_pid_stat(copy, len, ret);
}

static void check_pid_stat(const char *text, size_t len, char expected_state, pid_t expected_ppid,
                           uint64_t expected_start) {
        CapfsPidStat stat = {0};

        g_test_message("stat %.*s", (int) len, text);
        g_assert_cmpint(parse_pid_stat(text, len, &stat), ==, 0);
        g_assert_cmpint(stat.state, ==, expected_state);
        g_assert_cmpint(stat.ppid, ==, expected_ppid);
        g_assert_cmpuint(stat.starttime, ==, expected_start);
}

static void check_pid_stat_error(const char *text, size_t len, int expected) {
        CapfsPidStat stat = {.state = 'Q', .ppid = 77, .num_threads = 77, .starttime = 77};

        g_test_message("stat %.*s", (int) len, text);
        g_assert_cmpint(parse_pid_stat(text, len, &stat), ==, expected);
        /* Nothing is stored on failure. */
        g_assert_cmpint(stat.state, ==, 'Q');
        g_assert_cmpint(stat.ppid, ==, 77);
        g_assert_cmpuint(stat.num_threads, ==, 77);
        g_assert_cmpuint(stat.starttime, ==, 77);
}

static void test_pid_stat(void) {
        /* This machine's own, for cat. */
        check_pid_stat(
                TEXT("5793 (cat) R 5788 5788 2703 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 77089 3133440 390 "
                     "18446744073709551615 93972631416832 93972631436713 140729277996352 0 0 0 0 0 0 0 0 "
                     "0 17 0 0 0 0 0 0 93972631452720 93972631454336 93973207072768 140729277999557 "
                     "140729277999577 140729277999577 140729278001131 0\n"),
                'R', 5788, 77089);
        /* Exactly 22 fields and no newline; negative nice and priority. */
        check_pid_stat(TEXT("1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 -2 -20 1 0 123456789012"), 'S', 0,
                       UINT64_C(123456789012));
        /* Kernel threads have ppid 2 and start in the first ticks. */
        check_pid_stat(
                TEXT("42 (kworker/0:1-events) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0\n"), 'I',
                2, 5);
}

static void test_pid_stat_hostile_comm(void) {
        /* The task name is chosen by the task: only the last ')' ends it. */
        check_pid_stat(TEXT("42 (a) (b) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300 0 0\n"), 'S', 7, 300);
        check_pid_stat(
                TEXT("42 (x) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20) Z 9 1 1 0 -1 0 0 0 0 "
                     "0 0 0 0 0 20 0 1 0 400\n"),
                'Z', 9, 400);
        check_pid_stat(TEXT("42 () S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 500\n"), 'S', 7, 500);
        check_pid_stat(TEXT("42 ()) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 600\n"), 'S', 7, 600);
        check_pid_stat(TEXT("42 (new\nline ) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 700\n"), 'S', 7, 700);
        check_pid_stat(TEXT("42 (n\0l) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 800\n"), 'S', 7, 800);
}

static void test_pid_stat_malformed(void) {
        check_pid_stat_error(NULL, 0, -EINVAL);
        check_pid_stat_error(TEXT("\n"), -EINVAL);
        check_pid_stat_error(TEXT("42"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh"), -EINVAL);
        check_pid_stat_error(TEXT("42 sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("(sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh)"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) "), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh)  7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) SS 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S -7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n"), -EINVAL);
        /* 21 fields: starttime is missing. */
        check_pid_stat_error(TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 \n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300x\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -300\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0  0 0 20 0 1 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 - 0 20 0 1 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("42 (sh) S 2147483648 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n"),
                             -ERANGE);
        check_pid_stat_error(
                TEXT("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999\n"), -ERANGE);
        /* Cut inside starttime by @len: "30" is what is there. */
        check_pid_stat("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 300\n",
                       strlen("42 (sh) S 7 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 30"), 'S', 7, 30);
}

/* Field 20 tells the load sampler whether a process's other threads need reading at all. */
static void test_pid_stat_threads(void) {
        CapfsPidStat stat = {0};

        /* A real-time kernel thread (priority -51). */
        g_assert_cmpint(
                parse_pid_stat(TEXT("812 (irq/9-acpi) S 2 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 -51 0 1 0 37 0 0 "
                                    "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 0 50 1\n"),
                               &stat),
                ==, 0);
        g_assert_cmpint(stat.state, ==, 'S');
        g_assert_cmpuint(stat.num_threads, ==, 1);
        /* A niced worker of 42 threads whose name fakes the fields after it. */
        g_assert_cmpint(
                parse_pid_stat(TEXT("2002 (a) R 1 2 3 ) D 2000 2001 2001 0 -1 4194560 100 0 0 0 1 2 0 0 "
                                    "39 19 42 0 30150 2445312 220\n"),
                               &stat),
                ==, 0);
        g_assert_cmpint(stat.state, ==, 'D');
        g_assert_cmpint(stat.ppid, ==, 2000);
        g_assert_cmpuint(stat.num_threads, ==, 42);
        g_assert_cmpuint(stat.starttime, ==, 30150);

        check_pid_stat_error(TEXT("2002 (sh) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 0 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("2002 (sh) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 3x 0 300\n"), -EINVAL);
        check_pid_stat_error(TEXT("2002 (sh) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 4294967296 0 300\n"),
                             -EINVAL);
        check_pid_stat_error(TEXT("-2002 (sh) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 1 0 300\n"), -EINVAL);
}

static GHashTable *parse_devices(int (*parser)(const char *, size_t, GHashTable **), const char *text,
                                 size_t len) {
        g_autofree char *copy = exact_copy(text, len);
        GHashTable *table = NULL;

        g_assert_cmpint(parser(copy, len, &table), ==, 0);
        g_assert_nonnull(table);
        return table;
}

static void assert_device_stat(GHashTable *devices, const char *device, const char *key, uint64_t expected) {
        GHashTable *stats = g_hash_table_lookup(devices, device);

        g_test_message("%s %s", device, key);
        g_assert_nonnull(stats);
        assert_keyed(stats, key, expected);
}

static guint device_stat_count(GHashTable *devices, const char *device) {
        GHashTable *stats = g_hash_table_lookup(devices, device);

        g_assert_nonnull(stats);
        return g_hash_table_size(stats);
}

static void test_io_stat(void) {
        g_autoptr(GHashTable) devices = parse_devices(
                capfs_parse_io_stat, TEXT("254:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6\n"
                                          "253:1 rbytes=10 wbytes=20\n"
                                          "8:16 rbytes=18446744073709551615 wbytes=0 rios=0"));

        g_assert_cmpuint(g_hash_table_size(devices), ==, 3);
        g_assert_cmpuint(device_stat_count(devices, "254:0"), ==, 6);
        assert_device_stat(devices, "254:0", "rbytes", 1);
        assert_device_stat(devices, "254:0", "wbytes", 2);
        assert_device_stat(devices, "254:0", "rios", 3);
        assert_device_stat(devices, "254:0", "wios", 4);
        assert_device_stat(devices, "254:0", "dbytes", 5);
        assert_device_stat(devices, "254:0", "dios", 6);
        /* Missing keys are just missing. */
        g_assert_cmpuint(device_stat_count(devices, "253:1"), ==, 2);
        assert_device_stat(devices, "253:1", "wbytes", 20);
        g_assert_false(capfs_keyed_get(g_hash_table_lookup(devices, "253:1"), "rios", NULL));
        assert_device_stat(devices, "8:16", "rbytes", UINT64_MAX);
}

static void test_io_stat_odd_pairs(void) {
        g_autoptr(GHashTable) devices =
                parse_devices(capfs_parse_io_stat, TEXT("8:0 rbytes=1 cost.vrate=100.00 cost.usage=5 =5 k= "
                                                        "neg=-1 x=1x noequals big=99999999999999999999\n"
                                                        "08:00 wbytes=7\n"
                                                        "8:0  \t rios=2\n"
                                                        "8:0 rbytes=9\n"
                                                        "9:0 cost.vrate=100.00\n"
                                                        "9:1\n"
                                                        "garbage rbytes=1\n"
                                                        "8 rbytes=1\n"
                                                        "8:x rbytes=1\n"
                                                        ":0 rbytes=1\n"
                                                        "8:0rbytes=1\n"
                                                        "4294967296:0 rbytes=1\n"
                                                        "10:0 ke\0y=1 ok=2\n"));

        /* "08:00" is the same device as "8:0"; later values replace earlier ones. */
        g_assert_cmpuint(g_hash_table_size(devices), ==, 2);
        g_assert_cmpuint(device_stat_count(devices, "8:0"), ==, 4);
        assert_device_stat(devices, "8:0", "rbytes", 9);
        assert_device_stat(devices, "8:0", "cost.usage", 5);
        assert_device_stat(devices, "8:0", "wbytes", 7);
        assert_device_stat(devices, "8:0", "rios", 2);
        g_assert_cmpuint(device_stat_count(devices, "10:0"), ==, 1);
        assert_device_stat(devices, "10:0", "ok", 2);
        g_assert_null(g_hash_table_lookup(devices, "9:0"));
}

static void test_io_stat_empty(void) {
        g_autoptr(GHashTable) none = parse_devices(capfs_parse_io_stat, NULL, 0);
        g_autoptr(GHashTable) newline = parse_devices(capfs_parse_io_stat, TEXT("\n"));

        g_assert_cmpuint(g_hash_table_size(none), ==, 0);
        g_assert_cmpuint(g_hash_table_size(newline), ==, 0);
}

static void test_blkio(void) {
        g_autoptr(GHashTable) devices = parse_devices(capfs_parse_blkio, TEXT("254:0 Read 4096\n"
                                                                              "254:0 Write 8192\n"
                                                                              "254:0 Sync 0\n"
                                                                              "254:0 Async 12288\n"
                                                                              "254:0 Discard 0\n"
                                                                              "254:0 Total 12288\n"
                                                                              "253:0 Read 1\n"
                                                                              "253:0 Total 1\n"
                                                                              "Total 12289\n"));

        g_assert_cmpuint(g_hash_table_size(devices), ==, 2);
        g_assert_cmpuint(device_stat_count(devices, "254:0"), ==, 5);
        assert_device_stat(devices, "254:0", "Read", 4096);
        assert_device_stat(devices, "254:0", "Write", 8192);
        assert_device_stat(devices, "254:0", "Sync", 0);
        assert_device_stat(devices, "254:0", "Async", 12288);
        assert_device_stat(devices, "254:0", "Discard", 0);
        g_assert_false(capfs_keyed_get(g_hash_table_lookup(devices, "254:0"), "Total", NULL));
        g_assert_cmpuint(device_stat_count(devices, "253:0"), ==, 1);
        assert_device_stat(devices, "253:0", "Read", 1);
        g_assert_null(g_hash_table_lookup(devices, "Total"));
}

static void test_blkio_malformed(void) {
        /* What this machine's root cgroup says without throttled I/O. */
        g_autoptr(GHashTable) idle = parse_devices(capfs_parse_blkio, TEXT("Total 0\n"));
        g_autoptr(GHashTable) bad = parse_devices(capfs_parse_blkio, TEXT("8:0 Read\n"
                                                                          "8:0 Read x\n"
                                                                          "8:0 Read 1 2\n"
                                                                          "8:0 Read -1\n"
                                                                          "8:0\n"
                                                                          "8:0 12345\n"
                                                                          "8:0Read 1\n"
                                                                          "8:0 Re\0d 1\n"
                                                                          "8:0 Read 99999999999999999999\n"
                                                                          "8:1 Write 3"));

        g_assert_cmpuint(g_hash_table_size(idle), ==, 0);
        g_assert_cmpuint(g_hash_table_size(bad), ==, 1);
        g_assert_cmpuint(device_stat_count(bad, "8:1"), ==, 1);
        assert_device_stat(bad, "8:1", "Write", 3);
}

static int parse_uptime(const char *text, size_t len, uint64_t *uptime, uint64_t *idle) {
        g_autofree char *copy = exact_copy(text, len);

        return capfs_parse_uptime(copy, len, uptime, idle);
}

static void check_uptime(const char *text, size_t len, uint64_t expected_uptime, uint64_t expected_idle) {
        uint64_t uptime = 0, idle = 0;

        g_test_message("uptime %.*s", (int) len, text);
        g_assert_cmpint(parse_uptime(text, len, &uptime, &idle), ==, 0);
        g_assert_cmpuint(uptime, ==, expected_uptime);
        g_assert_cmpuint(idle, ==, expected_idle);
}

static void check_uptime_error(const char *text, size_t len, int expected) {
        uint64_t uptime = 77, idle = 77;

        g_test_message("uptime %.*s", (int) len, text);
        g_assert_cmpint(parse_uptime(text, len, &uptime, &idle), ==, expected);
        g_assert_cmpuint(uptime, ==, 77);
        g_assert_cmpuint(idle, ==, 77);
}

static void test_uptime(void) {
        check_uptime(TEXT("770.90 1468.75\n"), 77090, 146875);
        check_uptime(TEXT("0.00 0.00"), 0, 0);
        check_uptime(TEXT("12 34\n"), 1200, 3400);
        check_uptime(TEXT("1.5 2.25"), 150, 225);
        /* Truncated, not rounded. */
        check_uptime(TEXT("1.999 2.001"), 199, 200);
        check_uptime(TEXT("  3.00\t4.00  \n"), 300, 400);
        check_uptime(TEXT("184467440737095516.15 0.00\n"), UINT64_MAX, 0);
        check_uptime("770.90 1468.75\n", strlen("770.90 14"), 77090, 1400);
}

static void test_uptime_malformed(void) {
        check_uptime_error(NULL, 0, -EINVAL);
        check_uptime_error(TEXT("\n"), -EINVAL);
        check_uptime_error(TEXT("1.00"), -EINVAL);
        check_uptime_error(TEXT("1.00\n2.00"), -EINVAL);
        check_uptime_error(TEXT("1. 2.00"), -EINVAL);
        check_uptime_error(TEXT(".5 1.00"), -EINVAL);
        check_uptime_error(TEXT("1.00 2.00 3.00"), -EINVAL);
        check_uptime_error(TEXT("-1.00 2.00"), -EINVAL);
        check_uptime_error(TEXT("1,00 2,00"), -EINVAL);
        check_uptime_error(TEXT("1.00\0 2.00"), -EINVAL);
        check_uptime_error(TEXT("1.00 2.00\0"), -EINVAL);
        check_uptime_error(TEXT("184467440737095516.16 0.00"), -ERANGE);
        check_uptime_error(TEXT("184467440737095517 0.00"), -ERANGE);
        check_uptime_error(TEXT("1.00 99999999999999999999999.00"), -ERANGE);
}

static void test_uptime_optional_outputs(void) {
        uint64_t idle = 0;

        g_assert_cmpint(parse_uptime(TEXT("1.00 2.50\n"), NULL, &idle), ==, 0);
        g_assert_cmpuint(idle, ==, 250);
}

static void test_mountinfo(void) {
        static const char text[] =
                "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
                "23 22 0:6 /a\\040b /mnt/with\\040space\\011tab rw shared:9 master:2 - cgroup "
                "my\\134src rw,cpu,cpuacct\n"
                "\n"
                "24 22 8:1 /x\\0 /y\\999 rw - ext4 /dev/sda rw\n";
        g_autofree char *copy = exact_copy(TEXT(text));
        g_autoptr(GPtrArray) mounts = NULL;
        const CapfsMountinfo *m;

        g_assert_cmpint(capfs_parse_mountinfo(copy, sizeof(text) - 1, &mounts), ==, 0);
        g_assert_cmpuint(mounts->len, ==, 3);
        m = mounts->pdata[0];
        g_assert_cmpint(m->id, ==, 22);
        g_assert_cmpint(m->parent, ==, 1);
        g_assert_cmpuint(m->major, ==, 0);
        g_assert_cmpuint(m->minor, ==, 21);
        g_assert_cmpstr(m->mountpoint, ==, "/sys");
        g_assert_cmpstr(m->fstype, ==, "sysfs");
        m = mounts->pdata[1];
        g_assert_cmpstr(m->root, ==, "/a b");
        g_assert_cmpstr(m->mountpoint, ==, "/mnt/with space\ttab");
        g_assert_cmpstr(m->options, ==, "rw");
        g_assert_cmpstr(m->fstype, ==, "cgroup");
        g_assert_cmpstr(m->source, ==, "my\\src");
        g_assert_cmpstr(m->super_options, ==, "rw,cpu,cpuacct");
        /* Not three octal digits: left as written. */
        m = mounts->pdata[2];
        g_assert_cmpstr(m->root, ==, "/x\\0");
        g_assert_cmpstr(m->mountpoint, ==, "/y\\999");
        g_assert_cmpuint(m->major, ==, 8);

        static const char *const bad[] = {
                "22 1 0:21 / /sys rw sysfs sysfs rw\n", /* no "-" */
                "22 1 0:21 / /sys rw - sysfs sysfs\n", /* no super options */
                "22 1 0:21 / /sys rw - sysfs sysfs rw x\n", /* one field too many */
                "x 1 0:21 / /sys rw - sysfs sysfs rw\n", /* no id */
                "22 1 021 / /sys rw - sysfs sysfs rw\n", /* no MAJ:MIN */
                "22 1 0:21  /sys rw - sysfs sysfs rw\n", /* an empty field */
                "3000000000 1 0:21 / /sys rw - sysfs sysfs rw\n",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                g_autoptr(GPtrArray) none = NULL;
                g_autofree char *b = exact_copy(bad[i], strlen(bad[i]));
                g_test_message("malformed: %s", bad[i]);
                g_assert_cmpint(capfs_parse_mountinfo(b, strlen(bad[i]), &none), ==, -EINVAL);
                g_assert_null(none);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/parse/mountinfo", test_mountinfo);
        g_test_add_func("/parse/cpuset/lists", test_cpuset_lists);
        g_test_add_func("/parse/cpuset/empty", test_cpuset_empty);
        g_test_add_func("/parse/cpuset/spaces", test_cpuset_spaces);
        g_test_add_func("/parse/cpuset/merged", test_cpuset_merged);
        g_test_add_func("/parse/cpuset/malformed", test_cpuset_malformed);
        g_test_add_func("/parse/cpuset/range-limit", test_cpuset_range_limit);
        g_test_add_func("/parse/cpuset/huge-input", test_cpuset_huge_input);
        g_test_add_func("/parse/cpuset/length-respected", test_cpuset_length_respected);
        g_test_add_func("/parse/cpuset/format", test_cpuset_format);
        g_test_add_func("/parse/cpuset/format-no-wraparound", test_cpuset_format_no_wraparound);
        g_test_add_func("/parse/limit/values", test_limit);
        g_test_add_func("/parse/limit/malformed", test_limit_malformed);
        g_test_add_func("/parse/cpu-max/values", test_cpu_max);
        g_test_add_func("/parse/cpu-max/malformed", test_cpu_max_malformed);
        g_test_add_func("/parse/keyed/memory-stat", test_keyed_memory_stat);
        g_test_add_func("/parse/keyed/meminfo", test_keyed_meminfo);
        g_test_add_func("/parse/keyed/skips-unparsable", test_keyed_skips_unparsable);
        g_test_add_func("/parse/keyed/edges", test_keyed_edges);
        g_test_add_func("/parse/proc-cgroup/hybrid", test_proc_cgroup_hybrid);
        g_test_add_func("/parse/proc-cgroup/v2", test_proc_cgroup_v2);
        g_test_add_func("/parse/proc-cgroup/malformed", test_proc_cgroup_malformed);
        g_test_add_func("/parse/nspid/levels", test_nspid_levels);
        g_test_add_func("/parse/nspid/malformed", test_nspid_malformed);
        g_test_add_func("/parse/nspid/optional-outputs", test_nspid_optional_outputs);
        g_test_add_func("/parse/pid-stat/values", test_pid_stat);
        g_test_add_func("/parse/pid-stat/hostile-comm", test_pid_stat_hostile_comm);
        g_test_add_func("/parse/pid-stat/malformed", test_pid_stat_malformed);
        g_test_add_func("/parse/pid-stat/threads", test_pid_stat_threads);
        g_test_add_func("/parse/io-stat/values", test_io_stat);
        g_test_add_func("/parse/io-stat/odd-pairs", test_io_stat_odd_pairs);
        g_test_add_func("/parse/io-stat/empty", test_io_stat_empty);
        g_test_add_func("/parse/blkio/values", test_blkio);
        g_test_add_func("/parse/blkio/malformed", test_blkio_malformed);
        g_test_add_func("/parse/uptime/values", test_uptime);
        g_test_add_func("/parse/uptime/malformed", test_uptime_malformed);
        g_test_add_func("/parse/uptime/optional-outputs", test_uptime_optional_outputs);

        return g_test_run();
}
