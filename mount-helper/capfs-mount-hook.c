/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-mount-hook: capfs's LXC mount hook. It gives an LXC container the capfs view of /proc,
 * /sys/devices/system/cpu and (on cgroup v1 and hybrid hosts) of its cgroup controllers, as
 * capfs-launch does.
 *
 * LXC runs mount hooks as the host's root in the container's mount namespace, after it has
 * mounted /proc, /sys and the cgroup hierarchies (lxc.mount.auto) and before pivot_root: the
 * host's capfs mount is still reachable, and the container's tree is below $LXC_ROOTFS_MOUNT.
 * Every path below it is resolved inside it (rootfs.h), so nothing the container left in its
 * rootfs can send a mount elsewhere. What is mounted here stays in the container's namespace.
 *
 * Which cgroups: systemd decides the cgroup layout with statfs() and accepts only real cgroup
 * file systems for its own hierarchy, so name=systemd (and the cgroup2 tree) stay LXC's real
 * mounts in the container's cgroup namespace; only the v1 controller hierarchies are replaced by
 * capfs's view, through which the container manages its own sub-cgroups but cannot raise its own
 * limits. On a pure cgroup v2 host nothing is replaced.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "rootfs.h"

#define PROG "capfs-mount-hook"

static const char usage_text[] =
        "Usage: capfs-mount-hook [--capfs DIR] [--no-cgroup] [--optional] [NAME SECTION HOOK]\n"
        "\n"
        "capfs's LXC mount hook, usually installed by lxc.include = .../capfs/lxc/capfs.conf:\n"
        "  lxc.hook.mount = .../capfs/lxc/capfs-mount-hook [OPTIONS]\n"
        "\n"
        "  --capfs DIR   where capfs is mounted (default /var/lib/capfs)\n"
        "  --no-cgroup   leave the cgroup controllers as LXC mounted them\n"
        "  --optional    start the container without capfs when capfs is not mounted at DIR\n"
        "                (a warning instead of refusing to start it)\n";

/* The /proc files capfs serves; the kernel may lack some (slabinfo, pressure/...). */
static const char *const proc_files[] = {
        "meminfo", "cpuinfo",  "stat",         "uptime",      "loadavg",         "diskstats",
        "swaps",   "slabinfo", "pressure/cpu", "pressure/io", "pressure/memory",
};

static const char *container = "container";

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
        va_list ap;
        fputs(PROG ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(1);
}

static bool capfs_mounted(const char *dir) {
        struct statfs fs;
        g_autofree char *meminfo = g_build_filename(dir, "proc/meminfo", NULL);
        return statfs(dir, &fs) == 0 && fs.f_type == FUSE_SUPER_MAGIC && access(meminfo, R_OK) == 0;
}

/* The file system type of what PATH leads to in the rootfs, or 0 when it does not exist. */
static long fstype_in(int root_fd, const char *path) {
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

static void bind(int root_fd, const char *root, const char *source, const char *target, bool readonly) {
        int r = rootfs_bind(root_fd, source, target, readonly);
        if (r < 0)
                die("cannot bind-mount %s over %s/%s for container %s: %s", source, root, target, container,
                    g_strerror(-r));
}

/* The v1 controller hierarchies LXC mounted below the tmpfs at sys/fs/cgroup, replaced by the
 * view. Co-mounted controllers appear as symlinks (cpu -> cpu,cpuacct) and are skipped. */
static void bind_cgroups(int root_fd, const char *root, const char *capfs) {
        char buf[ROOTFS_FD_PATH_MAX];
        int fd = rootfs_open(root_fd, "sys/fs/cgroup", 0, 0);
        struct statfs fs;
        if (fd < 0)
                return;
        /* Pure v2 (cgroup2 there) or no cgroups mounted for the container: nothing to replace. */
        if (fstatfs(fd, &fs) < 0 || fs.f_type != TMPFS_MAGIC) {
                close(fd);
                return;
        }
        DIR *d = opendir(rootfs_fd_path(fd, buf));
        close(fd);
        if (!d)
                die("cannot list %s/sys/fs/cgroup: %s", root, g_strerror(errno));
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
                    fstype_in(root_fd, target) != CGROUP_SUPER_MAGIC ||
                    !g_file_test(view, G_FILE_TEST_IS_DIR))
                        continue;
                bind(root_fd, root, view, target, false);
        }
}

int main(int argc, char **argv) {
        const char *capfs = "/var/lib/capfs";
        bool with_cgroup = true, optional = false;
        int i;

        for (i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--capfs") == 0) {
                        if (++i >= argc)
                                die("--capfs needs a directory");
                        capfs = argv[i];
                } else if (g_str_has_prefix(a, "--capfs="))
                        capfs = a + strlen("--capfs=");
                else if (strcmp(a, "--no-cgroup") == 0)
                        with_cgroup = false;
                else if (strcmp(a, "--optional") == 0)
                        optional = true;
                else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        fputs(usage_text, stdout);
                        return 0;
                } else if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                } else if (a[0] == '-')
                        die("unknown option '%s' (see --help)", a);
                else
                        break; /* LXC's NAME SECTION HOOK */
        }

        const char *root = g_getenv("LXC_ROOTFS_MOUNT");
        if (!root || !g_file_test(root, G_FILE_TEST_IS_DIR))
                die("LXC_ROOTFS_MOUNT is not set or not a directory: run this as an lxc.hook.mount hook");
        container = g_getenv("LXC_NAME") ? g_getenv("LXC_NAME") : i < argc ? argv[i] : "container";

        if (!capfs_mounted(capfs)) {
                if (optional) {
                        fprintf(stderr,
                                PROG
                                ": warning: capfs is not mounted at %s; container %s starts without it\n",
                                capfs, container);
                        return 0;
                }
                die("capfs is not mounted at %s, so container %s would see the host's memory and CPUs; "
                    "start the "
                    "capfs daemon (capfs %s), pass --capfs DIR to this hook, or --optional to start without "
                    "it",
                    capfs, container, capfs);
        }

        int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                die("cannot open the rootfs %s: %s", root, g_strerror(errno));
        if (fstype_in(root_fd, "proc") != PROC_SUPER_MAGIC)
                die("%s/proc is not a proc mount; capfs needs lxc.mount.auto = proc:mixed (or proc:rw)",
                    root);
        if (fstype_in(root_fd, "sys") != SYSFS_MAGIC)
                die("%s/sys is not a sysfs mount; capfs needs lxc.mount.auto = sys:mixed (or sys:ro)", root);

        for (size_t f = 0; f < G_N_ELEMENTS(proc_files); f++) {
                g_autofree char *source = g_build_filename(capfs, "proc", proc_files[f], NULL);
                g_autofree char *target = g_build_filename("proc", proc_files[f], NULL);
                if (access(source, F_OK) == 0 && exists_in(root_fd, target))
                        bind(root_fd, root, source, target, true);
        }
        g_autofree char *cpu = g_build_filename(capfs, "sys/devices/system/cpu", NULL);
        if (g_file_test(cpu, G_FILE_TEST_IS_DIR) && exists_in(root_fd, "sys/devices/system/cpu"))
                bind(root_fd, root, cpu, "sys/devices/system/cpu", true);

        if (with_cgroup)
                bind_cgroups(root_fd, root, capfs);
        close(root_fd);
        return 0;
}
