/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the capfs serving a mountpoint keeps its runtime files (lock, status, seccomp socket),
 * named after the mountpoint so that several capfs can run side by side. Header only: the daemon
 * and capfs-launch both need the names. tests/integration/restart-lib.sh and
 * mount-helper/lxc/meson.build derive them the same way.
 */
#pragma once

#include <glib.h>

#define CAPFS_RUNTIME_DIR "/run/capfs"

/* CAPFS_RUNTIME_DIR/HASH.SUFFIX, HASH the first 16 hex digits of sha256(@mountpoint, resolved). */
static inline char *capfs_runtime_path(const char *mountpoint, const char *suffix) {
        g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, mountpoint, -1);

        return g_strdup_printf(CAPFS_RUNTIME_DIR "/%.16s.%s", digest, suffix);
}
