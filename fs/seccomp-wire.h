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

#include <glib.h>
#include <linux/seccomp.h>
#include <stdint.h>
#include <sys/types.h>

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
        g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, mountpoint, -1);

        return g_strdup_printf("/run/capfs/%.16s.seccomp", digest);
}
