/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host layout detection, caller -> container resolution, and the cgroup knob helpers. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fixture.h"

static void test_layout_v1(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);

        g_assert_cmpint(host->layout, ==, CAPFS_LAYOUT_V1);
        for (CapfsController c = 0; c < _CAPFS_CTRL_MAX; c++)
                g_assert_cmpint(host->hierarchy_fd[c], >=, 0);
        g_assert_cmpstr(host->own_pidns, ==, "pid:[4026531836]");
}

static void test_layout_v2(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);

        g_assert_cmpint(host->layout, ==, CAPFS_LAYOUT_V2);
        g_assert_cmpint(host->hierarchy_fd[CAPFS_CTRL_UNIFIED], >=, 0);
        g_assert_cmpint(host->hierarchy_fd[CAPFS_CTRL_MEMORY], ==, -1);
        g_assert_cmpint(host->hierarchy_fd[CAPFS_CTRL_CPUSET], ==, -1);
}

static void test_missing_root(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CapfsHost) host = capfs_host_open("/nonexistent-capfs-root", CAPFS_CPU_VIEW_QUOTA, &error);

        g_assert_null(host);
        g_assert_nonnull(error);
        /* A person reading this must learn which path is wrong. */
        g_assert_nonnull(strstr(error->message, "/nonexistent-capfs-root/proc"));
}

static void test_host_caller(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 1000);

        g_assert_true(ct->host_pidns);
        g_assert_cmpint(ct->init_pid, ==, 1000);
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_MEMORY], ==, "/");
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_UNIFIED], ==, "/");
        g_assert_cmpuint(ct->init_start_ticks, ==, 5000);
}

static void test_container_init(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);

        g_assert_false(ct->host_pidns);
        g_assert_cmpint(ct->init_pid, ==, 2000);
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_MEMORY], ==, "/ct1");
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_CPUSET], ==, "/ct1");
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_PIDS], ==, "/ct1");
        /* systemd moved itself into init.scope; the container is the cgroup above. */
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_UNIFIED], ==, "/ct1");
        g_assert_cmpuint(ct->init_start_ticks, ==, 30000);
}

/* Any process of a container sees the container, not its own service's cgroup. */
static void test_container_member(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);

        g_assert_cmpint(ct->init_pid, ==, 2000);
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_MEMORY], ==, "/ct1");
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_UNIFIED], ==, "/ct1");
        g_assert_true(g_hash_table_contains(host->init_by_pidns, "pid:[4026532100]"));
}

/* The worker hands the caller's pid namespace down: the same container as when it is read here. */
static void test_resolve_with_known_pidns(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) member = NULL, host_caller = NULL;

        g_assert_cmpint(capfs_container_resolve_in(host, 2001, 4026532100, &member), ==, 0);
        g_assert_false(member->host_pidns);
        g_assert_cmpint(member->init_pid, ==, 2000);
        g_assert_cmpstr(member->cgroup[CAPFS_CTRL_MEMORY], ==, "/ct1");
        g_assert_true(g_hash_table_contains(host->init_by_pidns, "pid:[4026532100]"));
        /* The daemon's own namespace, given as a number, is still recognised as the host's. */
        g_assert_cmpint(capfs_container_resolve_in(host, 1000, 4026531836, &host_caller), ==, 0);
        g_assert_true(host_caller->host_pidns);
        g_assert_cmpint(host_caller->init_pid, ==, 1000);
}

/* A process that joined with setns() has its parent outside: the init is found by a scan. */
static void test_container_setns_member(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 3005);

        g_assert_cmpint(ct->init_pid, ==, 3000);
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_MEMORY], ==, "/parent/ct2");
        g_assert_cmpuint(ct->init_start_ticks, ==, 40000);
}

static void test_container_v2(void) {
        g_autoptr(CapfsHost) host = fixture_host("v2", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2001);

        g_assert_cmpint(ct->init_pid, ==, 2000);
        g_assert_cmpstr(ct->cgroup[CAPFS_CTRL_UNIFIED], ==, "/ct1");
        g_assert_null(ct->cgroup[CAPFS_CTRL_MEMORY]);
}

static void test_unknown_caller(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        CapfsContainer *ct = NULL;

        g_assert_cmpint(capfs_container_resolve(host, 9999, &ct), ==, -ESRCH);
        g_assert_cmpint(capfs_container_resolve(host, 0, &ct), ==, -ESRCH);
        g_assert_cmpint(capfs_container_resolve(host, -5, &ct), ==, -ESRCH);
        g_assert_null(ct);
}

/* ---- containers remembered between requests, on a scratch tree built by the test ---- */

static void write_file(const char *root, const char *rel, const char *content);
static char *scratch_host_tree(void);
static void remove_tree(const char *root);

/* Changes a file in place, as procfs content changes: an fd opened earlier reads the new text. */
static void rewrite_in_place(const char *root, const char *rel, const char *content) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        FILE *f = fopen(path, "w");

        g_assert_nonnull(f);
        g_assert_cmpint(fputs(content, f), >=, 0);
        g_assert_cmpint(fclose(f), ==, 0);
}

/* pid 500 is the init of pid namespace 77 and 501 a process in it; 600 is a host process. */
static void scratch_container(const char *root) {
        const char *stat_tail = " 0 0 0 0 0 0 0 0 0 0 0 0 0 20 0 1 0 4200 0 0 0\n";
        g_autofree char *init_stat = g_strconcat("500 (systemd) S 1", stat_tail, NULL);
        g_autofree char *member_stat = g_strconcat("501 (sh) S 500", stat_tail, NULL);
        g_autofree char *ns500 = g_build_filename(root, "proc", "500", "ns", NULL);
        g_autofree char *ns501 = g_build_filename(root, "proc", "501", "ns", NULL);
        g_autofree char *link500 = g_build_filename(ns500, "pid", NULL);
        g_autofree char *link501 = g_build_filename(ns501, "pid", NULL);
        g_autofree char *ns600 = g_build_filename(root, "proc", "600", "ns", NULL);
        g_autofree char *link600 = g_build_filename(ns600, "pid", NULL);
        g_autofree char *host_stat = g_strconcat("600 (agent) S 1", stat_tail, NULL);

        g_assert_cmpint(g_mkdir_with_parents(ns500, 0755), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(ns501, 0755), ==, 0);
        g_assert_cmpint(symlink("pid:[77]", link500), ==, 0);
        g_assert_cmpint(symlink("pid:[77]", link501), ==, 0);
        g_assert_cmpint(g_mkdir_with_parents(ns600, 0755), ==, 0);
        g_assert_cmpint(symlink("pid:[1]", link600), ==, 0);
        write_file(root, "proc/600/stat", host_stat);
        write_file(root, "proc/600/cgroup", "4:memory:/agents\n0::/agents\n");
        write_file(root, "proc/500/status", "Name:\tsystemd\nNSpid:\t500\t1\n");
        write_file(root, "proc/501/status", "Name:\tsh\nNSpid:\t501\t2\n");
        write_file(root, "proc/500/stat", init_stat);
        write_file(root, "proc/501/stat", member_stat);
        write_file(root, "proc/500/cgroup", "4:memory:/ctA\n0::/ctA/init.scope\n");
        write_file(root, "sys/fs/cgroup/memory/ctA/memory.limit_in_bytes", "1048576\n");
}

static void test_cache_remembers(void) {
        g_autofree char *root = scratch_host_tree();
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) first = NULL, again = NULL;
        g_autofree char *status = NULL;

        scratch_container(root);
        host = fixture_host_at(root);
        first = fixture_container(host, 501);
        g_assert_cmpint(first->init_pid, ==, 500);
        g_assert_cmpstr(first->cgroup[CAPFS_CTRL_MEMORY], ==, "/ctA");
        g_assert_cmpstr(first->cgroup[CAPFS_CTRL_UNIFIED], ==, "/ctA");
        g_assert_cmpuint(capfs_container_cache_size(host), ==, 1);

        /* Without its status the init could not be found again: only the cache knows it now. */
        status = g_build_filename(root, "proc", "500", "status", NULL);
        g_assert_cmpint(unlink(status), ==, 0);
        again = fixture_container(host, 501);
        g_assert_cmpint(again->init_pid, ==, 500);
        g_assert_cmpint(again->caller_pid, ==, 501);
        g_assert_cmpuint(again->init_start_ticks, ==, 4200);
        g_assert_cmpstr(again->cgroup[CAPFS_CTRL_MEMORY], ==, "/ctA");
        g_assert_true(g_hash_table_contains(again->hierarchy_root, "memory"));

        /* The host's processes are never remembered: each is in cgroups of its own. */
        g_clear_pointer(&again, capfs_container_free);
        again = fixture_container(host, 600);
        g_assert_true(again->host_pidns);
        g_assert_cmpstr(again->cgroup[CAPFS_CTRL_MEMORY], ==, "/agents");
        g_assert_cmpuint(capfs_container_cache_size(host), ==, 1);
        remove_tree(root);
}

static void test_cache_sees_moves(void) {
        g_autofree char *root = scratch_host_tree();
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsContainer) before = NULL, after = NULL;
        g_autofree char *status = NULL;
        CapfsContainer *ct = NULL;

        scratch_container(root);
        host = fixture_host_at(root);
        before = fixture_container(host, 501);
        g_assert_cmpstr(before->cgroup[CAPFS_CTRL_MEMORY], ==, "/ctA");

        /* The init moved: the remembered container is not used, even though it is still there. */
        status = g_build_filename(root, "proc", "500", "status", NULL);
        g_assert_cmpint(unlink(status), ==, 0);
        rewrite_in_place(root, "proc/500/cgroup", "4:memory:/ctB\n0::/ctB/init.scope\n");
        g_assert_cmpint(capfs_container_resolve(host, 501, &ct), ==, -ESRCH);
        g_assert_null(ct);
        g_assert_cmpuint(capfs_container_cache_size(host), ==, 0);

        write_file(root, "proc/500/status", "Name:\tsystemd\nNSpid:\t500\t1\n");
        after = fixture_container(host, 501);
        g_assert_cmpstr(after->cgroup[CAPFS_CTRL_MEMORY], ==, "/ctB");
        g_assert_cmpstr(after->cgroup[CAPFS_CTRL_UNIFIED], ==, "/ctB");
        g_assert_cmpuint(capfs_container_cache_size(host), ==, 1);
        /* Nothing is gone here: pruning keeps it. */
        capfs_container_cache_prune(host);
        g_assert_cmpuint(capfs_container_cache_size(host), ==, 1);
        remove_tree(root);
}

/* ---- knob helpers, on a scratch tree built by the test ---- */

static void write_file(const char *root, const char *rel, const char *content) {
        g_autofree char *path = g_build_filename(root, rel, NULL);
        g_autofree char *dir = g_path_get_dirname(path);
        g_autoptr(GError) error = NULL;

        g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
        g_file_set_contents(path, content, -1, &error);
        g_assert_no_error(error);
}

static char *scratch_host_tree(void) {
        g_autoptr(GError) error = NULL;
        char *root = g_dir_make_tmp("capfs-unit-XXXXXX", &error);
        g_autofree char *ns_dir = NULL;
        g_autofree char *ns_link = NULL;

        g_assert_no_error(error);
        ns_dir = g_build_filename(root, "proc", "self", "ns", NULL);
        g_assert_cmpint(g_mkdir_with_parents(ns_dir, 0755), ==, 0);
        ns_link = g_build_filename(ns_dir, "pid", NULL);
        g_assert_cmpint(symlink("pid:[1]", ns_link), ==, 0);
        write_file(root, "sys/devices/system/cpu/online", "0\n");
        return root;
}

static void remove_tree(const char *root) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
        g_assert_cmpint(system(cmd), ==, 0);
}

static void test_min_limit(void) {
        g_autofree char *root = scratch_host_tree();
        g_autoptr(CapfsHost) host = NULL;
        CapfsContainer ct = {0};
        uint64_t limit = 0;

        write_file(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
        write_file(root, "sys/fs/cgroup/memory/a/memory.limit_in_bytes", "402653184\n");
        write_file(root, "sys/fs/cgroup/memory/a/b/memory.limit_in_bytes", "9223372036854771712\n");
        write_file(root, "sys/fs/cgroup/memory/a/b/c/memory.limit_in_bytes", "536870912\n");
        /* A sibling whose name extends "a": never an ancestor of /a/b/c. */
        write_file(root, "sys/fs/cgroup/memory/ab/memory.limit_in_bytes", "1024\n");
        host = fixture_host_at(root);

        ct.cgroup[CAPFS_CTRL_MEMORY] = (char *) "/a/b/c";
        g_assert_cmpint(
                capfs_cgroup_min_limit(host, &ct, CAPFS_CTRL_MEMORY, "memory.limit_in_bytes", &limit), ==,
                0);
        g_assert_cmpuint(limit, ==, 402653184);

        ct.cgroup[CAPFS_CTRL_MEMORY] = (char *) "/";
        g_assert_cmpint(
                capfs_cgroup_min_limit(host, &ct, CAPFS_CTRL_MEMORY, "memory.limit_in_bytes", &limit), ==,
                0);
        g_assert_cmpuint(limit, ==, 9223372036854771712ULL);

        ct.cgroup[CAPFS_CTRL_MEMORY] = (char *) "/a/b/c";
        g_assert_cmpint(capfs_cgroup_min_limit(host, &ct, CAPFS_CTRL_MEMORY, "no.such.knob", &limit), ==,
                        -ENOENT);

        ct.cgroup[CAPFS_CTRL_MEMORY] = NULL;
        g_assert_cmpint(
                capfs_cgroup_min_limit(host, &ct, CAPFS_CTRL_MEMORY, "memory.limit_in_bytes", &limit), ==,
                -ENOENT);
        remove_tree(root);
}

static void test_knob_paths_are_checked(void) {
        g_autofree char *root = scratch_host_tree();
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(GString) buf = g_string_new(NULL);

        write_file(root, "sys/fs/cgroup/memory/a/memory.limit_in_bytes", "4096\n");
        write_file(root, "secret", "host secret\n");
        host = fixture_host_at(root);

        g_assert_cmpint(capfs_cgroup_read_path(host, CAPFS_CTRL_MEMORY, "/a", "memory.limit_in_bytes", buf),
                        ==, 0);
        g_assert_cmpstr(buf->str, ==, "4096\n");
        g_assert_cmpint(capfs_cgroup_read_path(host, CAPFS_CTRL_MEMORY, "/../../../..", "secret", buf), ==,
                        -EINVAL);
        g_assert_cmpint(capfs_cgroup_read_path(host, CAPFS_CTRL_MEMORY, "a", "memory.limit_in_bytes", buf),
                        ==, -EINVAL);
        g_assert_cmpint(capfs_cgroup_read_path(host, CAPFS_CTRL_PIDS, "/a", "pids.max", buf), ==, -ENOENT);
        remove_tree(root);
}

/* A FIFO where a knob should be must not park a daemon thread. */
static void test_read_refuses_fifo(void) {
        g_autofree char *root = scratch_host_tree();
        g_autofree char *fifo = g_build_filename(root, "fifo", NULL);
        g_autoptr(GString) buf = g_string_new("stale");
        _cleanup_close_ int dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
        g_assert_cmpint(capfs_read_file_at(dirfd, "fifo", buf), ==, -EINVAL);
        g_assert_cmpuint(buf->len, ==, 0);
        g_assert_cmpint(capfs_read_file_at(dirfd, "missing", buf), ==, -ENOENT);
        g_assert_cmpint(capfs_read_file_at(dirfd, "proc", buf), ==, -EISDIR);
        remove_tree(root);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/host/layout-v1", test_layout_v1);
        g_test_add_func("/host/layout-v2", test_layout_v2);
        g_test_add_func("/host/missing-root", test_missing_root);
        g_test_add_func("/container/host-caller", test_host_caller);
        g_test_add_func("/container/init", test_container_init);
        g_test_add_func("/container/member", test_container_member);
        g_test_add_func("/container/resolve-with-known-pidns", test_resolve_with_known_pidns);
        g_test_add_func("/container/setns-member", test_container_setns_member);
        g_test_add_func("/container/v2", test_container_v2);
        g_test_add_func("/container/unknown-caller", test_unknown_caller);
        g_test_add_func("/container/cache-remembers", test_cache_remembers);
        g_test_add_func("/container/cache-sees-moves", test_cache_sees_moves);
        g_test_add_func("/cgroup/min-limit", test_min_limit);
        g_test_add_func("/cgroup/knob-paths", test_knob_paths_are_checked);
        g_test_add_func("/util/read-refuses-fifo", test_read_refuses_fifo);
        return g_test_run();
}
