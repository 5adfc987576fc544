/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capfs process that owns the mount: it holds the FUSE connection's fd and the hand-over
 * state for the connection's whole life and runs the serving worker as a child (a new exec of
 * capfs, so a new binary and libcapfs are loaded each time), restarting it when it dies and
 * replacing it on SIGUSR1 or `capfs --upgrade` without unmounting. It runs no libcapfs code
 * itself, so what crashes is only ever the worker.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef struct SupervisorConfig {
        const char *mountpoint; /* resolved */
        const char *exe; /* what workers (and an upgraded supervisor) are exec'd from */
        char **worker_args; /* options passed on to every worker: --cpu-view, -o ..., -d */
        const char *pidfile;
        bool syslog;
        int lock_fd;
} SupervisorConfig;

/* Everything an upgraded supervisor takes over from the one it replaces (--resume=...). */
typedef struct SupervisorResume {
        int fuse_fd;
        int state_fd;
        int worker_pid;
        int worker_control_fd;
        unsigned reloads;
        bool fd_store;
        int seccomp_fd; /* -1: an older supervisor had none; a new one is made */
} SupervisorResume;

/* Mounts and serves until stopped; the exit status of capfs. @foreground: no fuse_daemonize. */
int supervisor_run(const SupervisorConfig *config, const char *fuse_options, bool foreground);
int supervisor_resume(const SupervisorConfig *config, const SupervisorResume *resume);
bool supervisor_parse_resume(const char *text, SupervisorResume *resume);

/* The runtime files of the supervisor serving @mountpoint (resolved). */
char *capfs_lock_path(const char *mountpoint);
char *capfs_status_path(const char *mountpoint);
