/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pid translation for the cgroup view: ids written to and read from cgroup.procs,
 * tasks and cgroup.threads are the caller's, the kernel's files hold the host's.
 *
 * Since Linux 6.11 an nsfs file of a pid namespace translates both ways by ioctl,
 * exactly and in one call. Older kernels (and fixture trees, whose ns files are
 * dangling symlinks) get the same answers from /proc: a task's NSpid line names it in
 * every namespace from the host's down to its own, so the caller's name for it is the
 * entry at the caller's level, provided the task really lives in the caller's
 * namespace or one nested in it. That proviso is checked without ioctls: a task at the
 * caller's level must have the caller's namespace; a deeper task is followed up its
 * parents to the first one at the caller's level, because a parent's pid namespace is
 * always its child's or an ancestor of it (fork, setns and the reaper all keep that).
 * A chain that skips the caller's level (a host tool that setns'd straight into a
 * nested namespace) is not recognised: such a task is treated as invisible, which
 * errs on the side of refusing. The other way, from the caller's id to the host's,
 * /proc can only be asked task by task: the candidates are the threads of the
 * container's subtree, the caller and the init, so a task that may be moved is found
 * at the cost of the subtree's size. Only when none of them is the one, every task of
 * the host is asked (processes first, then the threads of those in the caller's
 * namespace): a task of the namespace outside the subtree gets the caller EPERM, as
 * with the ioctl, not ESRCH. Debian 12's and Ubuntu 22.04's kernels take this path.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "internal.h"
#include "parse/parse.h"

/* From linux/nsfs.h (6.11), which the build host's headers may predate. */
#define CAPFS_NSIO 0xb7
#define CAPFS_NS_GET_PID_FROM_PIDNS _IOR(CAPFS_NSIO, 0x6, int)
#define CAPFS_NS_GET_PID_IN_PIDNS _IOR(CAPFS_NSIO, 0x8, int)

/* Parents followed from a nested task before giving up: far more than any real nesting. */
#define PARENT_CHAIN_MAX 4096
/* Cgroups below a container root walked for candidates: depth bound against loops in odd trees. */
#define COLLECT_DEPTH_MAX 64

static int read_ns_link(const CapfsHost *host, pid_t pid, const char *ns, char *buf, size_t size) {
        char path[64];
        ssize_t n;

        snprintf(path, sizeof(path), "%d/ns/%s", (int) pid, ns);
        n = readlinkat(host->proc_fd, path, buf, size - 1);
        if (n < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        buf[n] = '\0';
        return 0;
}

static int read_nspids(const CapfsHost *host, pid_t pid, GArray **ret) {
        g_autoptr(GString) status = g_string_new(NULL);
        int r;

        r = capfs_read_proc_pid(host, pid, "status", status);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        return capfs_parse_status_nspids(status->str, status->len, ret);
}

/* The ioctls only on a real nsfs file that is the namespace the link named. */
static int open_pidns_fd(const CapfsHost *host, pid_t init, uint64_t inode) {
        char path[64];
        struct stat st;
        struct statfs sfs;
        int fd;

        snprintf(path, sizeof(path), "%d/ns/pid", (int) init);
        fd = openat(host->proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sfs) < 0 || sfs.f_type != NSFS_MAGIC || fstat(fd, &st) < 0 ||
            (uint64_t) st.st_ino != inode) {
                close(fd);
                return -ENOTTY;
        }
        return fd;
}

int capfs_pidns_open(const CapfsHost *host, const CapfsContainer *ct, CapfsPidns *ret) {
        g_autoptr(GArray) nspids = NULL;
        CapfsPidns ns = {.fd = -EBADF, .init_pid = ct->init_pid, .caller_pid = ct->caller_pid};
        int r;

        if (ct->host_pidns) {
                ns.host = true;
                *ret = ns;
                return 0;
        }
        ns.inode = capfs_pidns_of(host, ct->init_pid);
        if (ns.inode == 0)
                return -ESRCH;
        r = read_nspids(host, ct->init_pid, &nspids);
        if (r < 0)
                return r;
        ns.level = nspids->len - 1;
        ns.fd = open_pidns_fd(host, ct->init_pid, ns.inode);
        *ret = ns;
        return 0;
}

void capfs_pidns_clear(CapfsPidns *ns) {
        capfs_closep(&ns->fd);
        ns->fd = -EBADF;
}

/* -ENOTTY and -EINVAL: a kernel before 6.11; the caller then asks /proc instead. */
static int translate_ioctl(CapfsPidns *ns, unsigned long request, pid_t id, pid_t *ret) {
        int r;

        if (ns->fd < 0)
                return -ENOTTY;
        r = ioctl(ns->fd, request, (unsigned long) id);
        if (r < 0) {
                r = -errno;
                if (r == -ENOTTY || r == -EINVAL) {
                        capfs_closep(&ns->fd);
                        ns->fd = -EBADF;
                }
                return r;
        }
        if (r == 0)
                return -ESRCH;
        *ret = r;
        return 0;
}

/* Whether @task, whose NSpid line has more than ns->level + 1 entries, lives below ns. */
static bool nested_in(const CapfsHost *host, const CapfsPidns *ns, pid_t task) {
        g_autoptr(GString) stat = g_string_new(NULL);
        char link[64], want[64];

        snprintf(want, sizeof(want), "pid:[%" G_GUINT64_FORMAT "]", ns->inode);
        for (unsigned step = 0; step < PARENT_CHAIN_MAX; step++) {
                g_autoptr(GArray) nspids = NULL;
                CapfsPidStat parsed;

                if (capfs_read_proc_pid(host, task, "stat", stat) < 0 ||
                    capfs_parse_pid_stat(stat->str, stat->len, &parsed) < 0 || parsed.ppid <= 0)
                        return false;
                task = parsed.ppid;
                if (read_nspids(host, task, &nspids) < 0)
                        return false;
                if (nspids->len - 1 > ns->level)
                        continue;
                if (nspids->len - 1 < ns->level)
                        return false;
                return read_ns_link(host, task, "pid", link, sizeof(link)) >= 0 && g_str_equal(link, want);
        }
        return false;
}

/* What /proc says @task is called in @ns; @want != 0 skips the namespace checks for other ids. */
static int from_host_by_proc(const CapfsHost *host, const CapfsPidns *ns, pid_t task, pid_t want,
                             pid_t *ret) {
        g_autoptr(GArray) nspids = NULL;
        char link[64], expected[64];
        pid_t id;
        int r;

        r = read_nspids(host, task, &nspids);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (nspids->len <= ns->level)
                return -ESRCH;
        id = g_array_index(nspids, pid_t, ns->level);
        if (want != 0 && id != want)
                return -ESRCH;
        if (nspids->len - 1 == ns->level) {
                snprintf(expected, sizeof(expected), "pid:[%" G_GUINT64_FORMAT "]", ns->inode);
                if (read_ns_link(host, task, "pid", link, sizeof(link)) < 0 || !g_str_equal(link, expected))
                        return -ESRCH;
        } else if (!nested_in(host, ns, task))
                return -ESRCH;
        *ret = id;
        return 0;
}

static bool task_exists(const CapfsHost *host, pid_t task) {
        char path[32];

        snprintf(path, sizeof(path), "%d/status", (int) task);
        return faccessat(host->proc_fd, path, F_OK, 0) == 0;
}

int capfs_pidns_from_host(const CapfsHost *host, CapfsPidns *ns, pid_t task, pid_t *ret) {
        int r;

        if (task <= 0)
                return -ESRCH;
        if (ns->host) {
                if (!task_exists(host, task))
                        return -ESRCH;
                *ret = task;
                return 0;
        }
        r = translate_ioctl(ns, CAPFS_NS_GET_PID_IN_PIDNS, task, ret);
        if (r != -ENOTTY && r != -EINVAL)
                return r;
        return from_host_by_proc(host, ns, task, 0, ret);
}

/* A /proc entry that names a task: all digits, no leading zero. */
static bool task_name(const char *name, pid_t *ret) {
        guint64 value;

        if (name[0] < '1' || name[0] > '9' ||
            !g_ascii_string_to_unsigned(name, 10, 1, G_MAXINT32, &value, NULL))
                return false;
        *ret = (pid_t) value;
        return true;
}

/* Opens /proc/@dir (".": the list of processes) for listing. */
static DIR *open_proc_dir(const CapfsHost *host, const char *dir) {
        int fd = openat(host->proc_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (fd < 0)
                return NULL;
        d = fdopendir(fd);
        if (!d)
                close(fd);
        return d;
}

/* The thread of host process @pid, which lives in @ns or below it, that @ns calls @id. */
static bool find_thread(const CapfsHost *host, const CapfsPidns *ns, pid_t pid, pid_t id, pid_t *ret) {
        g_autoptr(GString) status = g_string_new(NULL);
        char dirname[32];
        struct dirent *de;
        bool found = false;
        DIR *dir;

        snprintf(dirname, sizeof(dirname), "%d/task", (int) pid);
        dir = open_proc_dir(host, dirname);
        if (!dir)
                return false;
        while (!found && (de = readdir(dir))) {
                g_autoptr(GArray) nspids = NULL;
                char path[64];
                pid_t tid;

                if (!task_name(de->d_name, &tid) || tid == pid)
                        continue;
                /* Threads share their process's pid namespace: only the number is to compare. */
                snprintf(path, sizeof(path), "task/%d/status", (int) tid);
                if (capfs_read_proc_pid(host, pid, path, status) < 0 ||
                    capfs_parse_status_nspids(status->str, status->len, &nspids) < 0 ||
                    nspids->len <= ns->level)
                        continue;
                if (g_array_index(nspids, pid_t, ns->level) == id) {
                        *ret = tid;
                        found = true;
                }
        }
        closedir(dir);
        return found;
}

/* Every task of the host, for the one @ns calls @id: the slow way, when the candidates had none. */
static int scan_host(const CapfsHost *host, const CapfsPidns *ns, pid_t id, pid_t *ret) {
        g_autoptr(GArray) inside = g_array_new(FALSE, FALSE, sizeof(pid_t));
        struct dirent *de;
        DIR *dir = open_proc_dir(host, ".");

        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                g_autoptr(GArray) nspids = NULL;
                pid_t pid, mine;

                if (!task_name(de->d_name, &pid) || read_nspids(host, pid, &nspids) < 0 ||
                    nspids->len <= ns->level)
                        continue;
                if (g_array_index(nspids, pid_t, ns->level) == id) {
                        if (from_host_by_proc(host, ns, pid, id, &mine) >= 0) {
                                closedir(dir);
                                *ret = pid;
                                return 0;
                        }
                        continue;
                }
                g_array_append_val(inside, pid);
        }
        closedir(dir);
        /* A thread's id: the threads of the processes that live in @ns or below it. */
        for (guint i = 0; i < inside->len; i++) {
                pid_t pid = g_array_index(inside, pid_t, i), mine;

                if (from_host_by_proc(host, ns, pid, 0, &mine) >= 0 && find_thread(host, ns, pid, id, ret))
                        return 0;
        }
        return -ESRCH;
}

int capfs_pidns_to_host(const CapfsHost *host, CapfsPidns *ns, pid_t id, CapfsPidCandidates candidates,
                        void *userdata, pid_t *ret) {
        g_autoptr(GArray) found = NULL;
        pid_t ignored;
        int r;

        if (id <= 0)
                return -ESRCH;
        if (ns->host) {
                if (!task_exists(host, id))
                        return -ESRCH;
                *ret = id;
                return 0;
        }
        r = translate_ioctl(ns, CAPFS_NS_GET_PID_FROM_PIDNS, id, ret);
        if (r != -ENOTTY && r != -EINVAL)
                return r;

        /*
         * No ioctl: only tasks /proc can be asked about one by one. Those that may be moved
         * are in the container's subtree, and the caller and the init are the likeliest of
         * the rest; then every task is.
         */
        found = g_array_new(FALSE, FALSE, sizeof(pid_t));
        if (ns->caller_pid > 0)
                g_array_append_val(found, ns->caller_pid);
        g_array_append_val(found, ns->init_pid);
        if (candidates) {
                r = candidates(userdata, found);
                if (r < 0)
                        return r;
        }
        for (guint i = 0; i < found->len; i++) {
                pid_t task = g_array_index(found, pid_t, i);

                if (from_host_by_proc(host, ns, task, id, &ignored) >= 0) {
                        *ret = task;
                        return 0;
                }
        }
        return scan_host(host, ns, id, ret);
}

static int collect_in(int cgfd, const char *file, GArray *out, unsigned depth) {
        g_autoptr(GString) buf = g_string_new(NULL);
        g_autoptr(GArray) ids = NULL;
        _cleanup_close_ int listfd = -EBADF;
        DIR *dir;
        struct dirent *de;

        if (capfs_read_file_at(cgfd, file, buf) >= 0 && capfs_parse_u64_list(buf->str, buf->len, &ids) >= 0)
                for (guint i = 0; i < ids->len; i++) {
                        guint64 id = g_array_index(ids, guint64, i);

                        if (id > 0 && id <= G_MAXINT32) {
                                pid_t pid = (pid_t) id;
                                g_array_append_val(out, pid);
                        }
                }
        if (depth >= COLLECT_DEPTH_MAX)
                return 0;

        listfd = openat(cgfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (listfd < 0)
                return -errno;
        dir = fdopendir(listfd);
        if (!dir)
                return -errno;
        listfd = -EBADF;
        while ((de = readdir(dir))) {
                _cleanup_close_ int child = -EBADF;

                struct stat st;

                if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_UNKNOWN) {
                        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISDIR(st.st_mode))
                                continue;
                } else if (de->d_type != DT_DIR)
                        continue;
                child = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0)
                        continue; /* removed meanwhile */
                collect_in(child, file, out, depth + 1);
        }
        closedir(dir);
        return 0;
}

int capfs_cgroup_collect_ids(int dirfd, const char *file, GArray *out) {
        return collect_in(dirfd, file, out, 0);
}
