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
