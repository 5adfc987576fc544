/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker's answers to containers' seccomp notifications (sysinfo(2)), served on the socket
 * the supervisor listens on for the mount's whole life (fs/seccomp-wire.h has the protocol).
 */
#pragma once

#include <glib.h>

#include "capfs.h"

typedef struct SeccompProxy SeccompProxy;

/* The supervisor's listening socket at @path (a stale file there is replaced): an fd, or -1. */
int seccomp_proxy_listen(const char *path, GError **error);
/* Serves the holders that connect to @listen_fd from a thread of its own. NULL on failure (logged). */
SeccompProxy *seccomp_proxy_start(CapfsHost *host, int listen_fd);
/* Finishes the message at hand, disconnects every holder (they reconnect) and ends the thread. */
void seccomp_proxy_stop(SeccompProxy *p);
