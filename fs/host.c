/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>

#include "internal.h"

static const char *const controller_names[_CAPFS_CTRL_MAX] = {
        [CAPFS_CTRL_MEMORY] = "memory",   [CAPFS_CTRL_CPU] = "cpu",     [CAPFS_CTRL_CPUACCT] = "cpuacct",
        [CAPFS_CTRL_CPUSET] = "cpuset",   [CAPFS_CTRL_BLKIO] = "blkio", [CAPFS_CTRL_PIDS] = "pids",
        [CAPFS_CTRL_UNIFIED] = "unified",
};

const char *capfs_controller_name(CapfsController ctrl) {
        g_return_val_if_fail(ctrl < _CAPFS_CTRL_MAX, NULL);
        return controller_names[ctrl];
}

static int open_dir_at(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/*
 * The layout is read off the tree, not off statfs(), so that fixture trees describe
 * themselves: a cgroup2 root has cgroup.controllers at the top; a v1 host has one
 * directory per hierarchy (comounts such as "cpu,cpuacct" are reached through the
 * "cpu" and "cpuacct" links systemd and cgroupfs-mount create).
 */
static void detect_hierarchies(CapfsHost *host) {
        if (faccessat(host->cgroup_fd, "cgroup.controllers", F_OK, 0) == 0) {
                host->layout = CAPFS_LAYOUT_V2;
                host->hierarchy_fd[CAPFS_CTRL_UNIFIED] = fcntl(host->cgroup_fd, F_DUPFD_CLOEXEC, 3);
                return;
        }

        host->layout = CAPFS_LAYOUT_V1;
        for (CapfsController c = 0; c < _CAPFS_CTRL_MAX; c++) {
                int fd = open_dir_at(host->cgroup_fd, controller_names[c]);
                host->hierarchy_fd[c] = fd < 0 ? -1 : fd;
        }
}

static char *read_own_ns(int proc_fd, const char *path) {
        char link[64];
        ssize_t n = readlinkat(proc_fd, path, link, sizeof(link) - 1);

        if (n < 0)
                return NULL;
        link[n] = '\0';
        return g_strdup(link);
}

CapfsHost *capfs_host_open(const char *root, CapfsCpuView cpu_view, GError **error) {
        g_autoptr(CapfsHost) host = g_new0(CapfsHost, 1);
        g_autofree char *proc = g_build_filename(root, "proc", NULL);
        g_autofree char *sys = g_build_filename(root, "sys", NULL);
        g_autofree char *cgroup = g_build_filename(root, "sys", "fs", "cgroup", NULL);
        char link[64];
        ssize_t n;

        host->proc_fd = host->sys_fd = host->cgroup_fd = -1;
        for (CapfsController c = 0; c < _CAPFS_CTRL_MAX; c++)
                host->hierarchy_fd[c] = -1;
        g_mutex_init(&host->init_cache_lock);
        host->init_by_pidns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_rw_lock_init(&host->container_cache_lock);
        host->container_cache = capfs_container_cache_new();
        host->held_files = capfs_held_files_new(false);
        host->cpu_view = cpu_view;
        host->cgroup_max_descendants = CAPFS_CGROUP_MAX_DESCENDANTS_DEFAULT;
        host->cgroup_max_depth = CAPFS_CGROUP_MAX_DEPTH_DEFAULT;
        host->clock_ticks = sysconf(_SC_CLK_TCK);
        if (host->clock_ticks <= 0)
                host->clock_ticks = 100;

        struct {
                int *fd;
                const char *path;
        } roots[] = {{&host->proc_fd, proc}, {&host->sys_fd, sys}, {&host->cgroup_fd, cgroup}};
        for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
                int fd = open_dir_at(AT_FDCWD, roots[i].path);
                if (fd < 0) {
                        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-fd),
                                    "cannot open %s: %s; capfs needs procfs, sysfs and the cgroup "
                                    "hierarchies mounted there",
                                    roots[i].path, g_strerror(-fd));
                        return NULL;
                }
                *roots[i].fd = fd;
        }

        detect_hierarchies(host);

        n = readlinkat(host->proc_fd, "self/ns/pid", link, sizeof(link) - 1);
        if (n < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot read %s/self/ns/pid: %s; is procfs mounted?", proc, g_strerror(errno));
                return NULL;
        }
        link[n] = '\0';
        host->own_pidns = g_strdup(link);
        /* Fixed for the daemon's life (only short-lived helper threads ever setns()). */
        host->own_cgroupns = read_own_ns(host->proc_fd, "self/ns/cgroup");
        host->own_userns = read_own_ns(host->proc_fd, "self/ns/user");

        return g_steal_pointer(&host);
}

/* Held kernel files unread this long are closed: each keeps a page of kernel memory. */
#define HELD_IDLE_USEC (60 * G_USEC_PER_SEC)

void capfs_host_prune(CapfsHost *host) {
        capfs_container_cache_prune(host);
        if (host->held_files)
                capfs_held_files_prune(host->held_files, g_get_monotonic_time() - HELD_IDLE_USEC);
}

void capfs_host_free(CapfsHost *host) {
        if (!host)
                return;
        capfs_closep(&host->proc_fd);
        capfs_closep(&host->sys_fd);
        capfs_closep(&host->cgroup_fd);
        for (CapfsController c = 0; c < _CAPFS_CTRL_MAX; c++)
                capfs_closep(&host->hierarchy_fd[c]);
        g_free(host->own_pidns);
        g_free(host->own_cgroupns);
        g_free(host->own_userns);
        g_clear_pointer(&host->init_by_pidns, g_hash_table_unref);
        g_mutex_clear(&host->init_cache_lock);
        g_clear_pointer(&host->container_cache, g_hash_table_unref);
        g_rw_lock_clear(&host->container_cache_lock);
        g_clear_pointer(&host->held_files, capfs_held_files_free);
        g_free(host);
}
