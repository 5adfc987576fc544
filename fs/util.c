/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "internal.h"

unsigned capfs_fd_budget(unsigned wanted) {
        struct rlimit nofile;
        rlim_t quarter;

        if (getrlimit(RLIMIT_NOFILE, &nofile) < 0 || nofile.rlim_cur == RLIM_INFINITY)
                return wanted;
        quarter = nofile.rlim_cur / 4;
        return (unsigned) CLAMP(quarter, (rlim_t) 16, (rlim_t) wanted);
}

int capfs_open_regular_at(int dirfd, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: a fixture or a hostile tree must never park a daemon thread on a FIFO. */
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        return g_steal_fd(&fd);
}

/* The first read asks for this much: every file capfs renders from fits, most in one go. */
#define FIRST_READ 16384

int capfs_pread_whole(int fd, bool one_piece, GString *out) {
        size_t chunk = FIRST_READ;

        g_string_truncate(out, 0);
        for (;;) {
                gsize used = out->len;
                ssize_t n;

                /* procfs and cgroupfs report size 0: read until they say end of file. */
                g_string_set_size(out, used + chunk);
                n = pread(fd, out->str + used, chunk, (off_t) used);
                if (n < 0) {
                        int r = -errno;
                        g_string_set_size(out, used);
                        if (r == -EINTR)
                                continue;
                        return r;
                }
                g_string_set_size(out, used + (gsize) n);
                if (n == 0 || (one_piece && (size_t) n < chunk))
                        return 0;
                chunk = 4096;
        }
}

int capfs_read_file_at(int dirfd, const char *path, GString *out) {
        _cleanup_close_ int fd = capfs_open_regular_at(dirfd, path);

        if (fd < 0) {
                g_string_truncate(out, 0);
                return fd;
        }
        return capfs_pread_whole(fd, false, out);
}

int capfs_read_proc_pid(const CapfsHost *host, pid_t pid, const char *name, GString *out) {
        char path[64];

        g_assert(pid > 0);
        snprintf(path, sizeof(path), "%d/%s", (int) pid, name);
        return capfs_read_file_at(host->proc_fd, path, out);
}
