/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The serving half of capfs: a process the supervisor starts (and restarts) with the FUSE
 * connection's fd, the hand-over state and a control socket. It runs libcapfs behind a libfuse
 * session whose I/O goes through hooks of ours: on the shared /dev/fuse file (never a clone,
 * whose requests the kernel ends in error when it is closed), replaying the connection's
 * FUSE_INIT, and able to stop reading and finish what it has read before it exits.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "capfs.h"

/* Exit statuses the supervisor tells apart. */
enum {
        WORKER_EXIT_STOPPED = 0, /* asked to stop, and it did: nothing left in flight */
        WORKER_EXIT_FAILED = 1, /* could not start (before it said "ready") or failed while serving */
        WORKER_EXIT_UNMOUNTED = 3, /* the connection ended: unmounted or aborted */
};

/* Control messages, one per datagram on the SOCK_SEQPACKET pair. */
#define WORKER_MSG_READY "ready" /* worker -> supervisor: set up, not reading yet */
#define WORKER_MSG_GO "go" /* supervisor -> worker: the previous worker is gone, serve */
#define WORKER_MSG_STOP "stop" /* supervisor -> worker: stop reading, finish, exit */

typedef struct WorkerConfig {
        int fuse_fd;
        int state_fd;
        int control_fd;
        int seccomp_fd; /* the seccomp proxy channel from the supervisor (seccomp-proxy.h); -1: none */
        const char *mountpoint; /* for messages */
        CapfsCpuView cpu_view;
        /* The cgroup view's budget where a container's cgroup2 root sets none (CapfsHost's). */
        uint64_t cgroup_max_descendants;
        uint64_t cgroup_max_depth;
        uint64_t render_cache_usec; /* CapfsHost's */
        char **fuse_options; /* the -o options, which also configure the session */
} WorkerConfig;

int worker_run(const WorkerConfig *config);
/* "-o" option string shared by the mount and every worker's session. */
char *capfs_fuse_option_string(char **user);
