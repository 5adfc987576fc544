/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd 258 and later run on cgroup2 only. Given the v1 controllers of a hybrid or v1 host, such
 * an init prints "Detected unsupported legacy cgroup hierarchy, refusing execution" and freezes,
 * and the launcher would wait on a container that never boots. So the launcher looks at the
 * systemd in the rootfs first, and refuses with what to change.
 */
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
        DIR *d = NULL;
        unsigned best = 0;

        if (rootfs_opendir(root_fd, dir, &d) < 0)
                return 0;
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

/* Keeps DIR in *BEST_DIR when its library is newer than *BEST. */
static void consider(int root_fd, const char *dir, unsigned *best, char **best_dir) {
        unsigned v = shared_library_version(root_fd, dir);
        if (v > *best) {
                *best = v;
                g_free(*best_dir);
                *best_dir = g_strdup(dir);
        }
}

unsigned rootfs_systemd_version(int root_fd, char **ret_dir) {
        DIR *d = NULL;
        unsigned best = 0;

        consider(root_fd, "usr/lib/systemd", &best, ret_dir);
        consider(root_fd, "lib/systemd", &best, ret_dir);
        /* Debian and Ubuntu keep it in the multiarch directory: usr/lib/TRIPLET/systemd. */
        if (rootfs_opendir(root_fd, "usr/lib", &d) < 0)
                return best;
        for (struct dirent *e; (e = readdir(d));) {
                if (!strstr(e->d_name, "-linux-"))
                        continue;
                g_autofree char *dir = g_strdup_printf("usr/lib/%s/systemd", e->d_name);
                consider(root_fd, dir, &best, ret_dir);
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
