/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cgroup view (fs/cgroup-view.c) on the fixture trees: what each caller sees, what it
 * may change, which errno it gets otherwise, and what reaches the host's files.
 *
 * The fixture trees are plain directories, not cgroupfs: mkdir makes an empty directory
 * (no knob files), a write to a knob simply lands in a file and moves nothing, and a
 * write without O_TRUNC overwrites the start of what was there. These tests therefore
 * check capfs's decisions: whether an operation is allowed, which errno comes back, and
 * exactly which bytes reach which host file (emptied first, to stand in for a kernel knob
 * that keeps no text). Tests that change a tree work on a scratch copy of the fixture.
 *
 * Fixture processes used here (tests/data/{v1,v2}/proc):
 *   1000 host (cgroup /); 2000 init of ct1 (/ct1, systemd in /ct1/init.scope), 2001 in ct1
 *   (pid 7 there, memory and unified /ct1/system.slice/foo.service, threads 2002 = 8 and
 *   2003 = 9); 2020 init of a pid namespace nested in ct1's (20 in ct1, 1 in its own;
 *   /ct1/nested) and 2021 in it (21 in ct1, 5 in the nested one; /ct1/nested/inner);
 *   2050 in ct1's namespace (50) that the host moved out to /; 2100 init of ct10 (/ct10,
 *   a sibling whose name extends ct1's) in a cgroup namespace, 2101 (2 there) in
 *   /ct10/app; 3000 init of ct2 (/parent/ct2) in a user namespace mapping 0 to 100000,
 *   3005 joined it with setns; 3100 init of ct20 (/parent/ct20).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "fixture.h"
#include "parse/parse.h"

/* ---- helpers ---- */

static void collect(void *userdata, const char *name, CapfsNodeType type) {
        GPtrArray *names = userdata;

        g_ptr_array_add(names, g_strconcat(name,
                                           type == CAPFS_NODE_DIR       ? "/"
                                           : type == CAPFS_NODE_SYMLINK ? "@"
                                                                        : "",
                                           NULL));
}

static int compare_strings(gconstpointer a, gconstpointer b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* The entries of @path, sorted, space-separated; dirs end in "/", symlinks in "@". */
static char *list(CapfsHost *host, const CapfsContainer *ct, const char *path, int *ret) {
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        *ret = capfs_node_readdir(host, ct, path, collect, names);
        g_ptr_array_sort(names, compare_strings);
        g_ptr_array_add(names, NULL);
        return g_strjoinv(" ", (char **) names->pdata);
}

static void assert_list(CapfsHost *host, const CapfsContainer *ct, const char *path, const char *want) {
        g_autofree char *got = NULL;
        int r;

        got = list(host, ct, path, &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(got, ==, want);
}

/* Whether @word is one of the space-separated words of @words. */
static bool has_word(const char *words, const char *word) {
        g_auto(GStrv) parts = g_strsplit(words, " ", -1);

        return g_strv_contains((const char *const *) parts, word);
}

static ssize_t put(CapfsHost *host, const CapfsContainer *ct, const char *path, const char *value) {
        return capfs_node_write(host, ct, path, value, strlen(value));
}

static char *view_read(CapfsHost *host, const CapfsContainer *ct, const char *path, int *ret) {
        g_autoptr(GString) out = g_string_new(NULL);

        *ret = capfs_node_read(host, ct, path, out);
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static void assert_read(CapfsHost *host, const CapfsContainer *ct, const char *path, const char *want) {
        g_autofree char *got = NULL;
        int r;

        got = view_read(host, ct, path, &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(got, ==, want);
}

static int stat_errno(CapfsHost *host, const CapfsContainer *ct, const char *path) {
        CapfsNodeAttr attr;

        return capfs_node_stat(host, ct, path, &attr);
}

static void run(const char *const *argv) {
        g_autoptr(GError) error = NULL;
        int status = 0;

        g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                     &error);
        g_assert_no_error(error);
        g_assert_true(g_spawn_check_wait_status(status, NULL));
}

/* A writable copy of tests/data/LAYOUT; remove it with scratch_remove(). */
static char *scratch_copy(const char *layout) {
        g_autoptr(GError) error = NULL;
        g_autofree char *from = fixture_path(layout);
        g_autofree char *from_dot = g_build_filename(from, ".", NULL);
        char *dir = g_dir_make_tmp("capfs-cgview-XXXXXX", &error);

        g_assert_no_error(error);
        run((const char *const[]){"cp", "-a", from_dot, dir, NULL});
        return dir;
}

static void scratch_remove(const char *dir) {
        g_assert_true(g_str_has_prefix(dir, g_get_tmp_dir()));
        run((const char *const[]){"rm", "-rf", "--one-file-system", dir, NULL});
}

static char *host_read(const char *root, const char *rel) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(root, rel, NULL);
        char *text = NULL;

        g_file_get_contents(path, &text, NULL, &error);
        g_assert_no_error(error);
        return text;
}

static void host_write(const char *root, const char *rel, const char *text) {
        g_autoptr(GError) error = NULL;
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, text, -1, &error);
        g_assert_no_error(error);
}

static void host_link(const char *root, const char *rel, const char *target) {
        g_autofree char *path = g_build_filename(root, rel, NULL);

        (void) unlink(path);
        g_assert_cmpint(symlink(target, path), ==, 0);
}

static bool host_exists(const char *root, const char *rel) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        struct stat st;

        return lstat(path, &st) == 0;
}

/*
 * /proc/TID of a thread: real procfs resolves it though it lists only processes. The
 * fixture cannot hide a directory from readdir, so the tests that need one add it to
 * their scratch copy.
 */
static void add_thread_dir(const char *root, pid_t pid, pid_t tid) {
        g_autofree char *task = g_strdup_printf("proc/%d/task/%d", (int) pid, (int) tid);
        g_autofree char *dir = g_strdup_printf("proc/%d", (int) tid);
        const char *files[] = {"status", "stat"};
        g_autofree char *cgroup_rel = g_strdup_printf("proc/%d/cgroup", (int) pid);
        g_autofree char *cgroup = host_read(root, cgroup_rel);
        g_autofree char *ns_rel = g_strdup_printf("%s/ns/pid", dir);
        g_autofree char *ns_target = NULL;
        g_autofree char *pid_ns = g_strdup_printf("%s/proc/%d/ns/pid", root, (int) pid);

        for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
                g_autofree char *from = g_strdup_printf("%s/%s", task, files[i]);
                g_autofree char *to = g_strdup_printf("%s/%s", dir, files[i]);
                g_autofree char *text = host_read(root, from);
                host_write(root, to, text);
        }
        {
                g_autofree char *to = g_strdup_printf("%s/cgroup", dir);
                host_write(root, to, cgroup);
        }
        ns_target = g_file_read_link(pid_ns, NULL);
        g_assert_nonnull(ns_target);
        {
                g_autofree char *ns_dir = g_strdup_printf("%s/%s/ns", root, dir);
                g_assert_cmpint(g_mkdir_with_parents(ns_dir, 0755), ==, 0);
        }
        host_link(root, ns_rel, ns_target);
}

/* Audit lines captured from g_info(); the default handler stays in place for everything else. */
/* pthread, not GMutex: this test runs under ThreadSanitizer, which cannot see GLib's futex mutex. */
static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *audit_lines;

static void capture_audit(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
        pthread_mutex_lock(&audit_lock);
        if (audit_lines && g_str_has_prefix(message, "cgroup view: "))
                g_ptr_array_add(audit_lines, g_strdup(message));
        pthread_mutex_unlock(&audit_lock);
}

/* Installed for the whole run: audit lines are captured (or dropped), everything else printed as usual. */
static void log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
        if ((level & G_LOG_LEVEL_INFO) && g_str_has_prefix(message, "cgroup view: ")) {
                capture_audit(domain, level, message, data);
                return;
        }
        g_log_default_handler(domain, level, message, data);
}

static void audit_start(void) {
        capfs_audit_reset();
        pthread_mutex_lock(&audit_lock);
        g_clear_pointer(&audit_lines, g_ptr_array_unref);
        audit_lines = g_ptr_array_new_with_free_func(g_free);
        pthread_mutex_unlock(&audit_lock);
}

static char *audit_last(void) {
        char *line;

        pthread_mutex_lock(&audit_lock);
        line = audit_lines->len ? g_strdup(audit_lines->pdata[audit_lines->len - 1]) : g_strdup("");
        pthread_mutex_unlock(&audit_lock);
        return line;
}

static guint audit_count(void) {
        guint n;

        pthread_mutex_lock(&audit_lock);
        n = audit_lines->len;
        pthread_mutex_unlock(&audit_lock);
        return n;
}

/* ---- what the container record carries for the view ---- */

static void test_container_hierarchies(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) init = fixture_container(host, 2000);
        g_autoptr(CapfsContainer) member = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) self = fixture_container(host, 1000);

        g_assert_cmpint(init->caller_pid, ==, 2000);
        g_assert_cmpint(member->caller_pid, ==, 2001);
        g_assert_cmpint(member->init_pid, ==, 2000);
        g_assert_cmpstr(g_hash_table_lookup(member->hierarchy_root, "memory"), ==, "/ct1");
        /* systemd's init.scope is pruned in every hierarchy, named ones and cgroup2 too. */
        g_assert_cmpstr(g_hash_table_lookup(member->hierarchy_root, "name=systemd"), ==, "/ct1");
        g_assert_cmpstr(g_hash_table_lookup(member->hierarchy_root, ""), ==, "/ct1");
        /* A comount's line yields each of its controllers. */
        g_assert_cmpstr(g_hash_table_lookup(member->hierarchy_root, "net_cls"), ==, "/ct1");
        g_assert_cmpstr(g_hash_table_lookup(member->hierarchy_root, "net_prio"), ==, "/ct1");
        g_assert_cmpstr(g_hash_table_lookup(self->hierarchy_root, "memory"), ==, "/");
        g_assert_cmpint(self->caller_pid, ==, 1000);
}

/* ---- what a caller sees ---- */

static void test_top_v1(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(GString) out = g_string_new(NULL);
        CapfsNodeAttr attr;

        /* One entry per hierarchy, named as under /sys/fs/cgroup; comount links stay links. */
        assert_list(host, ct, "cgroup",
                    "blkio/ cpu/ cpuacct/ cpuset/ devices/ freezer/ memory/ net_cls,net_prio/ net_cls@ "
                    "net_prio@ "
                    "pids/ systemd/ unified/");
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_cmpint(attr.perm, ==, 0555);
        g_assert_true(attr.per_caller);
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup/net_cls", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_SYMLINK);
        g_assert_true(attr.per_caller);
        g_assert_cmpint(capfs_node_readlink(host, ct, "cgroup/net_cls", out), ==, 0);
        g_assert_cmpstr(out->str, ==, "net_cls,net_prio");
        /* The kernel resolves the link itself; capfs never walks through one. */
        g_assert_cmpint(stat_errno(host, ct, "cgroup/net_cls/ct1"), ==, -ENOTDIR);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/net_cls,net_prio/ct1"), ==, 0);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/nonexistent"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/cgroup.procs"), ==, -ENOENT);
        g_assert_cmpint(capfs_node_read(host, ct, "cgroup", out), ==, -EISDIR);
        g_assert_cmpint(capfs_node_readlink(host, ct, "cgroup/memory", out), ==, -EINVAL);
        /* The rest of the mount is unchanged by the view. */
        g_assert_cmpint(stat_errno(host, ct, "proc/meminfo"), ==, 0);
}

/* Ancestors: read-only directories holding only the next step toward the container. */
static void test_ancestors(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsHost) host2 = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 3000);
        g_autoptr(CapfsContainer) ct_v2 = fixture_container(host2, 3000);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *subtree = NULL;
        CapfsNodeAttr attr;
        int r;

        assert_list(host, ct, "cgroup/memory", "parent/");
        /* Not ct20 beside it, and none of /parent's files. */
        assert_list(host, ct, "cgroup/memory/parent", "ct2/");
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup/memory/parent", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_cmpint(attr.perm, ==, 0555);
        g_assert_cmpint(attr.uid, ==, 0);
        g_assert_true(attr.per_caller);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/memory/parent/memory.limit_in_bytes"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/memory/memory.limit_in_bytes"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/memory/cgroup.procs"), ==, -ENOENT);
        g_assert_cmpint(capfs_node_read(host, ct, "cgroup/memory/parent/memory.limit_in_bytes", out), ==,
                        -ENOENT);
        g_assert_cmpint(capfs_node_read(host, ct, "cgroup/memory/parent", out), ==, -EISDIR);

        /* The container's own cgroup lists what the host has. */
        subtree = list(host, ct, "cgroup/memory/parent/ct2", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_true(has_word(subtree, "cgroup.procs"));
        g_assert_true(has_word(subtree, "memory.limit_in_bytes"));
        g_assert_true(has_word(subtree, "memory.stat"));

        /* Pure v2: cgroup/ is the unified tree, with the same rules. */
        assert_list(host2, ct_v2, "cgroup", "parent/");
        assert_list(host2, ct_v2, "cgroup/parent", "ct2/");
        g_assert_cmpint(stat_errno(host2, ct_v2, "cgroup/parent/memory.max"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host2, ct_v2, "cgroup/cgroup.procs"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host2, ct_v2, "cgroup/parent/ct2/memory.max"), ==, 0);
}

/* Every operation on a sibling is ENOENT: it does not exist for the caller. */
static void assert_invisible(CapfsHost *host, const CapfsContainer *ct, const char *path) {
        g_autoptr(GString) out = g_string_new(NULL);
        g_autofree char *child = g_strconcat(path, "/x", NULL);
        g_autofree char *knob = g_strconcat(path, "/cgroup.procs", NULL);
        g_autofree char *listing = NULL;
        int r;

        g_test_message("invisible: %s for pid %d", path, (int) ct->caller_pid);
        g_assert_cmpint(stat_errno(host, ct, path), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, knob), ==, -ENOENT);
        listing = list(host, ct, path, &r);
        g_assert_cmpint(r, ==, -ENOENT);
        g_assert_cmpint(capfs_node_read(host, ct, knob, out), ==, -ENOENT);
        g_assert_cmpint(capfs_node_readlink(host, ct, path, out), ==, -ENOENT);
        g_assert_cmpint(capfs_node_open(host, ct, knob, O_RDONLY), ==, -ENOENT);
        g_assert_cmpint(capfs_node_open(host, ct, knob, O_WRONLY), ==, -ENOENT);
        g_assert_cmpint(put(host, ct, knob, "1"), ==, -ENOENT);
        g_assert_cmpint(capfs_node_setattr(host, ct, knob, CAPFS_SETATTR_SIZE, 0), ==, -ENOENT);
        g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_XATTR, 0), ==, -ENOENT);
        g_assert_cmpint(capfs_node_mkdir(host, ct, child, 0755), ==, -ENOENT);
        g_assert_cmpint(capfs_node_rmdir(host, ct, path), ==, -ENOENT);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, path), ==, -ENOENT);
}

static void test_siblings(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsHost) host2 = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct1 = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) ct10 = fixture_container(host, 2101);
        g_autoptr(CapfsContainer) ct2 = fixture_container(host, 3000);
        g_autoptr(CapfsContainer) ct20 = fixture_container(host, 3100);
        g_autoptr(CapfsContainer) ct1_v2 = fixture_container(host2, 2001);
        g_autoptr(CapfsContainer) ct2_v2 = fixture_container(host2, 3005);

        /* ct10's name extends ct1's: whole components tell them apart, both ways. */
        assert_invisible(host, ct1, "cgroup/memory/ct10");
        assert_invisible(host, ct1, "cgroup/memory/ct10/app");
        assert_invisible(host, ct1, "cgroup/pids/ct10");
        assert_invisible(host, ct1, "cgroup/memory/parent");
        assert_invisible(host, ct2, "cgroup/memory/parent/ct20");
        assert_invisible(host, ct2, "cgroup/memory/ct1");
        assert_invisible(host, ct20, "cgroup/memory/parent/ct2");
        assert_invisible(host2, ct1_v2, "cgroup/ct10");
        assert_invisible(host2, ct2_v2, "cgroup/parent/ct20");
        /* ct10 lives in a cgroup namespace: host paths mean nothing to it. */
        assert_invisible(host, ct10, "cgroup/memory/ct10");
        assert_invisible(host, ct10, "cgroup/memory/ct1");
        g_assert_cmpint(stat_errno(host, ct1, "cgroup/memory/ct1"), ==, 0);
        g_assert_cmpint(stat_errno(host, ct20, "cgroup/memory/parent/ct20"), ==, 0);
}

static void test_cgroup_namespace(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2101);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *top = v2 ? "cgroup" : "cgroup/memory";
                const char *knob = v2 ? "memory.max" : "memory.limit_in_bytes";
                const char *host_dir = v2 ? "sys/fs/cgroup/ct10" : "sys/fs/cgroup/memory/ct10";
                g_autofree char *root_knob = g_strdup_printf("%s/%s", top, knob);
                g_autofree char *app = g_strdup_printf("%s/app", top);
                g_autofree char *app_knob = g_strdup_printf("%s/app/%s", top, knob);
                g_autofree char *app_host = g_strdup_printf("%s/app/%s", host_dir, knob);
                g_autofree char *fresh = g_strdup_printf("%s/new", top);
                g_autofree char *fresh_host = g_strdup_printf("%s/new", host_dir);
                g_autofree char *procs = g_strdup_printf("%s/cgroup.procs", top);
                g_autofree char *app_procs = g_strdup_printf("%s/app/cgroup.procs", top);
                g_autofree char *listing = NULL;
                int r;

                g_test_message("layout %s", layouts[l]);
                /* The top of the hierarchy is the namespace's root: /proc/self/cgroup says "/" there. */
                listing = list(host, ct, top, &r);
                g_assert_cmpint(r, ==, 0);
                g_assert_true(has_word(listing, "app/"));
                g_assert_true(has_word(listing, "cgroup.procs"));
                g_assert_true(has_word(listing, knob));
                g_assert_false(has_word(listing, "ct10/"));
                g_assert_false(has_word(listing, "ct1/"));
                g_assert_cmpint(stat_errno(host, ct, app), ==, 0);
                /* The root is still the root: its limit is the host's. */
                g_assert_cmpint(put(host, ct, root_knob, "1"), ==, -EACCES);
                host_write(root, app_host, "");
                g_assert_cmpint(put(host, ct, app_knob, "4096"), ==, 4);
                g_autofree char *landed = host_read(root, app_host);
                g_assert_cmpstr(landed, ==, "4096");
                g_assert_cmpint(capfs_node_mkdir(host, ct, fresh, 0755), ==, 0);
                g_assert_true(host_exists(root, fresh_host));
                g_assert_cmpint(capfs_node_rmdir(host, ct, fresh), ==, 0);
                g_assert_false(host_exists(root, fresh_host));
                /* Ids as the container numbers them. */
                assert_read(host, ct, procs, "1\n");
                assert_read(host, ct, app_procs, "2\n");
                scratch_remove(root);
        }
}

/* ---- what a caller may write ---- */

static void test_root_limits_read_only(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) self = fixture_container(host, 1000);
        g_autofree char *before = host_read(root, "sys/fs/cgroup/memory/ct1/memory.limit_in_bytes");
        g_autofree char *after = NULL;
        CapfsNodeAttr attr;

        g_assert_cmpstr(before, ==, "268435456\n");
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", "1073741824"), ==, -EACCES);
        g_assert_cmpint(capfs_node_open(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", O_WRONLY), ==,
                        -EACCES);
        g_assert_cmpint(
                capfs_node_open(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", O_RDONLY | O_TRUNC), ==,
                -EACCES);
        g_assert_cmpint(capfs_node_setattr(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes",
                                           CAPFS_SETATTR_SIZE, 0),
                        ==, -EACCES);
        g_assert_cmpint(put(host, ct, "cgroup/pids/ct1/pids.max", "max"), ==, -EACCES);
        g_assert_cmpint(put(host, ct, "cgroup/cpu/ct1/cpu.cfs_quota_us", "-1"), ==, -EACCES);
        g_assert_cmpint(put(host, ct, "cgroup/cpuset/ct1/cpuset.cpus", "0-3"), ==, -EACCES);
        after = host_read(root, "sys/fs/cgroup/memory/ct1/memory.limit_in_bytes");
        g_assert_cmpstr(after, ==, before);
        /* It reads, and says it is read-only. */
        assert_read(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", "268435456\n");
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_FILE);
        g_assert_cmpint(attr.perm, ==, 0444);
        g_assert_cmpuint(attr.size, ==, 0);
        g_assert_true(attr.per_caller);
        /* The root directory stays writable: children may be made in it. */
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup/memory/ct1", &attr), ==, 0);
        g_assert_cmpint(attr.perm & 0200, ==, 0200);
        /* A host process's root is its own cgroup, here the top: same rule. */
        g_assert_cmpint(put(host, self, "cgroup/memory/memory.limit_in_bytes", "1"), ==, -EACCES);
        scratch_remove(root);
}

static void test_root_v2(void) {
        g_autofree char *root = scratch_copy("v2");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        /* Every knob of the root that would give the container more than the host did. */
        const char *const refused[] = {
                "memory.max",
                "cgroup.freeze",
                "cgroup.kill",
                "cgroup.type",
                "cgroup.max.descendants",
                "cgroup.max.depth",
                "cpu.max",
                "cpu.max.burst",
                "cpu.weight",
                "cpu.idle",
                "memory.swap.max",
                "memory.high",
                "memory.low",
                "memory.min",
                "memory.oom.group",
                "memory.reclaim",
                "cpuset.cpus",
                "cpuset.mems",
                "cpuset.cpus.partition",
                "io.max",
                "io.weight",
                "pids.max",
                "cgroup.pressure",
                "memory.zswap.max",
        };
        g_autofree char *landed = NULL;

        for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
                g_autofree char *path = g_strconcat("cgroup/ct1/", refused[i], NULL);
                g_autofree char *rel = g_strconcat("sys/fs/cgroup/ct1/", refused[i], NULL);
                g_autofree char *after = NULL;

                g_test_message("%s", path);
                if (!host_exists(root, rel))
                        host_write(root, rel, "max\n");
                g_assert_cmpint(put(host, ct, path, "1"), ==, -EACCES);
                after = host_read(root, rel);
                g_assert_cmpstr(after, !=, "1");
        }
        /*
         * Handing controllers down raises no limit: allowed at the root, as cgroup2's own
         * delegation (and its nsdelegate rule for a namespace's root) allows it.
         */
        host_write(root, "sys/fs/cgroup/ct1/cgroup.subtree_control", "");
        g_assert_cmpint(put(host, ct, "cgroup/ct1/cgroup.subtree_control", "+memory -pids"), ==, 13);
        landed = host_read(root, "sys/fs/cgroup/ct1/cgroup.subtree_control");
        g_assert_cmpstr(landed, ==, "+memory -pids");
        /* Moving a task of the subtree to the root: the kernel decides (EBUSY when it hands controllers
         * down). */
        host_write(root, "sys/fs/cgroup/ct1/cgroup.procs", "");
        g_assert_cmpint(put(host, ct, "cgroup/ct1/cgroup.procs", "7"), ==, 1);
        g_clear_pointer(&landed, g_free);
        landed = host_read(root, "sys/fs/cgroup/ct1/cgroup.procs");
        g_assert_cmpstr(landed, ==, "2001");
        add_thread_dir(root, 2001, 2002);
        host_write(root, "sys/fs/cgroup/ct1/cgroup.threads", "");
        g_assert_cmpint(put(host, ct, "cgroup/ct1/cgroup.threads", "8"), ==, 1);
        g_clear_pointer(&landed, g_free);
        landed = host_read(root, "sys/fs/cgroup/ct1/cgroup.threads");
        g_assert_cmpstr(landed, ==, "2002");
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/ct1"), ==, -EACCES);
        g_assert_true(host_exists(root, "sys/fs/cgroup/ct1"));
        scratch_remove(root);
}

static void test_descendant_knobs(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *path = v2 ? "cgroup/ct1/system.slice/foo.service/memory.max"
                                      : "cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes";
                const char *rel =
                        v2 ? "sys/fs/cgroup/ct1/system.slice/foo.service/memory.max"
                           : "sys/fs/cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes";
                g_autofree char *landed = NULL, *junk = NULL;
                CapfsNodeAttr attr;

                g_test_message("layout %s", layouts[l]);
                g_assert_cmpint(capfs_node_stat(host, ct, path, &attr), ==, 0);
                g_assert_cmpint(attr.perm, ==, 0644);
                /* A shell's "echo 100M > knob": open with O_TRUNC, then SETATTR size 0 with mtime. */
                g_assert_cmpint(capfs_node_open(host, ct, path, O_WRONLY | O_TRUNC), ==, 0);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_SIZE, 0), ==, 0);
                g_assert_cmpint(
                        capfs_node_setattr(host, ct, path, CAPFS_SETATTR_SIZE | CAPFS_SETATTR_TIMES, 0), ==,
                        0);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_SIZE, 5), ==, -EPERM);
                /* The exact bytes reach the host file, in one write. */
                host_write(root, rel, "");
                g_assert_cmpint(put(host, ct, path, "104857600\n"), ==, 10);
                landed = host_read(root, rel);
                g_assert_cmpstr(landed, ==, "104857600\n");
                /* Values are the kernel's to judge: capfs passes even nonsense on unchanged. */
                host_write(root, rel, "");
                g_assert_cmpint(put(host, ct, path, "banana"), ==, 6);
                junk = host_read(root, rel);
                g_assert_cmpstr(junk, ==, "banana");
                /* Deeper still: a cgroup of the nested pid namespace's subtree. */
                g_assert_cmpint(capfs_node_open(host, ct,
                                                v2 ? "cgroup/ct1/nested/memory.max"
                                                   : "cgroup/memory/ct1/nested/memory.limit_in_bytes",
                                                O_WRONLY),
                                ==, 0);
                scratch_remove(root);
        }
}

/* Knobs never written through capfs, even below the root. */
static void test_denylist(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) self = fixture_container(host, 1000);
        const char *const refused[] = {
                "cgroup/devices/ct1/system.slice/devices.allow",
                "cgroup/devices/ct1/system.slice/devices.deny",
                "cgroup/memory/ct1/system.slice/notify_on_release",
                "cgroup/memory/ct1/system.slice/cgroup.event_control",
                "cgroup/memory/ct1/system.slice/cgroup.clone_children",
                "cgroup/memory/ct1/system.slice/memory.use_hierarchy",
                "cgroup/net_cls,net_prio/ct1/system.slice/net_cls.classid",
                "cgroup/net_cls,net_prio/ct1/system.slice/net_prio.ifpriomap",
                /* The kernel has release_agent only at a hierarchy's top; the rule goes by name. */
                "cgroup/memory/ct1/system.slice/release_agent",
        };

        host_write(root, "sys/fs/cgroup/memory/ct1/system.slice/release_agent", "");
        for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
                const char *rel = refused[i] + strlen("cgroup/");
                g_autofree char *host_rel = g_strconcat("sys/fs/cgroup/", rel, NULL);
                g_autofree char *before = host_read(root, host_rel);
                g_autofree char *after = NULL;
                CapfsNodeAttr attr;

                g_test_message("%s", refused[i]);
                g_assert_cmpint(put(host, ct, refused[i], "a *:* rwm\n"), ==, -EACCES);
                g_assert_cmpint(capfs_node_open(host, ct, refused[i], O_WRONLY), ==, -EACCES);
                g_assert_cmpint(capfs_node_setattr(host, ct, refused[i], CAPFS_SETATTR_SIZE, 0), ==,
                                -EACCES);
                g_assert_cmpint(capfs_node_stat(host, ct, refused[i], &attr), ==, 0);
                g_assert_cmpint(attr.perm & 0222, ==, 0);
                after = host_read(root, host_rel);
                g_assert_cmpstr(after, ==, before);
        }
        /* Readable all the same. */
        assert_read(host, ct, "cgroup/devices/ct1/system.slice/devices.list", "a *:* rwm\n");
        /* The host's own release_agent, by a host process whose root is the top. */
        g_assert_cmpint(put(host, self, "cgroup/memory/release_agent", "/tmp/x"), ==, -EACCES);
        /* The comount's link name leads to the same refusal through the real directory. */
        g_assert_cmpint(put(host, ct, "cgroup/net_cls/ct1/system.slice/net_cls.classid", "1"), ==, -ENOTDIR);
        scratch_remove(root);
}

/* Never: no new files, links, nodes, renames, modes, owners, times or xattrs (EPERM). */
static void test_never_allowed(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        const char *const nodes[] = {"cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes",
                                     "cgroup/memory/ct1/system.slice", "cgroup/memory/ct1", "cgroup/memory",
                                     "cgroup"};
        const unsigned never[] = {CAPFS_SETATTR_MODE, CAPFS_SETATTR_OWNER, CAPFS_SETATTR_TIMES,
                                  CAPFS_SETATTR_XATTR, CAPFS_SETATTR_MODE | CAPFS_SETATTR_SIZE};

        for (size_t i = 0; i < G_N_ELEMENTS(nodes); i++)
                for (size_t w = 0; w < G_N_ELEMENTS(never); w++)
                        g_assert_cmpint(capfs_node_setattr(host, ct, nodes[i], never[w], 0), ==, -EPERM);
        /* symlink, link, rename, mknod, create and unlink all ask this; so does the top. */
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "cgroup/memory/ct1/system.slice"), ==, -EPERM);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "cgroup/memory/ct1"), ==, -EPERM);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "cgroup/memory"), ==, -EPERM);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "cgroup"), ==, -EPERM);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "cgroup/memory/ct10"), ==, -ENOENT);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "cgroup/memory/ct1/cgroup.procs"), ==, -ENOTDIR);
        /* Truncation is for knobs; a directory cannot be truncated. */
        g_assert_cmpint(
                capfs_node_setattr(host, ct, "cgroup/memory/ct1/system.slice", CAPFS_SETATTR_SIZE, 0), ==,
                -EISDIR);
}

static void test_dot_dot(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        const char *const tricks[] = {
                "cgroup/memory/ct1/../ct10",
                "cgroup/memory/ct1/..",
                "cgroup/memory/ct1/../ct10/memory.limit_in_bytes",
                "cgroup/memory/./ct1",
                "cgroup/memory//ct1",
                "cgroup/memory/ct1/",
                "cgroup/../proc/meminfo",
                "cgroup/memory/ct1/system.slice/../../ct10",
                "cgroup/./memory/ct1",
        };
        g_autofree char *before = host_read(root, "sys/fs/cgroup/memory/ct10/memory.limit_in_bytes");
        g_autofree char *after = NULL;
        g_autofree char *listing = NULL;
        int r;

        for (size_t i = 0; i < G_N_ELEMENTS(tricks); i++) {
                g_test_message("%s", tricks[i]);
                g_assert_cmpint(stat_errno(host, ct, tricks[i]), ==, -ENOENT);
                g_assert_cmpint(put(host, ct, tricks[i], "1"), ==, -ENOENT);
        }
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/..", 0755), ==, -ENOENT);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/.", 0755), ==, -ENOENT);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1/system.slice/.."), ==, -ENOENT);

        /* Symlinks planted in the host tree (cgroupfs has none) are never followed nor shown. */
        host_link(root, "sys/fs/cgroup/memory/ct1/evil", "../ct10");
        host_link(root, "sys/fs/cgroup/memory/ct1/system.slice/knob", "../../ct10/memory.limit_in_bytes");
        g_assert_cmpint(stat_errno(host, ct, "cgroup/memory/ct1/evil"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "cgroup/memory/ct1/evil/memory.limit_in_bytes"), ==, -ENOENT);
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/evil/memory.limit_in_bytes", "1"), ==, -ENOENT);
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/system.slice/knob", "1"), ==, -ENOENT);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/evil/x", 0755), ==, -ENOENT);
        listing = list(host, ct, "cgroup/memory/ct1", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_false(has_word(listing, "evil"));
        g_assert_false(has_word(listing, "evil/"));
        after = host_read(root, "sys/fs/cgroup/memory/ct10/memory.limit_in_bytes");
        g_assert_cmpstr(after, ==, before);
        g_assert_false(host_exists(root, "sys/fs/cgroup/memory/ct10/x"));
        scratch_remove(root);
}

static void test_name_too_long(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autofree char *longest = g_strnfill(NAME_MAX, 'a');
        g_autofree char *too_long = g_strnfill(NAME_MAX + 1, 'a');
        g_autofree char *ok_path = g_strconcat("cgroup/memory/ct1/system.slice/", longest, NULL);
        g_autofree char *bad_path = g_strconcat("cgroup/memory/ct1/system.slice/", too_long, NULL);
        g_autofree char *bad_deep = g_strconcat("cgroup/memory/", too_long, "/ct1", NULL);
        g_autofree char *ok_host = g_strconcat("sys/fs/cgroup/memory/ct1/system.slice/", longest, NULL);

        g_assert_cmpint(stat_errno(host, ct, bad_path), ==, -ENAMETOOLONG);
        g_assert_cmpint(stat_errno(host, ct, bad_deep), ==, -ENAMETOOLONG);
        g_assert_cmpint(capfs_node_mkdir(host, ct, bad_path, 0755), ==, -ENAMETOOLONG);
        g_assert_cmpint(put(host, ct, bad_path, "1"), ==, -ENAMETOOLONG);
        /* NAME_MAX itself is fine. */
        g_assert_cmpint(capfs_node_mkdir(host, ct, ok_path, 0755), ==, 0);
        g_assert_true(host_exists(root, ok_host));
        g_assert_cmpint(capfs_node_rmdir(host, ct, ok_path), ==, 0);
        g_assert_false(host_exists(root, ok_host));
        scratch_remove(root);
}

static void test_mkdir_rmdir(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        CapfsNodeAttr attr;

        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/system.slice/bar.service", 0700), ==,
                        0);
        g_assert_true(host_exists(root, "sys/fs/cgroup/memory/ct1/system.slice/bar.service"));
        /* At once, for the caller. */
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup/memory/ct1/system.slice/bar.service", &attr), ==,
                        0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_true(attr.per_caller);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/system.slice/bar.service", 0755), ==,
                        -EEXIST);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1/system.slice/bar.service"), ==, 0);
        g_assert_false(host_exists(root, "sys/fs/cgroup/memory/ct1/system.slice/bar.service"));
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1/system.slice/bar.service"), ==,
                        -ENOENT);
        /* Directly in the root: allowed. */
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/pids/ct1/x", 0755), ==, 0);
        g_assert_true(host_exists(root, "sys/fs/cgroup/pids/ct1/x"));
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/pids/ct1/x"), ==, 0);

        /* Above the root: refused, and a sibling's existence is not given away (EACCES, not EEXIST). */
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/new", 0755), ==, -EACCES);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct10", 0755), ==, -EACCES);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1", 0755), ==, -EEXIST);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/newhierarchy", 0755), ==, -EACCES);
        g_assert_false(host_exists(root, "sys/fs/cgroup/memory/new"));
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/cgroup.procs/x", 0755), ==, -ENOTDIR);
        /* The root and what is above it stay. */
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1"), ==, -EACCES);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory"), ==, -EACCES);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/net_cls"), ==, -ENOTDIR);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1/cgroup.procs"), ==, -ENOTDIR);
        g_assert_true(host_exists(root, "sys/fs/cgroup/memory/ct1"));
        /* The host's own error comes back unchanged (a plain directory with files in it). */
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1/system.slice"), ==, -ENOTEMPTY);
        scratch_remove(root);
}

/* ---- the budget of cgroups below a container's root ---- */

/*
 * Makes DIR/bN for N = 0, 1, ... through the view until a mkdir fails or @most are made;
 * returns how many were made, and the failure in *@ret (0: none).
 */
static unsigned mkdir_until_refused(CapfsHost *host, const CapfsContainer *ct, const char *dir,
                                    unsigned most, int *ret) {
        *ret = 0;
        for (unsigned i = 0; i < most; i++) {
                g_autofree char *path = g_strdup_printf("%s/b%u", dir, i);

                *ret = capfs_node_mkdir(host, ct, path, 0755);
                if (*ret < 0)
                        return i;
        }
        return most;
}

static void test_budget_descendants(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *top = v2 ? "cgroup/ct1" : "cgroup/memory/ct1";
                const char *host_top = v2 ? "sys/fs/cgroup/ct1" : "sys/fs/cgroup/memory/ct1";
                /* Below ct1: nested, nested/inner, system.slice, system.slice/foo.service; v2: init.scope
                 * too. */
                unsigned existing = v2 ? 5 : 4;
                g_autofree char *slice = g_strdup_printf("%s/system.slice", top);
                g_autofree char *b1 = g_strdup_printf("%s/b1", slice);
                g_autofree char *b1_host = g_strdup_printf("%s/system.slice/b1", host_top);
                g_autofree char *refused = g_strdup_printf("%s/system.slice/b3", host_top);
                g_autofree char *line = NULL, *want = NULL;
                int r;

                g_test_message("layout %s", layouts[l]);
                /* What capfs takes when the container's cgroup2 root sets nothing: the daemon's defaults. */
                g_assert_cmpuint(host->cgroup_max_descendants, ==, CAPFS_CGROUP_MAX_DESCENDANTS_DEFAULT);
                g_assert_cmpuint(host->cgroup_max_depth, ==, CAPFS_CGROUP_MAX_DEPTH_DEFAULT);
                g_assert_cmpuint(CAPFS_CGROUP_MAX_DESCENDANTS_DEFAULT, ==, 1000);
                g_assert_cmpuint(CAPFS_CGROUP_MAX_DEPTH_DEFAULT, ==, 16);

                host->cgroup_max_descendants = existing + 3;
                audit_start();
                /* Up to the budget, wherever below the root; the next one is EAGAIN and is not made. */
                g_assert_cmpuint(mkdir_until_refused(host, ct, slice, 10, &r), ==, 3);
                g_assert_cmpint(r, ==, -EAGAIN);
                g_assert_false(host_exists(root, refused));
                line = audit_last();
                want = g_strdup_printf("cgroup view: container 2000 (%s/ct1), caller 2001: mkdir "
                                       "%s/ct1/system.slice/b3: EAGAIN",
                                       v2 ? "" : "memory:", v2 ? "" : "memory:");
                g_assert_cmpstr(line, ==, want);
                /* Also directly in the root, and whatever the name. */
                g_assert_cmpint(
                        capfs_node_mkdir(host, ct, v2 ? "cgroup/ct1/x" : "cgroup/memory/ct1/x", 0755), ==,
                        -EAGAIN);
                /* What exists already is still EEXIST: the name is checked first. */
                g_assert_cmpint(capfs_node_mkdir(host, ct, b1, 0755), ==, -EEXIST);
                /* One removed: room for one more. */
                g_assert_cmpint(capfs_node_rmdir(host, ct, b1), ==, 0);
                g_assert_false(host_exists(root, b1_host));
                g_assert_cmpint(capfs_node_mkdir(host, ct, b1, 0755), ==, 0);
                g_assert_cmpint(
                        capfs_node_mkdir(host, ct, v2 ? "cgroup/ct1/x" : "cgroup/memory/ct1/x", 0755), ==,
                        -EAGAIN);
                if (!v2) {
                        /* Each hierarchy has its own tree and its own count: pids has 3 below ct1. */
                        g_assert_cmpuint(mkdir_until_refused(host, ct, "cgroup/pids/ct1", 10, &r), ==, 4);
                        g_assert_cmpint(r, ==, -EAGAIN);
                        /* The unified tree of a hybrid host too: 5 there. */
                        g_assert_cmpuint(mkdir_until_refused(host, ct, "cgroup/unified/ct1", 10, &r), ==, 2);
                        g_assert_cmpint(r, ==, -EAGAIN);
                }
                /* A budget of 0: no cgroup at all; "max": no budget. */
                host->cgroup_max_descendants = 0;
                g_assert_cmpint(
                        capfs_node_mkdir(host, ct, v2 ? "cgroup/ct1/y" : "cgroup/memory/ct1/y", 0755), ==,
                        -EAGAIN);
                host->cgroup_max_descendants = CAPFS_CGROUP_BUDGET_NONE;
                g_assert_cmpuint(mkdir_until_refused(host, ct, top, 40, &r), ==, 40);
                g_assert_cmpint(r, ==, 0);
                /* Another container counts its own subtree only: ct2 has none below /parent/ct2. */
                {
                        g_autoptr(CapfsContainer) ct2 = fixture_container(host, 3000);

                        host->cgroup_max_descendants = 2;
                        g_assert_cmpuint(
                                mkdir_until_refused(host, ct2,
                                                    v2 ? "cgroup/parent/ct2" : "cgroup/memory/parent/ct2",
                                                    10, &r),
                                ==, 2);
                        g_assert_cmpint(r, ==, -EAGAIN);
                }
                scratch_remove(root);
        }
}

static void test_budget_depth(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                g_autoptr(CapfsContainer) nested = fixture_container(host, 2021);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *top = v2 ? "cgroup/ct1" : "cgroup/memory/ct1";
                g_autofree char *a = g_strdup_printf("%s/a", top);
                g_autofree char *ab = g_strdup_printf("%s/a/b", top);
                g_autofree char *abc = g_strdup_printf("%s/a/b/c", top);
                g_autofree char *abcd = g_strdup_printf("%s/a/b/c/d", top);
                g_autofree char *inner_x = g_strdup_printf("%s/nested/inner/x", top);
                g_autofree char *line = NULL;

                g_test_message("layout %s", layouts[l]);
                host->cgroup_max_depth = 3;
                audit_start();
                g_assert_cmpint(capfs_node_mkdir(host, ct, a, 0755), ==, 0);
                g_assert_cmpint(capfs_node_mkdir(host, ct, ab, 0755), ==, 0);
                g_assert_cmpint(capfs_node_mkdir(host, ct, abc, 0755), ==, 0);
                /* A fourth level below the root: EAGAIN, logged as such. */
                g_assert_cmpint(capfs_node_mkdir(host, ct, abcd, 0755), ==, -EAGAIN);
                g_assert_false(host_exists(root, v2 ? "sys/fs/cgroup/ct1/a/b/c/d"
                                                    : "sys/fs/cgroup/memory/ct1/a/b/c/d"));
                line = audit_last();
                g_assert_true(g_str_has_suffix(line, "/ct1/a/b/c/d: EAGAIN"));
                /* Depth counts from the caller's own root: /ct1/nested for the nested pid namespace. */
                g_assert_cmpint(capfs_node_mkdir(host, ct, inner_x, 0755), ==, 0);
                g_assert_cmpint(capfs_node_rmdir(host, ct, inner_x), ==, 0);
                host->cgroup_max_depth = 2;
                g_assert_cmpint(capfs_node_mkdir(host, ct, inner_x, 0755), ==, -EAGAIN);
                g_assert_cmpint(capfs_node_mkdir(host, nested, inner_x, 0755), ==, 0);
                /* 0: nothing below the root; "max": no limit. */
                host->cgroup_max_depth = 0;
                g_assert_cmpint(
                        capfs_node_mkdir(host, ct, v2 ? "cgroup/ct1/z" : "cgroup/memory/ct1/z", 0755), ==,
                        -EAGAIN);
                host->cgroup_max_depth = CAPFS_CGROUP_BUDGET_NONE;
                g_assert_cmpint(capfs_node_mkdir(host, ct, abcd, 0755), ==, 0);
                scratch_remove(root);
        }
}

/* The container's cgroup2 root sets the numbers where it has them; "max" there leaves the daemon's. */
static void test_budget_from_cgroup2(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                bool v2 = g_str_equal(layouts[l], "v2");
                /* Pure v2: the tree itself; hybrid: its unified tree, whose numbers hold everywhere. */
                const char *cg2 = v2 ? "sys/fs/cgroup/ct1" : "sys/fs/cgroup/unified/ct1";
                const char *top = v2 ? "cgroup/ct1" : "cgroup/memory/ct1";
                unsigned existing = v2 ? 5 : 4;
                g_autofree char *descendants = g_strdup_printf("%s/cgroup.max.descendants", cg2);
                g_autofree char *depth = g_strdup_printf("%s/cgroup.max.depth", cg2);
                g_autofree char *value = g_strdup_printf("%u\n", existing + 3);
                g_autofree char *a = g_strdup_printf("%s/a", top);
                g_autofree char *ab = g_strdup_printf("%s/a/b", top);
                g_autofree char *abc = g_strdup_printf("%s/a/b/c", top);
                g_autofree char *abcd = g_strdup_printf("%s/a/b/c/d", top);
                int r;

                g_test_message("layout %s", layouts[l]);
                host_write(root, descendants, value);
                host_write(root, depth, "2\n");
                /* The daemon's numbers (the defaults) are larger: the root's hold. */
                g_assert_cmpint(capfs_node_mkdir(host, ct, a, 0755), ==, 0);
                g_assert_cmpint(capfs_node_mkdir(host, ct, ab, 0755), ==, 0);
                g_assert_cmpint(capfs_node_mkdir(host, ct, abc, 0755), ==, -EAGAIN);
                g_assert_cmpuint(mkdir_until_refused(host, ct, top, 10, &r), ==, 1);
                g_assert_cmpint(r, ==, -EAGAIN);
                if (!v2) {
                        /* On a hybrid host they hold in each v1 hierarchy, counted there: pids has 3. */
                        g_assert_cmpuint(mkdir_until_refused(host, ct, "cgroup/pids/ct1", 10, &r), ==, 4);
                        g_assert_cmpint(r, ==, -EAGAIN);
                }
                /* Read at each mkdir: a number written meanwhile holds at once. */
                host_write(root, descendants, "1000\n");
                g_assert_cmpint(capfs_node_mkdir(host, ct, abc, 0755), ==, -EAGAIN);
                host_write(root, depth, "3\n");
                g_assert_cmpint(capfs_node_mkdir(host, ct, abc, 0755), ==, 0);
                /* "max", as the kernel shows a limit not set, leaves the daemon's numbers in force. */
                host_write(root, descendants, "max\n");
                host_write(root, depth, "max\n");
                host->cgroup_max_descendants = existing + 5;
                host->cgroup_max_depth = 3;
                g_assert_cmpint(capfs_node_mkdir(host, ct, abcd, 0755), ==, -EAGAIN);
                g_assert_cmpuint(mkdir_until_refused(host, ct, a, 10, &r), ==, 1);
                g_assert_cmpint(r, ==, -EAGAIN);
                scratch_remove(root);
        }
}

/* The daemon's numbers are a ceiling: a container that writes larger ones on its own cgroup2 root
 * (it can where cgroup2 lacks nsdelegate) gains nothing; an ancestor's hold, less the levels between. */
static void test_budget_ceiling(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *tree = v2 ? "sys/fs/cgroup" : "sys/fs/cgroup/unified";
                const char *top = v2 ? "cgroup/ct1" : "cgroup/memory/ct1";
                unsigned existing = v2 ? 5 : 4;
                g_autofree char *own = g_strdup_printf("%s/ct1/cgroup.max.descendants", tree);
                g_autofree char *parent = g_strdup_printf("%s/cgroup.max.descendants", tree);
                g_autofree char *parent_value = g_strdup_printf("%u\n", existing + 3);
                int r;

                g_test_message("layout %s", layouts[l]);
                host->cgroup_max_descendants = existing + 2;
                host_write(root, own, "100000\n");
                g_assert_cmpuint(mkdir_until_refused(host, ct, top, 10, &r), ==, 2);
                g_assert_cmpint(r, ==, -EAGAIN);
                scratch_remove(root);

                g_free(root);
                root = scratch_copy(layouts[l]);
                g_clear_pointer(&ct, capfs_container_free);
                g_clear_pointer(&host, capfs_host_free);
                host = fixture_host_at(root);
                ct = fixture_container(host, 2001);
                /* The parent allows existing + 3 below it, the container's root among them. */
                host_write(root, parent, parent_value);
                g_assert_cmpuint(mkdir_until_refused(host, ct, top, 10, &r), ==, 2);
                g_assert_cmpint(r, ==, -EAGAIN);
                scratch_remove(root);
        }
}

/* mkdirs at once never go past the budget together: exactly the budget is made. */
typedef struct BudgetRacer {
        CapfsHost *host;
        const char *dir;
        unsigned index;
        unsigned made;
} BudgetRacer;

static gpointer budget_racer(gpointer data) {
        BudgetRacer *b = data;
        g_autoptr(CapfsContainer) ct = NULL;

        if (capfs_container_resolve(b->host, 2001, &ct) < 0)
                return NULL;
        for (unsigned i = 0; i < 10; i++) {
                g_autofree char *path = g_strdup_printf("%s/r%u-%u", b->dir, b->index, i);

                if (capfs_node_mkdir(b->host, ct, path, 0755) == 0)
                        b->made++;
        }
        return NULL;
}

static void test_budget_concurrent(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        BudgetRacer racers[8];
        GThread *threads[G_N_ELEMENTS(racers)];
        unsigned made = 0;

        /* 4 below ct1 already; room for 20 of the 80 asked for. */
        host->cgroup_max_descendants = 24;
        for (unsigned i = 0; i < G_N_ELEMENTS(racers); i++) {
                racers[i] = (BudgetRacer){host, "cgroup/memory/ct1/system.slice", i, 0};
                threads[i] = g_thread_new("racer", budget_racer, &racers[i]);
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(racers); i++) {
                g_thread_join(threads[i]);
                made += racers[i].made;
        }
        g_assert_cmpuint(made, ==, 20);
        scratch_remove(root);
}

/* A container placed at the top of a hierarchy was delegated nothing there. */
static void test_undelegated_hierarchy(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *text = host_read(root, "proc/2000/cgroup");
        g_autofree char *listing = NULL;
        g_autoptr(GString) edited = g_string_new(text);
        CapfsNodeAttr attr;
        int r;

        g_string_replace(edited, "6:freezer:/ct1\n", "6:freezer:/\n", 1);
        host_write(root, "proc/2000/cgroup", edited->str);
        host = fixture_host_at(root);
        ct = fixture_container(host, 2001);

        listing = list(host, ct, "cgroup/freezer", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_true(has_word(listing, "ct10/"));
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/freezer/ct10/x", 0755), ==, -EACCES);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/freezer/ct10"), ==, -EACCES);
        g_assert_cmpint(put(host, ct, "cgroup/freezer/ct10/cgroup.procs", "1"), ==, -EACCES);
        g_assert_cmpint(capfs_node_stat(host, ct, "cgroup/freezer/ct10", &attr), ==, 0);
        g_assert_cmpint(attr.perm & 0222, ==, 0);
        g_assert_false(host_exists(root, "sys/fs/cgroup/freezer/ct10/x"));
        /* Its other hierarchies are unaffected. */
        g_assert_cmpint(
                capfs_node_open(host, ct, "cgroup/memory/ct1/system.slice/memory.limit_in_bytes", O_WRONLY),
                ==, 0);
        scratch_remove(root);
}

/* ---- pids: written in the caller's namespace, read back in it ---- */

static void test_move_pids(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = fixture_host_at(root);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                g_autoptr(CapfsContainer) outsider = fixture_container(host, 2050);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *procs = v2 ? "cgroup/ct1/system.slice/cgroup.procs"
                                       : "cgroup/memory/ct1/system.slice/cgroup.procs";
                const char *rel = v2 ? "sys/fs/cgroup/ct1/system.slice/cgroup.procs"
                                     : "sys/fs/cgroup/memory/ct1/system.slice/cgroup.procs";
                const struct {
                        const char *written;
                        ssize_t result;
                        const char *landed;
                } cases[] = {
                        {"7\n", 2, "2001"}, /* itself, as its namespace numbers it */
                        {"0", 1, "2001"}, /* "the writer": the caller, never the daemon */
                        {"1", 1, "2000"}, /* the init */
                        {"  20 \n", 6, "2020"}, /* the nested namespace's init, by ct1's number for it */
                        {"21", 2, "2021"}, /* a task of the nested namespace */
                        {"2001", -ESRCH, ""}, /* a host pid: ct1 has no pid 2001 */
                        {"3", -ESRCH, ""}, /* nothing */
                        {"2", -ESRCH, ""}, /* ct10's task 2101 is "2" in ct10, not in ct1 */
                        {"50", -EPERM, ""}, /* 2050: in ct1's namespace, outside its cgroups */
                        {"-1", -EINVAL, ""},    {"abc", -EINVAL, ""}, {"", -EINVAL, ""},
                        {"7 8", -EINVAL, ""},   {"010", -EINVAL, ""}, /* the kernel would read octal */
                        {"0x7", -EINVAL, ""},   {"+7", -EINVAL, ""},  {"99999999999", -EINVAL, ""},
                };

                g_test_message("layout %s", layouts[l]);
                for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                        g_autofree char *landed = NULL;

                        g_test_message("write \"%s\"", cases[i].written);
                        host_write(root, rel, "");
                        g_assert_cmpint(put(host, ct, procs, cases[i].written), ==, cases[i].result);
                        landed = host_read(root, rel);
                        g_assert_cmpstr(landed, ==, cases[i].landed);
                }
                /* 2050 is in ct1's namespace (50) but the host moved it out of ct1's cgroups. */
                host_write(root, rel, "");
                g_assert_cmpint(put(host, outsider, procs, "50"), ==, -EPERM);
                g_assert_cmpint(put(host, outsider, procs, "0"), ==, -EPERM);
                {
                        g_autofree char *landed = host_read(root, rel);
                        g_assert_cmpstr(landed, ==, "");
                }
                scratch_remove(root);
        }
}

static void test_move_host_caller(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) self = fixture_container(host, 1000);
        g_autofree char *landed = NULL;

        /* Host callers use host pids; their root (here the top) holds everything. */
        host_write(root, "sys/fs/cgroup/memory/ct10/app/cgroup.procs", "");
        g_assert_cmpint(put(host, self, "cgroup/memory/ct10/app/cgroup.procs", "2100"), ==, 4);
        landed = host_read(root, "sys/fs/cgroup/memory/ct10/app/cgroup.procs");
        g_assert_cmpstr(landed, ==, "2100");
        g_assert_cmpint(put(host, self, "cgroup/memory/ct10/app/cgroup.procs", "424242"), ==, -ESRCH);
        /* Reading: the host's ids unchanged. */
        assert_read(host, self, "cgroup/memory/cgroup.procs", "1000\n2050\n");
        scratch_remove(root);
}

static void test_threads(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autofree char *root = scratch_copy(layouts[l]);
                g_autoptr(CapfsHost) host = NULL;
                g_autoptr(CapfsContainer) ct = NULL;
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *file = v2 ? "cgroup/ct1/system.slice/foo.service/cgroup.threads"
                                      : "cgroup/memory/ct1/system.slice/foo.service/tasks";
                /* The destination: its parent, whose list is empty (the threads' own lists stay intact). */
                const char *dest = v2 ? "cgroup/ct1/system.slice/cgroup.threads"
                                      : "cgroup/memory/ct1/system.slice/tasks";
                const char *rel = v2 ? "sys/fs/cgroup/ct1/system.slice/cgroup.threads"
                                     : "sys/fs/cgroup/memory/ct1/system.slice/tasks";
                g_autofree char *landed = NULL;

                g_test_message("layout %s", layouts[l]);
                add_thread_dir(root, 2001, 2002);
                add_thread_dir(root, 2001, 2003);
                host = fixture_host_at(root);
                ct = fixture_container(host, 2001);
                /* Thread ids, translated like pids: 2002 and 2003 are 8 and 9 in ct1. */
                assert_read(host, ct, file, "7\n8\n9\n");
                host_write(root, rel, "");
                g_assert_cmpint(put(host, ct, dest, "8"), ==, 1);
                landed = host_read(root, rel);
                g_assert_cmpstr(landed, ==, "2002");
                host_write(root, rel, "");
                g_assert_cmpint(put(host, ct, dest, "2002"), ==, -ESRCH);
                /* cgroup.procs takes a thread's id too (the kernel moves its whole process): passed on. */
                {
                        const char *procs = v2 ? "cgroup/ct1/system.slice/cgroup.procs"
                                               : "cgroup/memory/ct1/system.slice/cgroup.procs";
                        const char *procs_rel = v2 ? "sys/fs/cgroup/ct1/system.slice/cgroup.procs"
                                                   : "sys/fs/cgroup/memory/ct1/system.slice/cgroup.procs";
                        g_autofree char *moved = NULL;

                        host_write(root, procs_rel, "");
                        g_assert_cmpint(put(host, ct, procs, "9"), ==, 1);
                        moved = host_read(root, procs_rel);
                        g_assert_cmpstr(moved, ==, "2003");
                }
                scratch_remove(root);
        }
}

static void test_read_pids(void) {
        const char *layouts[] = {"v1", "v2"};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = fixture_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                g_autoptr(CapfsContainer) nested = fixture_container(host, 2021);
                g_autoptr(CapfsContainer) ct2 = fixture_container(host, 3005);
                bool v2 = g_str_equal(layouts[l], "v2");
                const char *top = v2 ? "cgroup" : "cgroup/memory";
                g_autofree char *p_root =
                        g_strdup_printf("%s/ct1/%scgroup.procs", top, v2 ? "init.scope/" : "");
                g_autofree char *p_service =
                        g_strdup_printf("%s/ct1/system.slice/foo.service/cgroup.procs", top);
                g_autofree char *p_nested = g_strdup_printf("%s/ct1/nested/cgroup.procs", top);
                g_autofree char *p_inner = g_strdup_printf("%s/ct1/nested/inner/cgroup.procs", top);
                g_autofree char *p_ct2 = g_strdup_printf("%s/parent/ct2/cgroup.procs", top);

                g_test_message("layout %s", layouts[l]);
                assert_read(host, ct, p_root, "1\n");
                assert_read(host, ct, p_service, "7\n");
                /* A nested namespace's tasks, by the outer namespace's numbers for them. */
                assert_read(host, ct, p_nested, "20\n");
                assert_read(host, ct, p_inner, "21\n");
                /* ... and by their own, from inside; its root is /ct1/nested. */
                assert_read(host, nested, p_nested, "1\n");
                assert_read(host, nested, p_inner, "5\n");
                g_assert_cmpint(stat_errno(host, nested, p_service), ==, -ENOENT);
                /* Joined with setns: its parent is outside, its number is 12. */
                assert_read(host, ct2, p_ct2, "1\n12\n");
                if (!v2) {
                        /* Without /proc/TID (real procfs has it), threads are not shown rather than guessed.
                         */
                        assert_read(host, ct, "cgroup/memory/ct1/system.slice/foo.service/tasks", "7\n");
                }
        }
}

static void test_nested_namespace_moves(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) nested = fixture_container(host, 2021);
        const char *rel = "sys/fs/cgroup/memory/ct1/nested/inner/cgroup.procs";
        g_autofree char *landed = NULL;

        g_assert_cmpint(nested->init_pid, ==, 2020);
        host_write(root, rel, "");
        g_assert_cmpint(put(host, nested, "cgroup/memory/ct1/nested/inner/cgroup.procs", "1"), ==, 1);
        landed = host_read(root, rel);
        g_assert_cmpstr(landed, ==, "2020");
        host_write(root, rel, "");
        /* The outer container's tasks are not the nested one's to see. */
        g_assert_cmpint(put(host, nested, "cgroup/memory/ct1/nested/inner/cgroup.procs", "7"), ==, -ESRCH);
        g_assert_cmpint(put(host, nested, "cgroup/memory/ct1/nested/inner/cgroup.procs", "21"), ==, -ESRCH);
        /* Its root's limit is read-only to it, though it is a descendant for ct1. */
        g_assert_cmpint(put(host, nested, "cgroup/memory/ct1/nested/memory.limit_in_bytes", "1"), ==,
                        -EACCES);
        scratch_remove(root);
}

/* ---- owners in a user namespace ---- */

static void test_user_namespace_owner(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct2 = fixture_container(host, 3005);
        g_autoptr(CapfsContainer) ct1 = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) unmapped = NULL;
        CapfsNodeAttr attr;

        g_assert_cmpint(capfs_node_stat(host, ct2, "cgroup/memory/parent/ct2", &attr), ==, 0);
        g_assert_cmpuint(attr.uid, ==, 100000);
        g_assert_cmpuint(attr.gid, ==, 100000);
        g_assert_cmpint(capfs_node_stat(host, ct2, "cgroup/memory/parent/ct2/memory.limit_in_bytes", &attr),
                        ==, 0);
        g_assert_cmpuint(attr.uid, ==, 100000);
        /* Ancestors are not the container's. */
        g_assert_cmpint(capfs_node_stat(host, ct2, "cgroup/memory/parent", &attr), ==, 0);
        g_assert_cmpuint(attr.uid, ==, 0);
        g_assert_cmpint(capfs_node_stat(host, ct2, "cgroup", &attr), ==, 0);
        g_assert_cmpuint(attr.uid, ==, 0);
        /* The host's user namespace: root's. */
        g_assert_cmpint(capfs_node_stat(host, ct1, "cgroup/memory/ct1", &attr), ==, 0);
        g_assert_cmpuint(attr.uid, ==, 0);
        /* A namespace that does not map 0 has no root to own anything. */
        host_write(root, "proc/3000/uid_map", "         1     100001      65535\n");
        unmapped = fixture_container(host, 3000);
        g_assert_cmpint(capfs_node_stat(host, unmapped, "cgroup/memory/parent/ct2", &attr), ==, 0);
        g_assert_cmpuint(attr.uid, ==, 0);
        g_assert_cmpuint(attr.gid, ==, 0);
        scratch_remove(root);
}

/* ---- hybrid: the unified and name=systemd hierarchies of a v1 host ---- */

static void test_hybrid_named(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
        g_autofree char *listing = NULL;
        int r;

        assert_list(host, ct, "cgroup/unified", "ct1/");
        assert_list(host, ct, "cgroup/systemd", "ct1/");
        listing = list(host, ct, "cgroup/unified/ct1", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_true(has_word(listing, "init.scope/"));
        g_assert_true(has_word(listing, "system.slice/"));
        assert_read(host, ct, "cgroup/unified/ct1/init.scope/cgroup.procs", "1\n");
        assert_read(host, ct, "cgroup/systemd/ct1/init.scope/cgroup.procs", "1\n");
        /* init.scope is below the root: its knobs are the container's. */
        g_assert_cmpint(capfs_node_open(host, ct, "cgroup/systemd/ct1/init.scope/cgroup.procs", O_WRONLY),
                        ==, 0);
}

/* ---- by-pidns/N/cgroup: the same view, for container N alone, its entries kept ---- */

static void test_by_pidns(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) other = fixture_container(host, 3000);
        g_autoptr(CapfsContainer) self = fixture_container(host, 1000);
        const char *knob =
                "by-pidns/4026532100/cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes";
        CapfsNodeAttr attr, shared;
        g_autofree char *mine = NULL, *theirs = NULL, *host_list = NULL, *made = NULL;
        int r;

        g_assert_cmpuint(ct->pidns_inode, ==, 4026532100);
        /* Each container lists only its own. */
        mine = list(host, ct, "by-pidns", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(mine, ==, "4026532100/");
        theirs = list(host, other, "by-pidns", &r);
        g_assert_cmpstr(theirs, ==, "4026532200/");
        host_list = list(host, self, "by-pidns", &r);
        g_assert_cmpstr(host_list, ==, "");
        assert_list(host, ct, "by-pidns/4026532100", "cgroup/");

        /* N itself is asked on every walk; below it, the answers may be kept for the container. */
        g_assert_cmpint(capfs_node_stat(host, ct, "by-pidns", &attr), ==, 0);
        g_assert_false(attr.per_caller);
        g_assert_cmpint(capfs_node_stat(host, ct, "by-pidns/4026532100", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_true(attr.per_caller);
        g_assert_cmpint(capfs_node_stat(host, ct, knob, &attr), ==, 0);
        g_assert_cmpint(capfs_node_stat(host, ct, knob + strlen("by-pidns/4026532100/"), &shared), ==, 0);
        g_assert_false(attr.per_caller);
        g_assert_true(attr.per_container);
        g_assert_true(shared.per_caller);
        g_assert_false(shared.per_container);
        g_assert_cmpint(attr.type, ==, shared.type);
        g_assert_cmpint(attr.perm, ==, shared.perm);
        g_assert_cmpint(attr.uid, ==, shared.uid);

        /* The same rules as cgroup/: its own child written, its root limit refused. */
        host_write(root, "sys/fs/cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes", "");
        g_assert_cmpint(put(host, ct, knob, "1G\n"), ==, 3);
        assert_read(host, ct, knob, "1G\n");
        assert_read(host, ct, knob + strlen("by-pidns/4026532100/"), "1G\n");
        g_assert_cmpint(put(host, ct, "by-pidns/4026532100/cgroup/memory/ct1/memory.limit_in_bytes", "1"),
                        ==, -EACCES);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "by-pidns/4026532100/cgroup/memory/ct1/made", 0755), ==,
                        0);
        made = g_build_filename(root, "sys/fs/cgroup/memory/ct1/made", NULL);
        g_assert_true(g_file_test(made, G_FILE_TEST_IS_DIR));
        g_assert_cmpint(capfs_node_rmdir(host, ct, "by-pidns/4026532100/cgroup/memory/ct1/made"), ==, 0);
        /* Its top and N are no part of the view: nothing of theirs changes. */
        g_assert_cmpint(capfs_node_mkdir(host, ct, "by-pidns/4026532100/x", 0755), ==, -ENOENT);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "by-pidns/4026532100"), ==, -EACCES);

        /* Another container, and the host's processes, find nothing there. */
        g_assert_cmpint(stat_errno(host, other, "by-pidns/4026532100"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, other, knob), ==, -ENOENT);
        g_assert_cmpint(put(host, other, knob, "2G\n"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, self, knob), ==, -ENOENT);
        g_free(view_read(host, other, knob, &r));
        g_assert_cmpint(r, ==, -ENOENT);
        /* Nor does anything but N and its cgroup. */
        g_assert_cmpint(stat_errno(host, ct, "by-pidns/4026532100x"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "by-pidns/04026532100"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "by-pidns/4026532100/proc"), ==, -ENOENT);
        g_assert_cmpint(stat_errno(host, ct, "by-pidns/4026532100/cgroupx"), ==, -ENOENT);
        scratch_remove(root);
}

/* ---- the render cache: texts kept for a while, never the view's ---- */

static char *meminfo_total(CapfsHost *host, const CapfsContainer *ct) {
        g_autofree char *text = NULL;
        int r;

        text = view_read(host, ct, "proc/meminfo", &r);
        g_assert_cmpint(r, ==, 0);
        return g_strndup(text, strcspn(text, "\n"));
}

/* What the v1 kernel reports as ct1's limit, the one meminfo follows. */
static void set_ct1_limit(const char *root, const char *bytes) {
        g_autofree char *stat = host_read(root, "sys/fs/cgroup/memory/ct1/memory.stat");
        g_autoptr(GRegex) line = g_regex_new("^hierarchical_memory_limit \\d+$", G_REGEX_MULTILINE, 0, NULL);
        g_autofree char *with = g_strdup_printf("hierarchical_memory_limit %s", bytes);
        g_autofree char *changed = g_regex_replace_literal(line, stat, -1, 0, with, 0, NULL);

        g_assert_cmpstr(changed, !=, stat);
        host_write(root, "sys/fs/cgroup/memory/ct1/memory.stat", changed);
}

static void test_render_cache(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) member = fixture_container(host, 2000);
        g_autoptr(CapfsContainer) other = fixture_container(host, 3000);
        g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL, *t5 = NULL, *t6 = NULL, *o1 = NULL;

        /* A container resolved through the cache has one store for all its callers. */
        g_assert_nonnull(ct->render_cache);
        g_assert_true(ct->render_cache == member->render_cache);
        g_assert_true(ct->render_cache != other->render_cache);

        /* None by default: a library user renders afresh. */
        g_assert_cmpuint(host->render_cache_usec, ==, 0);
        t1 = meminfo_total(host, ct);
        g_assert_cmpstr(t1, ==, "MemTotal:         262144 kB");
        set_ct1_limit(root, "134217728");
        t2 = meminfo_total(host, ct);
        g_assert_cmpstr(t2, ==, "MemTotal:         131072 kB");

        /* Within the time, every caller of the container gets the text first rendered. */
        host->render_cache_usec = 60 * G_USEC_PER_SEC;
        o1 = meminfo_total(host, other);
        g_assert_cmpstr(o1, ==, "MemTotal:         524288 kB");
        t3 = meminfo_total(host, ct);
        set_ct1_limit(root, "268435456");
        g_free(t3);
        t3 = meminfo_total(host, member);
        g_assert_cmpstr(t3, ==, "MemTotal:         131072 kB");
        /* Another container's text is its own. */
        g_free(o1);
        o1 = meminfo_total(host, other);
        g_assert_cmpstr(o1, ==, "MemTotal:         524288 kB");
        /* The view itself is never kept: a knob reads what it is now. */
        assert_read(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", "268435456\n");

        /* A change through the view: the container's next read renders afresh. */
        g_assert_cmpint(
                put(host, ct, "cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes", "1G\n"),
                ==, 3);
        t4 = meminfo_total(host, ct);
        g_assert_cmpstr(t4, ==, "MemTotal:         262144 kB");

        /* Past the time, a read renders afresh; pruning drops what would not be served again. */
        host->render_cache_usec = 2000;
        set_ct1_limit(root, "67108864");
        t5 = meminfo_total(host, ct);
        g_assert_cmpstr(t5, ==, "MemTotal:         262144 kB");
        g_usleep(3000);
        t6 = meminfo_total(host, ct);
        g_assert_cmpstr(t6, ==, "MemTotal:          65536 kB");
        g_usleep(3000);
        capfs_container_cache_prune(host);
        set_ct1_limit(root, "268435456");
        host->render_cache_usec = 60 * G_USEC_PER_SEC;
        g_free(t6);
        t6 = meminfo_total(host, ct);
        g_assert_cmpstr(t6, ==, "MemTotal:         262144 kB");
        scratch_remove(root);
}

/* sys/devices/system/cpu is kept too; the host's own processes keep nothing. */
static void test_render_cache_cpus_and_host(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) self = fixture_container(host, 1000);
        g_autofree char *before = NULL, *kept = NULL, *after = NULL;
        int r;

        g_assert_null(self->render_cache);
        host->render_cache_usec = 60 * G_USEC_PER_SEC;
        before = view_read(host, ct, "sys/devices/system/cpu/online", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(before, ==, "0\n");
        host_write(root, "sys/fs/cgroup/cpu/ct1/cpu.cfs_quota_us", "200000\n");
        kept = view_read(host, ct, "sys/devices/system/cpu/online", &r);
        g_assert_cmpstr(kept, ==, before);
        capfs_render_cache_forget(ct);
        after = view_read(host, ct, "sys/devices/system/cpu/online", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(after, ==, "0-1\n");
        scratch_remove(root);
}

/* ---- the audit log ---- */

static void test_audit_lines(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL, *l5 = NULL, *l6 = NULL, *l7 = NULL,
                        *l8 = NULL;

        audit_start();
        host_write(root, "sys/fs/cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes", "");
        g_assert_cmpint(
                put(host, ct, "cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes", "1G\n"),
                ==, 3);
        l1 = audit_last();
        g_assert_cmpstr(l1, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: write "
                        "memory:/ct1/system.slice/foo.service/memory.limit_in_bytes \"1G\\n\": ok");
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", "1G"), ==, -EACCES);
        l2 = audit_last();
        g_assert_cmpstr(l2, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: write "
                        "memory:/ct1/memory.limit_in_bytes \"1G\": EACCES");
        g_assert_cmpint(capfs_node_mkdir(host, ct, "cgroup/memory/ct1/a", 0755), ==, 0);
        l3 = audit_last();
        g_assert_cmpstr(l3, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: mkdir memory:/ct1/a: ok");
        g_assert_cmpint(capfs_node_rmdir(host, ct, "cgroup/memory/ct1/a"), ==, 0);
        l4 = audit_last();
        g_assert_cmpstr(l4, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: rmdir memory:/ct1/a: ok");
        host_write(root, "sys/fs/cgroup/memory/ct1/system.slice/cgroup.procs", "");
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/system.slice/cgroup.procs", "7"), ==, 1);
        l5 = audit_last();
        g_assert_cmpstr(l5, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: move pid 7 (host 2001) to "
                        "memory:/ct1/system.slice/cgroup.procs: ok");
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/system.slice/cgroup.procs", "2001"), ==, -ESRCH);
        l6 = audit_last();
        g_assert_cmpstr(l6, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: move pid 2001 to "
                        "memory:/ct1/system.slice/cgroup.procs: ESRCH");
        /* Text that is no pid: the log shows it, escaped, not a made-up pid. */
        g_assert_cmpint(put(host, ct, "cgroup/memory/ct1/system.slice/cgroup.procs", "abc\n"), ==, -EINVAL);
        l8 = audit_last();
        g_assert_cmpstr(l8, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: move \"abc\\n\" to "
                        "memory:/ct1/system.slice/cgroup.procs: EINVAL");
        /* A shell's "echo > knob" is refused at open: logged as the attempted write it is. */
        g_assert_cmpint(
                capfs_node_open(host, ct, "cgroup/memory/ct1/memory.limit_in_bytes", O_WRONLY | O_TRUNC), ==,
                -EACCES);
        l7 = audit_last();
        g_assert_cmpstr(l7, ==,
                        "cgroup view: container 2000 (memory:/ct1), caller 2001: write "
                        "memory:/ct1/memory.limit_in_bytes (open for writing): EACCES");
        g_assert_cmpuint(audit_count(), ==, 8);
        /* Reads and allowed opens are not changes: nothing logged. */
        assert_read(host, ct, "cgroup/memory/ct1/cgroup.procs", "1\n");
        g_assert_cmpint(capfs_node_open(host, ct, "cgroup/memory/ct1/cgroup.procs", O_WRONLY), ==, 0);
        g_assert_cmpuint(audit_count(), ==, 8);
        scratch_remove(root);
}

static void test_audit_value_escaped(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autofree char *line = NULL, *tail = NULL, *xs = g_strnfill(64 - 7, 'x');
        char value[100];
        CapfsAuditEvent ev = {
                .op = CAPFS_AUDIT_WRITE,
                .hierarchy = "memory",
                .root = "/ct1",
                .path = "/ct1/x/memory.max",
                .value = value,
                .value_len = sizeof(value),
                .result = -EINVAL,
        };

        memset(value, 'x', sizeof(value));
        memcpy(value, "a\"b\\c\n\001", 7);
        audit_start();
        capfs_audit_at(ct, &ev, 0);
        line = audit_last();
        /* Quotes, backslashes and control bytes escaped; 64 bytes shown, the length said. */
        tail = g_strdup_printf("\"a\\\"b\\\\c\\n\\x01%s\"... (100 bytes): EINVAL", xs);
        g_assert_true(g_str_has_suffix(line, tail));
}

static void test_audit_rate_limit(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
        g_autoptr(CapfsContainer) other = fixture_container(host, 3000);
        CapfsAuditEvent ev = {
                .op = CAPFS_AUDIT_MKDIR, .hierarchy = "memory", .root = "/ct1", .path = "/ct1/a"};
        int64_t t0 = 1000 * G_USEC_PER_SEC;
        g_autofree char *line = NULL;

        audit_start();
        for (unsigned i = 0; i < CAPFS_AUDIT_BURST + 5; i++)
                capfs_audit_at(ct, &ev, t0);
        g_assert_cmpuint(audit_count(), ==, CAPFS_AUDIT_BURST);
        /* Another container has its own bucket. */
        capfs_audit_at(other, &ev, t0);
        g_assert_cmpuint(audit_count(), ==, CAPFS_AUDIT_BURST + 1);
        /* Half a token later: still nothing. */
        capfs_audit_at(ct, &ev, t0 + G_USEC_PER_SEC / CAPFS_AUDIT_RATE / 2);
        g_assert_cmpuint(audit_count(), ==, CAPFS_AUDIT_BURST + 1);
        /* One second: CAPFS_AUDIT_RATE lines, the first saying how many were lost. */
        for (unsigned i = 0; i < CAPFS_AUDIT_RATE + 3; i++)
                capfs_audit_at(ct, &ev, t0 + G_USEC_PER_SEC);
        g_assert_cmpuint(audit_count(), ==, CAPFS_AUDIT_BURST + 1 + CAPFS_AUDIT_RATE);
        pthread_mutex_lock(&audit_lock);
        line = g_strdup(audit_lines->pdata[CAPFS_AUDIT_BURST + 1]);
        g_assert_true(g_str_has_suffix(audit_lines->pdata[CAPFS_AUDIT_BURST + 2], ": ok"));
        pthread_mutex_unlock(&audit_lock);
        g_assert_true(g_str_has_suffix(line, ": ok [6 earlier lines of this container dropped]"));
        /* Time going backwards (a test's clock, a suspend) never mints tokens. */
        capfs_audit_at(ct, &ev, t0);
        g_assert_cmpuint(audit_count(), ==, CAPFS_AUDIT_BURST + 1 + CAPFS_AUDIT_RATE);
}

/* ---- parsers and helpers of the view ---- */

static void test_parse_written_pid(void) {
        const struct {
                const char *text;
                int r;
                pid_t pid;
        } cases[] = {
                {"7", 0, 7},
                {"7\n", 0, 7},
                {" \t7 \n", 0, 7},
                {"0", 0, 0},
                {"0\n", 0, 0},
                {"2147483647", 0, INT32_MAX},
                {"2147483648", -EINVAL, 0},
                {"", -EINVAL, 0},
                {"\n", -EINVAL, 0},
                {"-1", -EINVAL, 0},
                {"+1", -EINVAL, 0},
                {"07", -EINVAL, 0},
                {"00", -EINVAL, 0},
                {"0x7", -EINVAL, 0},
                {"7 8", -EINVAL, 0},
                {"7a", -EINVAL, 0},
                {"abc", -EINVAL, 0},
                {"99999999999999999999999", -EINVAL, 0},
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                pid_t pid = -42;
                int r = capfs_parse_written_pid(cases[i].text, strlen(cases[i].text), &pid);

                g_test_message("\"%s\"", cases[i].text);
                g_assert_cmpint(r, ==, cases[i].r);
                g_assert_cmpint(pid, ==, r == 0 ? cases[i].pid : -42);
        }
        /* The length is the limit: "7" followed by bytes past it is just "7". */
        {
                pid_t pid;
                g_assert_cmpint(capfs_parse_written_pid("78", 1, &pid), ==, 0);
                g_assert_cmpint(pid, ==, 7);
                g_assert_cmpint(capfs_parse_written_pid("7\0"
                                                        "8",
                                                        3, &pid),
                                ==, -EINVAL);
        }
}

static void test_parse_id_map(void) {
        const char *map = "         0     100000      65536\n     65536          0          1\n";
        uint32_t out = 0;

        g_assert_cmpint(capfs_parse_id_map(map, strlen(map), 0, &out), ==, 0);
        g_assert_cmpuint(out, ==, 100000);
        g_assert_cmpint(capfs_parse_id_map(map, strlen(map), 65535, &out), ==, 0);
        g_assert_cmpuint(out, ==, 165535);
        g_assert_cmpint(capfs_parse_id_map(map, strlen(map), 65536, &out), ==, 0);
        g_assert_cmpuint(out, ==, 0);
        g_assert_cmpint(capfs_parse_id_map(map, strlen(map), 65537, &out), ==, -ENOENT);
        g_assert_cmpint(capfs_parse_id_map("", 0, 0, &out), ==, -ENOENT);
        g_assert_cmpint(capfs_parse_id_map("0 0 4294967295\n", 15, 7, &out), ==, 0);
        g_assert_cmpuint(out, ==, 7);
        g_assert_cmpint(capfs_parse_id_map("0 1 4294967295\n", 15, 7, &out), ==, -ERANGE);
        g_assert_cmpint(capfs_parse_id_map("0 1\n", 4, 0, &out), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_id_map("0 1 2 3\n", 8, 0, &out), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_id_map("0 1 0\n", 6, 0, &out), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_id_map("0 x 1\n", 6, 0, &out), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_id_map("0 4294967296 1\n", 15, 0, &out), ==, -ERANGE);
}

static void test_parse_nspids(void) {
        const char *status = "Name:\tsh\nNStgid:\t2021\t21\t5\nNSpid:\t2021\t21\t5\nNSpgid:\t1\n";
        g_autoptr(GArray) pids = NULL;
        g_autoptr(GArray) none = NULL;
        g_autoptr(GString) deep = g_string_new("NSpid:");

        g_assert_cmpint(capfs_parse_status_nspids(status, strlen(status), &pids), ==, 0);
        g_assert_cmpuint(pids->len, ==, 3);
        g_assert_cmpint(g_array_index(pids, pid_t, 0), ==, 2021);
        g_assert_cmpint(g_array_index(pids, pid_t, 1), ==, 21);
        g_assert_cmpint(g_array_index(pids, pid_t, 2), ==, 5);
        g_assert_cmpint(capfs_parse_status_nspids("Name:\tx\n", 8, &none), ==, -ENOENT);
        g_assert_null(none);
        g_assert_cmpint(capfs_parse_status_nspids("NSpid:\n", 7, &none), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_status_nspids("NSpid:\t0\n", 9, &none), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_status_nspids("NSpid:\t1x\n", 10, &none), ==, -EINVAL);
        g_assert_cmpint(capfs_parse_status_nspids("NSpid:\t2147483648\n", 18, &none), ==, -ERANGE);
        for (unsigned i = 0; i <= CAPFS_PIDNS_LEVELS_MAX; i++)
                g_string_append(deep, "\t1");
        g_assert_cmpint(capfs_parse_status_nspids(deep->str, deep->len, &none), ==, -ERANGE);
        g_assert_null(none);
}

static void test_cgroupns_root_of(void) {
        const struct {
                const char *host, *ns, *root;
        } cases[] = {
                {"/a/b/c", "/", "/a/b/c"},
                {"/a/b/c", "/c", "/a/b"},
                {"/a/b/c", "/b/c", "/a"},
                {"/a/b/c", "/a/b/c", "/"},
                {"/a/xb/c", "/b/c", NULL},
                {"/a/b", "/../x", NULL},
                {"/a", "/a/b", NULL},
                {"/a/b", "b", NULL},
                {"/ct1/init.scope", "/init.scope", "/ct1"},
        };

        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *root = capfs_cgroupns_root_of(cases[i].host, cases[i].ns);

                g_assert_cmpstr(root, ==, cases[i].root);
        }
}

/* ---- against the running kernel: pid translation for a real nested pid namespace ---- */

typedef struct RealChild {
        GPid pid; /* the unshare process */
        pid_t sleeper; /* host pid of the innermost sleep */
} RealChild;

/* The newest child of @parent, from /proc/PARENT/task/PARENT/children. */
static pid_t child_of(pid_t parent) {
        g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/children", (int) parent, (int) parent);
        g_autofree char *text = NULL;
        g_auto(GStrv) words = NULL;

        for (int tries = 0; tries < 200; tries++) {
                g_clear_pointer(&text, g_free);
                if (g_file_get_contents(path, &text, NULL, NULL) && *g_strstrip(text))
                        break;
                g_usleep(10000);
        }
        if (!text || !*text)
                return 0;
        words = g_strsplit(text, " ", -1);
        return atoi(words[g_strv_length(words) - 1]);
}

static void test_real_translation(void) {
        const char *argv[] = {"unshare", "--pid", "--fork", "--", "unshare", "--pid",
                              "--fork",  "--",    "sleep",  "30", NULL};
        g_autoptr(GError) error = NULL;
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) outer = NULL, inner = NULL;
        g_auto(CapfsPidns) outer_ns = {.fd = -EBADF};
        g_auto(CapfsPidns) inner_ns = {.fd = -EBADF};
        pid_t outer_init, inner_unshare, inner_init, got = 0;
        GPid pid;

        if (geteuid() != 0) {
                g_test_skip("needs root for pid namespaces");
                return;
        }
        /* A package build's chroot may have no cgroup file system to translate against. */
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) != 0 &&
            access("/sys/fs/cgroup/memory", F_OK) != 0) {
                g_test_skip("no cgroup hierarchy mounted at /sys/fs/cgroup");
                return;
        }
        if (!g_spawn_async(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                           NULL, &pid, &error)) {
                g_test_skip(error->message);
                return;
        }
        /* unshare(host) -> init of ns1 (unshare) -> init of ns2 (unshare) -> sleep? The inner --fork makes
         * the inner unshare's child pid 1 of ns2. */
        outer_init = child_of(pid);
        inner_unshare = outer_init; /* the outer unshare's forked child execs the inner unshare */
        inner_init = outer_init ? child_of(inner_unshare) : 0;
        if (!inner_init) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                g_test_skip("cannot create nested pid namespaces here");
                return;
        }
        host = capfs_host_open("/", CAPFS_CPU_VIEW_QUOTA, &error);
        g_assert_no_error(error);
        g_assert_cmpint(capfs_container_resolve(host, outer_init, &outer), ==, 0);
        g_assert_cmpint(capfs_container_resolve(host, inner_init, &inner), ==, 0);
        g_assert_cmpint(outer->init_pid, ==, outer_init);
        g_assert_cmpint(inner->init_pid, ==, inner_init);

        /* Twice: with the kernel's ioctls where it has them, then by /proc alone. */
        for (int pass = 0; pass < 2; pass++) {
                g_assert_cmpint(capfs_pidns_open(host, outer, &outer_ns), ==, 0);
                g_assert_cmpint(capfs_pidns_open(host, inner, &inner_ns), ==, 0);
                g_assert_cmpuint(outer_ns.level, ==, 1);
                g_assert_cmpuint(inner_ns.level, ==, 2);
                if (pass == 1) {
                        capfs_pidns_clear(&outer_ns);
                        capfs_pidns_clear(&inner_ns);
                }
                g_test_message("pass %d, ioctl fd %d", pass, outer_ns.fd);
                g_assert_cmpint(capfs_pidns_from_host(host, &outer_ns, outer_init, &got), ==, 0);
                g_assert_cmpint(got, ==, 1);
                g_assert_cmpint(capfs_pidns_from_host(host, &outer_ns, inner_init, &got), ==, 0);
                g_assert_cmpint(got, ==, 2);
                g_assert_cmpint(capfs_pidns_from_host(host, &inner_ns, inner_init, &got), ==, 0);
                g_assert_cmpint(got, ==, 1);
                g_assert_cmpint(capfs_pidns_from_host(host, &inner_ns, outer_init, &got), ==, -ESRCH);
                g_assert_cmpint(capfs_pidns_from_host(host, &outer_ns, getpid(), &got), ==, -ESRCH);
                /* Back: the /proc pass finds only the candidates offered (here the inits themselves). */
                g_assert_cmpint(capfs_pidns_to_host(host, &outer_ns, 1, NULL, NULL, &got), ==, 0);
                g_assert_cmpint(got, ==, outer_init);
                g_assert_cmpint(capfs_pidns_to_host(host, &inner_ns, 1, NULL, NULL, &got), ==, 0);
                g_assert_cmpint(got, ==, inner_init);
                g_assert_cmpint(capfs_pidns_to_host(host, &inner_ns, 2, NULL, NULL, &got), ==, -ESRCH);
                capfs_pidns_clear(&outer_ns);
                capfs_pidns_clear(&inner_ns);
        }
        kill(pid, SIGKILL);
        kill(outer_init, SIGKILL);
        waitpid(pid, NULL, 0);
}

/* ---- many threads at once ---- */

typedef struct Worker {
        CapfsHost *host;
        pid_t caller;
        const char *dir; /* where it makes and removes its cgroups */
        const char *knob; /* a descendant knob it writes */
        const char *procs; /* an id list it reads */
        unsigned index;
        unsigned failures;
} Worker;

#define WORKER_ROUNDS 150

static gpointer worker_run(gpointer data) {
        Worker *w = data;

        for (unsigned i = 0; i < WORKER_ROUNDS; i++) {
                g_autoptr(CapfsContainer) ct = NULL;
                g_autofree char *name = g_strdup_printf("%s/w%u-%u", w->dir, w->index, i);
                g_autofree char *listing = NULL;
                g_autofree char *content = NULL;
                CapfsNodeAttr attr;
                int r;

                if (capfs_container_resolve(w->host, w->caller, &ct) < 0) {
                        w->failures++;
                        continue;
                }
                if (capfs_node_mkdir(w->host, ct, name, 0755) != 0)
                        w->failures++;
                if (capfs_node_stat(w->host, ct, name, &attr) != 0 || attr.type != CAPFS_NODE_DIR)
                        w->failures++;
                if (put(w->host, ct, w->knob, "4096") != 4)
                        w->failures++;
                content = view_read(w->host, ct, w->procs, &r);
                if (r != 0)
                        w->failures++;
                listing = list(w->host, ct, w->dir, &r);
                if (r != 0)
                        w->failures++;
                if (capfs_node_rmdir(w->host, ct, name) != 0)
                        w->failures++;
        }
        return NULL;
}

static void test_concurrent(void) {
        g_autofree char *root = scratch_copy("v1");
        g_autoptr(CapfsHost) host = fixture_host_at(root);
        Worker workers[12];
        GThread *threads[G_N_ELEMENTS(workers)];
        int r;

        audit_start();
        /* A knob below ct2's root, so that its writes are allowed (its root's are not). */
        host_write(root, "sys/fs/cgroup/cpu/parent/ct2/child/cpu.cfs_quota_us", "");
        for (unsigned i = 0; i < G_N_ELEMENTS(workers); i++) {
                /* Three containers (one in a cgroup namespace, one joined by setns), four threads each. */
                switch (i % 3) {
                case 0:
                        workers[i] =
                                (Worker){host,
                                         2001,
                                         "cgroup/memory/ct1/system.slice",
                                         "cgroup/memory/ct1/system.slice/foo.service/memory.limit_in_bytes",
                                         "cgroup/memory/ct1/nested/inner/cgroup.procs",
                                         i,
                                         0};
                        break;
                case 1:
                        workers[i] = (Worker){host,
                                              2101,
                                              "cgroup/memory/app",
                                              "cgroup/memory/app/memory.limit_in_bytes",
                                              "cgroup/memory/app/cgroup.procs",
                                              i,
                                              0};
                        break;
                default:
                        workers[i] = (Worker){host,
                                              3005,
                                              "cgroup/pids/parent/ct2",
                                              "cgroup/cpu/parent/ct2/child/cpu.cfs_quota_us",
                                              "cgroup/memory/parent/ct2/cgroup.procs",
                                              i,
                                              0};
                        break;
                }
        }
        for (unsigned i = 0; i < G_N_ELEMENTS(workers); i++)
                threads[i] = g_thread_new("worker", worker_run, &workers[i]);
        for (unsigned i = 0; i < G_N_ELEMENTS(workers); i++) {
                g_thread_join(threads[i]);
                g_assert_cmpuint(workers[i].failures, ==, 0);
        }
        /* Every cgroup made was removed; the audit log saw the changes (within its burst). */
        {
                g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);
                g_autofree char *listing = list(host, ct, "cgroup/memory/ct1/system.slice", &r);

                g_assert_cmpint(r, ==, 0);
                g_assert_null(strstr(listing, "w0-"));
        }
        g_assert_false(host_exists(root, "sys/fs/cgroup/memory/ct10/app/w1-0"));
        g_assert_cmpuint(audit_count(), >=, 3 * CAPFS_AUDIT_BURST);
        scratch_remove(root);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_log_set_default_handler(log_handler, NULL);
        g_test_add_func("/cgroup-view/container-hierarchies", test_container_hierarchies);
        g_test_add_func("/cgroup-view/top-v1", test_top_v1);
        g_test_add_func("/cgroup-view/ancestors", test_ancestors);
        g_test_add_func("/cgroup-view/siblings", test_siblings);
        g_test_add_func("/cgroup-view/cgroup-namespace", test_cgroup_namespace);
        g_test_add_func("/cgroup-view/root-limits-read-only", test_root_limits_read_only);
        g_test_add_func("/cgroup-view/root-v2", test_root_v2);
        g_test_add_func("/cgroup-view/descendant-knobs", test_descendant_knobs);
        g_test_add_func("/cgroup-view/denylist", test_denylist);
        g_test_add_func("/cgroup-view/never-allowed", test_never_allowed);
        g_test_add_func("/cgroup-view/dot-dot", test_dot_dot);
        g_test_add_func("/cgroup-view/name-too-long", test_name_too_long);
        g_test_add_func("/cgroup-view/mkdir-rmdir", test_mkdir_rmdir);
        g_test_add_func("/cgroup-view/budget-descendants", test_budget_descendants);
        g_test_add_func("/cgroup-view/budget-depth", test_budget_depth);
        g_test_add_func("/cgroup-view/budget-from-cgroup2", test_budget_from_cgroup2);
        g_test_add_func("/cgroup-view/budget-ceiling", test_budget_ceiling);
        g_test_add_func("/cgroup-view/budget-concurrent", test_budget_concurrent);
        g_test_add_func("/cgroup-view/undelegated-hierarchy", test_undelegated_hierarchy);
        g_test_add_func("/cgroup-view/move-pids", test_move_pids);
        g_test_add_func("/cgroup-view/move-host-caller", test_move_host_caller);
        g_test_add_func("/cgroup-view/threads", test_threads);
        g_test_add_func("/cgroup-view/read-pids", test_read_pids);
        g_test_add_func("/cgroup-view/nested-namespace-moves", test_nested_namespace_moves);
        g_test_add_func("/cgroup-view/user-namespace-owner", test_user_namespace_owner);
        g_test_add_func("/cgroup-view/hybrid-named", test_hybrid_named);
        g_test_add_func("/cgroup-view/audit-lines", test_audit_lines);
        g_test_add_func("/cgroup-view/audit-value-escaped", test_audit_value_escaped);
        g_test_add_func("/cgroup-view/audit-rate-limit", test_audit_rate_limit);
        g_test_add_func("/cgroup-view/parse-written-pid", test_parse_written_pid);
        g_test_add_func("/cgroup-view/parse-id-map", test_parse_id_map);
        g_test_add_func("/cgroup-view/parse-nspids", test_parse_nspids);
        g_test_add_func("/cgroup-view/cgroupns-root-of", test_cgroupns_root_of);
        g_test_add_func("/cgroup-view/real-translation", test_real_translation);
        g_test_add_func("/cgroup-view/concurrent", test_concurrent);
        g_test_add_func("/render-cache/texts", test_render_cache);
        g_test_add_func("/by-pidns/view", test_by_pidns);
        g_test_add_func("/render-cache/cpus-and-host", test_render_cache_cpus_and_host);
        return g_test_run();
}
