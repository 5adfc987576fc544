/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd 258 and later run on cgroup2 only. Given the v1 controllers of a hybrid or v1 host, such
 * an init prints "Detected unsupported legacy cgroup hierarchy, refusing execution" and freezes,
 * and the launcher would wait on a container that never boots. So the launcher looks at the
 * systemd in the rootfs first, and refuses with what to change.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"
#include "rootfs.h"

/* Only an init that is systemd: the default /sbin/init, or a path to a binary named systemd. */
static bool runs_systemd(const Options *o) {
        const char *cmd = o->argv ? o->argv[0] : NULL;
        const char *base = cmd ? strrchr(cmd, '/') : NULL;

        if (!cmd)
                return false;
        return g_str_equal(cmd, "/sbin/init") || g_str_equal(base ? base + 1 : cmd, "systemd");
}

/* The highest N of libsystemd-shared-N.so in DIR below the rootfs; 0 when there is none. */
static unsigned shared_library_version(int root_fd, const char *dir) {
        char fd_path[ROOTFS_FD_PATH_MAX];
        unsigned best = 0;
        int path_fd = rootfs_open(root_fd, dir, 0, 0);
        if (path_fd < 0)
                return 0;
        int fd = open(rootfs_fd_path(path_fd, fd_path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(path_fd);
        if (fd < 0)
                return 0;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return 0;
        }
        for (struct dirent *e; (e = readdir(d));) {
                unsigned version;
                char tail[4];
                /* "libsystemd-shared-262.so", also "libsystemd-shared-257.9-1.so" of some builds. */
                if (sscanf(e->d_name, "libsystemd-shared-%u%3s", &version, tail) == 2 && version > best)
                        best = version;
        }
        closedir(d);
        return best;
}

unsigned rootfs_systemd_version(int root_fd, char **ret_dir) {
        static const char *const dirs[] = {"usr/lib/systemd", "lib/systemd"};
        char fd_path[ROOTFS_FD_PATH_MAX];
        unsigned best = 0;

        for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
                unsigned v = shared_library_version(root_fd, dirs[i]);
                if (v > best) {
                        best = v;
                        g_free(*ret_dir);
                        *ret_dir = g_strdup(dirs[i]);
                }
        }
        /* Debian and Ubuntu keep it in the multiarch directory: usr/lib/TRIPLET/systemd. */
        int path_fd = rootfs_open(root_fd, "usr/lib", 0, 0);
        int fd = path_fd < 0 ? -1
                             : open(rootfs_fd_path(path_fd, fd_path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (path_fd >= 0)
                close(path_fd);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return best;
        }
        for (struct dirent *e; (e = readdir(d));) {
                if (!strstr(e->d_name, "-linux-"))
                        continue;
                g_autofree char *dir = g_strdup_printf("usr/lib/%s/systemd", e->d_name);
                unsigned v = shared_library_version(root_fd, dir);
                if (v > best) {
                        best = v;
                        g_free(*ret_dir);
                        *ret_dir = g_steal_pointer(&dir);
                }
        }
        closedir(d);
        return best;
}

int init_check_cgroups(const Launch *l, GError **error) {
        g_autofree char *dir = NULL;
        unsigned version;

        if (l->v2_only || !runs_systemd(&l->opt))
                return 0;
        int root_fd = open(l->opt.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return 0; /* the mounts will say what is wrong with the rootfs */
        version = rootfs_systemd_version(root_fd, &dir);
        close(root_fd);
        if (version < SYSTEMD_CGROUP2_ONLY)
                return 0;
        return launch_invalid(
                error,
                "the container's systemd %u (%s/%s/libsystemd-shared-%u.so) runs on cgroup2 only "
                "(systemd %d and later refuse cgroup v1), and this host's cgroups have v1 "
                "controllers (hybrid or v1): its init would refuse to boot. Boot the host on "
                "pure cgroup2 (kernel command line 'systemd.unified_cgroup_hierarchy=1', "
                "without 'SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1'), or run a container whose "
                "systemd is older than %d",
                version, l->opt.rootfs, dir, version, SYSTEMD_CGROUP2_ONLY, SYSTEMD_CGROUP2_ONLY);
}
