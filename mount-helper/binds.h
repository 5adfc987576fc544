/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the runtime hooks (capfs-mount-hook for LXC, capfs-oci-hook for podman, CRI-O and other
 * OCI runtimes) put into a container whose runtime has already mounted /proc, /sys and its cgroups
 * below the rootfs, before pivot_root: capfs's /proc files and sys/devices/system/cpu read-only,
 * and on cgroup v1 and hybrid hosts the cgroup view over its controller hierarchies. Every target
 * is resolved inside the rootfs (rootfs.h).
 *
 * Which cgroups: systemd decides the cgroup layout with statfs() and accepts only real cgroup
 * file systems for its own hierarchy, so name=systemd (and a cgroup2 tree) stay the runtime's
 * real mounts; only the v1 controller hierarchies are replaced by capfs's view, through which the
 * container manages its own sub-cgroups but cannot raise its own limits. On a pure cgroup v2 host
 * nothing is replaced.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* capfs serves DIR: a FUSE mount with a readable proc/meminfo. */
bool binds_capfs_mounted(const char *capfs);

/* The file system type (statfs f_type) of PATH in the rootfs; 0 when it does not exist. */
long binds_fstype_in(int root_fd, const char *path);

/* Binds capfs's /proc files and sys/devices/system/cpu (those the kernel and capfs both have)
 * read-only over the container's. ROOT names the rootfs and CONTAINER the container in errors. */
bool binds_proc_and_cpu(int root_fd, const char *root, const char *container, const char *capfs,
                        GError **error);

/* Binds the cgroup view over each v1 controller hierarchy mounted below the tmpfs at
 * sys/fs/cgroup (co-mounted controllers' symlinks, name=systemd and cgroup2 are left alone);
 * nothing on a pure cgroup v2 layout. */
bool binds_cgroups(int root_fd, const char *root, const char *container, const char *capfs, GError **error);
