/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container's seccomp listener, held by the launcher for the container's whole life: the
 * filter hands every sysinfo(2) of the container to it (SECCOMP_RET_USER_NOTIF), and the
 * launcher asks capfs for the answer over capfs's proxy socket, in LXC's protocol
 * (fs/seccomp-wire.h), so one implementation in capfs answers LXC's containers and ours.
 *
 * capfs comes and goes (crashes, reloads, upgrades, stops), the listener does not: whenever
 * capfs cannot answer in time, the kernel answers as it would without the filter
 * (SECCOMP_USER_NOTIF_FLAG_CONTINUE, the host's numbers), so no process ever gets an error or
 * waits for long because of capfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "launch.h"
#include "seccomp-wire.h"

static void relay_close(SysinfoRelay *r) {
        if (r->conn >= 0)
                close(r->conn);
        r->conn = -1;
}

void sysinfo_relay_init(SysinfoRelay *r, const char *capfs_dir) {
        char resolved[PATH_MAX];

        *r = (SysinfoRelay){.listener = -1, .conn = -1, .timeout_ms = SYSINFO_RELAY_TIMEOUT_MS};
        r->socket_path = capfs_seccomp_socket_path(realpath(capfs_dir, resolved) ? resolved : capfs_dir);
}

void sysinfo_relay_clear(SysinfoRelay *r) {
        relay_close(r);
        if (r->listener >= 0)
                close(r->listener);
        r->listener = -1;
        g_clear_pointer(&r->socket_path, g_free);
}

static int relay_connect(SysinfoRelay *r) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        if (r->conn >= 0)
                return 0;
        if (strlen(r->socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, r->socket_path);
        r->conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (r->conn < 0)
                return -errno;
        if (connect(r->conn, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = -errno;
                relay_close(r);
                return e;
        }
        return 0;
}

static int relay_send(SysinfoRelay *r, const void *msg, size_t len, const int fds[PROXY_FDS]) {
        struct iovec iov = {.iov_base = (void *) msg, .iov_len = len};
        ssize_t n = wire_send(r->conn, &iov, 1, fds, PROXY_FDS, 0);

        return n == (ssize_t) len ? 0 : n < 0 ? (int) n : -EMSGSIZE;
}

/* capfs's answer to @req into @resp: 0, or -errno when there is none (in time). */
static int ask_capfs(SysinfoRelay *r, const struct seccomp_notif *req, const int fds[PROXY_FDS],
                     struct seccomp_notif_resp *resp, const char **step) {
        struct {
                ProxyHeader header;
                struct seccomp_notif req;
                struct seccomp_notif_resp resp;
        } msg = {.req = *req}, reply;
        struct pollfd pfd;
        ssize_t n;
        int err;

        msg.header.monitor_pid = getpid();
        msg.header.init_pid = r->init_pid;
        msg.header.sizes = (struct seccomp_notif_sizes){.seccomp_notif = sizeof(msg.req),
                                                        .seccomp_notif_resp = sizeof(msg.resp),
                                                        .seccomp_data = sizeof(msg.req.data)};
        *step = "connect to";
        err = relay_connect(r);
        if (err == 0) {
                *step = "send to";
                err = relay_send(r, &msg, sizeof(msg), fds);
        }
        if (err < 0 && r->conn >= 0) {
                /* capfs's worker was replaced since the last call: once more, on a new connection. */
                relay_close(r);
                *step = "connect to";
                err = relay_connect(r);
                if (err == 0) {
                        *step = "send to";
                        err = relay_send(r, &msg, sizeof(msg), fds);
                }
        }
        if (err < 0)
                return err;
        *step = "receive an answer from";
        pfd = (struct pollfd){.fd = r->conn, .events = POLLIN};
        do
                n = poll(&pfd, 1, r->timeout_ms);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
                /* A late answer must not be taken for the next call's. */
                relay_close(r);
                return n == 0 ? -ETIMEDOUT : -errno;
        }
        n = recv(r->conn, &reply, sizeof(reply), 0);
        if (n != (ssize_t) sizeof(reply) || reply.header.reserved != 0 || reply.resp.id != req->id) {
                err = n < 0 ? -errno : -EBADMSG;
                relay_close(r);
                return err;
        }
        *resp = reply.resp;
        return 0;
}

int sysinfo_relay_handle(SysinfoRelay *r) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp = {0};
        int fds[PROXY_FDS] = {-1, -1, r->listener};
        const char *step = NULL;
        char path[64];
        int err;

        memset(&req, 0, sizeof(req));
        if (ioctl(r->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
                /* ENOENT: the caller was killed before its call was read. */
                return errno == ENOENT || errno == EINTR ? 0 : -errno;

        snprintf(path, sizeof(path), "/proc/%u", req.pid);
        fds[PROXY_FD_PROC_DIR] = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%u/mem", req.pid);
        fds[PROXY_FD_MEM] = open(path, O_RDWR | O_CLOEXEC);
        /* After the opens: still the caller's call, so the pid (and its memory) is still the caller's. */
        if (ioctl(r->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req.id) < 0) {
                err = 0;
                goto out;
        }
        if (fds[PROXY_FD_PROC_DIR] < 0 || fds[PROXY_FD_MEM] < 0) {
                step = "open the caller's /proc/PID/mem for";
                err = -errno;
        } else
                err = ask_capfs(r, &req, fds, &resp, &step);
        if (err < 0) {
                resp = (struct seccomp_notif_resp){.id = req.id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
                r->continued++;
                /* The first of a run of failures, then every 1000th, so a stopped capfs cannot flood the
                 * log. */
                if (r->continued_in_a_row++ % 1000 == 0)
                        g_printerr("capfs-launch: cannot %s capfs at %s (%s): sysinfo() of pid %u gets the "
                                   "host's "
                                   "numbers until capfs answers again; is capfs running?\n",
                                   step, r->socket_path, g_strerror(-err), req.pid);
        } else {
                r->answered++;
                if (r->continued_in_a_row > 0)
                        g_printerr("capfs-launch: capfs answers sysinfo() again\n");
                r->continued_in_a_row = 0;
        }
        resp.id = req.id;
        /* ENOENT: the caller was killed while capfs answered. */
        if (ioctl(r->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
                err = -errno;
        else
                err = 0;
out:
        for (int i = 0; i < 2; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        return err;
}
