/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files held open between reads (fs/held.c), on a scratch directory. Ordinary files are held
 * here only because the table is told to hold every file; on a real host only procfs, sysfs
 * and cgroupfs files are, which render afresh on every read as a file rewritten in place does.
 */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "internal.h"

typedef struct Scratch {
        char *dir;
        int dirfd;
        CapfsHost host; /* only dirfd and held_files are used */
} Scratch;

static void scratch_init(Scratch *s, bool hold_any) {
        g_autoptr(GError) error = NULL;

        s->dir = g_dir_make_tmp("capfs-held-XXXXXX", &error);
        g_assert_no_error(error);
        s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        g_assert_cmpint(s->dirfd, >=, 0);
        s->host = (CapfsHost){.held_files = capfs_held_files_new(hold_any)};
}

static void scratch_clear(Scratch *s) {
        g_autoptr(GDir) dir = g_dir_open(s->dir, 0, NULL);
        const char *name;

        capfs_held_files_free(s->host.held_files);
        while (dir && (name = g_dir_read_name(dir))) {
                g_autofree char *path = g_build_filename(s->dir, name, NULL);
                g_unlink(path);
        }
        close(s->dirfd);
        g_rmdir(s->dir);
        g_free(s->dir);
}

/* Rewrites @name in place: the same inode, as a kernel file's text changes under a held fd. */
static void rewrite(Scratch *s, const char *name, const char *text) {
        int fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, text, strlen(text)), ==, (ssize_t) strlen(text));
        close(fd);
}

static void assert_read(Scratch *s, const char *name, const char *expected) {
        g_autoptr(GString) out = g_string_new("stale");

        g_assert_cmpint(capfs_held_read(&s->host, s->dirfd, name, out), ==, 0);
        g_assert_cmpstr(out->str, ==, expected);
}

static void test_held_reads_fresh_text(void) {
        Scratch s;

        scratch_init(&s, true);
        rewrite(&s, "memory.usage_in_bytes", "4096\n");
        assert_read(&s, "memory.usage_in_bytes", "4096\n");
        /* The second read goes through the fd the first one kept. */
        rewrite(&s, "memory.usage_in_bytes", "1234567\n");
        assert_read(&s, "memory.usage_in_bytes", "1234567\n");
        rewrite(&s, "memory.usage_in_bytes", "7\n");
        assert_read(&s, "memory.usage_in_bytes", "7\n");
        g_assert_cmpuint(capfs_held_files_prune(s.host.held_files, G_MININT64), ==, 1);
        scratch_clear(&s);
}

/* Larger than one read: the text is still read whole. */
static void test_held_reads_long_text(void) {
        g_autoptr(GString) text = g_string_new(NULL);
        Scratch s;

        for (unsigned i = 0; text->len < 40000; i++)
                g_string_append_printf(text, "key%u %u\n", i, i * 7);
        scratch_init(&s, true);
        rewrite(&s, "memory.stat", text->str);
        assert_read(&s, "memory.stat", text->str);
        assert_read(&s, "memory.stat", text->str);
        scratch_clear(&s);
}

static void test_held_errors(void) {
        g_autoptr(GString) out = g_string_new("stale");
        Scratch s;

        scratch_init(&s, true);
        g_assert_cmpint(capfs_held_read(&s.host, s.dirfd, "missing", out), ==, -ENOENT);
        g_assert_cmpuint(out->len, ==, 0);
        g_assert_cmpint(mkdirat(s.dirfd, "dir", 0755), ==, 0);
        g_assert_cmpint(capfs_held_read(&s.host, s.dirfd, "dir", out), ==, -EISDIR);
        g_assert_cmpint(mkfifoat(s.dirfd, "fifo", 0644), ==, 0);
        /* Never a FIFO: it would park the thread. */
        g_assert_cmpint(capfs_held_read(&s.host, s.dirfd, "fifo", out), ==, -EINVAL);
        g_assert_cmpuint(capfs_held_files_prune(s.host.held_files, G_MININT64), ==, 0);
        scratch_clear(&s);
}

/* An ordinary file may be replaced by another at its path: it is read afresh, never held. */
static void test_ordinary_files_not_held(void) {
        g_autofree char *path = NULL;
        Scratch s;

        scratch_init(&s, false);
        rewrite(&s, "meminfo", "MemTotal: 1 kB\n");
        assert_read(&s, "meminfo", "MemTotal: 1 kB\n");
        path = g_build_filename(s.dir, "meminfo", NULL);
        g_assert_true(g_file_set_contents(path, "MemTotal: 2 kB\n", -1, NULL));
        assert_read(&s, "meminfo", "MemTotal: 2 kB\n");
        g_assert_cmpuint(capfs_held_files_prune(s.host.held_files, G_MININT64), ==, 0);
        scratch_clear(&s);
}

/* Files unread since the cut-off are closed; the others stay. */
static void test_prune(void) {
        Scratch s;
        int64_t cut;

        scratch_init(&s, true);
        rewrite(&s, "a", "1\n");
        rewrite(&s, "b", "2\n");
        assert_read(&s, "a", "1\n");
        g_usleep(2000);
        cut = g_get_monotonic_time();
        assert_read(&s, "b", "2\n");
        g_assert_cmpuint(capfs_held_files_prune(s.host.held_files, cut), ==, 1);
        rewrite(&s, "a", "3\n");
        assert_read(&s, "a", "3\n");
        g_assert_cmpuint(capfs_held_files_prune(s.host.held_files, G_MAXINT64), ==, 0);
        scratch_clear(&s);
}

/* Real kernel files, where the host has them: two reads of /proc/uptime through a held fd both parse. */
static void test_proc_uptime_held(void) {
        g_autoptr(GString) first = g_string_new(NULL), second = g_string_new(NULL);
        int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CapfsHost host = {.held_files = capfs_held_files_new(false)};

        if (proc < 0 || faccessat(proc, "uptime", R_OK, 0) < 0) {
                g_test_skip("no /proc/uptime here");
        } else {
                g_assert_cmpint(capfs_held_read(&host, proc, "uptime", first), ==, 0);
                g_usleep(20000);
                g_assert_cmpint(capfs_held_read(&host, proc, "uptime", second), ==, 0);
                g_assert_cmpuint(capfs_held_files_prune(host.held_files, G_MININT64), ==, 1);
                g_assert_true(g_str_has_suffix(first->str, "\n") && g_str_has_suffix(second->str, "\n"));
                /* The held fd shows the time passing: a second read is not the first one's text. */
                g_assert_cmpfloat(g_ascii_strtod(second->str, NULL), >, g_ascii_strtod(first->str, NULL));
        }
        capfs_held_files_free(host.held_files);
        if (proc >= 0)
                close(proc);
}

/*
 * Out of fds: held files unread for a second are closed to make room, and the read succeeds.
 * The table never holds more than a quarter of RLIMIT_NOFILE itself.
 */
static void test_out_of_fds(void) {
        struct rlimit saved, low;
        GArray *filler = g_array_new(FALSE, FALSE, sizeof(int));
        Scratch s;
        int fd;

        g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
        low = saved;
        low.rlim_cur = 128;
        g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
        scratch_init(&s, true);
        for (unsigned i = 0; i < 40; i++) {
                g_autofree char *name = g_strdup_printf("knob%u", i);
                g_autofree char *text = g_strdup_printf("%u\n", i);

                rewrite(&s, name, text);
                assert_read(&s, name, text);
        }
        /* 128 / 4 */
        g_assert_cmpuint(capfs_held_files_prune(s.host.held_files, G_MININT64), ==, 32);
        rewrite(&s, "late", "late\n");
        g_usleep(1100 * 1000);
        while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
                g_array_append_val(filler, fd);
        g_assert_cmpint(errno, ==, EMFILE);
        assert_read(&s, "late", "late\n");
        for (guint i = 0; i < filler->len; i++)
                close(g_array_index(filler, int, i));
        g_array_unref(filler);
        scratch_clear(&s);
        g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/held/reads-fresh-text", test_held_reads_fresh_text);
        g_test_add_func("/held/reads-long-text", test_held_reads_long_text);
        g_test_add_func("/held/errors", test_held_errors);
        g_test_add_func("/held/ordinary-files-not-held", test_ordinary_files_not_held);
        g_test_add_func("/held/prune", test_prune);
        g_test_add_func("/held/proc-uptime", test_proc_uptime_held);
        g_test_add_func("/held/out-of-fds", test_out_of_fds);
        return g_test_run();
}
