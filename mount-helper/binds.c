/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "binds.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "rootfs.h"

/* The /proc files capfs serves; the kernel may lack some (slabinfo, pressure/...). */
static const char *const proc_files[] = {
        "meminfo", "cpuinfo",  "stat",         "uptime",      "loadavg",         "diskstats",
        "swaps",   "slabinfo", "pressure/cpu", "pressure/io", "pressure/memory",
};

bool binds_capfs_mounted(const char *capfs) {
        struct statfs fs;
        g_autofree char *meminfo = g_build_filename(capfs, "proc/meminfo", NULL);
        return statfs(capfs, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC && access(meminfo, R_OK) == 0;
}

long binds_fstype_in(int root_fd, const char *path) {
        struct statfs fs;
        int fd = rootfs_open(root_fd, path, 0, 0);
        long type = 0;
        if (fd < 0)
                return 0;
        if (fstatfs(fd, &fs) == 0)
                type = (long) fs.f_type;
        close(fd);
        return type;
}

static bool exists_in(int root_fd, const char *path) {
        int fd = rootfs_open(root_fd, path, 0, 0);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

static bool bind(int root_fd, const char *root, const char *container, const char *source,
                 const char *target, bool readonly, GError **error) {
        int r = rootfs_bind(root_fd, source, target, readonly);
        if (r < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r),
                            "cannot bind-mount %s over %s/%s for container %s: %s", source, root, target,
                            container, g_strerror(-r));
                return false;
        }
        return true;
}

bool binds_proc_and_cpu(int root_fd, const char *root, const char *container, const char *capfs,
                        GError **error) {
        for (size_t f = 0; f < G_N_ELEMENTS(proc_files); f++) {
                g_autofree char *source = g_build_filename(capfs, "proc", proc_files[f], NULL);
                g_autofree char *target = g_build_filename("proc", proc_files[f], NULL);
                if (access(source, F_OK) == 0 && exists_in(root_fd, target) &&
                    !bind(root_fd, root, container, source, target, true, error))
                        return false;
        }
        g_autofree char *cpu = g_build_filename(capfs, "sys/devices/system/cpu", NULL);
        if (g_file_test(cpu, G_FILE_TEST_IS_DIR) && exists_in(root_fd, "sys/devices/system/cpu"))
                return bind(root_fd, root, container, cpu, "sys/devices/system/cpu", true, error);
        return true;
}

bool binds_cgroups(int root_fd, const char *root, const char *container, const char *capfs, GError **error) {
        DIR *d = NULL;
        struct statfs fs;
        int r = rootfs_opendir(root_fd, "sys/fs/cgroup", &d);
        if (r == -ENOENT)
                return true;
        if (r < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r),
                            "cannot list %s/sys/fs/cgroup: %s", root, g_strerror(-r));
                return false;
        }
        /* Pure v2 (cgroup2 there) or no cgroups mounted for the container: nothing to replace. */
        if (fstatfs(dirfd(d), &fs) < 0 || fs.f_type != TMPFS_MAGIC) {
                closedir(d);
                return true;
        }
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_type == DT_DIR && e->d_name[0] != '.')
                        g_ptr_array_add(names, g_strdup(e->d_name));
        closedir(d);
        for (guint i = 0; i < names->len; i++) {
                const char *hier = names->pdata[i];
                g_autofree char *target = g_build_filename("sys/fs/cgroup", hier, NULL);
                g_autofree char *view = g_build_filename(capfs, "cgroup", hier, NULL);
                if (strcmp(hier, "systemd") == 0 || g_str_has_prefix(hier, "name=") ||
                    binds_fstype_in(root_fd, target) != CGROUP_SUPER_MAGIC ||
                    !g_file_test(view, G_FILE_TEST_IS_DIR))
                        continue;
                if (!bind(root_fd, root, container, view, target, false, error))
                        return false;
        }
        return true;
}
