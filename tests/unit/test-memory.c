/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/meminfo, proc/swaps and proc/slabinfo. The fixture trees hold a 4 GiB host with
 * 1 GiB of swap; ct1 is limited to 256 MiB (v1: 256 MiB of swap through memsw 512 MiB;
 * v2: no swap limit), ct2 inherits /parent's 512 MiB (v1: no swap limit; v2: 128 MiB of
 * swap). The expected files were written from hand arithmetic, not from capfs output;
 * the sums are repeated next to the direct asserts below.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fixture.h"
#include "parse/parse.h"

/* ---- helpers ---- */

static char *read_fixture(const char *rel) {
        g_autofree char *path = fixture_path(rel);
        g_autoptr(GError) error = NULL;
        char *content = NULL;

        g_file_get_contents(path, &content, NULL, &error);
        g_assert_no_error(error);
        return content;
}

static GString *render(CapfsHost *host, const CapfsContainer *ct, const char *path) {
        GString *out = g_string_new(NULL);

        g_assert_cmpint(capfs_node_read(host, ct, path, out), ==, 0);
        return out;
}

static GString *render_pid(CapfsHost *host, pid_t pid, const char *path) {
        g_autoptr(CapfsContainer) ct = fixture_container(host, pid);
        return render(host, ct, path);
}

static GHashTable *parse_meminfo(const GString *text) {
        GHashTable *table = NULL;

        g_assert_cmpint(capfs_parse_keyed_u64(text->str, text->len, &table), ==, 0);
        return table;
}

static uint64_t value_of(GHashTable *table, const char *key) {
        uint64_t value = 0;

        if (!capfs_keyed_get(table, key, &value))
                g_error("no %s line", key);
        return value;
}

/* The "Key" of every line, in order. */
static GPtrArray *keys_in_order(const char *text) {
        GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

        for (char **l = lines; *l && **l; l++)
                g_ptr_array_add(keys, g_strndup(*l, strcspn(*l, ":")));
        return keys;
}

/*
 * The host's file must come from the renderer itself: through capfs_node_read() a renderer
 * error would be hidden by the fallback, which serves the very same file.
 */
static void assert_host_file(CapfsHost *host, pid_t pid, CapfsRenderFn render_fn, const char *host_file) {
        g_autoptr(CapfsContainer) ct = fixture_container(host, pid);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *want = read_fixture(host_file);

        g_assert_cmpint(render_fn(host, ct, out), ==, 0);
        g_assert_cmpstr(out->str, ==, want);
}

/* ---- exact output on the fixture trees ---- */

typedef struct Golden {
        pid_t pid;
        const char *container; /* "" for the host itself */
} Golden;

/* 2001 is a second process of ct1, 3005 entered ct2's pid namespace with setns(). */
static const Golden golden_pids[] = {
        {1000, ""}, {2000, "ct1"}, {2001, "ct1"}, {3000, "ct2"}, {3005, "ct2"},
};

static void test_golden(gconstpointer data) {
        const char *layout = data;
        static const char *const files[] = {"meminfo", "swaps", "slabinfo"};
        static const CapfsRenderFn renderers[] = {capfs_render_proc_meminfo, capfs_render_proc_swaps,
                                                  capfs_render_proc_slabinfo};
        g_autoptr(CapfsHost) host = fixture_host(layout, CAPFS_CPU_VIEW_QUOTA);

        for (size_t f = 0; f < G_N_ELEMENTS(files); f++)
                for (size_t i = 0; i < G_N_ELEMENTS(golden_pids); i++) {
                        g_autofree char *path = g_strconcat("proc/", files[f], NULL);

                        if (!*golden_pids[i].container) {
                                /* The root cgroup is the whole host: its files, byte for byte. */
                                g_autofree char *host_file =
                                        g_build_filename(layout, "proc", files[f], NULL);
                                assert_host_file(host, golden_pids[i].pid, renderers[f], host_file);
                        } else {
                                g_autofree char *expected = g_strdup_printf("%s/%s@%s", layout, files[f],
                                                                            golden_pids[i].container);
                                fixture_assert_render(host, golden_pids[i].pid, path, expected);
                        }
                }
}

/* ---- the numbers that matter, asserted directly ---- */

typedef struct MeminfoCase {
        const char *layout;
        pid_t pid;
        uint64_t total, free, available, swap_total, swap_free, swap_used;
} MeminfoCase;

static const MeminfoCase meminfo_cases[] = {
        /*
         * v1 ct1: 256 MiB; usage 150 MiB leaves 106 MiB = 108544 kB; + file LRU (32 + 23 MiB =
         * 56320 kB) = 164864 kB available. memsw 512 MiB - 256 MiB = 262144 kB of swap,
         * memsw.usage 170 MiB - usage 150 MiB = 20480 kB used.
         */
        {"v1", 2000, 262144, 108544, 164864, 262144, 241664, 20480},
        {"v1", 2001, 262144, 108544, 164864, 262144, 241664, 20480},
        /*
         * v1 ct2: /parent's 512 MiB; usage 200 MiB leaves 319488 kB; + 48 + 36 MiB = 405504.
         * No swap limit: the host's 1048572 kB. 8 MiB used, but the host has only 996348 kB
         * of swap left, and that is all ct2 can get.
         */
        {"v1", 3000, 524288, 319488, 405504, 1048572, 996348, 8192},
        /*
         * v2 ct1: 108544 kB free; available (111149056 + 33554432 + 24117248 + 5243016 slab) B
         * = 169984 kB. No swap.max anywhere: the host's swap, capped at its free swap.
         */
        {"v2", 2000, 262144, 108544, 169984, 1048572, 996348, 10240},
        {"v2", 2001, 262144, 108544, 169984, 1048572, 996348, 10240},
        /* v2 ct2: /parent's 512 MiB and 128 MiB of swap, 4 MiB of it used. */
        {"v2", 3000, 524288, 319488, 410368, 131072, 126976, 4096},
        /* The host's own numbers. */
        {"v1", 1000, 4026532, 2254336, 3104768, 1048572, 996348, 52224},
        {"v2", 1000, 4026532, 2254336, 3104768, 1048572, 996348, 52224},
};

static void test_meminfo_values(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(meminfo_cases); i++) {
                const MeminfoCase *c = &meminfo_cases[i];
                g_autoptr(CapfsHost) host = fixture_host(c->layout, CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(GString) out = render_pid(host, c->pid, "proc/meminfo");
                g_autoptr(GHashTable) m = parse_meminfo(out);

                g_test_message("%s pid %d", c->layout, (int) c->pid);
                g_assert_cmpuint(value_of(m, "MemTotal"), ==, c->total);
                g_assert_cmpuint(value_of(m, "MemFree"), ==, c->free);
                g_assert_cmpuint(value_of(m, "MemAvailable"), ==, c->available);
                g_assert_cmpuint(value_of(m, "SwapTotal"), ==, c->swap_total);
                g_assert_cmpuint(value_of(m, "SwapFree"), ==, c->swap_free);
        }
}

/* Properties every rendering keeps, for every fixture caller. */
static void test_meminfo_invariants(void) {
        static const char *const layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = fixture_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autofree char *host_path = g_build_filename(layouts[l], "proc", "meminfo", NULL);
                g_autofree char *host_text = read_fixture(host_path);
                g_autoptr(GString) host_str = g_string_new(host_text);
                g_autoptr(GHashTable) h = parse_meminfo(host_str);
                g_autoptr(GPtrArray) host_keys = keys_in_order(host_text);

                for (size_t i = 0; i < G_N_ELEMENTS(golden_pids); i++) {
                        g_autoptr(GString) out = render_pid(host, golden_pids[i].pid, "proc/meminfo");
                        g_autoptr(GHashTable) m = parse_meminfo(out);
                        g_autoptr(GPtrArray) keys = keys_in_order(out->str);
                        uint64_t total = value_of(m, "MemTotal");

                        g_test_message("%s pid %d", layouts[l], (int) golden_pids[i].pid);
                        g_assert_cmpuint(value_of(m, "MemFree"), <=, total);
                        g_assert_cmpuint(value_of(m, "MemAvailable"), <=, total);
                        g_assert_cmpuint(value_of(m, "MemFree"), <=, value_of(h, "MemFree"));
                        g_assert_cmpuint(value_of(m, "SwapFree"), <=, value_of(m, "SwapTotal"));
                        g_assert_cmpuint(value_of(m, "SwapTotal"), <=, value_of(h, "SwapTotal"));
                        g_assert_cmpuint(value_of(m, "Active"), ==,
                                         value_of(m, "Active(anon)") + value_of(m, "Active(file)"));
                        g_assert_cmpuint(value_of(m, "Inactive"), ==,
                                         value_of(m, "Inactive(anon)") + value_of(m, "Inactive(file)"));
                        g_assert_cmpuint(value_of(m, "Slab"), ==,
                                         value_of(m, "SReclaimable") + value_of(m, "SUnreclaim"));
                        g_assert_cmpuint(value_of(m, "Mlocked"), <=, value_of(m, "Unevictable"));

                        /* Same lines in the same order as the kernel's file. */
                        g_assert_cmpuint(keys->len, ==, host_keys->len);
                        for (guint k = 0; k < keys->len; k++)
                                g_assert_cmpstr(keys->pdata[k], ==, host_keys->pdata[k]);

                        /* Host-wide configuration stays the host's. */
                        static const char *const kept[] = {"CommitLimit",     "Committed_AS", "VmallocTotal",
                                                           "HugePages_Total", "Hugepagesize", "DirectMap2M"};
                        for (size_t k = 0; k < G_N_ELEMENTS(kept); k++)
                                g_assert_cmpuint(value_of(m, kept[k]), ==, value_of(h, kept[k]));
                }
        }
}

/* v1: the hierarchical total_* keys, never the cgroup's own ones (its services live in children). */
static void test_meminfo_v1_uses_hierarchical_stats(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(GString) out = render_pid(host, 2000, "proc/meminfo");
        g_autoptr(GHashTable) m = parse_meminfo(out);

        /* ct1: total_cache 60 MiB (cache 2 MiB), total_rss 80 MiB (rss 1 MiB). */
        g_assert_cmpuint(value_of(m, "Cached"), ==, 61440);
        g_assert_cmpuint(value_of(m, "AnonPages"), ==, 81920);
        g_assert_cmpuint(value_of(m, "Buffers"), ==, 0);
        /* v1 has no slab split: kernel memory (kmem 10 MiB) is shown as unreclaimable slab. */
        g_assert_cmpuint(value_of(m, "Slab"), ==, 10240);
        g_assert_cmpuint(value_of(m, "SUnreclaim"), ==, 10240);
        g_assert_cmpuint(value_of(m, "SReclaimable"), ==, 0);
        /* Host-wide usage the container cannot be charged with is 0, not the host's. */
        g_assert_cmpuint(value_of(m, "KernelStack"), ==, 0);
        g_assert_cmpuint(value_of(m, "VmallocUsed"), ==, 0);
}

/* The column layout of the kernel's show_val_kb(): "%-16s%8llu kB" with "Key:" as the label. */
static void test_meminfo_format(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(GString) out = render_pid(host, 2000, "proc/meminfo");

        g_assert_true(
                g_str_has_prefix(out->str, "MemTotal:         262144 kB\nMemFree:          108544 kB\n"));
        g_assert_nonnull(strstr(out->str, "\nInactive(anon):    28672 kB\n"));
        g_assert_nonnull(strstr(out->str, "\nHugePages_Free:        0\n"));
        g_assert_nonnull(strstr(out->str, "\nVmallocTotal:   34359738367 kB\n"));
        g_assert_true(g_str_has_suffix(out->str, "DirectMap1G:           0 kB\n"));
}

static void test_swaps_values(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(meminfo_cases); i++) {
                const MeminfoCase *c = &meminfo_cases[i];
                g_autoptr(CapfsHost) host = fixture_host(c->layout, CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(GString) out = render_pid(host, c->pid, "proc/swaps");
                g_auto(GStrv) lines = g_strsplit(out->str, "\n", -1);
                g_auto(GStrv) fields = NULL;

                g_test_message("%s pid %d", c->layout, (int) c->pid);
                g_assert_cmpuint(g_strv_length(lines), ==, 3); /* header, one area, "" */
                g_assert_true(g_str_has_prefix(lines[0], "Filename\t\t\t\tType"));
                fields = g_strsplit_set(lines[1], " \t", -1);
                {
                        /* Drop the empty strings between separators. */
                        g_autoptr(GPtrArray) words = g_ptr_array_new();
                        for (char **f = fields; *f; f++)
                                if (**f)
                                        g_ptr_array_add(words, *f);
                        g_assert_cmpuint(words->len, ==, 5);
                        g_assert_cmpuint(g_ascii_strtoull(words->pdata[2], NULL, 10), ==, c->swap_total);
                        g_assert_cmpuint(g_ascii_strtoull(words->pdata[3], NULL, 10), ==, c->swap_used);
                        if (c->pid != 1000) {
                                g_assert_cmpstr(words->pdata[0], ==, "none");
                                g_assert_cmpstr(words->pdata[1], ==, "virtual");
                        }
                }
        }
}

/* ---- scratch trees for the edge cases ---- */

static void write_file(const char *root, const char *rel, const char *content) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
}

static void remove_file(const char *root, const char *rel) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        g_assert_cmpint(unlink(path), ==, 0);
}

/* A host without containers: ROOT/proc with the fixture host's files, an empty cgroup tree. */
static char *scratch_host(bool v2) {
        g_autoptr(GError) error = NULL;
        char *root = g_dir_make_tmp("capfs-memory-XXXXXX", &error);
        g_autofree char *ns_dir = NULL, *ns_link = NULL;
        static const char *const host_files[] = {"meminfo", "swaps", "slabinfo"};

        g_assert_no_error(error);
        ns_dir = g_build_filename(root, "proc", "self", "ns", NULL);
        g_assert_cmpint(g_mkdir_with_parents(ns_dir, 0755), ==, 0);
        ns_link = g_build_filename(ns_dir, "pid", NULL);
        g_assert_cmpint(symlink("pid:[1]", ns_link), ==, 0);
        for (size_t i = 0; i < G_N_ELEMENTS(host_files); i++) {
                g_autofree char *rel = g_build_filename("v1", "proc", host_files[i], NULL);
                g_autofree char *content = read_fixture(rel);
                g_autofree char *dest = g_build_filename("proc", host_files[i], NULL);
                write_file(root, dest, content);
        }
        if (v2)
                write_file(root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        else
                write_file(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        return root;
}

static void remove_tree(const char *root) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
        g_assert_cmpint(system(cmd), ==, 0);
}

/* One v1 cgroup "/ct": knobs in bytes; stat holds the total_* keys a renderer reads. */
static void write_v1_cgroup(const char *root, uint64_t limit, uint64_t usage, uint64_t memsw_limit,
                            uint64_t memsw_usage, uint64_t active_file, uint64_t inactive_file) {
        g_autofree char *stat = g_strdup_printf("cache 0\nrss 0\ntotal_cache %" G_GUINT64_FORMAT
                                                "\ntotal_rss 1048576\ntotal_active_file %" G_GUINT64_FORMAT
                                                "\ntotal_inactive_file %" G_GUINT64_FORMAT "\n",
                                                active_file + inactive_file, active_file, inactive_file);
        g_autofree char *s_limit = g_strdup_printf("%" G_GUINT64_FORMAT "\n", limit);
        g_autofree char *s_usage = g_strdup_printf("%" G_GUINT64_FORMAT "\n", usage);
        g_autofree char *s_memsw_limit = g_strdup_printf("%" G_GUINT64_FORMAT "\n", memsw_limit);
        g_autofree char *s_memsw_usage = g_strdup_printf("%" G_GUINT64_FORMAT "\n", memsw_usage);

        write_file(root, "sys/fs/cgroup/memory/ct/memory.limit_in_bytes", s_limit);
        write_file(root, "sys/fs/cgroup/memory/ct/memory.usage_in_bytes", s_usage);
        write_file(root, "sys/fs/cgroup/memory/ct/memory.memsw.limit_in_bytes", s_memsw_limit);
        write_file(root, "sys/fs/cgroup/memory/ct/memory.memsw.usage_in_bytes", s_memsw_usage);
        write_file(root, "sys/fs/cgroup/memory/ct/memory.stat", stat);
}

static void write_v2_cgroup(const char *root, const char *max, uint64_t current, const char *swap_max,
                            uint64_t swap_current, uint64_t active_file, uint64_t inactive_file) {
        g_autofree char *stat = g_strdup_printf(
                "anon 1048576\nfile %" G_GUINT64_FORMAT "\nactive_file %" G_GUINT64_FORMAT
                "\ninactive_file %" G_GUINT64_FORMAT "\nslab_reclaimable 0\nslab_unreclaimable 0\n",
                active_file + inactive_file, active_file, inactive_file);
        g_autofree char *s_max = g_strdup_printf("%s\n", max);
        g_autofree char *s_current = g_strdup_printf("%" G_GUINT64_FORMAT "\n", current);
        g_autofree char *s_swap_current = g_strdup_printf("%" G_GUINT64_FORMAT "\n", swap_current);

        write_file(root, "sys/fs/cgroup/ct/memory.max", s_max);
        write_file(root, "sys/fs/cgroup/ct/memory.current", s_current);
        if (swap_max) {
                g_autofree char *s_swap_max = g_strdup_printf("%s\n", swap_max);
                write_file(root, "sys/fs/cgroup/ct/memory.swap.max", s_swap_max);
                write_file(root, "sys/fs/cgroup/ct/memory.swap.current", s_swap_current);
        }
        write_file(root, "sys/fs/cgroup/ct/memory.stat", stat);
}

static CapfsContainer scratch_container(bool v2, const char *cgpath) {
        CapfsContainer ct = {.init_pid = 4242};

        ct.cgroup[v2 ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_MEMORY] = (char *) cgpath;
        return ct;
}

#define MiB (UINT64_C(1) << 20)

static void test_usage_above_limit(void) {
        for (int v2 = 0; v2 <= 1; v2++) {
                g_autofree char *root = scratch_host(v2);
                g_autoptr(CapfsHost) host = NULL;
                CapfsContainer ct = scratch_container(v2, "/ct");

                /* 300 MiB charged against 256 MiB (a limit just lowered); 20 MiB of it page cache. */
                if (v2)
                        write_v2_cgroup(root, "268435456", 300 * MiB, "0", 0, 12 * MiB, 8 * MiB);
                else
                        write_v1_cgroup(root, 256 * MiB, 300 * MiB, 256 * MiB, 300 * MiB, 12 * MiB, 8 * MiB);
                host = fixture_host_at(root);
                {
                        g_autoptr(GString) out = render(host, &ct, "proc/meminfo");
                        g_autoptr(GHashTable) m = parse_meminfo(out);

                        g_assert_cmpuint(value_of(m, "MemTotal"), ==, 262144);
                        g_assert_cmpuint(value_of(m, "MemFree"), ==, 0);
                        g_assert_cmpuint(value_of(m, "MemAvailable"), ==, 20480);
                        /* No swap allowed (v1 memsw == limit, v2 swap.max 0). */
                        g_assert_cmpuint(value_of(m, "SwapTotal"), ==, 0);
                        g_assert_cmpuint(value_of(m, "SwapFree"), ==, 0);
                }

                /* Even absurd page cache figures cannot make more available than the limit. */
                if (v2)
                        write_v2_cgroup(root, "268435456", 300 * MiB, "0", 0, 200 * MiB, 200 * MiB);
                else
                        write_v1_cgroup(root, 256 * MiB, 300 * MiB, 256 * MiB, 300 * MiB, 200 * MiB,
                                        200 * MiB);
                {
                        g_autoptr(GString) out = render(host, &ct, "proc/meminfo");
                        g_autoptr(GHashTable) m = parse_meminfo(out);

                        g_assert_cmpuint(value_of(m, "MemFree"), ==, 0);
                        g_assert_cmpuint(value_of(m, "MemAvailable"), ==, 262144);
                }
                remove_tree(root);
        }
}

/* Swap usage above the swap limit, and v1's memsw read before a grown memory counter. */
static void test_swap_usage_clamps(void) {
        {
                g_autofree char *root = scratch_host(true);
                g_autoptr(CapfsHost) host = NULL;
                CapfsContainer ct = scratch_container(true, "/ct");
                g_autoptr(GString) meminfo = NULL, swaps = NULL;
                g_autoptr(GHashTable) m = NULL;

                /* 80 MiB swapped out, then swap.max lowered to 64 MiB. */
                write_v2_cgroup(root, "268435456", 100 * MiB, "67108864", 80 * MiB, 0, 0);
                host = fixture_host_at(root);
                meminfo = render(host, &ct, "proc/meminfo");
                m = parse_meminfo(meminfo);
                g_assert_cmpuint(value_of(m, "SwapTotal"), ==, 65536);
                g_assert_cmpuint(value_of(m, "SwapFree"), ==, 0);
                swaps = render(host, &ct, "proc/swaps");
                g_assert_nonnull(strstr(swaps->str, "virtual\t\t65536\t\t65536\t\t0\n"));
                remove_tree(root);
        }
        {
                g_autofree char *root = scratch_host(false);
                g_autoptr(CapfsHost) host = NULL;
                CapfsContainer ct = scratch_container(false, "/ct");
                g_autoptr(GString) meminfo = NULL;
                g_autoptr(GHashTable) m = NULL;

                /* memsw.usage below usage: the two counters were read at different times. */
                write_v1_cgroup(root, 256 * MiB, 100 * MiB, 512 * MiB, 99 * MiB, 0, 0);
                host = fixture_host_at(root);
                meminfo = render(host, &ct, "proc/meminfo");
                m = parse_meminfo(meminfo);
                g_assert_cmpuint(value_of(m, "SwapTotal"), ==, 262144);
                g_assert_cmpuint(value_of(m, "SwapFree"), ==, 262144);
                remove_tree(root);
        }
}

/* A container never sees more free memory than the host has left. */
static void test_host_free_caps(void) {
        g_autofree char *root = scratch_host(true);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = scratch_container(true, "/ct");
        g_autofree char *host_meminfo = read_fixture("v1/proc/meminfo");
        g_autoptr(GString) tight = g_string_new(host_meminfo);
        g_autoptr(GString) out = NULL;
        g_autoptr(GHashTable) m = NULL;

        g_string_replace(tight, "MemFree:         2254336 kB", "MemFree:          102400 kB", 1);
        g_string_replace(tight, "MemAvailable:    3104768 kB", "MemAvailable:     153600 kB", 1);
        write_file(root, "proc/meminfo", tight->str);
        /* 256 MiB limit, 50 MiB used, 100 MiB of page cache. */
        write_v2_cgroup(root, "268435456", 50 * MiB, "max", 0, 60 * MiB, 40 * MiB);
        host = fixture_host_at(root);
        out = render(host, &ct, "proc/meminfo");
        m = parse_meminfo(out);
        g_assert_cmpuint(value_of(m, "MemTotal"), ==, 262144);
        g_assert_cmpuint(value_of(m, "MemFree"), ==, 102400);
        g_assert_cmpuint(value_of(m, "MemAvailable"), ==, 153600);
        remove_tree(root);
}

/* A cgroup with no limit below the host's, and no swap limit: the host's files. */
static void test_unlimited_cgroup_gets_host_files(void) {
        for (int v2 = 0; v2 <= 1; v2++) {
                g_autofree char *root = scratch_host(v2);
                g_autoptr(CapfsHost) host = NULL;
                CapfsContainer ct = scratch_container(v2, "/ct");
                g_autofree char *meminfo = read_fixture("v1/proc/meminfo");
                g_autofree char *swaps = read_fixture("v1/proc/swaps");

                if (v2)
                        write_v2_cgroup(root, "max", 50 * MiB, "max", 0, 0, 0);
                else
                        /* Above the host's RAM is no limit either; memsw unset. */
                        write_v1_cgroup(root, 8192 * MiB, 50 * MiB, UINT64_C(9223372036854771712), 50 * MiB,
                                        0, 0);
                host = fixture_host_at(root);
                {
                        g_autoptr(GString) out = render(host, &ct, "proc/meminfo");
                        g_assert_cmpstr(out->str, ==, meminfo);
                }
                {
                        g_autoptr(GString) out = render(host, &ct, "proc/swaps");
                        g_assert_cmpstr(out->str, ==, swaps);
                }
                remove_tree(root);
        }
}

/* Only swap limited: MemTotal stays the host's, and so does MemFree (the host's is lower). */
static void test_swap_only_limit(void) {
        g_autofree char *root = scratch_host(false);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = scratch_container(false, "/ct");
        g_autoptr(GString) out = NULL;
        g_autoptr(GHashTable) m = NULL;

        /* No memory limit, memsw 4 GiB: swap = 4096 MiB - host RAM 4026532 kB = 167772 kB. */
        write_v1_cgroup(root, UINT64_C(9223372036854771712), 50 * MiB, 4096 * MiB, 51 * MiB, 0, 0);
        host = fixture_host_at(root);
        out = render(host, &ct, "proc/meminfo");
        m = parse_meminfo(out);
        g_assert_cmpuint(value_of(m, "MemTotal"), ==, 4026532);
        g_assert_cmpuint(value_of(m, "MemFree"), ==, 2254336);
        g_assert_cmpuint(value_of(m, "SwapTotal"), ==, 4096 * 1024 - 4026532);
        g_assert_cmpuint(value_of(m, "SwapFree"), ==, 4096 * 1024 - 4026532 - 1024);
        remove_tree(root);
}

/* No swap on the host, or no swap allowed: the header and no area. */
static void test_swaps_without_swap(void) {
        for (int v2 = 0; v2 <= 1; v2++) {
                g_autofree char *root = scratch_host(v2);
                g_autoptr(CapfsHost) host = NULL;
                CapfsContainer ct = scratch_container(v2, "/ct");
                g_autofree char *header = NULL;
                g_autofree char *host_swaps = read_fixture("v1/proc/swaps");

                header = g_strndup(host_swaps, strchr(host_swaps, '\n') - host_swaps + 1);
                if (v2) {
                        /* The host has no swap at all; the container has no swap limit. */
                        g_autofree char *meminfo = read_fixture("v1/proc/meminfo");
                        g_autoptr(GString) noswap = g_string_new(meminfo);

                        g_string_replace(noswap, "SwapTotal:       1048572 kB",
                                         "SwapTotal:             0 kB", 1);
                        g_string_replace(noswap, "SwapFree:         996348 kB",
                                         "SwapFree:              0 kB", 1);
                        write_file(root, "proc/meminfo", noswap->str);
                        write_file(root, "proc/swaps", header);
                        write_v2_cgroup(root, "268435456", 50 * MiB, "max", 0, 0, 0);
                } else
                        write_v1_cgroup(root, 256 * MiB, 50 * MiB, 256 * MiB, 50 * MiB, 0, 0);
                host = fixture_host_at(root);
                {
                        g_autoptr(GString) out = render(host, &ct, "proc/swaps");
                        g_assert_cmpstr(out->str, ==, header);
                }
                {
                        g_autoptr(GString) out = render(host, &ct, "proc/meminfo");
                        g_autoptr(GHashTable) m = parse_meminfo(out);
                        g_assert_cmpuint(value_of(m, "SwapTotal"), ==, 0);
                        g_assert_cmpuint(value_of(m, "SwapFree"), ==, 0);
                }
                remove_tree(root);
        }
}

/* Without swap accounting the container shares the host's swap as the host shows it. */
static void test_swap_not_accounted(void) {
        g_autofree char *root = scratch_host(true);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = scratch_container(true, "/ct");
        g_autoptr(GString) out = NULL;
        g_autoptr(GHashTable) m = NULL;

        write_v2_cgroup(root, "268435456", 50 * MiB, NULL, 0, 0, 0);
        host = fixture_host_at(root);
        out = render(host, &ct, "proc/meminfo");
        m = parse_meminfo(out);
        g_assert_cmpuint(value_of(m, "SwapTotal"), ==, 1048572);
        g_assert_cmpuint(value_of(m, "SwapFree"), ==, 996348);
        g_string_free(out, true);
        out = render(host, &ct, "proc/swaps");
        g_assert_nonnull(strstr(
                out->str, "\nnone                                    virtual\t\t1048572\t\t52224\t\t0\n"));
        remove_tree(root);
}

/* Sizes of 10000000 kB and more lose the padding tab, as in the kernel's swap_show(). */
static void test_swaps_wide_numbers(void) {
        g_autofree char *root = scratch_host(true);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = scratch_container(true, "/ct");
        g_autofree char *meminfo = read_fixture("v1/proc/meminfo");
        g_autoptr(GString) bigswap = g_string_new(meminfo);
        g_autoptr(GString) out = NULL;

        g_string_replace(bigswap, "SwapTotal:       1048572 kB", "SwapTotal:      16777212 kB", 1);
        g_string_replace(bigswap, "SwapFree:         996348 kB", "SwapFree:       16777212 kB", 1);
        write_file(root, "proc/meminfo", bigswap->str);
        /* 12 GiB of swap allowed, 10 GiB used. */
        write_v2_cgroup(root, "268435456", 50 * MiB, "12884901888", 10240 * MiB, 0, 0);
        host = fixture_host_at(root);
        out = render(host, &ct, "proc/swaps");
        g_assert_nonnull(strstr(
                out->str, "\nnone                                    virtual\t\t12582912\t10485760\t0\n"));
        remove_tree(root);
}

/*
 * v2: limits on an outer cgroup, the payload in an inner one whose parent delegates no
 * memory controller: the inner cgroup has no memory files, the kernel charges it to the
 * outer one, and that is where usage is read.
 */
static void test_v2_inner_without_memory_controller(void) {
        g_autofree char *root = scratch_host(true);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer inner = scratch_container(true, "/ct/inner");
        g_autoptr(GString) text = NULL;
        g_autoptr(GHashTable) values = NULL;

        write_v2_cgroup(root, "268435456", 50 * MiB, "max", 0, 2 * MiB, 3 * MiB);
        write_file(root, "sys/fs/cgroup/ct/inner/cgroup.procs", "");
        host = fixture_host_at(root);

        text = render(host, &inner, "proc/meminfo");
        values = parse_meminfo(text);
        g_assert_cmpuint(value_of(values, "MemTotal"), ==, 262144);
        /* 256 - 50 MiB free = 210944 kB; + 5 MiB of file LRU = 216064 kB available. */
        g_assert_cmpuint(value_of(values, "MemFree"), ==, 210944);
        g_assert_cmpuint(value_of(values, "MemAvailable"), ==, 216064);
        g_assert_cmpuint(value_of(values, "Cached"), ==, 5120);
        remove_tree(root);
}

/* Data that cannot be computed is an error, and the daemon serves the host's file instead. */
static void test_errors_fall_back_to_host(void) {
        for (int v2 = 0; v2 <= 1; v2++) {
                g_autofree char *root = scratch_host(v2);
                g_autoptr(CapfsHost) host = NULL;
                CapfsContainer ct = scratch_container(v2, "/ct");
                CapfsContainer gone = scratch_container(v2, "/gone");
                g_autofree char *meminfo = read_fixture("v1/proc/meminfo");
                g_autofree char *swaps = read_fixture("v1/proc/swaps");
                const char *stat =
                        v2 ? "sys/fs/cgroup/ct/memory.stat" : "sys/fs/cgroup/memory/ct/memory.stat";
                const char *usage = v2 ? "sys/fs/cgroup/ct/memory.current"
                                       : "sys/fs/cgroup/memory/ct/memory.usage_in_bytes";
                g_autoptr(GString) out = g_string_new(NULL);

                if (v2)
                        write_v2_cgroup(root, "268435456", 50 * MiB, "max", 0, 0, 0);
                else
                        write_v1_cgroup(root, 256 * MiB, 50 * MiB, 512 * MiB, 50 * MiB, 0, 0);
                host = fixture_host_at(root);

                /* memory.stat missing */
                remove_file(root, stat);
                g_assert_cmpint(capfs_render_proc_meminfo(host, &ct, out), ==, -ENOENT);
                g_assert_cmpint(capfs_render_proc_swaps(host, &ct, out), ==, -ENOENT);
                g_assert_cmpint(capfs_node_read(host, &ct, "proc/meminfo", out), ==, 0);
                g_assert_cmpstr(out->str, ==, meminfo);
                g_assert_cmpint(capfs_node_read(host, &ct, "proc/swaps", out), ==, 0);
                g_assert_cmpstr(out->str, ==, swaps);

                /* memory.stat that is not one */
                write_file(root, stat, "hello world\n");
                g_assert_cmpint(capfs_render_proc_meminfo(host, &ct, out), ==, -EINVAL);
                g_assert_cmpint(capfs_node_read(host, &ct, "proc/meminfo", out), ==, 0);
                g_assert_cmpstr(out->str, ==, meminfo);

                /* the usage counter missing or garbled */
                write_file(root, stat, v2 ? "file 0\n" : "total_cache 0\n");
                remove_file(root, usage);
                g_assert_cmpint(capfs_render_proc_meminfo(host, &ct, out), ==, -ENOENT);
                write_file(root, usage, "max\n");
                g_assert_cmpint(capfs_render_proc_meminfo(host, &ct, out), ==, -EINVAL);

                /* the cgroup is gone: v2's root has no limit knob; v1's root has no limit */
                g_assert_cmpint(capfs_node_read(host, &gone, "proc/meminfo", out), ==, 0);
                g_assert_cmpstr(out->str, ==, meminfo);

                /* no memory hierarchy known for the container */
                CapfsContainer none = {.init_pid = 4242};
                g_assert_cmpint(capfs_render_proc_meminfo(host, &none, out), ==, -ENOENT);
                g_assert_cmpint(capfs_render_proc_slabinfo(host, &none, out), ==, -ENOENT);
                remove_tree(root);
        }
}

static void test_host_meminfo_garbage(void) {
        g_autofree char *root = scratch_host(true);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = scratch_container(true, "/ct");
        g_autoptr(GString) out = g_string_new(NULL);

        write_v2_cgroup(root, "268435456", 50 * MiB, "max", 0, 0, 0);
        write_file(root, "proc/meminfo", "MemFree: 12 kB\n");
        host = fixture_host_at(root);
        g_assert_cmpint(capfs_render_proc_meminfo(host, &ct, out), ==, -EINVAL);
        write_file(root, "proc/meminfo", "MemTotal: 99999999999999999 kB\nMemFree: 1 kB\n");
        g_assert_cmpint(capfs_render_proc_meminfo(host, &ct, out), ==, -ERANGE);
        remove_tree(root);
}

static void test_slabinfo_edges(void) {
        g_autofree char *root = scratch_host(false);
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = scratch_container(false, "/ct");
        CapfsContainer host_root = scratch_container(false, "/");
        g_autofree char *host_slabinfo = read_fixture("v1/proc/slabinfo");
        g_autofree char *header = read_fixture("expected/v2/slabinfo@ct1");
        g_autofree char *want = NULL;
        g_autoptr(GString) fallback = g_string_new(NULL);
        g_autoptr(GString) own = NULL, whole = NULL;
        const char *cache = "dentry              4011   4074    192   21    1 : tunables    0    0    0 : "
                            "slabdata    194    194      0\n";

        host = fixture_host_at(root);
        /* No memory.kmem.slabinfo (a kernel without kmem accounting): the host's file, by the fallback. */
        g_assert_cmpint(capfs_render_proc_slabinfo(host, &ct, fallback), ==, -ENOENT);
        g_assert_cmpint(capfs_node_read(host, &ct, "proc/slabinfo", fallback), ==, 0);
        g_assert_cmpstr(fallback->str, ==, host_slabinfo);

        /* Caches without the kernel's header line get one. */
        write_file(root, "sys/fs/cgroup/memory/ct/memory.kmem.slabinfo", cache);
        own = render(host, &ct, "proc/slabinfo");
        want = g_strconcat(header, cache, NULL);
        g_assert_cmpstr(own->str, ==, want);
        g_assert_true(g_str_has_prefix(own->str, "slabinfo - version: 2.1\n# name "));

        /* The root cgroup is the host. */
        whole = render(host, &host_root, "proc/slabinfo");
        g_assert_cmpstr(whole->str, ==, host_slabinfo);
        remove_tree(root);
}

/* ---- sysinfo(2)'s answer: the numbers of the container's own files ---- */

static void test_sysinfo_values(void) {
        for (size_t i = 0; i < G_N_ELEMENTS(meminfo_cases); i++) {
                const MeminfoCase *c = &meminfo_cases[i];
                g_autoptr(CapfsHost) host = fixture_host(c->layout, CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsContainer) ct = fixture_container(host, c->pid);
                g_autoptr(GString) meminfo_text = render(host, ct, "proc/meminfo");
                g_autoptr(GHashTable) meminfo = parse_meminfo(meminfo_text);
                g_autoptr(GString) uptime_text = render(host, ct, "proc/uptime");
                g_autoptr(GString) loadavg_text = render(host, ct, "proc/loadavg");
                CapfsLoadavgLine loadavg;
                uint64_t uptime_cs;
                CapfsSysinfo info;

                g_test_message("%s pid %d", c->layout, (int) c->pid);
                g_assert_cmpint(capfs_container_sysinfo(host, ct, &info), ==, 0);
                g_assert_cmpuint(info.total_ram, ==, c->total * 1024);
                g_assert_cmpuint(info.free_ram, ==, c->free * 1024);
                g_assert_cmpuint(info.total_swap, ==, c->swap_total * 1024);
                g_assert_cmpuint(info.free_swap, ==, c->swap_free * 1024);
                g_assert_cmpuint(info.shared_ram, ==, value_of(meminfo, "Shmem") * 1024);
                g_assert_cmpuint(info.buffer_ram, ==, value_of(meminfo, "Buffers") * 1024);

                g_assert_cmpint(capfs_parse_uptime(uptime_text->str, uptime_text->len, &uptime_cs, NULL), ==,
                                0);
                g_assert_cmpuint(info.uptime_sec, ==, (uptime_cs + 99) / 100);
                g_assert_cmpint(capfs_parse_loadavg(loadavg_text->str, loadavg_text->len, &loadavg), ==, 0);
                g_assert_cmpuint(info.procs, ==, loadavg.total);
                for (unsigned l = 0; l < 3; l++)
                        g_assert_cmpuint(info.loads[l], ==, loadavg.load_hundredths[l] * 65536 / 100);
        }
}

/* The fixture's host loads, 0.42 0.37 0.31 with 412 tasks: what the kernel would answer. */
static void test_sysinfo_host_loads(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 1000);
        CapfsSysinfo info;

        g_assert_cmpint(capfs_container_sysinfo(host, ct, &info), ==, 0);
        g_assert_cmpuint(info.loads[0], ==, 42 * 65536 / 100);
        g_assert_cmpuint(info.loads[2], ==, 31 * 65536 / 100);
        g_assert_cmpuint(info.procs, ==, 412);
        g_assert_cmpuint(info.uptime_sec, ==, 12346);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);

        g_test_add_data_func("/memory/golden/v1", "v1", test_golden);
        g_test_add_data_func("/memory/golden/v2", "v2", test_golden);
        g_test_add_func("/memory/meminfo/values", test_meminfo_values);
        g_test_add_func("/memory/meminfo/invariants", test_meminfo_invariants);
        g_test_add_func("/memory/meminfo/v1-hierarchical-stats", test_meminfo_v1_uses_hierarchical_stats);
        g_test_add_func("/memory/meminfo/format", test_meminfo_format);
        g_test_add_func("/memory/meminfo/usage-above-limit", test_usage_above_limit);
        g_test_add_func("/memory/meminfo/host-free-caps", test_host_free_caps);
        g_test_add_func("/memory/meminfo/unlimited-gets-host-files", test_unlimited_cgroup_gets_host_files);
        g_test_add_func("/memory/meminfo/swap-only-limit", test_swap_only_limit);
        g_test_add_func("/memory/meminfo/host-garbage", test_host_meminfo_garbage);
        g_test_add_func("/memory/swaps/values", test_swaps_values);
        g_test_add_func("/memory/swaps/usage-clamps", test_swap_usage_clamps);
        g_test_add_func("/memory/swaps/without-swap", test_swaps_without_swap);
        g_test_add_func("/memory/swaps/not-accounted", test_swap_not_accounted);
        g_test_add_func("/memory/swaps/wide-numbers", test_swaps_wide_numbers);
        g_test_add_func("/memory/errors-fall-back-to-host", test_errors_fall_back_to_host);
        g_test_add_func("/memory/meminfo/v2-inner-without-memory-controller",
                        test_v2_inner_without_memory_controller);
        g_test_add_func("/memory/slabinfo/edges", test_slabinfo_edges);
        g_test_add_func("/memory/sysinfo/values", test_sysinfo_values);
        g_test_add_func("/memory/sysinfo/host-loads", test_sysinfo_host_loads);

        return g_test_run();
}
