/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libfuse3 low-level operations: FUSE requests in, libcapfs calls, replies out. */
#pragma once

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>
#include <time.h>

#include "capfs.h"
#include "nodes.h"

typedef struct CapfsServer {
        CapfsHost *host;
        NodeTable *nodes;
        struct timespec started;
} CapfsServer;

extern const struct fuse_lowlevel_ops capfs_lowlevel_ops;

/*
 * The pid namespace (the inode of /proc/PID/ns/pid) of the caller of the request this thread
 * is about to process, when the worker looked it up already; 0 when it did not.
 */
void capfs_request_set_pidns(uint64_t inode);
