/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Containers' seccomp notifications (sysinfo(2)): the supervisor listens on the proxy socket
 * for the mount's whole life and keeps the holders' connections (seccomp-relay.c); it passes
 * each notification, tagged, to the serving worker over a channel of that worker's, which
 * answers it (seccomp-proxy.c). fs/seccomp-wire.h has the protocol holders speak; on a channel
 * each message is a uint64_t tag followed by that protocol's message, and so is the answer.
 */
#pragma once

#include <glib.h>

#include "capfs.h"

/* ---- the worker (seccomp-proxy.c) */

typedef struct SeccompProxy SeccompProxy;

/* Answers what comes on @channel_fd from a thread of its own. NULL on failure (logged). */
SeccompProxy *seccomp_proxy_start(CapfsHost *host, int channel_fd);
/* Answers what is queued on the channel already, then ends the thread. */
void seccomp_proxy_stop(SeccompProxy *p);

/* ---- the supervisor (seccomp-relay.c) */

typedef struct SeccompRelay SeccompRelay;

/* The listening socket at @path (a stale file there is replaced): an fd, or -1. */
int seccomp_proxy_listen(const char *path, GError **error);
/* Accepts holders on @listen_fd (not owned) from the default main context. */
SeccompRelay *seccomp_relay_new(int listen_fd);
/* Notifications go to the worker on @channel_fd from now on; -1: none serves. */
void seccomp_relay_serve_with(SeccompRelay *r, int channel_fd);
/* The worker of @channel_fd ended: what it did not answer goes to the kernel (CONTINUE). */
void seccomp_relay_channel_gone(SeccompRelay *r, int channel_fd);
/* Everything outstanding goes to the kernel; the holders are disconnected (they reconnect). */
void seccomp_relay_free(SeccompRelay *r);
