/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Answers system calls that containers' seccomp filters hand to a listener, on the proxy socket
 * (fs/seccomp-wire.h): sysinfo(2), with the numbers of the caller's container. One thread, one
 * poll loop over the listening socket and every connected holder; an answer costs a container
 * lookup and three rendered files, so nothing here waits on anything but the kernel.
 *
 * Anything this worker cannot answer itself gets SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel
 * then runs the call as it would without the filter (the host's numbers), never an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/un.h>
#include <unistd.h>

#include "capfs.h"
#include "seccomp-proxy.h"
#include "seccomp-wire.h"

#define MAX_HOLDERS 1024

struct SeccompProxy {
        CapfsHost *host;
        int listen_fd;
        int quit_fd;
        GThread *thread;
        GArray *holders; /* int: connected fds */
        unsigned continued_logged;
};

/* Native struct sysinfo from the container's numbers; mem_unit 1, as a 64-bit kernel answers. */
static void fill_sysinfo(const CapfsSysinfo *in, struct sysinfo *out) {
        memset(out, 0, sizeof(*out));
        out->uptime = (long) MIN(in->uptime_sec, (uint64_t) G_MAXLONG);
        for (unsigned i = 0; i < 3; i++)
                out->loads[i] = in->loads[i];
        out->totalram = in->total_ram;
        out->freeram = in->free_ram;
        out->sharedram = in->shared_ram;
        out->bufferram = in->buffer_ram;
        out->totalswap = in->total_swap;
        out->freeswap = in->free_swap;
        out->procs = (unsigned short) MIN(in->procs, (uint64_t) G_MAXUSHORT);
        out->mem_unit = 1;
}

/*
 * The answer for one notification: 0 with the struct written into the caller, or a negative
 * errno for the caller (-EFAULT for a bad pointer, as the kernel's own), or 1 when the kernel
 * should answer instead (CONTINUE), with why in @why.
 */
static int answer_sysinfo(SeccompProxy *p, const struct seccomp_notif *req, int mem_fd, int listener_fd,
                          const char **why) {
        g_autoptr(CapfsContainer) ct = NULL;
        CapfsSysinfo info;
        struct sysinfo out;
        int r;

        /* 32-bit callers have a struct of their own: the kernel serves them as before. */
        if (req->data.arch != AUDIT_ARCH_X86_64 || req->data.nr != __NR_sysinfo) {
                *why = "not the 64-bit sysinfo call";
                return 1;
        }
        r = capfs_container_resolve(p->host, (pid_t) req->pid, &ct);
        if (r < 0 || ct->host_pidns) {
                *why = r < 0 ? "its container cannot be found" : "the caller is in the host's pid namespace";
                return 1;
        }
        r = capfs_container_sysinfo(p->host, ct, &info);
        if (r < 0) {
                *why = "its container's numbers cannot be read";
                return 1;
        }
        /*
         * Still the same call of the same task: then the pid looked up above was that task's, and
         * the memory written below (opened by the holder and checked there) is its own.
         */
        if (ioctl(listener_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) < 0)
                return -ENOENT;
        fill_sysinfo(&info, &out);
        if (pwrite(mem_fd, &out, sizeof(out), (off_t) req->data.args[0]) != (ssize_t) sizeof(out))
                return -EFAULT;
        return 0;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
}

/* One message from a holder; false when the connection is to be closed. */
static bool serve_one(SeccompProxy *p, int fd) {
        uint8_t buf[PROXY_MESSAGE_MAX];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * PROXY_FDS)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf)};
        int fds[PROXY_FDS] = {-1, -1, -1};
        size_t nfds = 0;
        ProxyHeader header;
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        const char *why = NULL;
        ssize_t n;
        int r;

        n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
        if (n <= 0)
                return false;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < count; i++) {
                                int received;
                                memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                if (nfds < PROXY_FDS)
                                        fds[nfds++] = received;
                                else
                                        close(received);
                        }
                }
        if ((size_t) n < sizeof(header) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || nfds != PROXY_FDS) {
                g_warning("seccomp proxy: a malformed message (%zd bytes, %zu fds); closing that connection", n,
                          nfds);
                close_fds(fds, nfds);
                return false;
        }
        memcpy(&header, buf, sizeof(header));
        /* The structs may be larger on a later kernel; their first members are fixed by its ABI. */
        if (header.sizes.seccomp_notif < sizeof(req) || header.sizes.seccomp_notif_resp < sizeof(resp) ||
            sizeof(header) + (size_t) header.sizes.seccomp_notif + header.sizes.seccomp_notif_resp >
                    (size_t) n) {
                g_warning("seccomp proxy: a message with struct sizes %u/%u this capfs cannot read; closing",
                          header.sizes.seccomp_notif, header.sizes.seccomp_notif_resp);
                close_fds(fds, nfds);
                return false;
        }
        memcpy(&req, buf + sizeof(header), sizeof(req));

        r = answer_sysinfo(p, &req, fds[PROXY_FD_MEM], fds[PROXY_FD_LISTENER], &why);
        memset(&resp, 0, sizeof(resp));
        resp.id = req.id;
        if (r == 1) {
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                /* Rare by nature (a failing container, a 32-bit program): the first and every 64th is logged. */
                if (p->continued_logged++ % 64 == 0)
                        g_message("seccomp proxy: syscall %d of pid %u left to the kernel: %s", req.data.nr,
                                  req.pid, why);
        } else
                resp.error = r;
        close_fds(fds, nfds);

        header.reserved = 0;
        header.cookie_len = 0;
        memcpy(buf, &header, sizeof(header));
        memcpy(buf + sizeof(header) + header.sizes.seccomp_notif, &resp, sizeof(resp));
        iov.iov_len = sizeof(header) + header.sizes.seccomp_notif + header.sizes.seccomp_notif_resp;
        return send(fd, buf, iov.iov_len, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t) iov.iov_len;
}

static void drop_holder(SeccompProxy *p, guint i) {
        close(g_array_index(p->holders, int, i));
        g_array_remove_index_fast(p->holders, i);
}

static gpointer proxy_thread(gpointer data) {
        SeccompProxy *p = data;

        for (;;) {
                guint n = p->holders->len;
                g_autofree struct pollfd *pfd = g_new0(struct pollfd, n + 2);

                pfd[0] = (struct pollfd) {.fd = p->quit_fd, .events = POLLIN};
                pfd[1] = (struct pollfd) {.fd = p->listen_fd, .events = POLLIN};
                for (guint i = 0; i < n; i++)
                        pfd[i + 2] = (struct pollfd) {.fd = g_array_index(p->holders, int, i), .events = POLLIN};
                if (poll(pfd, n + 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        g_warning("seccomp proxy: poll: %s; no more answers from this worker", g_strerror(errno));
                        break;
                }
                if (pfd[0].revents)
                        break;
                /* Backwards, so that dropping one leaves the indexes still to visit in place. */
                for (guint i = n; i-- > 0;) {
                        if (!pfd[i + 2].revents)
                                continue;
                        if ((pfd[i + 2].revents & POLLIN) ? !serve_one(p, pfd[i + 2].fd) : true)
                                drop_holder(p, i);
                }
                if (pfd[1].revents & POLLIN) {
                        int fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                        if (fd >= 0 && p->holders->len >= MAX_HOLDERS) {
                                g_warning("seccomp proxy: %d holders connected already; refusing another",
                                          MAX_HOLDERS);
                                close(fd);
                        } else if (fd >= 0)
                                g_array_append_val(p->holders, fd);
                }
        }
        return NULL;
}

SeccompProxy *seccomp_proxy_start(CapfsHost *host, int listen_fd) {
        SeccompProxy *p = g_new0(SeccompProxy, 1);

        p->host = host;
        p->listen_fd = listen_fd;
        p->quit_fd = eventfd(0, EFD_CLOEXEC);
        p->holders = g_array_new(FALSE, FALSE, sizeof(int));
        if (p->quit_fd < 0) {
                g_warning("seccomp proxy: eventfd: %s; not answering system calls", g_strerror(errno));
                g_array_unref(p->holders);
                g_free(p);
                return NULL;
        }
        p->thread = g_thread_new("capfs-seccomp", proxy_thread, p);
        return p;
}

void seccomp_proxy_stop(SeccompProxy *p) {
        uint64_t one = 1;

        if (!p)
                return;
        if (write(p->quit_fd, &one, sizeof(one)) < 0)
                g_warning("seccomp proxy: cannot stop its thread: %s", g_strerror(errno));
        g_thread_join(p->thread);
        /* The holders reconnect, to the next worker, on their next message. */
        for (guint i = p->holders->len; i-- > 0;)
                drop_holder(p, i);
        g_array_unref(p->holders);
        close(p->quit_fd);
        g_free(p);
}

int seccomp_proxy_listen(const char *path, GError **error) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG, "%s: too long for a socket", path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "socket: %s", g_strerror(errno));
                return -1;
        }
        /* A socket file left by a capfs that did not stop cleanly: nobody listens on it any more. */
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
            listen(fd, SOMAXCONN) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot listen on %s: %s; is /run/capfs writable?", path, g_strerror(errno));
                close(fd);
                return -1;
        }
        return fd;
}
