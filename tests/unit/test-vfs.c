/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The served tree: which paths exist, what kind they are, and what may be done with them. */
#include <fcntl.h>

#include "fixture.h"

static void collect(void *userdata, const char *name, CapfsNodeType type) {
        GString *names = userdata;

        g_string_append_printf(names, "%s%s%s", names->len ? " " : "", name,
                               type == CAPFS_NODE_DIR ? "/" : "");
}

static char *list(CapfsHost *host, const CapfsContainer *ct, const char *path, int *ret) {
        GString *names = g_string_new(NULL);

        *ret = capfs_node_readdir(host, ct, path, collect, names);
        return g_string_free(names, FALSE);
}

static void test_readdir(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
        g_autofree char *root = NULL, *proc = NULL, *pressure = NULL, *sys = NULL, *none = NULL,
                        *file = NULL;
        int r;

        root = list(host, ct, "", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(root, ==, "proc/ sys/ cgroup/ by-pidns/");
        proc = list(host, ct, "proc", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(proc, ==, "meminfo cpuinfo stat uptime loadavg diskstats swaps slabinfo pressure/");
        pressure = list(host, ct, "proc/pressure", &r);
        g_assert_cmpstr(pressure, ==, "cpu io memory");
        sys = list(host, ct, "sys/devices/system", &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpstr(sys, ==, "cpu/");
        none = list(host, ct, "proc/nope", &r);
        g_assert_cmpint(r, ==, -ENOENT);
        file = list(host, ct, "proc/meminfo", &r);
        g_assert_cmpint(r, ==, -ENOTDIR);
}

static void test_stat(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
        CapfsNodeAttr attr;

        g_assert_cmpint(capfs_node_stat(host, ct, "", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_cmpint(attr.perm, ==, 0555);
        g_assert_false(attr.per_caller);

        g_assert_cmpint(capfs_node_stat(host, ct, "proc/meminfo", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_FILE);
        g_assert_cmpint(attr.perm, ==, 0444);
        /* Every container has one: the entry may be cached; the content never is. */
        g_assert_false(attr.per_caller);
        g_assert_cmpuint(attr.size, ==, 0);

        /* Root-only on the host, root-only here: a view is never more open than /proc. */
        g_assert_cmpint(capfs_node_stat(host, ct, "proc/slabinfo", &attr), ==, 0);
        g_assert_cmpint(attr.perm, ==, 0400);

        g_assert_cmpint(capfs_node_stat(host, ct, "proc/pressure", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);

        /* Whole components only: none of these exist. */
        g_assert_cmpint(capfs_node_stat(host, ct, "pro", &attr), ==, -ENOENT);
        g_assert_cmpint(capfs_node_stat(host, ct, "proc/meminfo2", &attr), ==, -ENOENT);
        g_assert_cmpint(capfs_node_stat(host, ct, "proc/mem", &attr), ==, -ENOENT);
        g_assert_cmpint(capfs_node_stat(host, ct, "proc/meminfo/x", &attr), ==, -ENOENT);
        g_assert_cmpint(capfs_node_stat(host, ct, "sys/devices/sys", &attr), ==, -ENOENT);
        g_assert_cmpint(capfs_node_stat(host, ct, "proc/self", &attr), ==, -ENOENT);
}

static void test_nothing_is_writable(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);

        for (size_t i = 0; i < capfs_virtual_files_count; i++) {
                const char *path = capfs_virtual_files[i].path;

                g_assert_cmpint(capfs_node_write(host, ct, path, "1", 1), ==, -EACCES);
                g_assert_cmpint(capfs_node_open(host, ct, path, O_RDONLY), ==, 0);
                g_assert_cmpint(capfs_node_open(host, ct, path, O_WRONLY), ==, -EACCES);
                g_assert_cmpint(capfs_node_open(host, ct, path, O_RDWR), ==, -EACCES);
                g_assert_cmpint(capfs_node_open(host, ct, path, O_RDONLY | O_TRUNC), ==, -EACCES);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_SIZE, 0), ==, -EACCES);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_MODE, 0), ==, -EACCES);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_OWNER, 0), ==, -EACCES);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_TIMES, 0), ==, -EACCES);
                g_assert_cmpint(capfs_node_setattr(host, ct, path, CAPFS_SETATTR_XATTR, 0), ==, -EACCES);
                g_assert_cmpint(capfs_node_rmdir(host, ct, path), ==, -ENOTDIR);
                g_assert_cmpint(capfs_node_refuse_change(host, ct, path), ==, -ENOTDIR);
        }
        g_assert_cmpint(capfs_node_write(host, ct, "proc/nope", "1", 1), ==, -ENOENT);
        g_assert_cmpint(capfs_node_write(host, ct, "proc", "1", 1), ==, -EISDIR);
        g_assert_cmpint(capfs_node_open(host, ct, "proc/nope", O_RDONLY), ==, -ENOENT);
        g_assert_cmpint(capfs_node_open(host, ct, "proc", O_RDONLY), ==, 0);
        g_assert_cmpint(capfs_node_open(host, ct, "proc", O_WRONLY), ==, -EISDIR);
        g_assert_cmpint(capfs_node_setattr(host, ct, "proc/nope", CAPFS_SETATTR_MODE, 0), ==, -ENOENT);
        g_assert_cmpint(capfs_node_setattr(host, ct, "sys/devices/system/cpu/online", CAPFS_SETATTR_SIZE, 0),
                        ==, -EACCES);
        g_assert_cmpint(capfs_node_open(host, ct, "sys/devices/system/cpu/online", O_WRONLY), ==, -EACCES);
        g_assert_cmpint(capfs_node_write(host, ct, "sys/devices/system/cpu/cpu0/online", "0", 1), ==,
                        -EACCES);
}

static void test_no_tree_changes(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);

        g_assert_cmpint(capfs_node_mkdir(host, ct, "proc/new", 0755), ==, -EACCES);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "new", 0755), ==, -EACCES);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "sys/devices/system/cpu/cpu9", 0755), ==, -EACCES);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "proc", 0755), ==, -EEXIST);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "nope/new", 0755), ==, -ENOENT);
        g_assert_cmpint(capfs_node_mkdir(host, ct, "proc/meminfo/new", 0755), ==, -ENOTDIR);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "proc"), ==, -EACCES);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "proc/pressure"), ==, -EACCES);
        g_assert_cmpint(capfs_node_rmdir(host, ct, "proc/nope"), ==, -ENOENT);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, ""), ==, -EACCES);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "proc"), ==, -EACCES);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "sys/devices/system/cpu"), ==, -EACCES);
        g_assert_cmpint(capfs_node_refuse_change(host, ct, "nope"), ==, -ENOENT);
}

static void test_read_kinds(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        g_autoptr(CapfsContainer) ct = fixture_container(host, 2000);
        g_autoptr(GString) out = g_string_new(NULL);

        g_assert_cmpint(capfs_node_read(host, ct, "proc", out), ==, -EISDIR);
        g_assert_cmpint(capfs_node_read(host, ct, "", out), ==, -EISDIR);
        g_assert_cmpint(capfs_node_read(host, ct, "proc/nope", out), ==, -ENOENT);
        g_assert_cmpint(capfs_node_readlink(host, ct, "proc/meminfo", out), ==, -EINVAL);
        g_assert_cmpint(capfs_node_readlink(host, ct, "proc/nope", out), ==, -ENOENT);
}

/* Every declared file renders something for every fixture caller, on both layouts. */
static void test_every_file_renders(void) {
        const char *layouts[] = {"v1", "v2"};
        const pid_t callers[] = {1000, 2000, 2001, 3000, 3005};

        for (size_t l = 0; l < G_N_ELEMENTS(layouts); l++) {
                g_autoptr(CapfsHost) host = fixture_host(layouts[l], CAPFS_CPU_VIEW_QUOTA);

                for (size_t c = 0; c < G_N_ELEMENTS(callers); c++) {
                        g_autoptr(CapfsContainer) ct = fixture_container(host, callers[c]);

                        for (size_t i = 0; i < capfs_virtual_files_count; i++) {
                                g_autoptr(GString) out = g_string_new(NULL);
                                int r = capfs_node_read(host, ct, capfs_virtual_files[i].path, out);

                                if (r < 0)
                                        g_test_message("%s: %s for pid %d: %s", layouts[l],
                                                       capfs_virtual_files[i].path, (int) callers[c],
                                                       g_strerror(-r));
                                g_assert_cmpint(r, ==, 0);
                                g_assert_cmpuint(out->len, >, 0);
                                g_assert_true(out->str[out->len - 1] == '\n');
                        }
                }
        }
}

/* Declared files open and stat without a container: the daemon skips looking it up for them. */
static void test_needs_container(void) {
        g_autoptr(CapfsHost) host = fixture_host("v1", CAPFS_CPU_VIEW_QUOTA);
        CapfsNodeAttr attr;

        for (size_t i = 0; i < capfs_virtual_files_count; i++) {
                const char *path = capfs_virtual_files[i].path;

                g_assert_false(capfs_node_needs_container(path));
                g_assert_cmpint(capfs_node_stat(host, NULL, path, &attr), ==, 0);
                g_assert_cmpint(capfs_node_open(host, NULL, path, O_RDONLY), ==, 0);
        }
        g_assert_false(capfs_node_needs_container(""));
        g_assert_false(capfs_node_needs_container("proc"));
        g_assert_cmpint(capfs_node_stat(host, NULL, "proc", &attr), ==, 0);
        g_assert_cmpint(attr.type, ==, CAPFS_NODE_DIR);
        g_assert_true(capfs_node_needs_container("cgroup"));
        g_assert_true(capfs_node_needs_container("cgroup/memory/knob"));
        g_assert_true(capfs_node_needs_container("sys/devices/system/cpu"));
        g_assert_true(capfs_node_needs_container("sys/devices/system/cpu/online"));
        /* "cgroups" is not "cgroup": whole components. */
        g_assert_false(capfs_node_needs_container("cgroups"));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/vfs/readdir", test_readdir);
        g_test_add_func("/vfs/stat", test_stat);
        g_test_add_func("/vfs/nothing-is-writable", test_nothing_is_writable);
        g_test_add_func("/vfs/no-tree-changes", test_no_tree_changes);
        g_test_add_func("/vfs/read-kinds", test_read_kinds);
        g_test_add_func("/vfs/every-file-renders", test_every_file_renders);
        g_test_add_func("/vfs/needs-container", test_needs_container);
        return g_test_run();
}
