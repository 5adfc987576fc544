/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

/* As the kernel's MAXSYMLINKS: a loop of links fails with ELOOP. */
#define MAX_SYMLINKS 40
/* A component that keeps being created and removed under us is given up on (counted per
 * component). */
#define MAX_CREATE_RETRIES 16
#define MAX_FILE_SIZE (64 * 1024)

const char *rootfs_fd_path(int fd, char buf[ROOTFS_FD_PATH_MAX]) {
        snprintf(buf, ROOTFS_FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static bool same_inode(int a, int b) {
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_in_root(int root_fd, const char *path) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;
        do
                fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? -errno : fd;
}

/* Creates COMPONENT in the directory DIR_FD as FLAGS and LAST say; an entry that appeared
 * meanwhile is fine (the walk looks at it again). */
static int create_component(int dir_fd, const char *component, bool last, RootfsFlags flags, mode_t mode) {
        if (last && (flags & ROOTFS_MKFILE)) {
                int fd = openat(dir_fd, component, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                mode);
                if (fd < 0)
                        return errno == EEXIST ? 0 : -errno;
                close(fd);
                return 0;
        }
        if (mkdirat(dir_fd, component, last ? mode : 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/*
 * The component walk: each component opened with O_PATH | O_NOFOLLOW relative to the directory
 * reached so far, so nothing is ever followed by the kernel; a symlink is read and its target put
 * in front of what is left of the path (an absolute one from the rootfs again), as the kernel does
 * for the container once the rootfs is its root.
 */
static int walk(int root_fd, const char *path, RootfsFlags flags, mode_t mode) {
        g_autofree char *todo = g_strdup(path);
        const char *p = todo;
        int cur = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        unsigned links = 0, retries = 0;
        int r;

        if (cur < 0)
                return -errno;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        return cur;
                const char *end = strchrnul(p, '/');
                g_autofree char *component = g_strndup(p, (gsize) (end - p));
                const char *rest = end;
                while (*rest == '/')
                        rest++;
                bool last = *rest == '\0';

                if (strcmp(component, ".") == 0) {
                        p = end;
                        continue;
                }
                if (strcmp(component, "..") == 0) {
                        /* The rootfs is its own parent, as "/" is. */
                        if (!same_inode(cur, root_fd)) {
                                int up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (up < 0) {
                                        r = -errno;
                                        close_fd(&cur);
                                        return r;
                                }
                                close_fd(&cur);
                                cur = up;
                        }
                        p = end;
                        continue;
                }

                int fd = openat(cur, component, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        r = -errno;
                        if (r != -ENOENT || !(flags & (ROOTFS_MKDIR | ROOTFS_MKFILE)) ||
                            ++retries > MAX_CREATE_RETRIES) {
                                close_fd(&cur);
                                return r;
                        }
                        r = create_component(cur, component, last, flags, mode);
                        if (r < 0) {
                                close_fd(&cur);
                                return r;
                        }
                        continue; /* open what is there now */
                }

                struct stat st;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        close_fd(&fd);
                        close_fd(&cur);
                        return r;
                }
                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
                        close_fd(&fd);
                        if (n < 0 || ++links > MAX_SYMLINKS) {
                                r = n < 0 ? -errno : -ELOOP;
                                close_fd(&cur);
                                return r;
                        }
                        target[n] = '\0';
                        if (target[0] == '/') {
                                close_fd(&cur);
                                cur = openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (cur < 0)
                                        return -errno;
                        }
                        char *next = g_strconcat(target, "/", rest, NULL);
                        g_free(todo);
                        todo = next;
                        p = todo;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        close_fd(&cur);
                        cur = fd;
                        p = end;
                        retries = 0;
                        continue;
                }
                close_fd(&cur);
                if (!last) {
                        close_fd(&fd);
                        return -ENOTDIR;
                }
                return fd;
        }
}

int rootfs_open(int root_fd, const char *path, RootfsFlags flags, mode_t mode) {
        /* "" names the rootfs itself, as "/" does (openat2() would say ENOENT). */
        if (!*path)
                path = ".";
        if (!(flags & (ROOTFS_MKDIR | ROOTFS_MKFILE | ROOTFS_NO_OPENAT2))) {
                int fd = open_in_root(root_fd, path);
                /* ENOSYS: older than 5.6; EPERM: a seccomp filter that does not know it. */
                if (fd != -ENOSYS && fd != -EPERM)
                        return fd;
        }
        return walk(root_fd, path, flags, mode);
}

int rootfs_mount(int root_fd, const char *path, RootfsFlags flags, const char *source, const char *fstype,
                 unsigned long mountflags, const char *data) {
        char buf[ROOTFS_FD_PATH_MAX];
        int fd = rootfs_open(root_fd, path, flags, 0755);
        int r = 0;

        if (fd < 0)
                return fd;
        if (mount(source, rootfs_fd_path(fd, buf), fstype, mountflags, data) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* Remounts the bind mount now on top of PATH read-only: PATH is looked up again, since the fd
 * the bind was made on still names what lies below it. */
static int remount_readonly(int root_fd, const char *path) {
        return rootfs_mount(root_fd, path, 0, NULL, NULL,
                            MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

int rootfs_bind(int root_fd, const char *source, const char *path, bool readonly) {
        struct stat st;
        int r;

        if (stat(source, &st) < 0)
                return -errno;
        r = rootfs_mount(root_fd, path, S_ISDIR(st.st_mode) ? ROOTFS_MKDIR : ROOTFS_MKFILE, source, NULL,
                         MS_BIND | MS_REC, NULL);
        if (r < 0 || !readonly)
                return r;
        return remount_readonly(root_fd, path);
}

int rootfs_bind_readonly_self(int root_fd, const char *path) {
        char buf[ROOTFS_FD_PATH_MAX];
        int fd = rootfs_open(root_fd, path, 0, 0);
        int r = 0;

        if (fd < 0)
                return fd;
        /* Source and target are the same resolved fd: nothing is looked up by name. */
        if (mount(rootfs_fd_path(fd, buf), buf, NULL, MS_BIND | MS_REC, NULL) < 0)
                r = -errno;
        close(fd);
        return r < 0 ? r : remount_readonly(root_fd, path);
}

/* Reopens the O_PATH fd FD of a regular file for real I/O (FLAGS); anything else (a FIFO
 * would block, a device would do what it does) is refused. */
static int reopen_regular(int fd, int flags) {
        char buf[ROOTFS_FD_PATH_MAX];
        struct stat st;
        int io;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        io = open(rootfs_fd_path(fd, buf), flags | O_CLOEXEC | O_NOCTTY);
        return io < 0 ? -errno : io;
}

int rootfs_write_file(int root_fd, const char *path, const char *content) {
        int fd = rootfs_open(root_fd, path, ROOTFS_MKFILE, 0644);
        int io, r = 0;
        size_t len = strlen(content), done = 0;

        if (fd < 0)
                return fd;
        io = reopen_regular(fd, O_WRONLY | O_TRUNC);
        close(fd);
        if (io < 0)
                return io;
        while (done < len) {
                ssize_t n = write(io, content + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                done += (size_t) n;
        }
        close(io);
        return r;
}

int rootfs_read_file(int root_fd, const char *path, char **content) {
        int fd = rootfs_open(root_fd, path, 0, 0);
        g_autofree char *buf = NULL;
        size_t len = 0;
        int io;

        if (fd < 0)
                return fd;
        io = reopen_regular(fd, O_RDONLY);
        close(fd);
        if (io < 0)
                return io;
        buf = g_malloc(MAX_FILE_SIZE + 1);
        for (;;) {
                ssize_t n = read(io, buf + len, MAX_FILE_SIZE - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        close(io);
                        return r;
                }
                if (n == 0 || (len += (size_t) n) == MAX_FILE_SIZE)
                        break;
        }
        close(io);
        buf[len] = '\0';
        *content = g_steal_pointer(&buf);
        return 0;
}

int rootfs_symlink(int root_fd, const char *target, const char *path) {
        g_autofree char *dir = g_path_get_dirname(path);
        g_autofree char *name = g_path_get_basename(path);
        int dir_fd, r = 0;

        if (strcmp(name, "/") == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;
        dir_fd = rootfs_open(root_fd, dir, ROOTFS_MKDIR, 0755);
        if (dir_fd < 0)
                return dir_fd;
        if (symlinkat(target, dir_fd, name) < 0)
                r = -errno;
        close(dir_fd);
        return r;
}

int rootfs_opendir(int root_fd, const char *path, DIR **ret) {
        char buf[ROOTFS_FD_PATH_MAX];
        int fd = rootfs_open(root_fd, path, 0, 0);
        int dir_fd;

        if (fd < 0)
                return fd;
        dir_fd = open(rootfs_fd_path(fd, buf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(fd);
        if (dir_fd < 0)
                return -errno;
        *ret = fdopendir(dir_fd);
        if (!*ret) {
                int r = -errno;
                close(dir_fd);
                return r;
        }
        return 0;
}
