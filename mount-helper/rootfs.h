/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths below a container's rootfs, resolved as the container will resolve them once the rootfs is
 * its "/": absolute symlinks start again at the rootfs, ".." never climbs above it, magic links
 * (/proc/PID/fd/N and the like) are never followed. The launcher and the LXC hook run as the
 * host's root before pivot_root, where a plain path string would follow a symlink the container
 * planted out of its tree (runc's CVE-2021-30465); everything they create, open, write or mount
 * on below the rootfs goes through here and is done through the resolved fd.
 *
 * All functions return 0 or an fd on success and a negative errno on failure.
 */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <sys/types.h>

typedef enum {
        /* Create missing directories on the way, and the last component as a directory. */
        ROOTFS_MKDIR = 1 << 0,
        /* Create missing directories on the way, and the last component as an empty file. */
        ROOTFS_MKFILE = 1 << 1,
        /* Use the component walk even where the kernel has openat2() (for the tests). */
        ROOTFS_NO_OPENAT2 = 1 << 2,
} RootfsFlags;

/* An O_PATH fd of PATH below the rootfs ROOT_FD (a directory fd), resolved in the rootfs,
 * creating what FLAGS say with MODE. Where nothing is to be created, one openat2() with
 * RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS; otherwise (and where the kernel lacks openat2) a
 * walk of one component at a time with O_NOFOLLOW that follows symlinks by reading them. */
int rootfs_open(int root_fd, const char *path, RootfsFlags flags, mode_t mode);

/* "/proc/self/fd/N" for FD: how mount(2) and open(2) reach what an O_PATH fd names. */
#define ROOTFS_FD_PATH_MAX 32
const char *rootfs_fd_path(int fd, char buf[ROOTFS_FD_PATH_MAX]);

/* mount(2) of SOURCE onto PATH resolved in the rootfs (created as FLAGS say). */
int rootfs_mount(int root_fd, const char *path, RootfsFlags flags, const char *source, const char *fstype,
                 unsigned long mountflags, const char *data);

/* A bind mount of the host's SOURCE (a trusted path) onto PATH resolved in the rootfs, its
 * mountpoint made as the same kind of node as SOURCE when missing; read-only with READONLY. */
int rootfs_bind(int root_fd, const char *source, const char *path, bool readonly);

/* Makes PATH in the rootfs a read-only (nosuid, nodev) bind mount of itself. */
int rootfs_bind_readonly_self(int root_fd, const char *path);

/* Writes CONTENT to the regular file PATH in the rootfs, creating it (and its directories). */
int rootfs_write_file(int root_fd, const char *path, const char *content);

/* Reads the regular file PATH in the rootfs (at most 64 KiB) into *CONTENT. */
int rootfs_read_file(int root_fd, const char *path, char **content);

/* A symlink at PATH in the rootfs pointing to TARGET (stored as given), its directory made. */
int rootfs_symlink(int root_fd, const char *target, const char *path);

/* Opens the directory PATH in the rootfs for reading into *RET (closedir() it). */
int rootfs_opendir(int root_fd, const char *path, DIR **ret);
