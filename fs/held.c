/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel text files held open between reads. procfs, sysfs and cgroupfs produce a file's
 * text afresh on every read from offset 0, so a held fd answers with a pread() or two where
 * a fresh open costs open, fstat, read, read and close: a meminfo render reads five such
 * files. Only files on those file systems are held (fstatfs() says so): an ordinary file,
 * such as a unit test's fixture, may be replaced by a new one at the same path, which a held
 * fd would never see.
 *
 * Most of these files are made in one piece (one seq_file record, the whole text at once), so a
 * read shorter than asked for is the end of the file, and no second read is needed to be told.
 * Files made record by record (cpuinfo, diskstats; cgroup.procs, tasks) may stop short of a
 * full buffer between records: they are read until a read returns nothing.
 *
 * A cgroup removed while its files are held makes their reads fail with ENODEV; a failed read
 * drops the fd and the path is opened afresh, which finds a cgroup re-created at that path,
 * or fails as a fresh open would.
 */
#include <sys/vfs.h>

#include "internal.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define CGROUP_SUPER_MAGIC 0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270

/*
 * Each held kernfs file keeps a page of kernel memory for its text: 4096 of them are 16 MiB
 * or so, enough for a thousand containers' meminfo, stat and uptime; fewer where
 * RLIMIT_NOFILE is low (capfs_fd_budget()). Past that, files are read without being held
 * until the next prune.
 */
#define HELD_MAX 4096
/* Out of fds: files unread this long are closed to make room. */
#define HELD_MAKE_ROOM_USEC G_USEC_PER_SEC

typedef struct HeldFile {
        int fd;
        bool one_piece;
        gint refs; /* the table's one, and one per read in progress */
        int64_t used_usec; /* written under the reader lock: atomically */
} HeldFile;

struct CapfsHeldFiles {
        GRWLock lock; /* every read takes it to look up: readers share it */
        GHashTable *by_key; /* "DIRFD/PATH" -> HeldFile* */
        unsigned max;
        bool any_file_system;
};

static void held_file_unref(HeldFile *h) {
        if (h && g_atomic_int_dec_and_test(&h->refs)) {
                capfs_closep(&h->fd);
                g_free(h);
        }
}

CapfsHeldFiles *capfs_held_files_new(bool any_file_system) {
        CapfsHeldFiles *held = g_new0(CapfsHeldFiles, 1);

        g_rw_lock_init(&held->lock);
        held->by_key =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) held_file_unref);
        held->any_file_system = any_file_system;
        held->max = capfs_fd_budget(HELD_MAX);
        return held;
}

void capfs_held_files_free(CapfsHeldFiles *held) {
        if (!held)
                return;
        g_hash_table_unref(held->by_key);
        g_rw_lock_clear(&held->lock);
        g_free(held);
}

typedef enum {
        FILE_ORDINARY, /* may be replaced: never held */
        FILE_RECORDS, /* held, read until a read returns nothing */
        FILE_ONE_PIECE, /* held, a short read is its end */
} FileKind;

/* procfs files capfs reads that the kernel makes with single_open(): one record. */
static const char *const proc_one_piece[] = {
        "meminfo", "uptime", "loadavg", "stat", "pressure/cpu", "pressure/io", "pressure/memory",
};

/* cgroup files listing tasks are made one pid at a time; every other knob is one record. */
static bool cgroup_one_piece(const char *path) {
        const char *slash = strrchr(path, '/');
        const char *name = slash ? slash + 1 : path;

        return !g_str_equal(name, "cgroup.procs") && !g_str_equal(name, "tasks") &&
               !g_str_equal(name, "cgroup.threads");
}

static FileKind file_kind(const CapfsHeldFiles *held, int fd, const char *path) {
        struct statfs sfs;

        if (held->any_file_system)
                return FILE_ONE_PIECE;
        if (fstatfs(fd, &sfs) < 0)
                return FILE_ORDINARY;
        switch ((unsigned long) sfs.f_type) {
        case PROC_SUPER_MAGIC:
                for (size_t i = 0; i < G_N_ELEMENTS(proc_one_piece); i++)
                        if (g_str_equal(path, proc_one_piece[i]))
                                return FILE_ONE_PIECE;
                return FILE_RECORDS;
        case SYSFS_MAGIC: /* attributes: one show() into one page */
                return FILE_ONE_PIECE;
        case CGROUP_SUPER_MAGIC:
        case CGROUP2_SUPER_MAGIC:
                return cgroup_one_piece(path) ? FILE_ONE_PIECE : FILE_RECORDS;
        default:
                return FILE_ORDINARY;
        }
}

static char *held_key(int dirfd, const char *path) {
        return g_strdup_printf("%d/%s", dirfd, path);
}

/* The held file for @key with a reference for the caller, or NULL. */
static HeldFile *held_take(CapfsHeldFiles *held, const char *key, int64_t now) {
        HeldFile *h;

        g_rw_lock_reader_lock(&held->lock);
        h = g_hash_table_lookup(held->by_key, key);
        if (h) {
                g_atomic_int_inc(&h->refs);
                __atomic_store_n(&h->used_usec, now, __ATOMIC_RELAXED);
        }
        g_rw_lock_reader_unlock(&held->lock);
        return h;
}

/* Keeps @fd for @key (or closes it when full, or when another thread was first). */
static void held_keep(CapfsHeldFiles *held, char *key, int fd, bool one_piece, int64_t now) {
        HeldFile *h = g_new0(HeldFile, 1);

        h->fd = fd;
        h->one_piece = one_piece;
        h->refs = 1;
        h->used_usec = now;
        g_rw_lock_writer_lock(&held->lock);
        if (g_hash_table_size(held->by_key) < held->max && !g_hash_table_contains(held->by_key, key)) {
                g_hash_table_insert(held->by_key, key, h);
                h = NULL;
                key = NULL;
        }
        g_rw_lock_writer_unlock(&held->lock);
        g_free(key);
        held_file_unref(h);
}

/* Drops @h from the table if it is still there: its reads fail. */
static void held_forget(CapfsHeldFiles *held, const char *key, HeldFile *h) {
        g_rw_lock_writer_lock(&held->lock);
        if (g_hash_table_lookup(held->by_key, key) == h)
                g_hash_table_remove(held->by_key, key);
        g_rw_lock_writer_unlock(&held->lock);
}

int capfs_held_read(const CapfsHost *host, int dirfd, const char *path, GString *out) {
        CapfsHeldFiles *held = host->held_files;
        g_autofree char *key = NULL;
        int64_t now;
        HeldFile *h;
        FileKind kind;
        int fd, r;

        if (!held)
                return capfs_read_file_at(dirfd, path, out);
        key = held_key(dirfd, path);
        now = g_get_monotonic_time();
        h = held_take(held, key, now);
        if (h) {
                r = capfs_pread_whole(h->fd, h->one_piece, out);
                if (r < 0)
                        held_forget(held, key, h);
                held_file_unref(h);
                if (r >= 0)
                        return r;
        }

        fd = capfs_open_regular_at(dirfd, path);
        if (fd == -EMFILE) {
                capfs_held_files_prune(held, now - HELD_MAKE_ROOM_USEC);
                fd = capfs_open_regular_at(dirfd, path);
        }
        if (fd < 0) {
                g_string_truncate(out, 0);
                return fd;
        }
        kind = file_kind(held, fd, path);
        r = capfs_pread_whole(fd, kind == FILE_ONE_PIECE, out);
        if (r < 0 || kind == FILE_ORDINARY) {
                close(fd);
                return r;
        }
        held_keep(held, g_steal_pointer(&key), fd, kind == FILE_ONE_PIECE, now);
        return 0;
}

unsigned capfs_held_files_prune(CapfsHeldFiles *held, int64_t unused_since_usec) {
        GHashTableIter iter;
        HeldFile *h;
        unsigned left;

        g_rw_lock_writer_lock(&held->lock);
        g_hash_table_iter_init(&iter, held->by_key);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *) &h))
                if (__atomic_load_n(&h->used_usec, __ATOMIC_RELAXED) < unused_since_usec)
                        g_hash_table_iter_remove(&iter);
        left = g_hash_table_size(held->by_key);
        g_rw_lock_writer_unlock(&held->lock);
        return left;
}
