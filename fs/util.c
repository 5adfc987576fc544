/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"

int capfs_read_file_at(int dirfd, const char *path, GString *out) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        g_string_truncate(out, 0);
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

        for (;;) {
                gsize used = out->len;
                ssize_t n;

                /* procfs and cgroupfs report size 0; grow in pages until read() says EOF. */
                g_string_set_size(out, used + 4096);
                n = read(fd, out->str + used, 4096);
                if (n < 0) {
                        int r = -errno;
                        g_string_set_size(out, used);
                        if (r == -EINTR)
                                continue;
                        return r;
                }
                g_string_set_size(out, used + (gsize) n);
                if (n == 0)
                        return 0;
        }
}

int capfs_read_proc_pid(const CapfsHost *host, pid_t pid, const char *name, GString *out) {
        char path[64];

        g_assert(pid > 0);
        snprintf(path, sizeof(path), "%d/%s", (int) pid, name);
        return capfs_read_file_at(host->proc_fd, path, out);
}
