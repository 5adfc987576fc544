/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc/loadavg (and its sampler), proc/diskstats and proc/pressure/{cpu,io,memory} against the fixture
 * trees. */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fixture.h"
#include "parse/parse.h"

/* The pid namespaces of the fixture containers (proc/PID/ns/pid). */
#define PIDNS_CT1 UINT64_C(4026532100)
#define PIDNS_CT2 UINT64_C(4026532200)
#define PIDNS_CT20 UINT64_C(4026532300)

#define SEC G_USEC_PER_SEC
/* An arbitrary monotonic start, so that no test depends on the clock. */
#define T0 (INT64_C(1000) * SEC)

static const char *const layouts[] = {"v1", "v2"};

static char *read_fixture(const char *rel) {
        g_autofree char *path = fixture_path(rel);
        g_autoptr(GError) error = NULL;
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

static char *render(CapfsHost *host, pid_t pid, CapfsRenderFn fn, int expect_r) {
        g_autoptr(CapfsContainer) ct = fixture_container(host, pid);
        g_autoptr(GString) out = g_string_new(NULL);

        g_assert_cmpint(fn(host, ct, out), ==, expect_r);
        return g_string_free(g_steal_pointer(&out), false);
}

/* ---- proc/diskstats ---- */

static void test_diskstats_golden(void) {
        static const pid_t pids[] = {1000, 2000, 3000};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = fixture_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);

                for (size_t i = 0; i < G_N_ELEMENTS(pids); i++) {
                        g_autofree char *expected =
                                g_strdup_printf("%s/diskstats@%d", layouts[l], (int) pids[i]);
                        g_autofree char *text = NULL;

                        fixture_assert_render(host, pids[i], "proc/diskstats", expected);
                        /* Rendered, not the fallback that capfs_node_read() would serve on error. */
                        text = render(host, pids[i], capfs_render_proc_diskstats, 0);
                        g_assert_cmpuint(strlen(text), >, 0);
                }
        }
}

static void test_diskstats_values_v1(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autofree char *host_file = read_fixture("v1/proc/diskstats");
        g_autofree char *ct1 = render(host, 2000, capfs_render_proc_diskstats, 0);
        g_autofree char *ct1_other = render(host, 2001, capfs_render_proc_diskstats, 0);
        g_autofree char *ct2 = render(host, 3000, capfs_render_proc_diskstats, 0);
        g_autofree char *host_view = render(host, 1000, capfs_render_proc_diskstats, 0);

        /*
         * vda: 256 reads, 11 merged, 1048576 B = 2048 sectors, 123 ms service + 7 ms wait;
         * 64 writes, 22 merged, 2097152 B = 4096 sectors, 45 + 5 ms; weighted 130 + 50 + 4;
         * 8 discards of 524288 B = 1024 sectors in 4 ms. vdb likewise; zram0 (all 0), 8:0
         * (not a host disk), loop* and the partition vda1 are left out.
         */
        g_assert_cmpstr(ct1, ==,
                        " 254       0 vda 256 11 2048 130 64 22 4096 50 0 0 184 8 0 1024 4 0 0\n"
                        " 254      16 vdb 100 3 8000 10 2 0 16 2 0 0 12 0 0 0 0 0 0\n");
        /* Every process of the container sees the container's view. */
        g_assert_cmpstr(ct1_other, ==, ct1);
        /* The _recursive files win over ct2's own (102400 B, 25 reads); no BFQ files: no times. */
        g_assert_cmpstr(ct2, ==, " 254       0 vda 75 0 600 0 25 0 100 0 0 0 0 0 0 0 0 0 0\n");
        /* The root cgroup's I/O is the host's. */
        g_assert_cmpstr(host_view, ==, host_file);
}

static void test_diskstats_values_v2(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autofree char *host_file = read_fixture("v2/proc/diskstats");
        g_autofree char *ct1 = render(host, 2000, capfs_render_proc_diskstats, 0);
        g_autofree char *ct2 = render(host, 3005, capfs_render_proc_diskstats, 0);
        g_autofree char *host_view = render(host, 1000, capfs_render_proc_diskstats, 0);

        /* io.stat: sectors = bytes / 512; the empty "253:0 " line and the unknown 259:0 are left out. */
        g_assert_cmpstr(ct1, ==,
                        " 254       0 vda 257 0 2056 0 65 0 4104 0 0 0 0 9 0 1032 0 0 0\n"
                        " 254      16 vdb 101 0 8008 0 3 0 24 0 0 0 0 0 0 0 0 0 0\n");
        /* 55300 B written is 108 whole sectors; 3005 joined ct2's namespace with setns(). */
        g_assert_cmpstr(ct2, ==, " 254       0 vda 76 0 608 0 26 0 108 0 0 0 0 0 0 0 0 0 0\n");
        g_assert_cmpstr(host_view, ==, host_file);
}

static CapfsContainer *fake_container(CapfsController ctrl, const char *cgpath) {
        CapfsContainer *ct = g_new0(CapfsContainer, 1);

        ct->init_pid = 2000;
        ct->cgroup[ctrl] = g_strdup(cgpath);
        return ct;
}

static void test_diskstats_missing(void) {
        g_autoptr(CapfsHost) v1 = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsHost) v2 = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) no_files_v1 = fake_container(CAPFS_CTRL_BLKIO, "/parent");
        g_autoptr(CapfsContainer) no_files_v2 = fake_container(CAPFS_CTRL_UNIFIED, "/parent");
        g_autoptr(CapfsContainer) unknown = fake_container(CAPFS_CTRL_MEMORY, "/ct1");
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *host_file = read_fixture("v1/proc/diskstats");

        /* No statistics: an error, so that the caller serves the host's file, never an empty view. */
        g_assert_cmpint(capfs_render_proc_diskstats(v1, no_files_v1, out), ==, -ENOENT);
        g_assert_cmpint(capfs_render_proc_diskstats(v2, no_files_v2, out), ==, -ENOENT);
        g_assert_cmpint(capfs_render_proc_diskstats(v1, unknown, out), ==, -ENOENT);
        g_assert_cmpint(capfs_node_read(v1, no_files_v1, "proc/diskstats", out), ==, 0);
        g_assert_cmpstr(out->str, ==, host_file);
}

/*
 * v2: a cgroup whose parent does not enable the io (or pids) controller has no io.stat (or
 * pids.current); the kernel charges it to the nearest ancestor that has them. ct1's
 * init.scope and system.slice/foo.service are such cgroups in the fixture.
 */
static void test_v2_nearest_accounting(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        g_autoptr(CapfsContainer) nested =
                fake_container(CAPFS_CTRL_UNIFIED, "/ct1/system.slice/foo.service");
        g_autoptr(GString) out = g_string_new(NULL);

        g_assert_cmpint(capfs_render_proc_diskstats(host, nested, out), ==, 0);
        g_assert_cmpstr(out->str, ==,
                        " 254       0 vda 257 0 2056 0 65 0 4104 0 0 0 0 9 0 1032 0 0 0\n"
                        " 254      16 vdb 101 0 8008 0 3 0 24 0 0 0 0 0 0 0 0 0 0\n");

        /* The task count is ct1's pids.current (6), not the sampler's 0 active tasks. */
        host->loadavg = la;
        g_assert_cmpint(capfs_render_proc_loadavg(host, nested, out), ==, 0);
        g_assert_cmpstr(out->str, ==, "0.00 0.00 0.00 0/6 0\n");
        host->loadavg = NULL;
}

/* ---- a scratch host: the non-recursive v1 files and an 11-counter (pre-4.18) diskstats ---- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void write_scratch(const char *root, const char *rel, const char *text) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static void link_scratch(const char *root, const char *rel, const char *target) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_assert_cmpint(symlink(target, path), ==, 0);
}

/* A host with one process (4000, a host process in blkio:/svc) and @root_serviced as the root's count. */
static char *make_scratch_host(const char *root_serviced) {
        g_autoptr(GError) error = NULL;
        char *root = g_dir_make_tmp("capfs-io-XXXXXX", &error);

        g_assert_no_error(error);
        link_scratch(root, "proc/self/ns/pid", "pid:[4026531836]");
        link_scratch(root, "proc/4000/ns/pid", "pid:[4026531836]");
        write_scratch(root, "proc/4000/cgroup", "2:blkio:/svc\n1:cpu:/svc\n0::/svc\n");
        write_scratch(root, "proc/4000/stat",
                      "4000 (svc) S 1 4000 4000 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 7000 2445312 220 "
                      "18446744073709551615 1 1 0 0 0 0 0 0 65536 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
        write_scratch(root, "proc/diskstats",
                      "   8       0 sda 9 9 9 9 9 9 9 9 9 9 9\n"
                      "   8       1 sda1 9 9 9 9 9 9 9 9 9 9 9\n");
        /* Kernels without the _recursive files have the plain ones only. */
        write_scratch(root, "sys/fs/cgroup/blkio/blkio.throttle.io_serviced", root_serviced);
        write_scratch(
                root, "sys/fs/cgroup/blkio/svc/blkio.throttle.io_service_bytes",
                "8:0 Read 5120\n8:0 Write 1024\n8:0 Sync 6144\n8:0 Async 0\n8:0 Total 6144\nTotal 6144\n");
        write_scratch(root, "sys/fs/cgroup/blkio/svc/blkio.throttle.io_serviced",
                      "8:0 Read 3\n8:0 Write 1\n8:0 Sync 4\n8:0 Async 0\n8:0 Total 4\nTotal 4\n");
        write_scratch(root, "sys/fs/cgroup/cpu/svc/cgroup.procs", "4000\n");
        return root;
}

static void render_scratch(const char *root, int expect_r, const char *expect) {
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 4000);
        g_autoptr(GString) out = g_string_new(NULL);

        /* A host process outside the root cgroup gets its cgroup's view. */
        g_assert_true(ct->host_pidns);
        g_assert_cmpint(capfs_render_proc_diskstats(host, ct, out), ==, expect_r);
        if (expect)
                g_assert_cmpstr(out->str, ==, expect);
}

static void test_diskstats_fallback_files(void) {
        g_autofree char *counted =
                make_scratch_host("8:0 Read 90\n8:0 Write 10\n8:0 Total 100\nTotal 100\n");
        g_autofree char *not_counted =
                make_scratch_host("8:0 Read 0\n8:0 Write 0\n8:0 Discard 0\n8:0 Total 0\nTotal 0\n");
        g_autofree char *no_disks = make_scratch_host("Total 0\n");

        /* No Discard line (kernels before 4.19): 0. The host prints 11 counters, so do we. */
        render_scratch(counted, 0, "   8       0 sda 3 0 10 0 1 0 2 0 0 0 0\n");
        /*
         * Nothing counted anywhere, not even at the root: the throttle layer is not set up
         * on any disk (no cgroup limits one), so the container's zeros mean nothing.
         */
        render_scratch(not_counted, -ENODATA, NULL);
        render_scratch(no_disks, -ENODATA, NULL);

        g_assert_cmpint(nftw(counted, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
        g_assert_cmpint(nftw(not_counted, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
        g_assert_cmpint(nftw(no_disks, remove_entry, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

/* ---- the /proc/diskstats parser ---- */

static void test_parse_diskstats(void) {
        static const char *const malformed[] = {
                "   8       0\n", /* no name */
                "   8       0 sda 1 2 3 4 5 6 7 8 9 10\n", /* 10 counters */
                "   8       0 sda 1 2 3 4 5 6 7 8 9 10 x\n", /* not a number */
                "   8       0 sda 1 2 3 4 5 6 7 8 9 10 -11\n", /* negative */
                "   8      0x sda 1 2 3 4 5 6 7 8 9 10 11\n", /* minor */
                "   8 4294967296 sda 1 2 3 4 5 6 7 8 9 10 11\n", /* minor out of range */
                "   8       0 sda 1 2 3 4 5 6 7 8 9 10 99999999999999999999\n",
                "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11\ngarbage\n", /* any bad line fails all */
        };
        static const char twenty[] =
                " 254       0 vda 32766 7609 3177122 9287 5170 6890 489816 1185 0 5752 11948 "
                "4419 49 147632 1337 650 137\n"
                "   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n"
                "\n"
                "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0"; /* no final newline */
        static const char with_nul[] = "   8       0 s\0a 1 2 3 4 5 6 7 8 9 10 11\n";
        g_autoptr(GArray) lines = NULL;
        const CapfsDiskstatsLine *line;

        g_assert_cmpint(capfs_parse_diskstats(twenty, strlen(twenty), &lines), ==, 0);
        g_assert_cmpuint(lines->len, ==, 3);
        line = &g_array_index(lines, CapfsDiskstatsLine, 0);
        g_assert_cmpuint(line->major, ==, 254);
        g_assert_cmpuint(line->minor, ==, 0);
        g_assert_cmpstr(line->name, ==, "vda");
        g_assert_cmpuint(line->counters, ==, 17);
        line = &g_array_index(lines, CapfsDiskstatsLine, 1);
        g_assert_cmpuint(line->major, ==, 8);
        g_assert_cmpuint(line->minor, ==, 16);
        g_assert_cmpstr(line->name, ==, "sdb");
        g_assert_cmpuint(line->counters, ==, 15);
        line = &g_array_index(lines, CapfsDiskstatsLine, 2);
        g_assert_cmpstr(line->name, ==, "loop0");
        g_assert_cmpuint(line->counters, ==, 11);
        g_clear_pointer(&lines, g_array_unref);

        g_assert_cmpint(capfs_parse_diskstats("", 0, &lines), ==, 0);
        g_assert_cmpuint(lines->len, ==, 0);
        g_clear_pointer(&lines, g_array_unref);

        for (size_t i = 0; i < G_N_ELEMENTS(malformed); i++) {
                int r = capfs_parse_diskstats(malformed[i], strlen(malformed[i]), &lines);

                g_assert_cmpint(r, <, 0);
                g_assert_null(lines);
        }
        g_assert_cmpint(capfs_parse_diskstats(with_nul, sizeof(with_nul) - 1, &lines), ==, -EINVAL);
        /* The length bounds the parse: the same text cut inside the counters is short of them. */
        g_assert_cmpint(capfs_parse_diskstats(twenty, 40, &lines), ==, -EINVAL);
}

/* ---- proc/pressure/{cpu,io,memory} ---- */

static const struct {
        const char *name;
        CapfsRenderFn fn;
} pressure_files[] = {
        {"cpu", capfs_render_proc_pressure_cpu},
        {"io", capfs_render_proc_pressure_io},
        {"memory", capfs_render_proc_pressure_memory},
};

static void test_pressure_golden(void) {
        static const pid_t pids[] = {1000, 2000, 3000};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = fixture_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);

                for (size_t f = 0; f < G_N_ELEMENTS(pressure_files); f++)
                        for (size_t i = 0; i < G_N_ELEMENTS(pids); i++) {
                                g_autofree char *path =
                                        g_strconcat("proc/pressure/", pressure_files[f].name, NULL);
                                g_autofree char *expected =
                                        g_strdup_printf("%s/pressure-%s@%d", layouts[l],
                                                        pressure_files[f].name, (int) pids[i]);
                                g_autofree char *text = NULL;

                                fixture_assert_render(host, pids[i], path, expected);
                                text = render(host, pids[i], pressure_files[f].fn, 0);
                                g_assert_cmpuint(strlen(text), >, 0);
                        }
        }
}

static void test_pressure_values(void) {
        static const struct {
                const char *layout;
                pid_t pid;
                const char *dir, *suffix; /* the source is DIR/RESOURCE[SUFFIX] */
        } cases[] = {
                {"v1", 1000, "v1/proc/pressure/", ""},
                {"v1", 2000, "v1/sys/fs/cgroup/unified/ct1/", ".pressure"},
                {"v1", 2001, "v1/sys/fs/cgroup/unified/ct1/", ".pressure"},
                {"v1", 3000, "v1/sys/fs/cgroup/unified/parent/ct2/", ".pressure"},
                {"v2", 1000, "v2/proc/pressure/", ""},
                {"v2", 2000, "v2/sys/fs/cgroup/ct1/", ".pressure"},
                {"v2", 3000, "v2/sys/fs/cgroup/parent/ct2/", ".pressure"},
                {"v2", 3005, "v2/sys/fs/cgroup/parent/ct2/", ".pressure"},
        };

        for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
                g_autoptr(CapfsHost) host = fixture_host(cases[c].layout, CAPFS_CPU_VIEW_QUOTA);

                for (size_t f = 0; f < G_N_ELEMENTS(pressure_files); f++) {
                        g_autofree char *source =
                                g_strconcat(cases[c].dir, pressure_files[f].name, cases[c].suffix, NULL);
                        g_autofree char *want = read_fixture(source);
                        g_autofree char *got = render(host, cases[c].pid, pressure_files[f].fn, 0);

                        /* Verbatim: the container's own file, byte for byte. */
                        g_assert_cmpstr(got, ==, want);
                }
        }

        /* Spot checks, so that a wrong source fails for a visible reason. */
        {
                g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
                g_autofree char *cpu = render(host, 3000, capfs_render_proc_pressure_cpu, 0);

                g_assert_true(g_str_has_suffix(cpu, "total=1502002\n"));
        }
}

static void test_pressure_missing(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) no_files = fake_container(CAPFS_CTRL_UNIFIED, "/parent");
        g_autoptr(CapfsContainer) unknown = fake_container(CAPFS_CTRL_MEMORY, "/ct1");
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *host_file = read_fixture("v2/proc/pressure/io");

        for (size_t f = 0; f < G_N_ELEMENTS(pressure_files); f++) {
                g_assert_cmpint(pressure_files[f].fn(host, no_files, out), ==, -ENOENT);
                g_assert_cmpint(pressure_files[f].fn(host, unknown, out), ==, -ENOENT);
        }
        g_assert_cmpint(capfs_node_read(host, no_files, "proc/pressure/io", out), ==, 0);
        g_assert_cmpstr(out->str, ==, host_file);
}

/* ---- the load average arithmetic ---- */

static void query(CapfsLoadavg *la, const char *path, int64_t now, CapfsLoadavgReading *ret) {
        capfs_loadavg_query(la, path, 0, now, ret);
}

static void assert_avg(const CapfsLoadavgReading *r, uint64_t avg1, uint64_t avg5, uint64_t avg15) {
        g_assert_cmpuint(r->avg[0], ==, avg1);
        g_assert_cmpuint(r->avg[1], ==, avg5);
        g_assert_cmpuint(r->avg[2], ==, avg15);
}

static void tick_with(CapfsLoadavg *la, const char *path, unsigned running, unsigned blocked, int64_t now) {
        g_autoptr(GHashTable) counts = capfs_loadavg_counts_new();

        for (unsigned i = 0; i < running; i++)
                capfs_loadavg_counts_add(counts, path, 'R', 0, 0);
        for (unsigned i = 0; i < blocked; i++)
                capfs_loadavg_counts_add(counts, path, 'D', 0, 0);
        capfs_loadavg_tick(la, counts, now);
}

static void test_loadavg_math(void) {
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        CapfsLoadavgReading r;

        /* Tracked from the first question on, with nothing known yet. */
        query(la, "/a", T0, &r);
        assert_avg(&r, 0, 0, 0);
        g_assert_cmpuint(r.running, ==, 0);

        /*
         * One runnable task from 0, load = active * (2048 - EXP) / 2048, rounded up while
         * rising: 2048 * 164 / 2048 = 164 (+2047 does not reach 165); 2048 * 34 -> 34;
         * 2048 * 11 -> 11.
         */
        tick_with(la, "/a", 1, 0, T0 + 5 * SEC);
        query(la, "/a", T0 + 5 * SEC, &r);
        assert_avg(&r, 164, 34, 11);
        g_assert_cmpuint(r.running, ==, 1);
        g_assert_cmpuint(r.active, ==, 1);

        /* Again: (164 * 1884 + 2048 * 164 + 2047) / 2048 = 646895 / 2048 = 315.9 -> 315;
         * (34 * 2014 + 2048 * 34 + 2047) / 2048 = 140155 / 2048 -> 68;
         * (11 * 2037 + 2048 * 11 + 2047) / 2048 = 46982 / 2048 -> 22. */
        tick_with(la, "/a", 1, 0, T0 + 10 * SEC);
        query(la, "/a", T0 + 10 * SEC, &r);
        assert_avg(&r, 315, 68, 22);

        /* Idle, no rounding up while falling: 315 * 1884 / 2048 = 289.8 -> 289; 68 * 2014 / 2048
         * = 66.9 -> 66; 22 * 2037 / 2048 = 21.9 -> 21. */
        tick_with(la, "/a", 0, 0, T0 + 15 * SEC);
        query(la, "/a", T0 + 15 * SEC, &r);
        assert_avg(&r, 289, 66, 21);
        g_assert_cmpuint(r.running, ==, 0);

        /* D counts for the load, not as running: 2 R + 1 D is active 3 (6144 in fixed point):
         * (289 * 1884 + 6144 * 164 + 2047) / 2048 = (544476 + 1007616 + 2047) / 2048 = 758.8 -> 758. */
        tick_with(la, "/a", 2, 1, T0 + 20 * SEC);
        query(la, "/a", T0 + 20 * SEC, &r);
        g_assert_cmpuint(r.avg[0], ==, 758);
        g_assert_cmpuint(r.running, ==, 2);
        g_assert_cmpuint(r.active, ==, 3);
}

static void test_loadavg_steady(void) {
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        CapfsLoadavgReading r;
        int64_t now = T0;

        query(la, "/busy", now, &r);
        /* Two runnable tasks for an hour: thanks to the rounding up while rising every average
         * reaches exactly 2.00 (4096; after 76, 287 and 686 ticks) and stays there. */
        for (unsigned i = 0; i < 720; i++) {
                now += 5 * SEC;
                tick_with(la, "/busy", 2, 0, now);
                /* Someone keeps reading it, or it would be forgotten after 10 minutes. */
                query(la, "/busy", now, &r);
        }
        query(la, "/busy", now, &r);
        assert_avg(&r, 4096, 4096, 4096);
}

static void test_loadavg_missed_intervals(void) {
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        CapfsLoadavgReading r;

        query(la, "/late", T0, &r);
        tick_with(la, "/late", 0, 0, T0);
        /*
         * The next pass comes 15 s later: three intervals in one step with EXP^3 computed by
         * squaring, rounded at each product (1884 -> (1884^2 + 1024) >> 11 = 1733 ->
         * (1884 * 1733 + 1024) >> 11 = 1594; 2014 -> 1981 -> 1948; 2037 -> 2026 -> 2015).
         * From 0 with one task: 2048 * (2048 - 1594) / 2048 = 454 (and 100, 33).
         */
        tick_with(la, "/late", 1, 0, T0 + 15 * SEC);
        query(la, "/late", T0 + 15 * SEC, &r);
        assert_avg(&r, 454, 100, 33);

        /* 7 s is one interval (rounded), 0 s (a clock that did not move) too. */
        tick_with(la, "/late", 0, 0, T0 + 22 * SEC);
        query(la, "/late", T0 + 22 * SEC, &r);
        g_assert_cmpuint(r.avg[0], ==, 417); /* 454 * 1884 / 2048 = 417.6, falling: no rounding up */
}

/* A new worker takes the averages over: the next tick goes on from them, as if nothing happened. */
static void test_loadavg_handover(void) {
        g_autoptr(CapfsLoadavg) before = capfs_loadavg_new();
        g_autoptr(CapfsLoadavg) after = capfs_loadavg_new();
        g_autoptr(CapfsLoadavg) reference = capfs_loadavg_new();
        /* Any byte but '/' and NUL may be in a cgroup name. */
        const char *odd = "/ct 1/tab\there/new\nline/\\back";
        g_autofree char *text = NULL;
        CapfsLoadavgReading r, ref;
        size_t len;

        query(before, "/a", T0, &r);
        query(reference, "/a", T0, &r);
        query(before, odd, T0, &r);
        capfs_loadavg_query(before, "/with-ns", 4026531836u, T0, &r);
        for (int i = 1; i <= 3; i++) {
                tick_with(before, "/a", 2, 1, T0 + i * 5 * SEC);
                tick_with(reference, "/a", 2, 1, T0 + i * 5 * SEC);
        }
        tick_with(before, odd, 1, 0, T0 + 20 * SEC);
        tick_with(reference, "/a", 0, 0, T0 + 20 * SEC);

        text = capfs_loadavg_export(before, &len);
        g_assert_cmpuint(len, ==, strlen(text));
        g_assert_cmpint(capfs_loadavg_import(after, text, len), ==, 0);
        g_assert_cmpuint(capfs_loadavg_tracked(after), ==, 3);

        query(after, odd, T0 + 20 * SEC, &r);
        query(before, odd, T0 + 20 * SEC, &ref);
        g_assert_cmpmem(&r, sizeof(r), &ref, sizeof(ref));
        g_assert_cmpuint(r.avg[0], >, 0);
        query(after, "/a", T0 + 20 * SEC, &r);
        query(reference, "/a", T0 + 20 * SEC, &ref);
        g_assert_cmpmem(&r, sizeof(r), &ref, sizeof(ref));

        /* The next tick decays from the handed-over values and the handed-over time. */
        tick_with(after, "/a", 0, 0, T0 + 25 * SEC);
        tick_with(reference, "/a", 0, 0, T0 + 25 * SEC);
        query(after, "/a", T0 + 25 * SEC, &r);
        query(reference, "/a", T0 + 25 * SEC, &ref);
        assert_avg(&r, ref.avg[0], ref.avg[1], ref.avg[2]);
}

static void test_loadavg_import_refuses_garbage(void) {
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        CapfsLoadavgReading r;
        const char *bad[] = {
                "",
                "something else\n",
                "capfs-loadavg 1 1 5000000\n1 2 3 0 0 0 0 0\n", /* no path */
                "capfs-loadavg 1 1 5000000\n1 2 3 0 0 0 0 0 relative\n", /* not a cgroup path */
                "capfs-loadavg 1 1 5000000\n1 2 /a\n", /* fields missing */
        };

        query(la, "/kept", T0, &r);
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
                g_assert_cmpint(capfs_loadavg_import(la, bad[i], strlen(bad[i])), ==, -EINVAL);
        /* Nothing taken from a refused text. */
        g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 1);
}

static void test_loadavg_forget(void) {
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        CapfsLoadavgReading r;

        query(la, "/idle", T0, &r);
        query(la, "/watched", T0, &r);
        g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 2);

        tick_with(la, "/idle", 1, 0, T0 + 5 * SEC);
        query(la, "/watched", T0 + 9 * 60 * SEC, &r);
        /* Exactly 10 minutes is still remembered. */
        tick_with(la, "/idle", 1, 0, T0 + CAPFS_LOADAVG_FORGET_USEC);
        g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 2);
        tick_with(la, "/idle", 1, 0, T0 + CAPFS_LOADAVG_FORGET_USEC + 1);
        g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 1);

        /* Asked again, it starts over from zero. */
        query(la, "/idle", T0 + CAPFS_LOADAVG_FORGET_USEC + 2, &r);
        assert_avg(&r, 0, 0, 0);
        g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 2);

        tick_with(la, "/idle", 0, 0, T0 + 30 * 60 * SEC);
        g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 0);
}

/* ---- attribution of tasks to containers ---- */

static const CapfsLoadavgCounts *counts_of(GHashTable *counts, const char *path) {
        const CapfsLoadavgCounts *c = g_hash_table_lookup(counts, path);

        if (!c)
                g_test_message("no counts for %s", path);
        g_assert_nonnull(c);
        return c;
}

static void assert_counts(GHashTable *counts, const char *path, unsigned running, unsigned blocked,
                          uint64_t pidns, pid_t last_pid) {
        const CapfsLoadavgCounts *c = counts_of(counts, path);

        g_assert_cmpuint(c->running, ==, running);
        g_assert_cmpuint(c->uninterruptible, ==, blocked);
        g_assert_nonnull(c->last_pids);
        g_assert_cmpuint(c->last_pids->len, ==, 1);
        g_assert_cmpuint(g_array_index(c->last_pids, CapfsLoadavgNsPid, 0).pidns, ==, pidns);
        g_assert_cmpint(g_array_index(c->last_pids, CapfsLoadavgNsPid, 0).pid, ==, last_pid);
}

static void test_loadavg_scan_v1(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(GHashTable) counts = NULL;

        g_assert_cmpint(capfs_loadavg_controller(host), ==, CAPFS_CTRL_CPU);
        g_assert_cmpint(capfs_loadavg_scan(host, &counts), ==, 0);
        /*
         * By the cpu hierarchy: 2000 (R, ns pid 1) and 2001's threads 2002 (R, 8) and 2003
         * (D, 9) are all in /ct1 there; 2001 itself sleeps. 3000 (R, 1) and 3005 (D, 12) in
         * /parent/ct2; 3100 (R) in /parent/ct20; 1000 (R) in the root cgroup, left out.
         */
        g_assert_cmpuint(g_hash_table_size(counts), ==, 3);
        assert_counts(counts, "/ct1", 2, 1, PIDNS_CT1, 9);
        assert_counts(counts, "/parent/ct2", 1, 1, PIDNS_CT2, 12);
        assert_counts(counts, "/parent/ct20", 1, 0, PIDNS_CT20, 1);
}

static void test_loadavg_scan_v2(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(GHashTable) counts = NULL;

        g_assert_cmpint(capfs_loadavg_controller(host), ==, CAPFS_CTRL_UNIFIED);
        g_assert_cmpint(capfs_loadavg_scan(host, &counts), ==, 0);
        /* cgroup2 keeps the leaf cgroups below the container's root. */
        g_assert_cmpuint(g_hash_table_size(counts), ==, 4);
        assert_counts(counts, "/ct1/init.scope", 1, 0, PIDNS_CT1, 1);
        assert_counts(counts, "/ct1/system.slice/foo.service", 1, 1, PIDNS_CT1, 9);
        assert_counts(counts, "/parent/ct2", 1, 1, PIDNS_CT2, 12);
        assert_counts(counts, "/parent/ct20", 1, 0, PIDNS_CT20, 1);
}

static void test_loadavg_attribution(void) {
        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = fixture_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
                g_autoptr(GHashTable) counts = NULL;
                CapfsLoadavgReading r;

                capfs_loadavg_query(la, "/ct1", PIDNS_CT1, T0, &r);
                capfs_loadavg_query(la, "/parent/ct2", PIDNS_CT2, T0, &r);
                capfs_loadavg_query(la, "/parent", 0, T0, &r);
                capfs_loadavg_query(la, "/nothing/here", PIDNS_CT1, T0, &r);
                g_assert_cmpint(capfs_loadavg_scan(host, &counts), ==, 0);
                capfs_loadavg_tick(la, counts, T0 + 5 * SEC);

                /* Its descendants' tasks count for ct1 (v2: init.scope, system.slice/foo.service). */
                capfs_loadavg_query(la, "/ct1", PIDNS_CT1, T0 + 5 * SEC, &r);
                g_assert_cmpuint(r.running, ==, 2);
                g_assert_cmpuint(r.active, ==, 3);
                g_assert_cmpint(r.last_pid, ==, 9);
                g_assert_cmpuint(r.avg[0], ==, 492); /* (3 * 2048 * 164 + 2047) / 2048 */

                /* "/parent/ct2" is not a prefix of "/parent/ct20": 3100 stays out. */
                capfs_loadavg_query(la, "/parent/ct2", PIDNS_CT2, T0 + 5 * SEC, &r);
                g_assert_cmpuint(r.running, ==, 1);
                g_assert_cmpuint(r.active, ==, 2);
                g_assert_cmpint(r.last_pid, ==, 12);

                /* Both children count for their parent; an unknown namespace names no pid. */
                capfs_loadavg_query(la, "/parent", 0, T0 + 5 * SEC, &r);
                g_assert_cmpuint(r.running, ==, 2);
                g_assert_cmpuint(r.active, ==, 3);
                g_assert_cmpint(r.last_pid, ==, 0);

                /* Seen from ct20's namespace, /parent's highest pid is ct20's own 1, never ct2's 12. */
                capfs_loadavg_query(la, "/parent", PIDNS_CT20, T0 + 5 * SEC, &r);
                capfs_loadavg_tick(la, counts, T0 + 10 * SEC);
                capfs_loadavg_query(la, "/parent", PIDNS_CT20, T0 + 10 * SEC, &r);
                g_assert_cmpint(r.last_pid, ==, 1);

                capfs_loadavg_query(la, "/nothing/here", PIDNS_CT1, T0 + 10 * SEC, &r);
                g_assert_cmpuint(r.active, ==, 0);
                g_assert_cmpint(r.last_pid, ==, 0);
                assert_avg(&r, 0, 0, 0);

                /* Only what was asked for is tracked, not every cgroup the pass saw. */
                g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 4);
        }
}

/* ---- proc/loadavg ---- */

static char *render_loadavg(CapfsHost *host, pid_t pid) {
        return render(host, pid, capfs_render_proc_loadavg, 0);
}

static void test_loadavg_render(void) {
        static const struct {
                const char *layout;
                const char *first_ct1, *first_ct2;
                const char *after_ct1, *after_ct2;
        } cases[] = {
                /* Totals are pids.current: v1 5 and 3, v2 6 and 4. */
                {"v1", "0.00 0.00 0.00 0/5 0\n", "0.00 0.00 0.00 0/3 0\n",
                 /* active 3: 492, 102, 33 (+10 to round: 502 -> 0.24, 112 -> 0.05, 43 -> 0.02);
                  * 2 R, highest pid 9 in ct1's namespace. */
                 "0.24 0.05 0.02 2/5 9\n",
                 /* active 2: 328, 68, 22 (338 -> 0.16, 78 -> 0.03, 32 -> 0.01); 1 R, pid 12. */
                 "0.16 0.03 0.01 1/3 12\n"},
                {"v2", "0.00 0.00 0.00 0/6 0\n", "0.00 0.00 0.00 0/4 0\n", "0.24 0.05 0.02 2/6 9\n",
                 "0.16 0.03 0.01 1/4 12\n"},
        };

        for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
                g_autoptr(CapfsHost) host = fixture_host(cases[c].layout, CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
                g_autofree char *host_file = g_strdup_printf("%s/proc/loadavg", cases[c].layout);
                g_autofree char *host_loadavg = read_fixture(host_file);
                g_autofree char *first_ct1 = NULL, *first_ct2 = NULL, *after_ct1 = NULL, *after_ct2 = NULL;
                g_autofree char *ct1_other = NULL, *ct2_setns = NULL, *host_view = NULL;

                host->loadavg = la;
                first_ct1 = render_loadavg(host, 2000);
                first_ct2 = render_loadavg(host, 3000);
                g_assert_cmpstr(first_ct1, ==, cases[c].first_ct1);
                g_assert_cmpstr(first_ct2, ==, cases[c].first_ct2);

                capfs_loadavg_sample(la, host);
                after_ct1 = render_loadavg(host, 2000);
                after_ct2 = render_loadavg(host, 3000);
                ct1_other = render_loadavg(host, 2001);
                ct2_setns = render_loadavg(host, 3005);
                g_assert_cmpstr(after_ct1, ==, cases[c].after_ct1);
                g_assert_cmpstr(after_ct2, ==, cases[c].after_ct2);
                g_assert_cmpstr(ct1_other, ==, after_ct1);
                g_assert_cmpstr(ct2_setns, ==, after_ct2);

                /* The host's processes get the host's file; they were never tracked. */
                host_view = render_loadavg(host, 1000);
                g_assert_cmpstr(host_view, ==, host_loadavg);
                g_assert_cmpuint(capfs_loadavg_tracked(la), ==, 2);

                host->loadavg = NULL;
        }
}

static void test_loadavg_render_one_task(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        g_autoptr(GHashTable) counts = capfs_loadavg_counts_new();
        g_autofree char *first = NULL, *text = NULL;

        host->loadavg = la;
        first = render_loadavg(host, 2000);
        /* One task of ct1 (pid 7 in its namespace) and one of another namespace (pid 40). */
        capfs_loadavg_counts_add(counts, "/ct1/x", 'R', PIDNS_CT1, 7);
        capfs_loadavg_counts_add(counts, "/ct1", 'S', PIDNS_CT1, 99);
        capfs_loadavg_counts_add(counts, "/ct1/nested", 'D', 12345, 40);
        capfs_loadavg_tick(la, counts, g_get_monotonic_time());
        text = render_loadavg(host, 2000);
        /* Active 2: 328 -> 0.16, 68 -> 0.03, 22 -> 0.01; 'S' does not count. */
        g_assert_cmpstr(text, ==, "0.16 0.03 0.01 1/5 7\n");
        host->loadavg = NULL;
}

static void test_loadavg_one_running(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        g_autoptr(GHashTable) counts = capfs_loadavg_counts_new();
        g_autofree char *first = NULL, *text = NULL;

        host->loadavg = la;
        first = render_loadavg(host, 3000);
        capfs_loadavg_counts_add(counts, "/parent/ct2", 'R', PIDNS_CT2, 7);
        capfs_loadavg_tick(la, counts, g_get_monotonic_time());
        text = render_loadavg(host, 3000);
        /* 164 + 10 -> 0.08, 34 + 10 -> 0.02, 11 + 10 -> 0.01, as the kernel prints one task. */
        g_assert_cmpstr(text, ==, "0.08 0.02 0.01 1/4 7\n");
        host->loadavg = NULL;
}

static void test_loadavg_no_sampler(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *host_loadavg = read_fixture("v1/proc/loadavg");

        g_assert_null(host->loadavg);
        g_assert_cmpint(capfs_render_proc_loadavg(host, ct, out), <, 0);
        g_assert_cmpint(capfs_node_read(host, ct, "proc/loadavg", out), ==, 0);
        g_assert_cmpstr(out->str, ==, host_loadavg);
}

/* ---- renderers on many threads while the sampler runs ---- */

typedef struct Race {
        CapfsHost *host;
        CapfsContainer *ct[2];
        gint stop;
        gint renders;
        gint ticks;
} Race;

static gpointer race_render(gpointer data) {
        Race *race = data;
        g_autoptr(GString) out = g_string_new(NULL);
        unsigned i = 0;

        while (!g_atomic_int_get(&race->stop) || i < 200) {
                unsigned a1, f1, a5, f5, a15, f15, running, total;
                int last, consumed = 0;
                char path[32];
                CapfsLoadavgReading r;

                g_assert_cmpint(capfs_render_proc_loadavg(race->host, race->ct[i % 2], out), ==, 0);
                g_assert_cmpint(sscanf(out->str, "%u.%2u %u.%2u %u.%2u %u/%u %d\n%n", &a1, &f1, &a5, &f5,
                                       &a15, &f15, &running, &total, &last, &consumed),
                                ==, 9);
                g_assert_cmpint(consumed, ==, (int) out->len);
                /* At most 3 tasks are ever active in these trees. */
                g_assert_cmpuint(a1, <=, 3);
                g_assert_cmpuint(running, <=, total);
                g_assert_cmpint(last, <=, 12);

                /* Containers coming and going while the sampler forgets them. */
                snprintf(path, sizeof(path), "/ct1/sub%u", i % 50);
                capfs_loadavg_query(race->host->loadavg, path, PIDNS_CT1, g_get_monotonic_time(), &r);
                g_atomic_int_inc(&race->renders);
                i++;
        }
        return NULL;
}

static gpointer race_sample(gpointer data) {
        Race *race = data;

        for (unsigned i = 0; i < 100; i++) {
                g_autoptr(GHashTable) empty = capfs_loadavg_counts_new();

                capfs_loadavg_sample(race->host->loadavg, race->host);
                /* A tick far ahead forgets every container at once. */
                if (i % 10 == 9)
                        capfs_loadavg_tick(race->host->loadavg, empty,
                                           g_get_monotonic_time() + 2 * CAPFS_LOADAVG_FORGET_USEC);
                g_atomic_int_inc(&race->ticks);
        }
        g_atomic_int_set(&race->stop, 1);
        return NULL;
}

static void test_loadavg_concurrency(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsLoadavg) la = capfs_loadavg_new();
        g_autoptr(CapfsContainer) ct1 = fixture_container(host, 2000);
        g_autoptr(CapfsContainer) ct2 = fixture_container(host, 3000);
        Race race = {.host = host, .ct = {ct1, ct2}};
        GThread *threads[5];
        g_autofree char *text = NULL;

        host->loadavg = la;
        for (size_t i = 0; i + 1 < G_N_ELEMENTS(threads); i++)
                threads[i] = g_thread_new("render", race_render, &race);
        threads[G_N_ELEMENTS(threads) - 1] = g_thread_new("sample", race_sample, &race);
        for (size_t i = 0; i < G_N_ELEMENTS(threads); i++)
                g_thread_join(threads[i]);

        g_assert_cmpint(g_atomic_int_get(&race.ticks), ==, 100);
        g_assert_cmpint(g_atomic_int_get(&race.renders), >=, 4 * 200);
        /* Afterwards the state is still coherent: asked again (the last tick forgot it), then
         * one more pass gives ct1's counts. */
        g_free(render_loadavg(host, 2000));
        capfs_loadavg_sample(la, host);
        text = render_loadavg(host, 2000);
        g_assert_true(g_str_has_suffix(text, " 2/6 9\n"));
        host->loadavg = NULL;
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_func("/io/diskstats/golden", test_diskstats_golden);
        g_test_add_func("/io/diskstats/values-v1", test_diskstats_values_v1);
        g_test_add_func("/io/diskstats/values-v2", test_diskstats_values_v2);
        g_test_add_func("/io/v2-nearest-accounting", test_v2_nearest_accounting);
        g_test_add_func("/io/diskstats/missing", test_diskstats_missing);
        g_test_add_func("/io/diskstats/fallback-files", test_diskstats_fallback_files);
        g_test_add_func("/io/diskstats/parse", test_parse_diskstats);
        g_test_add_func("/io/pressure/golden", test_pressure_golden);
        g_test_add_func("/io/pressure/values", test_pressure_values);
        g_test_add_func("/io/pressure/missing", test_pressure_missing);
        g_test_add_func("/io/loadavg/math", test_loadavg_math);
        g_test_add_func("/io/loadavg/handover", test_loadavg_handover);
        g_test_add_func("/io/loadavg/import-refuses-garbage", test_loadavg_import_refuses_garbage);
        g_test_add_func("/io/loadavg/steady", test_loadavg_steady);
        g_test_add_func("/io/loadavg/missed-intervals", test_loadavg_missed_intervals);
        g_test_add_func("/io/loadavg/forget", test_loadavg_forget);
        g_test_add_func("/io/loadavg/scan-v1", test_loadavg_scan_v1);
        g_test_add_func("/io/loadavg/scan-v2", test_loadavg_scan_v2);
        g_test_add_func("/io/loadavg/attribution", test_loadavg_attribution);
        g_test_add_func("/io/loadavg/render", test_loadavg_render);
        g_test_add_func("/io/loadavg/render-one-task", test_loadavg_render_one_task);
        g_test_add_func("/io/loadavg/one-running", test_loadavg_one_running);
        g_test_add_func("/io/loadavg/no-sampler", test_loadavg_no_sampler);
        g_test_add_func("/io/loadavg/concurrency", test_loadavg_concurrency);
        return g_test_run();
}
