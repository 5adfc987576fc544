/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything about CPUs: which CPUs a container sees (cpuset, quota cut), and the files
 * that show them: proc/cpuinfo, proc/stat, proc/uptime and sys/devices/system/cpu.
 *
 * The fixture host has 4 CPUs with distinct numbers everywhere (stat counters, core ids
 * 0, 1, 8, 9, cpu MHz), so a container CPU mapped to the wrong host CPU shows.
 * ct1 (pid 2000): cpuset 1,3, quota 50000/100000 -> host cpu1 (quota view), cpu1+cpu3 (cpuset view).
 * ct2 (pid 3000): cpuset 0-2 set on /parent, no quota -> host cpu0-2.
 */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fixture.h"
#include "parse/parse.h"

static const char *const layouts[] = {"v1", "v2"};

/* The fixture trees are written in USER_HZ = 100, whatever this machine says. */
static CapfsHost *cpu_host(const char *layout, CapfsCpuView view) {
        CapfsHost *host = fixture_host(layout, view);

        host->clock_ticks = 100;
        return host;
}

static GString *render(CapfsHost *host, pid_t pid, const char *path) {
        g_autoptr(CapfsContainer) ct = fixture_container(host, pid);
        GString *out = g_string_new(NULL);

        g_assert_cmpint(capfs_node_read(host, ct, path, out), ==, 0);
        return out;
}

static unsigned count_lines_with_prefix(const char *text, const char *prefix) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        unsigned n = 0;

        for (char **l = lines; *l; l++)
                if (g_str_has_prefix(*l, prefix))
                        n++;
        return n;
}

/* The "cpuN" lines of a stat text, parsed; the aggregate is dropped. */
static GArray *stat_cpu_lines(const char *text, CapfsStatCpu *aggregate) {
        g_autoptr(GArray) all = NULL;
        GArray *per_cpu = g_array_new(FALSE, FALSE, sizeof(CapfsStatCpu));

        g_assert_cmpint(capfs_parse_stat_cpus(text, strlen(text), &all), ==, 0);
        for (guint i = 0; i < all->len; i++) {
                CapfsStatCpu *line = &g_array_index(all, CapfsStatCpu, i);
                if (line->cpu < 0)
                        *aggregate = *line;
                else
                        g_array_append_val(per_cpu, *line);
        }
        return per_cpu;
}

static uint64_t host_cpu_total(const CapfsStatCpu *line) {
        uint64_t total = 0;
        for (unsigned i = 0; i < 8; i++)
                total += line->value[i];
        return total;
}

/* ---------------------------------------------------------------- golden files */

static void test_golden(const char *layout) {
        static const pid_t pids[] = {1000, 2000, 3000};
        static const char *const files[] = {"cpuinfo", "stat", "uptime"};

        for (unsigned v = 0; v < 2; v++) {
                CapfsCpuView view = v == 0 ? CAPFS_CPU_VIEW_QUOTA : CAPFS_CPU_VIEW_CPUSET;
                g_autoptr(CapfsHost) host = cpu_host(layout, view);

                for (unsigned f = 0; f < G_N_ELEMENTS(files); f++)
                        for (unsigned p = 0; p < G_N_ELEMENTS(pids); p++) {
                                g_autofree char *path = g_strconcat("proc/", files[f], NULL);
                                g_autofree char *expected = g_strdup_printf(
                                        "%s/%s%s@%d", layout, files[f],
                                        view == CAPFS_CPU_VIEW_CPUSET ? "-cpuset" : "", (int) pids[p]);
                                fixture_assert_render(host, pids[p], path, expected);
                        }
        }
}

static void test_golden_v1(void) {
        test_golden("v1");
}

static void test_golden_v2(void) {
        test_golden("v2");
}

/* Other processes of a container see what its init sees. */
static void test_same_view_in_container(void) {
        for (unsigned l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = cpu_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                static const char *const files[] = {"proc/cpuinfo", "proc/stat", "proc/uptime",
                                                    "sys/devices/system/cpu/online"};

                for (unsigned f = 0; f < G_N_ELEMENTS(files); f++) {
                        g_autoptr(GString) init1 = render(host, 2000, files[f]);
                        g_autoptr(GString) other1 = render(host, 2001, files[f]);
                        g_autoptr(GString) init2 = render(host, 3000, files[f]);
                        g_autoptr(GString) setns2 = render(host, 3005, files[f]);

                        g_assert_cmpstr(other1->str, ==, init1->str);
                        g_assert_cmpstr(setns2->str, ==, init2->str);
                }
        }
}

/* ---------------------------------------------------------------- container CPUs */

static void assert_cpus(CapfsHost *host, pid_t pid, const char *want) {
        g_autoptr(CapfsContainer) ct = fixture_container(host, pid);
        g_autofree CapfsCpuList *cpus = NULL;
        g_autoptr(GString) got = g_string_new(NULL);

        g_assert_cmpint(capfs_container_cpus(host, ct, &cpus), ==, 0);
        for (unsigned i = 0; i < cpus->count; i++)
                g_string_append_printf(got, "%s%u", i ? "," : "", cpus->cpu[i]);
        g_assert_cmpstr(got->str, ==, want);
}

static void test_fixture_cpus(void) {
        for (unsigned l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) quota = cpu_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsHost) cpuset = cpu_host(layouts[l], CAPFS_CPU_VIEW_CPUSET);
                g_autofree CapfsCpuList *online = NULL;

                assert_cpus(quota, 1000, "0,1,2,3");
                assert_cpus(quota, 2000, "1");
                assert_cpus(quota, 3000, "0,1,2");
                assert_cpus(cpuset, 1000, "0,1,2,3");
                assert_cpus(cpuset, 2000, "1,3");
                assert_cpus(cpuset, 3000, "0,1,2");

                g_assert_cmpint(capfs_host_online_cpus(quota, &online), ==, 0);
                g_assert_cmpuint(online->count, ==, 4);
                g_assert_cmpuint(online->cpu[3], ==, 3);
        }
}

/* ---------------------------------------------------------------- cpuinfo */

static void test_cpuinfo_fixture(void) {
        for (unsigned l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) quota = cpu_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsHost) cpuset = cpu_host(layouts[l], CAPFS_CPU_VIEW_CPUSET);
                g_autoptr(GString) ct1 = render(quota, 2000, "proc/cpuinfo");
                g_autoptr(GString) ct1_cpuset = render(cpuset, 2000, "proc/cpuinfo");
                g_autoptr(GString) ct2 = render(quota, 3000, "proc/cpuinfo");
                g_autoptr(GString) host_view = render(quota, 1000, "proc/cpuinfo");
                g_autoptr(GString) host_file = g_string_new(NULL);

                /* ct1, quota view: one CPU, host cpu1 (core id 1, 2095.998 MHz), called 0. */
                g_assert_cmpuint(count_lines_with_prefix(ct1->str, "processor"), ==, 1);
                g_assert_true(g_str_has_prefix(ct1->str, "processor\t: 0\n"));
                g_assert_nonnull(strstr(ct1->str, "core id\t\t: 1\n"));
                g_assert_nonnull(strstr(ct1->str, "cpu MHz\t\t: 2095.998\n"));
                g_assert_true(g_str_has_suffix(ct1->str, "power management:\n\n"));

                /* cpuset view: host cpu1 and cpu3 as 0 and 1. */
                g_assert_cmpuint(count_lines_with_prefix(ct1_cpuset->str, "processor"), ==, 2);
                g_assert_nonnull(strstr(ct1_cpuset->str, "processor\t: 1\n"));
                g_assert_cmpuint(count_lines_with_prefix(ct1_cpuset->str, "core id\t\t: 9"), ==, 1);
                g_assert_true(strstr(ct1_cpuset->str, "core id\t\t: 1\n") <
                              strstr(ct1_cpuset->str, "core id\t\t: 9\n"));

                /* ct2: the three CPUs of /parent's cpuset. */
                g_assert_cmpuint(count_lines_with_prefix(ct2->str, "processor"), ==, 3);
                g_assert_cmpuint(count_lines_with_prefix(ct2->str, "core id\t\t: 9"), ==, 0);

                /* The host sees its own file. */
                g_assert_cmpint(capfs_read_file_at(quota->proc_fd, "cpuinfo", host_file), ==, 0);
                g_assert_cmpstr(host_view->str, ==, host_file->str);
        }
}

static CapfsCpuList *cpu_list(unsigned count, const unsigned *cpus) {
        CapfsCpuList *list = g_malloc(sizeof(CapfsCpuList) + count * sizeof(unsigned));

        list->count = count;
        memcpy(list->cpu, cpus, count * sizeof(unsigned));
        return list;
}

static void assert_select(const char *text, unsigned count, const unsigned *cpus, int want_r,
                          const char *want) {
        g_autofree CapfsCpuList *list = cpu_list(count, cpus);
        g_autoptr(GString) out = g_string_new("stale");
        int r = capfs_cpuinfo_select(text, strlen(text), list, out);

        g_assert_cmpint(r, ==, want_r);
        if (want)
                g_assert_cmpstr(out->str, ==, want);
}

static void test_cpuinfo_arches(void) {
        /* arm64: no trailing platform block. */
        static const char arm64[] = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0c\n\n"
                                    "processor\t: 1\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0d\n\n"
                                    "processor\t: 2\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0e\n\n";
        /* ppc64le: a platform block after the CPUs, not followed by a blank line. */
        static const char ppc64[] =
                "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nrevision\t: 2.2\n\n"
                "processor\t: 4\ncpu\t\t: POWER9 (raw), altivec supported\nrevision\t: 2.3\n\n"
                "processor\t: 8\ncpu\t\t: POWER9 (raw), altivec supported\nrevision\t: 2.4\n\n"
                "timebase\t: 512000000\nplatform\t: pSeries\nMMU\t\t: Radix\n";
        /* s390x: a summary that counts and lists the CPUs, then blocks with a blank line before each. */
        static const char s390x[] = "vendor_id       : IBM/S390\n"
                                    "# processors    : 3\n"
                                    "bogomips per cpu: 3033.00\n"
                                    "processor 0: version = FF,  identification = 0133E8,  machine = 2964\n"
                                    "processor 1: version = FF,  identification = 1133E8,  machine = 2964\n"
                                    "processor 2: version = FF,  identification = 2133E8,  machine = 2964\n"
                                    "\n"
                                    "cpu number      : 0\ncpu MHz dynamic : 5000\n\n"
                                    "cpu number      : 1\ncpu MHz dynamic : 5001\n\n"
                                    "cpu number      : 2\ncpu MHz dynamic : 5002\n";
        /* MIPS prints machine lines before "processor": not understood, the host file is served. */
        static const char mips[] =
                "system type\t\t: Atheros AR9344\nmachine\t\t\t: TP-LINK\nprocessor\t\t: 0\n"
                "cpu model\t\t: MIPS 74Kc V5.0\n\n";
        static const char unknown_header[] = "something\t: else\n\nprocessor\t: 0\nx\t: y\n\n";
        static const char no_cpus[] = "Hardware\t: BCM2835\nRevision\t: a02082\n";
        static const char foreign_between[] =
                "processor\t: 0\na\t: 1\n\nfoo\t: bar\n\nprocessor\t: 1\na\t: 2\n\n";
        static const char duplicate[] = "processor\t: 0\na\t: 1\n\nprocessor\t: 0\na\t: 2\n\n";
        static const unsigned c0[] = {0}, c1[] = {1}, c2[] = {2}, c12[] = {1, 2}, c48[] = {4, 8}, c8[] = {8},
                              c02[] = {0, 2}, c5[] = {5};

        assert_select(arm64, 1, c2, 0, "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0e\n\n");
        assert_select(arm64, 2, c12, 0,
                      "processor\t: 0\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0d\n\n"
                      "processor\t: 1\nBogoMIPS\t: 50.00\nCPU part\t: 0xd0e\n\n");
        assert_select(arm64, 1, c5, -ENOENT, NULL);

        assert_select(ppc64, 2, c48, 0,
                      "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nrevision\t: 2.3\n\n"
                      "processor\t: 1\ncpu\t\t: POWER9 (raw), altivec supported\nrevision\t: 2.4\n\n"
                      "timebase\t: 512000000\nplatform\t: pSeries\nMMU\t\t: Radix\n");
        assert_select(ppc64, 1, c8, 0,
                      "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\nrevision\t: 2.4\n\n"
                      "timebase\t: 512000000\nplatform\t: pSeries\nMMU\t\t: Radix\n");

        /* The last block shown ends as the host's last one does: without a blank line. */
        assert_select(s390x, 2, c02, 0,
                      "vendor_id       : IBM/S390\n"
                      "# processors    : 2\n"
                      "bogomips per cpu: 3033.00\n"
                      "processor 0: version = FF,  identification = 0133E8,  machine = 2964\n"
                      "processor 1: version = FF,  identification = 2133E8,  machine = 2964\n"
                      "\n"
                      "cpu number      : 0\ncpu MHz dynamic : 5000\n\n"
                      "cpu number      : 1\ncpu MHz dynamic : 5002\n");
        assert_select(s390x, 1, c1, 0,
                      "vendor_id       : IBM/S390\n"
                      "# processors    : 1\n"
                      "bogomips per cpu: 3033.00\n"
                      "processor 0: version = FF,  identification = 1133E8,  machine = 2964\n"
                      "\n"
                      "cpu number      : 0\ncpu MHz dynamic : 5001\n");

        assert_select(mips, 1, c0, -EINVAL, NULL);
        assert_select(unknown_header, 1, c0, -EINVAL, NULL);
        assert_select(no_cpus, 1, c0, -EINVAL, NULL);
        assert_select(foreign_between, 1, c0, -EINVAL, NULL);
        assert_select(duplicate, 1, c0, -EINVAL, NULL);
        assert_select("", 1, c0, -EINVAL, NULL);
}

/* Hosts with hundreds of CPUs: a long file, every block found, renumbered and whole. */
static void test_cpuinfo_many_cpus(void) {
        g_autoptr(GString) host = g_string_new(NULL);
        g_autoptr(GString) want = g_string_new(NULL);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree CapfsCpuList *list = g_malloc(sizeof(CapfsCpuList) + 200 * sizeof(unsigned));
        g_autofree char *flags = g_strnfill(1500, 'f');

        for (unsigned i = 0; i < 512; i++)
                g_string_append_printf(host, "processor\t: %u\ncore id\t\t: %u\nflags\t\t: %s\n\n", i, i * 7,
                                       flags);
        /* Every odd CPU from 101: 200 CPUs, far past any single read. */
        list->count = 200;
        for (unsigned k = 0; k < 200; k++) {
                list->cpu[k] = 101 + 2 * k;
                g_string_append_printf(want, "processor\t: %u\ncore id\t\t: %u\nflags\t\t: %s\n\n", k,
                                       list->cpu[k] * 7, flags);
        }
        g_assert_cmpint(capfs_cpuinfo_select(host->str, host->len, list, out), ==, 0);
        g_assert_cmpuint(out->len, >, 256 * 1024);
        g_assert_cmpstr(out->str, ==, want->str);
}

/* ---------------------------------------------------------------- stat */

static void assert_stat_consistent(CapfsHost *host, pid_t pid, unsigned want_cpus,
                                   const unsigned *host_cpus) {
        g_autoptr(GString) stat = render(host, pid, "proc/stat");
        g_autoptr(GString) host_stat = g_string_new(NULL);
        g_autoptr(GArray) host_lines = NULL;
        g_autoptr(GArray) lines = NULL;
        CapfsStatCpu aggregate = {0}, host_aggregate = {0};
        uint64_t sum[CAPFS_STAT_CPU_FIELDS] = {0};

        g_assert_cmpint(capfs_read_file_at(host->proc_fd, "stat", host_stat), ==, 0);
        host_lines = stat_cpu_lines(host_stat->str, &host_aggregate);
        lines = stat_cpu_lines(stat->str, &aggregate);

        g_assert_cmpuint(lines->len, ==, want_cpus);
        for (guint k = 0; k < lines->len; k++) {
                const CapfsStatCpu *line = &g_array_index(lines, CapfsStatCpu, k);
                const CapfsStatCpu *host_line = &g_array_index(host_lines, CapfsStatCpu, host_cpus[k]);

                g_assert_cmpint(line->cpu, ==, (int) k);
                g_assert_cmpint(host_line->cpu, ==, (int) host_cpus[k]);
                g_assert_cmpuint(line->fields, ==, 10);
                /* user + system + idle is all of that host CPU's time; the rest is 0. */
                g_assert_cmpuint(line->value[0] + line->value[2] + line->value[3], ==,
                                 host_cpu_total(host_line));
                g_assert_cmpuint(line->value[1], ==, 0);
                for (unsigned f = 4; f < 10; f++)
                        g_assert_cmpuint(line->value[f], ==, 0);
                for (unsigned f = 0; f < 10; f++)
                        sum[f] += line->value[f];
        }
        for (unsigned f = 0; f < 10; f++)
                g_assert_cmpuint(aggregate.value[f], ==, sum[f]);
        g_assert_true(g_str_has_prefix(stat->str, "cpu  "));

        /* The rest is the host's, in order: btime keeps ps's start times right. */
        g_assert_nonnull(strstr(stat->str, "\nintr 9876543 9 0 "));
        g_assert_nonnull(strstr(stat->str, "\nctxt 48123456\nbtime 1700000000\nprocesses 512345\n"
                                           "procs_running 3\nprocs_blocked 1\nsoftirq 7651321 "));
}

static void test_stat_fixture(void) {
        static const unsigned cpu1[] = {1}, cpu13[] = {1, 3}, cpu012[] = {0, 1, 2};

        for (unsigned l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) quota = cpu_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsHost) cpuset = cpu_host(layouts[l], CAPFS_CPU_VIEW_CPUSET);
                g_autoptr(GString) ct1 = render(quota, 2000, "proc/stat");
                g_autoptr(GString) host_view = render(quota, 1000, "proc/stat");
                g_autoptr(GString) host_file = g_string_new(NULL);

                assert_stat_consistent(quota, 2000, 1, cpu1);
                assert_stat_consistent(cpuset, 2000, 2, cpu13);
                assert_stat_consistent(quota, 3000, 3, cpu012);
                assert_stat_consistent(cpuset, 3000, 3, cpu012);

                g_assert_cmpuint(count_lines_with_prefix(ct1->str, "cpu"), ==, 2);
                g_assert_cmpuint(count_lines_with_prefix(ct1->str, "cpu0 "), ==, 1);

                /* The host in the root cgroup gets the kernel's own figures. */
                g_assert_cmpint(capfs_read_file_at(quota->proc_fd, "stat", host_file), ==, 0);
                g_assert_cmpstr(host_view->str, ==, host_file->str);
        }
}

/*
 * Quota view folds the hidden CPU's usage in. v1: cpu1 user 51237000000 ns + cpu3's
 * 27453000000 ns = 7869 ticks; system 18762000000 + 9348000000 = 2811; idle = host cpu1's
 * 1231610 - 7869 - 2811. v2: user_usec 78694321 -> 7869, system_usec 28318024 -> 2831.
 */
static void test_stat_values(void) {
        struct {
                const char *layout;
                CapfsCpuView view;
                pid_t pid;
                const char *line;
        } cases[] = {
                {"v1", CAPFS_CPU_VIEW_QUOTA, 2000, "cpu0 7869 0 2811 1220930 0 0 0 0 0 0\n"},
                {"v1", CAPFS_CPU_VIEW_CPUSET, 2000, "cpu0 5123 0 1876 1224611 0 0 0 0 0 0\n"},
                {"v1", CAPFS_CPU_VIEW_CPUSET, 2000, "cpu1 2745 0 934 1230221 0 0 0 0 0 0\n"},
                {"v1", CAPFS_CPU_VIEW_QUOTA, 3000, "cpu1 2345 0 876 1228389 0 0 0 0 0 0\n"},
                {"v2", CAPFS_CPU_VIEW_QUOTA, 2000, "cpu0 7869 0 2831 1220910 0 0 0 0 0 0\n"},
                /* Spread evenly: 78694321000 ns / 2 -> 3934 ticks each, 28318024000 / 2 -> 1415. */
                {"v2", CAPFS_CPU_VIEW_CPUSET, 2000, "cpu1 3934 0 1415 1228551 0 0 0 0 0 0\n"},
                {"v2", CAPFS_CPU_VIEW_QUOTA, 3000, "cpu2 3456 0 1230 1227904 0 0 0 0 0 0\n"},
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CapfsHost) host = cpu_host(cases[i].layout, cases[i].view);
                g_autoptr(GString) stat = render(host, cases[i].pid, "proc/stat");

                if (!strstr(stat->str, cases[i].line))
                        g_error("case %u: no \"%s\" in\n%s", i, cases[i].line, stat->str);
        }
}

/* ---------------------------------------------------------------- uptime */

static void test_uptime_values(void) {
        struct {
                const char *layout;
                CapfsCpuView view;
                pid_t pid;
                const char *want;
        } cases[] = {
                /* Host: 12345.67 s. ct1's init started at 30000 ticks = 300.00 s. */
                {"v1", CAPFS_CPU_VIEW_QUOTA, 1000, "12345.67 47630.00\n"},
                /* 1 CPU * 12045.67 s - cpuacct.usage 108046913568 ns (108.04 s). */
                {"v1", CAPFS_CPU_VIEW_QUOTA, 2000, "12045.67 11937.63\n"},
                {"v1", CAPFS_CPU_VIEW_CPUSET, 2000, "12045.67 23983.30\n"},
                /* 3 CPUs * 11945.67 s - 140.59 s. */
                {"v1", CAPFS_CPU_VIEW_QUOTA, 3000, "11945.67 35696.42\n"},
                {"v2", CAPFS_CPU_VIEW_QUOTA, 1000, "12345.67 47630.00\n"},
                /* 1 CPU * 12045.67 s - usage_usec 107012345 (107.01 s). */
                {"v2", CAPFS_CPU_VIEW_QUOTA, 2000, "12045.67 11938.66\n"},
                {"v2", CAPFS_CPU_VIEW_CPUSET, 2000, "12045.67 23984.33\n"},
                {"v2", CAPFS_CPU_VIEW_CPUSET, 3000, "11945.67 35696.42\n"},
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(CapfsHost) host = cpu_host(cases[i].layout, cases[i].view);
                g_autoptr(GString) uptime = render(host, cases[i].pid, "proc/uptime");

                g_assert_cmpstr(uptime->str, ==, cases[i].want);
        }
}

/* ---------------------------------------------------------------- sys/devices/system/cpu */

static void collect_name(void *userdata, const char *name, CapfsNodeType type) {
        g_hash_table_insert(userdata, g_strdup(name), GINT_TO_POINTER(type + 1));
}

static GHashTable *list_dir(CapfsHost *host, const CapfsContainer *ct, const char *subpath) {
        GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

        g_assert_cmpint(capfs_sys_cpu_readdir(host, ct, subpath, collect_name, names), ==, 0);
        return names;
}

static CapfsNodeType listed_type(GHashTable *names, const char *name) {
        gpointer v = g_hash_table_lookup(names, name);

        g_assert_nonnull(v);
        return GPOINTER_TO_INT(v) - 1;
}

static void assert_sys_read(CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                            const char *want) {
        g_autoptr(GString) out = g_string_new(NULL);

        g_assert_cmpint(capfs_sys_cpu_read(host, ct, subpath, out), ==, 0);
        g_assert_cmpstr(out->str, ==, want);
}

static int sys_read_errno(CapfsHost *host, const CapfsContainer *ct, const char *subpath) {
        g_autoptr(GString) out = g_string_new(NULL);
        return capfs_sys_cpu_read(host, ct, subpath, out);
}

static void test_sys_cpu_quota(void) {
        for (unsigned l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = cpu_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
                g_autoptr(GHashTable) top = list_dir(host, ct, "");
                g_autoptr(GHashTable) cpu0 = list_dir(host, ct, "cpu0");
                g_autoptr(GString) link = g_string_new(NULL);
                g_autoptr(GString) through_vfs = g_string_new(NULL);
                CapfsNodeAttr attr;

                /* Only cpu0, which is host cpu1; the host's other entries stay. */
                g_assert_cmpint(listed_type(top, "cpu0"), ==, CAPFS_NODE_DIR);
                g_assert_false(g_hash_table_contains(top, "cpu1"));
                g_assert_false(g_hash_table_contains(top, "cpu3"));
                g_assert_cmpint(listed_type(top, "online"), ==, CAPFS_NODE_FILE);
                g_assert_cmpint(listed_type(top, "kernel_max"), ==, CAPFS_NODE_FILE);
                g_assert_cmpint(listed_type(top, "smt"), ==, CAPFS_NODE_DIR);
                g_assert_cmpint(listed_type(top, "vulnerabilities"), ==, CAPFS_NODE_DIR);
                /* online possible present offline kernel_max isolated modalias uevent smt vulnerabilities
                 * cpu0 */
                g_assert_cmpuint(g_hash_table_size(top), ==, 11);

                g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "cpu1", &attr), ==, -ENOENT);
                g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "cpu1/topology/core_id", &attr), ==, -ENOENT);
                g_assert_cmpint(sys_read_errno(host, ct, "cpu3/topology/core_id"), ==, -ENOENT);
                g_assert_cmpint(capfs_sys_cpu_readdir(host, ct, "cpu2", collect_name, NULL), ==, -ENOENT);

                assert_sys_read(host, ct, "cpu0/topology/core_id", "1\n");
                assert_sys_read(host, ct, "cpu0/online", "1\n");
                assert_sys_read(host, ct, "online", "0\n");
                assert_sys_read(host, ct, "possible", "0\n");
                assert_sys_read(host, ct, "present", "0\n");
                assert_sys_read(host, ct, "offline", "\n");
                assert_sys_read(host, ct, "kernel_max", "255\n");
                assert_sys_read(host, ct, "smt/control", "notsupported\n");

                g_assert_cmpint(capfs_sys_cpu_readlink(host, ct, "cpu0/node0", link), ==, 0);
                g_assert_cmpstr(link->str, ==, "../../node/node0");

                /* host cpu1 has an "online" file (cpu0 has none on x86). */
                g_assert_cmpint(listed_type(cpu0, "topology"), ==, CAPFS_NODE_DIR);
                g_assert_cmpint(listed_type(cpu0, "node0"), ==, CAPFS_NODE_SYMLINK);
                g_assert_cmpint(listed_type(cpu0, "online"), ==, CAPFS_NODE_FILE);
                g_assert_cmpint(listed_type(cpu0, "uevent"), ==, CAPFS_NODE_FILE);
                g_assert_cmpuint(g_hash_table_size(cpu0), ==, 4);

                /* The same through the mount's tree. */
                g_assert_cmpint(capfs_node_read(host, ct, "sys/devices/system/cpu/online", through_vfs), ==,
                                0);
                g_assert_cmpstr(through_vfs->str, ==, "0\n");
                g_assert_cmpint(capfs_node_read(host, ct, "sys/devices/system/cpu/cpu0/topology/core_id",
                                                through_vfs),
                                ==, 0);
                g_assert_cmpstr(through_vfs->str, ==, "1\n");
        }
}

static void test_sys_cpu_cpuset_and_host(void) {
        for (unsigned l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = cpu_host(layouts[l], CAPFS_CPU_VIEW_CPUSET);
                g_autoptr(CapfsContainer) ct1 = fixture_container(host, 2000);
                g_autoptr(CapfsContainer) ct2 = fixture_container(host, 3000);
                g_autoptr(CapfsContainer) hostct = fixture_container(host, 1000);
                g_autoptr(GHashTable) top1 = list_dir(host, ct1, "");
                g_autoptr(GHashTable) top2 = list_dir(host, ct2, "");
                g_autoptr(GHashTable) tophost = list_dir(host, hostct, "");
                CapfsNodeAttr attr;

                g_assert_true(g_hash_table_contains(top1, "cpu1"));
                g_assert_false(g_hash_table_contains(top1, "cpu2"));
                assert_sys_read(host, ct1, "online", "0-1\n");
                assert_sys_read(host, ct1, "cpu0/topology/core_id", "1\n");
                assert_sys_read(host, ct1, "cpu1/topology/core_id", "9\n");
                g_assert_cmpint(capfs_sys_cpu_stat(host, ct1, "cpu2", &attr), ==, -ENOENT);

                g_assert_true(g_hash_table_contains(top2, "cpu2"));
                g_assert_false(g_hash_table_contains(top2, "cpu3"));
                assert_sys_read(host, ct2, "online", "0-2\n");
                assert_sys_read(host, ct2, "cpu2/topology/core_id", "8\n");

                g_assert_true(g_hash_table_contains(tophost, "cpu3"));
                assert_sys_read(host, hostct, "online", "0-3\n");
                assert_sys_read(host, hostct, "cpu3/topology/core_id", "9\n");
                assert_sys_read(host, hostct, "cpu0/topology/core_id", "0\n");
                g_assert_cmpint(sys_read_errno(host, hostct, "cpu0/online"), ==, -ENOENT);
        }
}

static void test_sys_cpu_attrs(void) {
        g_autoptr(CapfsHost) host = cpu_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
        g_autoptr(GString) out = g_string_new(NULL);
        CapfsNodeAttr attr;

        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_cmpuint(attr.perm, ==, 0555);
        /* Its listing varies per container, but not what it is: readdir is never cached anyway. */
        g_assert_false(attr.per_caller);

        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "cpu0", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_cmpuint(attr.perm, ==, 0555);
        g_assert_true(attr.per_caller);

        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "cpu0/topology/core_id", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_FILE);
        g_assert_cmpuint(attr.perm, ==, 0444);
        g_assert_true(attr.per_caller);

        /* uevent is 0644 on the host: capfs serves it read-only. */
        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "uevent", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_FILE);
        g_assert_cmpuint(attr.perm, ==, 0444);
        g_assert_false(attr.per_caller);

        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "cpu0/node0", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_SYMLINK);
        g_assert_cmpuint(attr.perm, ==, 0777);

        for (const char *const *f = (const char *const[]){"online", "possible", "present", "offline", NULL};
             *f; f++) {
                g_assert_cmpint(capfs_sys_cpu_stat(host, ct, *f, &attr), ==, 0);
                g_assert_cmpint(attr.type, ==, CAPFS_NODE_FILE);
                g_assert_cmpuint(attr.perm, ==, 0444);
                /* Their content is per container; whether they exist is not. */
                g_assert_false(attr.per_caller);
        }
        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "kernel_max", &attr), ==, 0);
        g_assert_false(attr.per_caller);
        g_assert_cmpint(capfs_sys_cpu_stat(host, ct, "smt", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_false(attr.per_caller);

        /* Paths that try to walk or that name no entry. */
        for (const char *const *p = (const char *const[]){"..", "../cpu", "cpu0/../cpu1", "./online", ".",
                                                          "cpu0//topology", "cpu0/", "/online", "cpu01",
                                                          "cpu00", "nope", "cpu0/nope", "cpu", NULL};
             *p; p++) {
                g_assert_cmpint(capfs_sys_cpu_stat(host, ct, *p, &attr), ==, -ENOENT);
                g_assert_cmpint(sys_read_errno(host, ct, *p), ==, -ENOENT);
        }

        /* Wrong kind of node. */
        g_assert_cmpint(sys_read_errno(host, ct, ""), ==, -EISDIR);
        g_assert_cmpint(sys_read_errno(host, ct, "cpu0"), ==, -EISDIR);
        g_assert_cmpint(sys_read_errno(host, ct, "cpu0/topology"), ==, -EISDIR);
        g_assert_cmpint(sys_read_errno(host, ct, "cpu0/node0"), ==, -ELOOP);
        g_assert_cmpint(capfs_sys_cpu_readlink(host, ct, "online", out), ==, -EINVAL);
        g_assert_cmpint(capfs_sys_cpu_readlink(host, ct, "", out), ==, -EINVAL);
        g_assert_cmpint(capfs_sys_cpu_readlink(host, ct, "kernel_max", out), ==, -EINVAL);
        g_assert_cmpint(capfs_sys_cpu_readlink(host, ct, "cpu1/node0", out), ==, -ENOENT);
        g_assert_cmpint(capfs_sys_cpu_readdir(host, ct, "online", collect_name, NULL), ==, -ENOTDIR);
        g_assert_cmpint(capfs_sys_cpu_readdir(host, ct, "kernel_max", collect_name, NULL), ==, -ENOTDIR);
        /* A symlink is not followed into: the container's kernel resolves it in its own /sys. */
        g_assert_cmpint(capfs_sys_cpu_readdir(host, ct, "cpu0/node0", collect_name, NULL), ==, -ENOTDIR);
}

/* ---------------------------------------------------------------- synthetic hosts */

/* A host root in a temporary directory, written file by file. */
typedef struct TmpHost {
        char *root;
} TmpHost;

static void put(TmpHost *t, const char *rel, const char *content) {
        g_autofree char *path = g_build_filename(t->root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
}

static void drop(TmpHost *t, const char *rel) {
        g_autofree char *path = g_build_filename(t->root, rel, NULL);
        g_assert_cmpint(unlink(path), ==, 0);
}

static TmpHost *tmp_host_new(bool v2, const char *online) {
        TmpHost *t = g_new0(TmpHost, 1);
        g_autoptr(GError) error = NULL;
        g_autofree char *ns = NULL;

        t->root = g_dir_make_tmp("capfs-test-cpu-XXXXXX", &error);
        g_assert_no_error(error);
        put(t, "sys/devices/system/cpu/online", online);
        put(t, "proc/uptime", "1000.00 3000.00\n");
        if (v2)
                put(t, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu memory pids\n");
        else
                put(t, "sys/fs/cgroup/memory/cgroup.procs", "");
        ns = g_build_filename(t->root, "proc/self/ns", NULL);
        g_assert_cmpint(g_mkdir_with_parents(ns, 0755), ==, 0);
        g_free(g_steal_pointer(&ns));
        ns = g_build_filename(t->root, "proc/self/ns/pid", NULL);
        g_assert_cmpint(symlink("pid:[4026531836]", ns), ==, 0);
        return t;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void tmp_host_free(TmpHost *t) {
        nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_free(t->root);
        g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmpHost, tmp_host_free)

static CapfsHost *tmp_host_open(TmpHost *t, CapfsCpuView view) {
        g_autoptr(GError) error = NULL;
        CapfsHost *host = capfs_host_open(t->root, view, &error);

        g_assert_no_error(error);
        host->clock_ticks = 100;
        return host;
}

static CapfsContainer *tmp_container(const char *path, bool v2) {
        CapfsContainer *ct = g_new0(CapfsContainer, 1);

        if (!path)
                return ct;
        if (v2)
                ct->cgroup[CAPFS_CTRL_UNIFIED] = g_strdup(path);
        else
                for (CapfsController c = 0; c < CAPFS_CTRL_UNIFIED; c++)
                        ct->cgroup[c] = g_strdup(path);
        return ct;
}

/* One v1 level: "" leaves a knob out. */
static void v1_level(TmpHost *t, const char *cg, const char *effective, const char *cpus, const char *quota,
                     const char *period) {
        struct {
                const char *hierarchy, *knob, *value;
        } knobs[] = {
                {"cpuset", "cpuset.effective_cpus", effective},
                {"cpuset", "cpuset.cpus", cpus},
                {"cpu", "cpu.cfs_quota_us", quota},
                {"cpu", "cpu.cfs_period_us", period},
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(knobs); i++) {
                g_autofree char *rel = NULL;
                g_autofree char *value = NULL;

                if (!knobs[i].value)
                        continue;
                rel = g_strconcat("sys/fs/cgroup/", knobs[i].hierarchy, cg, "/", knobs[i].knob, NULL);
                value = g_strconcat(knobs[i].value, "\n", NULL);
                put(t, rel, value);
        }
}

static void v2_level(TmpHost *t, const char *cg, const char *effective, const char *cpu_max) {
        if (effective) {
                g_autofree char *rel = g_strconcat("sys/fs/cgroup", cg, "/cpuset.cpus.effective", NULL);
                g_autofree char *value = g_strconcat(effective, "\n", NULL);
                put(t, rel, value);
        }
        if (cpu_max) {
                g_autofree char *rel = g_strconcat("sys/fs/cgroup", cg, "/cpu.max", NULL);
                g_autofree char *value = g_strconcat(cpu_max, "\n", NULL);
                put(t, rel, value);
        }
}

static void assert_tmp_cpus(TmpHost *t, const char *cg, bool v2, const char *want_quota,
                            const char *want_cpuset) {
        for (unsigned v = 0; v < 2; v++) {
                g_autoptr(CapfsHost) host =
                        tmp_host_open(t, v == 0 ? CAPFS_CPU_VIEW_QUOTA : CAPFS_CPU_VIEW_CPUSET);
                g_autoptr(CapfsContainer) ct = tmp_container(cg, v2);
                g_autofree CapfsCpuList *cpus = NULL;
                g_autoptr(GString) got = g_string_new(NULL);

                g_assert_cmpint(capfs_container_cpus(host, ct, &cpus), ==, 0);
                for (unsigned i = 0; i < cpus->count; i++)
                        g_string_append_printf(got, "%s%u", i ? "," : "", cpus->cpu[i]);
                g_assert_cmpstr(got->str, ==, v == 0 ? want_quota : want_cpuset);
        }
}

static void test_cpus_v1_combos(void) {
        struct {
                const char *online;
                /* root, /a, /a/b: effective, cpus, quota, period */
                const char *level[3][4];
                const char *cg;
                const char *want_quota, *want_cpuset;
        } cases[] = {
                /* No quota anywhere. */
                {"0-7",
                 {{"0-7", "0-7", "-1", "100000"}, {"0-7", "0-7", "-1", "100000"}},
                 "/a",
                 "0,1,2,3,4,5,6,7",
                 "0,1,2,3,4,5,6,7"},
                /* ceil(1.5) = 2. */
                {"0-7",
                 {{"0-7", "0-7", "-1", "100000"}, {"0-7", "0-7", "150000", "100000"}},
                 "/a",
                 "0,1",
                 "0,1,2,3,4,5,6,7"},
                /* The first CPUs of the cpuset, not of the host. */
                {"0-7",
                 {{"0-7", "0-7", "-1", "100000"}, {"2,4,6", "2,4,6", "100000", "100000"}},
                 "/a",
                 "2",
                 "2,4,6"},
                /* A tiny quota still leaves one CPU. */
                {"0-3",
                 {{"0-3", "0-3", "-1", "100000"}, {"0-3", "0-3", "1000", "100000"}},
                 "/a",
                 "0",
                 "0,1,2,3"},
                /* A quota larger than the cpuset cuts nothing. */
                {"0-3",
                 {{"0-3", "0-3", "-1", "100000"}, {"1-2", "1-2", "800000", "100000"}},
                 "/a",
                 "1,2",
                 "1,2"},
                /* The parent's quota is tighter than the child's. */
                {"0-7",
                 {{"0-7", "0-7", "-1", "100000"},
                  {"0-7", "0-7", "200000", "100000"},
                  {"0-7", "0-7", "350000", "100000"}},
                 "/a/b",
                 "0,1",
                 "0,1,2,3,4,5,6,7"},
                /* The child's is tighter, with another period: 100000/50000 = 2 < 300000/100000 = 3. */
                {"0-7",
                 {{"0-7", "0-7", "-1", "100000"},
                  {"0-7", "0-7", "300000", "100000"},
                  {"0-7", "0-7", "100000", "50000"}},
                 "/a/b",
                 "0,1",
                 "0,1,2,3,4,5,6,7"},
                /* Root's quota knob is -1 and is the only level: no cut. */
                {"0-3", {{"0-3", "0-3", "-1", "100000"}}, "/", "0,1,2,3", "0,1,2,3"},
                /* No effective_cpus (old kernels): cpuset.cpus. */
                {"0-3", {{"0-3", "0-3", "-1", "100000"}, {NULL, "1-2", NULL, NULL}}, "/a", "1,2", "1,2"},
                /* An unconfigured (empty) cpuset: the parent's CPUs. */
                {"0-3",
                 {{"0-3", "0-3", "-1", "100000"}, {"1,3", "1,3", NULL, NULL}, {"", "", NULL, NULL}},
                 "/a/b",
                 "1,3",
                 "1,3"},
                /* CPUs of the cpuset that are offline are left out. */
                {"0-3", {{"0-3", "0-3", "-1", "100000"}, {"2-5", "2-5", NULL, NULL}}, "/a", "2,3", "2,3"},
                /* A hole in the online CPUs, then a quota of 3 CPUs. */
                {"0-1,4-5",
                 {{"0-1,4-5", "0-1,4-5", "-1", "100000"}, {"0-7", "0-7", "250000", "100000"}},
                 "/a",
                 "0,1,4",
                 "0,1,4,5"},
                /* Quota without a readable period is no quota. */
                {"0-3",
                 {{"0-3", "0-3", "-1", "100000"}, {"0-3", "0-3", "100000", NULL}},
                 "/a",
                 "0,1,2,3",
                 "0,1,2,3"},
                /* The container's cgroup is unknown: all online CPUs. */
                {"0-5", {{"0-3", "0-3", "100000", "100000"}}, NULL, "0,1,2,3,4,5", "0,1,2,3,4,5"},
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(TmpHost) t = tmp_host_new(false, cases[i].online);
                static const char *const paths[] = {"", "/a", "/a/b"};

                g_test_message("v1 case %u", i);
                for (unsigned lvl = 0; lvl < 3; lvl++)
                        if (cases[i].level[lvl][0] || cases[i].level[lvl][1] || cases[i].level[lvl][2])
                                v1_level(t, paths[lvl], cases[i].level[lvl][0], cases[i].level[lvl][1],
                                         cases[i].level[lvl][2], cases[i].level[lvl][3]);
                assert_tmp_cpus(t, cases[i].cg, false, cases[i].want_quota, cases[i].want_cpuset);
        }
}

static void test_cpus_v1_no_controllers(void) {
        /* No cpuset and no cpu hierarchy mounted: the host's CPUs, uncut. */
        g_autoptr(TmpHost) t = tmp_host_new(false, "0-2\n");

        assert_tmp_cpus(t, "/a", false, "0,1,2", "0,1,2");
}

static void test_cpus_v2_combos(void) {
        struct {
                const char *online;
                /* root, /a, /a/b: cpuset.cpus.effective, cpu.max */
                const char *level[3][2];
                const char *cg;
                const char *want_quota, *want_cpuset;
        } cases[] = {
                {"0-7", {{"0-7", NULL}, {"0-7", "max 100000"}}, "/a", "0,1,2,3,4,5,6,7", "0,1,2,3,4,5,6,7"},
                {"0-7", {{"0-7", NULL}, {"0-7", "250000 100000"}}, "/a", "0,1,2", "0,1,2,3,4,5,6,7"},
                {"0-7", {{"0-7", NULL}, {"3,5-6", "50000 100000"}}, "/a", "3", "3,5,6"},
                /* cpuset not enabled below /a: /a/b runs on /a's CPUs; /a's quota caps it. */
                {"0-7",
                 {{"0-7", NULL}, {"4-7", "100000 100000"}, {NULL, "max 100000"}},
                 "/a/b",
                 "4",
                 "4,5,6,7"},
                /* cpu not enabled anywhere, cpuset only at the root. */
                {"0-3", {{"0-3", NULL}, {NULL, NULL}, {NULL, NULL}}, "/a/b", "0,1,2,3", "0,1,2,3"},
                /* Root has no cpu.max; a child's 1.01 CPUs round up to 2. */
                {"0-3", {{"0-3", NULL}, {"0-3", "101000 100000"}}, "/a", "0,1", "0,1,2,3"},
                /* A malformed cpu.max is ignored rather than trusted. */
                {"0-3", {{"0-3", NULL}, {"0-3", "lots 100000"}}, "/a", "0,1,2,3", "0,1,2,3"},
        };

        for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(TmpHost) t = tmp_host_new(true, cases[i].online);
                static const char *const paths[] = {"", "/a", "/a/b"};

                g_test_message("v2 case %u", i);
                for (unsigned lvl = 0; lvl < 3; lvl++) {
                        g_autofree char *procs =
                                g_strconcat("sys/fs/cgroup", paths[lvl], "/cgroup.procs", NULL);

                        put(t, procs, "");
                        v2_level(t, paths[lvl], cases[i].level[lvl][0], cases[i].level[lvl][1]);
                }
                assert_tmp_cpus(t, cases[i].cg, true, cases[i].want_quota, cases[i].want_cpuset);
        }
}

/* proc/stat with only cpuacct.usage_all (kernels before 4.7 lack the per-CPU user/sys files). */
static void test_stat_usage_all_fallback(void) {
        g_autoptr(TmpHost) t = tmp_host_new(false, "0-1\n");
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) ct = tmp_container("/a", false);
        g_autoptr(GString) out = g_string_new(NULL);

        put(t, "proc/stat",
            "cpu  300 0 300 1400 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\n"
            "cpu1 200 0 200 600 0 0 0 0 0 0\nbtime 1\n");
        v1_level(t, "", "0-1", "0-1", "-1", "100000");
        v1_level(t, "/a", "0-1", "0-1", "-1", "100000");
        put(t, "sys/fs/cgroup/cpuacct/a/cpuacct.usage_all",
            "cpu user system\n0 120000000 50000000\n1 370000000 90000000\n");
        host = tmp_host_open(t, CAPFS_CPU_VIEW_QUOTA);

        g_assert_cmpint(capfs_render_proc_stat(host, ct, out), ==, 0);
        /* 0.12 s = 12 ticks, 0.05 s = 5; cpu0's total is 1000 ticks. */
        g_assert_cmpstr(out->str, ==,
                        "cpu  49 0 14 1937 0 0 0 0 0 0\n"
                        "cpu0 12 0 5 983 0 0 0 0 0 0\n"
                        "cpu1 37 0 9 954 0 0 0 0 0 0\n"
                        "btime 1\n");

        /* No accounting at all: no numbers to show, the host's file is served instead. */
        drop(t, "sys/fs/cgroup/cpuacct/a/cpuacct.usage_all");
        g_assert_cmpint(capfs_render_proc_stat(host, ct, out), <, 0);
}

/*
 * A container that ran more on its hidden CPUs than the shown one has time: the usage is
 * kept, idle stops at 0 instead of going negative. Old kernels' 4-field lines keep 4 fields.
 */
static void test_stat_fold_overflow(void) {
        g_autoptr(TmpHost) t = tmp_host_new(true, "0-1\n");
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) ct = tmp_container("/a", true);
        g_autoptr(GString) out = g_string_new(NULL);

        put(t, "proc/stat", "cpu  600 0 200 1200\ncpu0 300 0 100 600\ncpu1 300 0 100 600\nintr 5\n");
        put(t, "sys/fs/cgroup/cgroup.procs", "");
        v2_level(t, "", "0-1", NULL);
        v2_level(t, "/a", "0-1", "100000 100000");
        put(t, "sys/fs/cgroup/a/cpu.stat", "usage_usec 15000000\nuser_usec 12000000\nsystem_usec 3000000\n");
        host = tmp_host_open(t, CAPFS_CPU_VIEW_QUOTA);

        g_assert_cmpint(capfs_render_proc_stat(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "cpu  1200 0 300 0\ncpu0 1200 0 300 0\nintr 5\n");
}

/* proc/uptime: idle never below 0 nor above CPUs * age; a start in the future is age 0. */
static void test_uptime_bounds(void) {
        g_autoptr(TmpHost) t = tmp_host_new(true, "0-3\n");
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) ct = tmp_container("/a", true);
        g_autoptr(GString) out = g_string_new(NULL);

        put(t, "sys/fs/cgroup/cgroup.procs", "");
        v2_level(t, "", "0-3", NULL);
        v2_level(t, "/a", "0-1", NULL);
        host = tmp_host_open(t, CAPFS_CPU_VIEW_QUOTA);

        /* Host uptime 1000.00 s; started at 400.00 s: 600 s old, 2 CPUs. */
        ct->init_start_ticks = 40000;
        put(t, "sys/fs/cgroup/a/cpu.stat",
            "usage_usec 5000000000\nuser_usec 4000000000\nsystem_usec 1000000000\n");
        g_assert_cmpint(capfs_render_proc_uptime(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "600.00 0.00\n");

        put(t, "sys/fs/cgroup/a/cpu.stat", "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n");
        g_assert_cmpint(capfs_render_proc_uptime(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "600.00 1198.77\n");

        /* No cpu.stat: all of the CPUs' time is idle. */
        drop(t, "sys/fs/cgroup/a/cpu.stat");
        g_assert_cmpint(capfs_render_proc_uptime(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "600.00 1200.00\n");

        ct->init_start_ticks = 200000;
        g_assert_cmpint(capfs_render_proc_uptime(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "0.00 0.00\n");

        /* Another USER_HZ: 250 ticks a second, 150000 ticks = 600.00 s. */
        host->clock_ticks = 250;
        ct->init_start_ticks = 150000;
        g_assert_cmpint(capfs_render_proc_uptime(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "400.00 800.00\n");
}

/* ---------------------------------------------------------------- parsers */

static void test_parse_stat_cpus(void) {
        static const char text[] = "cpu  10 1 20 300 4 0 5 0 0 0\ncpu0 4 1 8 150 2 0 3 0 0 0\n"
                                   "cpu12 6 0 12 150 2 0 2 0 0 0\nintr 1 2 3\nctxt 9\n";
        g_autoptr(GArray) lines = NULL;
        CapfsStatCpu *l;

        g_assert_cmpint(capfs_parse_stat_cpus(text, strlen(text), &lines), ==, 0);
        g_assert_cmpuint(lines->len, ==, 3);
        l = &g_array_index(lines, CapfsStatCpu, 0);
        g_assert_cmpint(l->cpu, ==, -1);
        g_assert_cmpuint(l->fields, ==, 10);
        g_assert_cmpuint(l->value[3], ==, 300);
        l = &g_array_index(lines, CapfsStatCpu, 2);
        g_assert_cmpint(l->cpu, ==, 12);
        g_assert_cmpuint(l->value[2], ==, 12);
        g_clear_pointer(&lines, g_array_unref);

        /* 2.6-era lines with 7 fields; no newline at the end; not NUL-terminated. */
        g_assert_cmpint(capfs_parse_stat_cpus("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7XX", 37, &lines), ==,
                        0);
        g_assert_cmpuint(g_array_index(lines, CapfsStatCpu, 1).fields, ==, 7);
        g_assert_cmpuint(g_array_index(lines, CapfsStatCpu, 1).value[6], ==, 7);
        g_assert_cmpuint(g_array_index(lines, CapfsStatCpu, 1).value[7], ==, 0);
        g_clear_pointer(&lines, g_array_unref);

        /* More fields than today's 10 are accepted and not stored. */
        g_assert_cmpint(capfs_parse_stat_cpus("cpu0 1 2 3 4 5 6 7 8 9 10 11\n", 29, &lines), ==, 0);
        g_assert_cmpuint(g_array_index(lines, CapfsStatCpu, 0).fields, ==, 10);
        g_clear_pointer(&lines, g_array_unref);

        for (const char *const *bad = (const char *const[]){"", "intr 1\n", "cpu  1 2 3\n", "cpu0 1 2 x 4\n",
                                                            "cpux 1 2 3 4\n", "cpu0: 1 2 3 4\n",
                                                            "cpu0 1 2 3 99999999999999999999\n",
                                                            "cpu999999 1 2 3 4\n", "cpu0 1 2 3 -4\n", NULL};
             *bad; bad++) {
                g_assert_cmpint(capfs_parse_stat_cpus(*bad, strlen(*bad), &lines), <, 0);
                g_assert_null(lines);
        }
}

static void test_parse_u64_list(void) {
        g_autoptr(GArray) values = NULL;

        g_assert_cmpint(capfs_parse_u64_list("12 0 18446744073709551615 \n", 27, &values), ==, 0);
        g_assert_cmpuint(values->len, ==, 3);
        g_assert_cmpuint(g_array_index(values, guint64, 2), ==, UINT64_MAX);
        g_clear_pointer(&values, g_array_unref);

        g_assert_cmpint(capfs_parse_u64_list("\n", 1, &values), ==, 0);
        g_assert_cmpuint(values->len, ==, 0);
        g_clear_pointer(&values, g_array_unref);

        g_assert_cmpint(capfs_parse_u64_list("1 2x 3\n", 7, &values), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_u64_list("1 -2\n", 5, &values), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_u64_list("18446744073709551616\n", 21, &values), ==, -ERANGE);
        g_assert_null(values);
}

static void test_parse_usage_all(void) {
        static const char text[] = "cpu user system\n0 10 20\n3 30 40\n";
        g_autoptr(GArray) user = NULL;
        g_autoptr(GArray) system = NULL;

        g_assert_cmpint(capfs_parse_cpuacct_usage_all(text, strlen(text), &user, &system), ==, 0);
        g_assert_cmpuint(user->len, ==, 4);
        g_assert_cmpuint(g_array_index(user, guint64, 0), ==, 10);
        g_assert_cmpuint(g_array_index(user, guint64, 1), ==, 0);
        g_assert_cmpuint(g_array_index(system, guint64, 3), ==, 40);
        g_clear_pointer(&user, g_array_unref);
        g_clear_pointer(&system, g_array_unref);

        for (const char *const *bad =
                     (const char *const[]){"", "0 10 20\n", "cpu user system\n0 10\n",
                                           "cpu user system\n0 10 20 30\n", "cpu user system\nx 10 20\n",
                                           "cpu user system\n999999 1 2\n", NULL};
             *bad; bad++) {
                g_assert_cmpint(capfs_parse_cpuacct_usage_all(*bad, strlen(*bad), &user, &system), <, 0);
                g_assert_null(user);
                g_assert_null(system);
        }
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/cpu/cpus/fixture", test_fixture_cpus);
        g_test_add_func("/cpu/cpus/v1-combos", test_cpus_v1_combos);
        g_test_add_func("/cpu/cpus/v1-no-controllers", test_cpus_v1_no_controllers);
        g_test_add_func("/cpu/cpus/v2-combos", test_cpus_v2_combos);
        g_test_add_func("/cpu/golden/v1", test_golden_v1);
        g_test_add_func("/cpu/golden/v2", test_golden_v2);
        g_test_add_func("/cpu/same-view-in-container", test_same_view_in_container);
        g_test_add_func("/cpu/cpuinfo/fixture", test_cpuinfo_fixture);
        g_test_add_func("/cpu/cpuinfo/arches", test_cpuinfo_arches);
        g_test_add_func("/cpu/cpuinfo/many-cpus", test_cpuinfo_many_cpus);
        g_test_add_func("/cpu/stat/fixture", test_stat_fixture);
        g_test_add_func("/cpu/stat/values", test_stat_values);
        g_test_add_func("/cpu/stat/usage-all-fallback", test_stat_usage_all_fallback);
        g_test_add_func("/cpu/stat/fold-overflow", test_stat_fold_overflow);
        g_test_add_func("/cpu/uptime/values", test_uptime_values);
        g_test_add_func("/cpu/uptime/bounds", test_uptime_bounds);
        g_test_add_func("/cpu/sys/quota", test_sys_cpu_quota);
        g_test_add_func("/cpu/sys/cpuset-and-host", test_sys_cpu_cpuset_and_host);
        g_test_add_func("/cpu/sys/attrs", test_sys_cpu_attrs);
        g_test_add_func("/cpu/parse/stat-cpus", test_parse_stat_cpus);
        g_test_add_func("/cpu/parse/u64-list", test_parse_u64_list);
        g_test_add_func("/cpu/parse/usage-all", test_parse_usage_all);
        return g_test_run();
}
