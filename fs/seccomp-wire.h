/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seccomp notification proxy's wire format and where capfs listens for it: how a process
 * holding a container's seccomp listener (LXC's monitor, or capfs-launch) asks capfs to answer
 * a system call the container made. It is LXC's (lxc.seccomp.notify.proxy), so LXC needs no
 * adapter: one SOCK_SEQPACKET datagram of a ProxyHeader, the kernel's struct seccomp_notif and
 * struct seccomp_notif_resp (at the sizes the header gives), and an optional cookie, with three
 * fds attached: the caller's /proc/PID directory, its /proc/PID/mem (opened, then checked to
 * still belong to the notification) and the listener. The answer is the same datagram back,
 * without the cookie and the fds, its seccomp_notif_resp filled in; the sender passes it on to
 * the kernel. Header only: the daemon serves it (bindings/seccomp-proxy.c), the launcher speaks
 * it (mount-helper/sysinfo.c).
 */
#pragma once

#include <errno.h>
#include <glib.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "runtime-dir.h"

typedef struct ProxyHeader {
        uint64_t reserved; /* 0 both ways */
        pid_t monitor_pid;
        pid_t init_pid;
        struct seccomp_notif_sizes sizes;
        uint64_t cookie_len; /* bytes after the response */
} ProxyHeader;

#define PROXY_FD_PROC_DIR 0
#define PROXY_FD_MEM 1
#define PROXY_FD_LISTENER 2
#define PROXY_FDS 3
/* What LXC sends at most: its cookie is up to 64 bytes. */
#define PROXY_COOKIE_MAX 64
/* Generous room for a later kernel's larger structs. */
#define PROXY_MESSAGE_MAX 1024

/* Where the capfs serving @mountpoint (resolved) listens, next to its lock file. */
static inline char *capfs_seccomp_socket_path(const char *mountpoint) {
        return capfs_runtime_path(mountpoint, "seccomp");
}

/* The most fds any message of the proxy, or of the launcher's child, carries. */
#define WIRE_FDS_MAX 3

/* One datagram of @iov with @nfds fds attached: the bytes sent, or -errno. */
static inline ssize_t wire_send(int sock, const struct iovec *iov, size_t iovcnt, const int *fds,
                                size_t nfds, int flags) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
        } control = {0};
        struct msghdr mh = {.msg_iov = (struct iovec *) iov, .msg_iovlen = iovcnt};
        ssize_t n;

        if (nfds > WIRE_FDS_MAX)
                return -EINVAL;
        if (nfds > 0) {
                struct cmsghdr *c;
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        n = sendmsg(sock, &mh, flags | MSG_NOSIGNAL);
        return n < 0 ? -errno : n;
}

/*
 * One datagram into @buf, its fds (close-on-exec) into @fds (at most WIRE_FDS_MAX; any beyond are
 * closed) and their number into @nfds: the bytes read (0 at the end), or -errno. A datagram cut
 * short (larger than @len, or with more fds than fit) is -EMSGSIZE, its fds closed.
 */
static inline ssize_t wire_recv(int sock, void *buf, size_t len, int *fds, size_t *nfds, int flags) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * WIRE_FDS_MAX)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = len};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.buf,
                            .msg_controllen = sizeof(control.buf)};
        ssize_t n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);

        *nfds = 0;
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (*nfds < WIRE_FDS_MAX)
                                fds[(*nfds)++] = fd;
                        else
                                close(fd);
                }
        }
        if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
                for (size_t i = 0; i < *nfds; i++)
                        close(fds[i]);
                *nfds = 0;
                return -EMSGSIZE;
        }
        return n;
}
