/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Answers system calls that containers' seccomp filters hand to a listener (fs/seccomp-wire.h),
 * as the supervisor passes them on (seccomp-relay.c): sysinfo(2), with the numbers of the
 * caller's container. One thread; an answer costs a container lookup and three rendered files,
 * so nothing here waits on anything but the kernel.
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

struct SeccompProxy {
        CapfsHost *host;
        int channel_fd; /* from the supervisor, which owns the holders' connections */
        int quit_fd;
        GThread *thread;
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

/* One message from the supervisor; false when the channel ended. */
static bool serve_one(SeccompProxy *p, int fd) {
        uint8_t buf[sizeof(uint64_t) + PROXY_MESSAGE_MAX];
        const size_t at = sizeof(uint64_t); /* the tag comes first */
        int fds[WIRE_FDS_MAX];
        size_t nfds;
        ProxyHeader header;
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        const char *why = NULL;
        size_t reply_len;
        ssize_t n;
        int r;

        n = wire_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);
        if (n == -EAGAIN || n == -EINTR || n == -EMSGSIZE)
                return true;
        if (n <= 0)
                return false;
        /* The supervisor checked the message; the sizes are checked again against what we read. */
        if ((size_t) n < at + sizeof(header) || nfds != PROXY_FDS) {
                close_fds(fds, nfds);
                return true;
        }
        memcpy(&header, buf + at, sizeof(header));
        reply_len = sizeof(header) + (size_t) header.sizes.seccomp_notif + header.sizes.seccomp_notif_resp;
        if (header.sizes.seccomp_notif < sizeof(req) || header.sizes.seccomp_notif_resp < sizeof(resp) ||
            at + sizeof(header) + (size_t) header.sizes.seccomp_notif > (size_t) n ||
            at + reply_len > sizeof(buf)) {
                close_fds(fds, nfds);
                return true;
        }
        memcpy(&req, buf + at + sizeof(header), sizeof(req));

        r = answer_sysinfo(p, &req, fds[PROXY_FD_MEM], fds[PROXY_FD_LISTENER], &why);
        memset(&resp, 0, sizeof(resp));
        resp.id = req.id;
        if (r == 1) {
                resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
                /* Rare by nature (a failing container, a 32-bit program): the first and every 64th is
                 * logged. */
                if (p->continued_logged++ % 64 == 0)
                        g_message("seccomp proxy: syscall %d of pid %u left to the kernel: %s", req.data.nr,
                                  req.pid, why);
        } else
                resp.error = r;
        close_fds(fds, nfds);

        header.reserved = 0;
        header.cookie_len = 0;
        memcpy(buf + at, &header, sizeof(header));
        memset(buf + at + sizeof(header) + header.sizes.seccomp_notif, 0, header.sizes.seccomp_notif_resp);
        memcpy(buf + at + sizeof(header) + header.sizes.seccomp_notif, &resp, sizeof(resp));
        return send(fd, buf, at + reply_len, MSG_NOSIGNAL) == (ssize_t) (at + reply_len);
}

static gpointer proxy_thread(gpointer data) {
        SeccompProxy *p = data;

        for (;;) {
                struct pollfd pfd[2] = {{.fd = p->quit_fd, .events = POLLIN},
                                        {.fd = p->channel_fd, .events = POLLIN}};

                if (poll(pfd, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        g_warning("seccomp proxy: poll: %s; no more answers from this worker",
                                  g_strerror(errno));
                        break;
                }
                if ((pfd[1].revents & POLLIN) && !serve_one(p, p->channel_fd))
                        break;
                if ((pfd[1].revents & (POLLHUP | POLLERR)) && !(pfd[1].revents & POLLIN))
                        break; /* the supervisor was replaced (an upgrade): the next worker answers */
                if (pfd[0].revents) {
                        /* What the supervisor passed on before it told us to stop. */
                        for (int i = 0; i < 1024; i++) {
                                struct pollfd queued = {.fd = p->channel_fd, .events = POLLIN};
                                if (poll(&queued, 1, 0) != 1 || !(queued.revents & POLLIN) ||
                                    !serve_one(p, p->channel_fd))
                                        break;
                        }
                        break;
                }
        }
        return NULL;
}

SeccompProxy *seccomp_proxy_start(CapfsHost *host, int channel_fd) {
        SeccompProxy *p = g_new0(SeccompProxy, 1);

        p->host = host;
        p->channel_fd = channel_fd;
        p->quit_fd = eventfd(0, EFD_CLOEXEC);
        if (p->quit_fd < 0) {
                g_warning("seccomp proxy: eventfd: %s; not answering system calls", g_strerror(errno));
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
        close(p->quit_fd);
        g_free(p);
}
