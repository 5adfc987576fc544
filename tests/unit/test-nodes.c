/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon's inode table: numbers stay stable while the kernel holds them, and go when forgotten. */
#include "nodes.h"

static void test_ref_and_forget(void) {
        g_autoptr(NodeTable) table = node_table_new();
        g_autofree char *root = node_table_path(table, CAPFS_ROOT_INO);
        uint64_t meminfo, again, cpu;
        char *path;

        g_assert_cmpstr(root, ==, "");
        meminfo = node_table_ref(table, "proc/meminfo");
        again = node_table_ref(table, "proc/meminfo");
        cpu = node_table_ref(table, "proc/cpuinfo");
        g_assert_cmpuint(meminfo, ==, again);
        g_assert_cmpuint(meminfo, !=, cpu);
        g_assert_cmpuint(meminfo, !=, CAPFS_ROOT_INO);
        g_assert_cmpuint(node_table_size(table), ==, 3);

        /* Two lookups: the first forget leaves it, the second removes it. */
        node_table_forget(table, meminfo, 1);
        path = node_table_path(table, meminfo);
        g_assert_cmpstr(path, ==, "proc/meminfo");
        g_free(path);
        node_table_forget(table, meminfo, 1);
        g_assert_null(node_table_path(table, meminfo));
        g_assert_cmpuint(node_table_size(table), ==, 2);

        /* A path looked up again gets a new number: an old one is never reused. */
        g_assert_cmpuint(node_table_ref(table, "proc/meminfo"), >, cpu);
}

static void test_root_is_never_forgotten(void) {
        g_autoptr(NodeTable) table = node_table_new();
        g_autofree char *root = NULL;

        node_table_forget(table, CAPFS_ROOT_INO, 1000);
        root = node_table_path(table, CAPFS_ROOT_INO);
        g_assert_cmpstr(root, ==, "");
}

static void test_forget_more_than_held(void) {
        g_autoptr(NodeTable) table = node_table_new();
        uint64_t ino = node_table_ref(table, "sys");

        node_table_forget(table, ino, 7);
        g_assert_null(node_table_path(table, ino));
        node_table_forget(table, ino, 1); /* already gone: ignored */
        node_table_forget(table, 123456, 1); /* never known: ignored */
        g_assert_cmpuint(node_table_size(table), ==, 1);
}

static void test_peek(void) {
        g_autoptr(NodeTable) table = node_table_new();
        uint64_t unknown = node_table_peek(table, "proc/stat");
        uint64_t ino = node_table_ref(table, "proc/stat");

        g_assert_cmpuint(unknown, !=, 0);
        g_assert_cmpuint(unknown, !=, ino);
        g_assert_cmpuint(node_table_peek(table, "proc/stat"), ==, ino);
        g_assert_cmpuint(node_table_size(table), ==, 2);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/nodes/ref-and-forget", test_ref_and_forget);
        g_test_add_func("/nodes/root-is-never-forgotten", test_root_is_never_forgotten);
        g_test_add_func("/nodes/forget-more-than-held", test_forget_more_than_held);
        g_test_add_func("/nodes/peek", test_peek);
        return g_test_run();
}
