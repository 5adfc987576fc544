/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys/devices/system/cpu: the host's directory with only the container's CPUs, renamed
 * cpu0..cpuN-1 (container cpuK is host cpu[list[K]]), and online/possible/present/offline
 * saying so. Everything else is the host's sysfs, read-only: files read, directories
 * listed and symlinks returned as they are, so that relative links ("../../node/node0")
 * resolve inside the container's own /sys.
 *
 * Host paths are walked one component at a time without following symlinks: a path
 * capfs is asked about never leaves /sys/devices/system/cpu through a link.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define HOST_CPU_DIR "devices/system/cpu"

typedef enum {
        SYS_CPU_TOP, /* the directory itself */
        SYS_CPU_RANGE, /* online, possible, present: rendered "0-(n-1)" */
        SYS_CPU_OFFLINE, /* rendered empty: the container's CPUs are all online */
        SYS_CPU_HOST, /* the host's entry at host_path */
} SysCpuKind;

typedef struct SysCpuPath {
        SysCpuKind kind;
        bool per_caller; /* what it is depends on the container's CPUs */
        char *host_path; /* relative to host->sys_fd; SYS_CPU_HOST only */
} SysCpuPath;

static void sys_cpu_path_clear(SysCpuPath *p) {
        g_clear_pointer(&p->host_path, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SysCpuPath, sys_cpu_path_clear)

/* "cpu17" -> 17; -1 for anything else ("cpufreq", "cpu01", "cpu"). */
static long cpu_dir_number(const char *name) {
        const char *digits;
        long n = 0;

        if (!g_str_has_prefix(name, "cpu"))
                return -1;
        digits = name + strlen("cpu");
        if (!g_ascii_isdigit(*digits))
                return -1;
        if (digits[0] == '0' && digits[1] != '\0')
                return -1;
        for (const char *p = digits; *p; p++) {
                if (!g_ascii_isdigit(*p))
                        return -1;
                n = n * 10 + (*p - '0');
                if (n > INT_MAX)
                        return -1;
        }
        return n;
}

static int container_cpu_count(const CapfsHost *host, const CapfsContainer *ct, unsigned *ret) {
        g_autofree CapfsCpuList *cpus = NULL;
        int r;

        r = capfs_container_cpus(host, ct, &cpus);
        if (r < 0)
                return r;
        *ret = cpus->count;
        return 0;
}

static int resolve(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, SysCpuPath *ret) {
        g_auto(GStrv) parts = NULL;
        long cpu;

        *ret = (SysCpuPath){0};
        if (*subpath == '\0') {
                *ret = (SysCpuPath){.kind = SYS_CPU_TOP};
                return 0;
        }
        parts = g_strsplit(subpath, "/", -1);
        for (char **p = parts; *p; p++)
                if (**p == '\0' || g_str_equal(*p, ".") || g_str_equal(*p, ".."))
                        return -ENOENT;

        if (!parts[1]) {
                if (g_str_equal(parts[0], "online") || g_str_equal(parts[0], "possible") ||
                    g_str_equal(parts[0], "present")) {
                        *ret = (SysCpuPath){.kind = SYS_CPU_RANGE};
                        return 0;
                }
                if (g_str_equal(parts[0], "offline")) {
                        *ret = (SysCpuPath){.kind = SYS_CPU_OFFLINE};
                        return 0;
                }
        }

        cpu = cpu_dir_number(parts[0]);
        if (cpu >= 0) {
                g_autofree CapfsCpuList *cpus = NULL;
                g_autofree char *rest = NULL;
                int r;

                r = capfs_container_cpus(host, ct, &cpus);
                if (r < 0)
                        return r;
                if ((unsigned long) cpu >= cpus->count)
                        return -ENOENT;
                rest = parts[1] ? g_strjoinv("/", parts + 1) : NULL;
                ret->host_path = rest ? g_strdup_printf(HOST_CPU_DIR "/cpu%u/%s", cpus->cpu[cpu], rest)
                                      : g_strdup_printf(HOST_CPU_DIR "/cpu%u", cpus->cpu[cpu]);
                ret->kind = SYS_CPU_HOST;
                /* Everything below cpuK is some host CPU's, which one depends on the caller. */
                ret->per_caller = true;
                return 0;
        }

        ret->kind = SYS_CPU_HOST;
        ret->host_path = g_strconcat(HOST_CPU_DIR "/", subpath, NULL);
        return 0;
}

/*
 * Opens the directory holding the last component of @path below @rootfd, refusing
 * symlinks on the way; *@leaf points into @path. An empty leaf never happens: resolve()
 * rejects empty components.
 */
static int open_parent(int rootfd, const char *path, const char **leaf) {
        g_autofree char *copy = g_strdup(path);
        char *slash = strrchr(copy, '/');
        int fd;

        *leaf = path + (slash ? slash - copy + 1 : 0);
        fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        if (!slash)
                return fd;
        *slash = '\0';
        for (char *comp = copy, *next; comp; comp = next) {
                int child;

                next = strchr(comp, '/');
                if (next)
                        *next++ = '\0';
                child = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                if (child < 0)
                        return -errno;
                fd = child;
        }
        return fd;
}

static int host_lstat(const CapfsHost *host, const char *path, struct stat *st) {
        _cleanup_close_ int dirfd = -EBADF;
        const char *leaf;

        dirfd = open_parent(host->sys_fd, path, &leaf);
        if (dirfd < 0)
                return dirfd;
        if (fstatat(dirfd, leaf, st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int open_host_dir(const CapfsHost *host, const char *path, DIR **ret) {
        _cleanup_close_ int dirfd = -EBADF, fd = -EBADF;
        const char *leaf;
        DIR *dir;

        dirfd = open_parent(host->sys_fd, path, &leaf);
        if (dirfd < 0)
                return dirfd;
        fd = openat(dirfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ELOOP ? -ENOTDIR : -errno;
        dir = fdopendir(fd);
        if (!dir)
                return -errno;
        fd = -EBADF; /* owned by dir now */
        *ret = dir;
        return 0;
}

static CapfsNodeType entry_type(DIR *dir, const struct dirent *de) {
        struct stat st;

        switch (de->d_type) {
        case DT_DIR:
                return CAPFS_NODE_DIR;
        case DT_LNK:
                return CAPFS_NODE_SYMLINK;
        case DT_UNKNOWN:
                if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                        if (S_ISDIR(st.st_mode))
                                return CAPFS_NODE_DIR;
                        if (S_ISLNK(st.st_mode))
                                return CAPFS_NODE_SYMLINK;
                }
                return CAPFS_NODE_FILE;
        default:
                return CAPFS_NODE_FILE;
        }
}

int capfs_sys_cpu_stat(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                       CapfsNodeAttr *ret) {
        g_auto(SysCpuPath) p = {};
        struct stat st;
        int r;

        r = resolve(host, ct, subpath, &p);
        if (r < 0)
                return r;
        switch (p.kind) {
        case SYS_CPU_TOP:
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_DIR, .perm = 0555};
                return 0;
        case SYS_CPU_RANGE:
        case SYS_CPU_OFFLINE:
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_FILE, .perm = 0444};
                return 0;
        case SYS_CPU_HOST:
                break;
        }

        r = host_lstat(host, p.host_path, &st);
        if (r < 0)
                return r;
        if (S_ISDIR(st.st_mode))
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_DIR, .perm = 0555};
        else if (S_ISLNK(st.st_mode))
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_SYMLINK, .perm = 0777};
        else if (S_ISREG(st.st_mode))
                /* Read-only, and no more readable than on the host (some are root-only). */
                *ret = (CapfsNodeAttr){
                        .type = CAPFS_NODE_FILE, .perm = st.st_mode & 0555, .size = (uint64_t) st.st_size};
        else
                return -ENOENT;
        ret->per_caller = p.per_caller;
        return 0;
}

static int readdir_top(const CapfsHost *host, const CapfsContainer *ct, CapfsDirFiller fill,
                       void *userdata) {
        DIR *dir = NULL;
        struct dirent *de;
        unsigned count;
        bool cpus_listed = false;
        int r;

        r = container_cpu_count(host, ct, &count);
        if (r < 0)
                return r;
        r = open_host_dir(host, HOST_CPU_DIR, &dir);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(dir))) {
                if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
                        continue;
                if (cpu_dir_number(de->d_name) < 0) {
                        fill(userdata, de->d_name, entry_type(dir, de));
                        continue;
                }
                /* The container's CPUs take the place of the host's. */
                if (!cpus_listed) {
                        for (unsigned k = 0; k < count; k++) {
                                char name[32];

                                snprintf(name, sizeof(name), "cpu%u", k);
                                fill(userdata, name, CAPFS_NODE_DIR);
                        }
                        cpus_listed = true;
                }
        }
        r = errno > 0 ? -errno : 0;
        closedir(dir);
        return r;
}

int capfs_sys_cpu_readdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                          CapfsDirFiller fill, void *userdata) {
        g_auto(SysCpuPath) p = {};
        DIR *dir = NULL;
        struct dirent *de;
        int r;

        r = resolve(host, ct, subpath, &p);
        if (r < 0)
                return r;
        if (p.kind == SYS_CPU_TOP)
                return readdir_top(host, ct, fill, userdata);
        if (p.kind != SYS_CPU_HOST)
                return -ENOTDIR;

        r = open_host_dir(host, p.host_path, &dir);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(dir))) {
                if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
                        continue;
                fill(userdata, de->d_name, entry_type(dir, de));
        }
        r = errno > 0 ? -errno : 0;
        closedir(dir);
        return r;
}

int capfs_sys_cpu_read(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, GString *out) {
        g_auto(SysCpuPath) p = {};
        _cleanup_close_ int dirfd = -EBADF;
        const char *leaf;
        struct stat st;
        unsigned count;
        int r;

        r = resolve(host, ct, subpath, &p);
        if (r < 0)
                return r;
        switch (p.kind) {
        case SYS_CPU_TOP:
                return -EISDIR;
        case SYS_CPU_RANGE:
                r = container_cpu_count(host, ct, &count);
                if (r < 0)
                        return r;
                /* The kernel's "%*pbl": a single CPU is "0", not "0-0". */
                if (count == 1)
                        g_string_assign(out, "0\n");
                else
                        g_string_printf(out, "0-%u\n", count - 1);
                return 0;
        case SYS_CPU_OFFLINE:
                g_string_assign(out, "\n");
                return 0;
        case SYS_CPU_HOST:
                break;
        }

        dirfd = open_parent(host->sys_fd, p.host_path, &leaf);
        if (dirfd < 0)
                return dirfd;
        if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        return capfs_read_file_at(dirfd, leaf, out);
}

int capfs_sys_cpu_readlink(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                           GString *out) {
        g_auto(SysCpuPath) p = {};
        _cleanup_close_ int dirfd = -EBADF;
        const char *leaf;
        char target[PATH_MAX];
        ssize_t n;
        int r;

        r = resolve(host, ct, subpath, &p);
        if (r < 0)
                return r;
        if (p.kind != SYS_CPU_HOST)
                return -EINVAL;
        dirfd = open_parent(host->sys_fd, p.host_path, &leaf);
        if (dirfd < 0)
                return dirfd;
        n = readlinkat(dirfd, leaf, target, sizeof(target));
        if (n < 0)
                return -errno;
        if ((size_t) n >= sizeof(target))
                return -ENAMETOOLONG;
        g_string_truncate(out, 0);
        g_string_append_len(out, target, n);
        return 0;
}

/* Read-only: CPUs cannot be brought on- or offline through capfs. */
const CapfsSubtree capfs_sys_cpu_subtree = {
        .path = "sys/devices/system/cpu",
        .render_cached = true,
        .stat = capfs_sys_cpu_stat,
        .readdir = capfs_sys_cpu_readdir,
        .read = capfs_sys_cpu_read,
        .readlink = capfs_sys_cpu_readlink,
};
