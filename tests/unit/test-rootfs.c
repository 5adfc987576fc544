/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount-helper/rootfs.c: paths below a rootfs resolved as the container will resolve them. Each
 * test builds a scratch tree with a rootfs and, beside it, an "outside" directory that planted
 * symlinks point at by its real (host) path: nothing may ever be created or opened there. Mounts
 * need root and are left to the escape suite (tests/escape/test-planted.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rootfs.h"

typedef struct {
        char *dir; /* the scratch directory */
        char *root; /* dir/root: the rootfs */
        char *outside; /* dir/outside: the host's side */
        int root_fd;
} Tree;

static void tree_init(Tree *t) {
        t->dir = g_dir_make_tmp("capfs-test-rootfs-XXXXXX", NULL);
        g_assert_nonnull(t->dir);
        t->root = g_build_filename(t->dir, "root", NULL);
        t->outside = g_build_filename(t->dir, "outside", NULL);
        g_assert_cmpint(g_mkdir(t->root, 0755), ==, 0);
        g_assert_cmpint(g_mkdir(t->outside, 0755), ==, 0);
        t->root_fd = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(t->root_fd, >=, 0);
}

static void tree_clear(Tree *t) {
        g_autofree char *command = g_strdup_printf("rm -rf --one-file-system '%s'", t->dir);
        close(t->root_fd);
        g_assert_true(g_str_has_prefix(t->dir, g_get_tmp_dir()));
        g_assert_cmpint(system(command), ==, 0);
        g_free(t->dir);
        g_free(t->root);
        g_free(t->outside);
}

/* PATH relative to the rootfs, as the host sees it. */
static char *in_root(Tree *t, const char *path) {
        return g_build_filename(t->root, path, NULL);
}

static void plant_link(Tree *t, const char *target, const char *link) {
        g_autofree char *path = in_root(t, link);
        g_assert_cmpint(symlink(target, path), ==, 0);
}

static bool outside_is_empty(Tree *t) {
        g_autoptr(GDir) d = g_dir_open(t->outside, 0, NULL);
        return d && !g_dir_read_name(d);
}

/* The fd names the file at HOST_PATH. */
static void assert_same_file(int fd, const char *host_path) {
        struct stat a, b;
        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(fstat(fd, &a), ==, 0);
        g_assert_cmpint(stat(host_path, &b), ==, 0);
        g_assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static void test_symlinked_parent(void) {
        Tree t;
        tree_init(&t);
        /* /data -> the host's directory, by its absolute path. */
        plant_link(&t, t.outside, "data");
        int fd = rootfs_open(t.root_fd, "/data/etc", ROOTFS_MKDIR, 0755);
        g_autofree char *inside = g_build_filename(t.root, t.outside, "etc", NULL);
        assert_same_file(fd, inside);
        close(fd);
        g_assert_true(g_file_test(inside, G_FILE_TEST_IS_DIR));
        g_assert_true(outside_is_empty(&t));
        /* Resolved again without creating anything, both ways: the same directory. */
        fd = rootfs_open(t.root_fd, "data/etc", 0, 0);
        assert_same_file(fd, inside);
        close(fd);
        fd = rootfs_open(t.root_fd, "data/etc", ROOTFS_NO_OPENAT2, 0);
        assert_same_file(fd, inside);
        close(fd);
        tree_clear(&t);
}

static void test_dangling_file(void) {
        Tree t;
        tree_init(&t);
        g_autofree char *host_file = g_build_filename(t.outside, "file", NULL);
        plant_link(&t, host_file, "datafile");
        int fd = rootfs_open(t.root_fd, "datafile", ROOTFS_MKFILE, 0644);
        g_autofree char *inside = g_build_filename(t.root, host_file, NULL);
        assert_same_file(fd, inside);
        close(fd);
        g_assert_true(g_file_test(inside, G_FILE_TEST_IS_REGULAR));
        g_assert_true(outside_is_empty(&t));
        tree_clear(&t);
}

static void test_dotdot(void) {
        Tree t;
        tree_init(&t);
        g_autofree char *up = g_strdup_printf("../../../../../../../../..%s/x", t.outside);
        plant_link(&t, up, "dotdot");
        int fd = rootfs_open(t.root_fd, "dotdot/etc", ROOTFS_MKDIR, 0755);
        g_autofree char *inside = g_build_filename(t.root, t.outside, "x", "etc", NULL);
        assert_same_file(fd, inside);
        close(fd);
        g_assert_true(outside_is_empty(&t));
        /* ".." at the rootfs is the rootfs, as "/.." is "/". */
        g_autofree char *etc = in_root(&t, "etc");
        g_assert_cmpint(g_mkdir(etc, 0755), ==, 0);
        for (int walk = 0; walk < 2; walk++) {
                fd = rootfs_open(t.root_fd, "../../../etc", walk ? ROOTFS_NO_OPENAT2 : 0, 0);
                assert_same_file(fd, etc);
                close(fd);
        }
        tree_clear(&t);
}

/* openat2() and the walk agree on what exists, whatever links lead there. */
static void test_walk_matches_openat2(void) {
        static const char *const paths[] = {
                "a",         "a/b",     "rel",   "rel/b", "abs/b", "a/../a/b", "chain",
                "chain/b/c", "./a/./b", "a//b/", "/a/b",  "/",     "",
        };
        Tree t;
        tree_init(&t);
        g_autofree char *abc = in_root(&t, "a/b/c");
        g_assert_cmpint(g_mkdir_with_parents(abc, 0755), ==, 0);
        plant_link(&t, "a", "rel");
        plant_link(&t, "/a", "abs");
        plant_link(&t, "rel", "chain");
        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
                int a = rootfs_open(t.root_fd, paths[i], 0, 0);
                int b = rootfs_open(t.root_fd, paths[i], ROOTFS_NO_OPENAT2, 0);
                struct stat sa, sb;
                g_test_message("path '%s'", paths[i]);
                g_assert_cmpint(a, >=, 0);
                g_assert_cmpint(b, >=, 0);
                g_assert_cmpint(fstat(a, &sa), ==, 0);
                g_assert_cmpint(fstat(b, &sb), ==, 0);
                g_assert_true(sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
                close(a);
                close(b);
        }
        tree_clear(&t);
}

static void test_errors(void) {
        Tree t;
        tree_init(&t);
        plant_link(&t, "loop2", "loop1");
        plant_link(&t, "loop1", "loop2");
        /* A magic link is a path inside the rootfs like any other: there is no proc/self there. */
        plant_link(&t, "/proc/self/root", "self");
        g_autofree char *file = in_root(&t, "file");
        g_assert_true(g_file_set_contents(file, "x", -1, NULL));
        for (int walk = 0; walk < 2; walk++) {
                RootfsFlags flags = walk ? ROOTFS_NO_OPENAT2 : 0;
                g_assert_cmpint(rootfs_open(t.root_fd, "loop1", flags, 0), ==, -ELOOP);
                g_assert_cmpint(rootfs_open(t.root_fd, "self/etc", flags, 0), ==, -ENOENT);
                g_assert_cmpint(rootfs_open(t.root_fd, "file/x", flags, 0), ==, -ENOTDIR);
                g_assert_cmpint(rootfs_open(t.root_fd, "missing", flags, 0), ==, -ENOENT);
        }
        g_assert_cmpint(rootfs_open(t.root_fd, "loop1", ROOTFS_MKDIR, 0755), ==, -ELOOP);
        g_assert_cmpint(rootfs_open(t.root_fd, "file/x", ROOTFS_MKDIR, 0755), ==, -ENOTDIR);
        tree_clear(&t);
}

static void test_deep(void) {
        Tree t;
        tree_init(&t);
        g_autoptr(GString) path = g_string_new("deep");
        for (int i = 0; i < 40; i++)
                g_string_append_printf(path, "/d%d", i);
        int fd = rootfs_open(t.root_fd, path->str, ROOTFS_MKDIR, 0755);
        g_autofree char *host = in_root(&t, path->str);
        assert_same_file(fd, host);
        close(fd);
        tree_clear(&t);
}

static void test_files(void) {
        Tree t;
        g_autofree char *content = NULL;
        tree_init(&t);
        g_autofree char *etc = in_root(&t, "etc");
        g_assert_cmpint(g_mkdir(etc, 0755), ==, 0);
        /* Written through a symlink to the host's side: inside the rootfs. */
        g_autofree char *host_hostname = g_build_filename(t.outside, "hostname", NULL);
        plant_link(&t, host_hostname, "etc/hostname");
        g_assert_cmpint(rootfs_write_file(t.root_fd, "etc/hostname", "box\n"), ==, 0);
        g_assert_true(outside_is_empty(&t));
        g_assert_cmpint(rootfs_read_file(t.root_fd, "etc/hostname", &content), ==, 0);
        g_assert_cmpstr(content, ==, "box\n");
        g_autofree char *inside = g_build_filename(t.root, host_hostname, NULL);
        g_autofree char *seen = NULL;
        g_assert_true(g_file_get_contents(inside, &seen, NULL, NULL));
        g_assert_cmpstr(seen, ==, "box\n");
        /* Neither read nor written: a FIFO (it would block), a directory. */
        g_autofree char *fifo = in_root(&t, "etc/fifo");
        g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
        char *none = NULL;
        g_assert_cmpint(rootfs_read_file(t.root_fd, "etc/fifo", &none), ==, -EINVAL);
        g_assert_cmpint(rootfs_write_file(t.root_fd, "etc/fifo", "x"), ==, -EINVAL);
        g_assert_cmpint(rootfs_read_file(t.root_fd, "etc", &none), ==, -EISDIR);
        g_assert_null(none);
        /* A symlink made below a symlinked directory lands inside too. */
        plant_link(&t, t.outside, "data");
        g_assert_cmpint(rootfs_symlink(t.root_fd, "pts/ptmx", "data/ptmx"), ==, 0);
        g_assert_true(outside_is_empty(&t));
        g_autofree char *link = g_build_filename(t.root, t.outside, "ptmx", NULL);
        g_autofree char *target = g_file_read_link(link, NULL);
        g_assert_cmpstr(target, ==, "pts/ptmx");
        g_assert_cmpint(rootfs_symlink(t.root_fd, "x", ".."), ==, -EINVAL);
        tree_clear(&t);
}

static void test_opendir(void) {
        Tree t;
        DIR *d = NULL;
        tree_init(&t);
        /* The host's side holds a file; the rootfs's own copy of that path holds another. */
        g_autofree char *host_file = g_build_filename(t.outside, "host-only", NULL);
        g_assert_true(g_file_set_contents(host_file, "", 0, NULL));
        g_autofree char *inside = g_build_filename(t.root, t.outside, NULL);
        g_assert_cmpint(g_mkdir_with_parents(inside, 0755), ==, 0);
        g_autofree char *inside_file = g_build_filename(inside, "rootfs-only", NULL);
        g_assert_true(g_file_set_contents(inside_file, "", 0, NULL));
        plant_link(&t, t.outside, "lib");
        g_assert_cmpint(rootfs_opendir(t.root_fd, "lib", &d), ==, 0);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        g_ptr_array_add(names, g_strdup(e->d_name));
        closedir(d);
        g_assert_cmpuint(names->len, ==, 1);
        g_assert_cmpstr(g_ptr_array_index(names, 0), ==, "rootfs-only");
        d = NULL;
        g_assert_cmpint(rootfs_opendir(t.root_fd, "missing", &d), ==, -ENOENT);
        g_assert_cmpint(rootfs_opendir(t.root_fd, "lib/rootfs-only", &d), ==, -ENOTDIR);
        g_assert_null(d);
        tree_clear(&t);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/rootfs/symlinked-parent", test_symlinked_parent);
        g_test_add_func("/rootfs/dangling-file", test_dangling_file);
        g_test_add_func("/rootfs/dotdot", test_dotdot);
        g_test_add_func("/rootfs/walk-matches-openat2", test_walk_matches_openat2);
        g_test_add_func("/rootfs/errors", test_errors);
        g_test_add_func("/rootfs/deep", test_deep);
        g_test_add_func("/rootfs/files", test_files);
        g_test_add_func("/rootfs/opendir", test_opendir);
        return g_test_run();
}
