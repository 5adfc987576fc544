/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container's mounts, made by its init-to-be in its new mount namespace before pivot_root:
 * everything systemd would mount itself (it cannot, without CAP_SYS_ADMIN, and refuses to boot
 * when they are missing), the cgroup hierarchies, capfs's views and the user's binds.
 *
 * Every path is relative to the rootfs and resolved inside it (rootfs.h): what the container left
 * there (symlinks to the host's directories, "..") leads nowhere outside its own tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/magic.h>

#include "launch.h"
#include "rootfs.h"

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)

/* The file systems mounted as they are, in this order (the cgroups, the nodes of /dev and the
 * binds come between and after them, in mounts_setup()). */
const MountEntry mount_table[] = {
        {"proc", "proc", NOSUID_NODEV_NOEXEC, NULL},
        {"sys", "sysfs", MS_RDONLY | NOSUID_NODEV_NOEXEC, NULL},
        {"dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=4m"},
        {"dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620,gid=5"},
        {"dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
        {"dev/mqueue", "mqueue", NOSUID_NODEV_NOEXEC, NULL},
        {"run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=755,size=20%"},
        {"run/lock", "tmpfs", NOSUID_NODEV_NOEXEC, "mode=1777,size=5m"},
        {"run/user", "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=20%"},
        {"tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=20%"},
};
const size_t mount_table_count = G_N_ELEMENTS(mount_table);

/* systemd's container interface: /proc/sys read-only; what else in /proc reaches the host's
 * kernel read-only too. */
static const char *const proc_readonly[] = {"proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus",
                                            "proc/fs"};

static const char *const dev_links[][2] = {
        {"pts/ptmx", "dev/ptmx"},          {"/proc/self/fd", "dev/fd"},
        {"/proc/self/fd/0", "dev/stdin"},  {"/proc/self/fd/1", "dev/stdout"},
        {"/proc/self/fd/2", "dev/stderr"},
};

int capfs_check_mounted(const char *dir, GError **error) {
        struct statfs fs;
        g_autofree char *meminfo = g_build_filename(dir, "proc/meminfo", NULL);
        int r = statfs(dir, &fs) < 0 ? -errno : 0;
        if (r == 0 && (fs.f_type != FUSE_SUPER_MAGIC || access(meminfo, R_OK) < 0))
                r = -ENOENT;
        if (r < 0)
                return launch_invalid(
                        error,
                        "capfs is not mounted at %s (%s): start it first (./scripts/run.sh, or capfs "
                        "%s), point --capfs at its mountpoint, or run without it: --no-capfs",
                        dir, r == -ENOENT ? "no capfs file system there" : g_strerror(-r), dir);
        return 0;
}

static int mount_in(int root_fd, const char *path, const char *source, const char *fstype,
                    unsigned long flags, const char *data, GError **error) {
        int r = rootfs_mount(root_fd, path, ROOTFS_MKDIR, source, fstype, flags, data);
        if (r < 0)
                return launch_fail(error, r, "mount %s (%s) on /%s in the rootfs", source ? source : "none",
                                   fstype ? fstype : "bind", path);
        return 0;
}

static int bind_in(int root_fd, const char *source, const char *path, bool readonly, GError **error) {
        int r = rootfs_bind(root_fd, source, path, readonly);
        if (r < 0)
                return launch_fail(error, r, "bind-mount %s on /%s in the rootfs", source, path);
        return 0;
}

static int symlink_in(int root_fd, const char *target, const char *path, GError **error) {
        int r = rootfs_symlink(root_fd, target, path);
        if (r < 0 && r != -EEXIST)
                return launch_fail(error, r, "symlink /%s -> %s in the rootfs", path, target);
        return 0;
}

static int mount_entry(int root_fd, const MountEntry *e, GError **error) {
        return mount_in(root_fd, e->path, e->fstype, e->fstype, e->flags, e->options, error);
}

/* The entries of mount_table[] whose path starts with PREFIX ("" for all). */
static int mount_entries(int root_fd, const char *prefix, GError **error) {
        for (size_t i = 0; i < mount_table_count; i++) {
                const char *p = mount_table[i].path;
                if (*prefix && strcmp(p, prefix) != 0 &&
                    !(g_str_has_prefix(p, prefix) && p[strlen(prefix)] == '/'))
                        continue;
                int r = mount_entry(root_fd, &mount_table[i], error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mount_proc_readonly(int root_fd, GError **error) {
        for (size_t i = 0; i < G_N_ELEMENTS(proc_readonly); i++) {
                int r = rootfs_bind_readonly_self(root_fd, proc_readonly[i]);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return launch_fail(error, r, "make /%s read-only in the rootfs", proc_readonly[i]);
        }
        return 0;
}

/*
 * /sys/fs/cgroup as systemd wants it in a container without CAP_SYS_ADMIN: a tmpfs holding a real
 * name=systemd (v1) and cgroup2 mount made in the container's cgroup namespace, so that statfs()
 * tells systemd the layout, and capfs's restricted view for every controller hierarchy. On a pure
 * cgroup2 host, cgroup2 itself is mounted (its nested layout keeps the limits out of reach).
 */
/*
 * capfs's cgroup view for this container: by-pidns/N/cgroup, N being our pid namespace (we are
 * its pid 1, the container's processes all live in it), where the kernel may keep the view's
 * entries; the shared cgroup/ where the capfs serving it predates by-pidns.
 */
static char *cgroup_view_dir(const Launch *l) {
        g_autofree char *own = NULL;
        struct stat st;

        if (stat("/proc/self/ns/pid", &st) == 0) {
                own = g_strdup_printf("%s/by-pidns/%" G_GUINT64_FORMAT "/cgroup", l->opt.capfs,
                                      (guint64) st.st_ino);
                if (stat(own, &st) == 0 && S_ISDIR(st.st_mode))
                        return g_steal_pointer(&own);
        }
        return g_build_filename(l->opt.capfs, "cgroup", NULL);
}

static int mount_cgroups(Launch *l, int root_fd, GError **error) {
        const char *cg = &CGROUP_ROOT[1]; /* relative to the rootfs */
        g_autofree char *view_dir = NULL;
        int r;

        if (l->v2_only)
                return mount_in(root_fd, cg, "cgroup2", "cgroup2", NOSUID_NODEV_NOEXEC, NULL, error);
        if ((r = mount_in(root_fd, cg, "tmpfs", "tmpfs", NOSUID_NODEV_NOEXEC, "mode=755", error)) < 0)
                return r;
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                g_autofree char *target = g_build_filename(cg, h->dir, NULL);
                if (h->controllers[0] == '\0')
                        r = mount_in(root_fd, target, "cgroup2", "cgroup2", NOSUID_NODEV_NOEXEC, NULL,
                                     error);
                else if (g_str_has_prefix(h->controllers, "name=")) {
                        g_autofree char *data = g_strdup_printf("none,%s", h->controllers);
                        r = mount_in(root_fd, target, "cgroup", "cgroup", NOSUID_NODEV_NOEXEC, data, error);
                } else if (l->opt.no_capfs || l->opt.cgroup_mode == CGROUP_MODE_NATIVE)
                        r = mount_in(root_fd, target, "cgroup", "cgroup", NOSUID_NODEV_NOEXEC,
                                     h->controllers, error);
                else {
                        g_autofree char *view = NULL;
                        if (!view_dir)
                                view_dir = cgroup_view_dir(l);
                        view = g_build_filename(view_dir, h->dir, NULL);
                        r = bind_in(root_fd, view, target, false, error);
                }
                if (r < 0)
                        return r;
                /* Comounted controllers ("cpu,cpuacct") are also reachable by each name. */
                if (strchr(h->controllers, ',') && !g_str_has_prefix(h->controllers, "name=")) {
                        g_auto(GStrv) names = g_strsplit(h->controllers, ",", -1);
                        for (char **n = names; *n; n++) {
                                g_autofree char *link = g_build_filename(cg, *n, NULL);
                                if (strcmp(*n, h->dir) != 0 &&
                                    (r = symlink_in(root_fd, h->dir, link, error)) < 0)
                                        return r;
                        }
                }
        }
        return mount_in(root_fd, cg, NULL, NULL, MS_REMOUNT | MS_RDONLY | NOSUID_NODEV_NOEXEC, "mode=755",
                        error);
}

/* The basic nodes (the host's, bound), the links and the console (the pty the launcher relays). */
static int populate_dev(Launch *l, int root_fd, GError **error) {
        int r;

        for (size_t i = 0; i < device_nodes_count; i++) {
                g_autofree char *host = g_build_filename("/dev", device_nodes[i].name, NULL);
                g_autofree char *node = g_build_filename("dev", device_nodes[i].name, NULL);
                if ((r = bind_in(root_fd, host, node, false, error)) < 0)
                        return r;
        }
        for (size_t i = 0; i < G_N_ELEMENTS(dev_links); i++)
                if ((r = symlink_in(root_fd, dev_links[i][0], dev_links[i][1], error)) < 0)
                        return r;
        return bind_in(root_fd, l->pty_slave, "dev/console", false, error);
}

/* capfs's per-container files over the container's own. */
static int mount_capfs(Launch *l, int root_fd, GError **error) {
        if (l->opt.no_capfs)
                return 0;
        g_autofree char *proc = g_build_filename(l->opt.capfs, "proc", NULL);
        g_autoptr(GError) local = NULL;
        GDir *d = g_dir_open(proc, 0, &local);
        if (!d)
                return launch_invalid(error, "%s", local->message);
        const char *name;
        int r = 0;
        while (r == 0 && (name = g_dir_read_name(d))) {
                g_autofree char *source = g_build_filename(proc, name, NULL);
                g_autofree char *target = g_build_filename("proc", name, NULL);
                /* Only what the kernel has too: a file the container's /proc lacks stays absent. */
                int fd = rootfs_open(root_fd, target, 0, 0);
                if (fd < 0)
                        continue;
                close(fd);
                r = bind_in(root_fd, source, target, true, error);
        }
        g_dir_close(d);
        if (r < 0)
                return r;
        g_autofree char *cpu = g_build_filename(l->opt.capfs, "sys/devices/system/cpu", NULL);
        return bind_in(root_fd, cpu, "sys/devices/system/cpu", true, error);
}

static int mount_binds(Launch *l, int root_fd, GError **error) {
        for (guint i = 0; i < l->opt.binds->len; i++) {
                const BindMount *b = &g_array_index(l->opt.binds, BindMount, i);
                int r = bind_in(root_fd, b->source, b->target, b->readonly, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mount_all(Launch *l, int root_fd, GError **error) {
        int r;

        if ((r = mount_entries(root_fd, "proc", error)) < 0 ||
            (r = mount_proc_readonly(root_fd, error)) < 0 ||
            (r = mount_entries(root_fd, "sys", error)) < 0 || (r = mount_cgroups(l, root_fd, error)) < 0 ||
            (r = mount_entries(root_fd, "dev", error)) < 0 || (r = populate_dev(l, root_fd, error)) < 0 ||
            (r = mount_entries(root_fd, "run", error)) < 0 || (r = mount_entries(root_fd, "tmp", error)) < 0)
                return r;
        if ((r = rootfs_write_file(root_fd, "run/systemd/container", "capfs\n")) < 0)
                return launch_fail(error, r, "write /run/systemd/container in the rootfs");
        if ((r = mount_capfs(l, root_fd, error)) < 0)
                return r;
        return mount_binds(l, root_fd, error);
}

int mounts_setup(Launch *l, GError **error) {
        const char *root = l->opt.rootfs;
        int r;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return launch_fail(error, -errno, "make the mount tree private");
        /* The root must be a mount point for pivot_root; a bind of the rootfs onto itself is. The
         * rootfs's own path comes from the host's root (the command line) and is trusted. */
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return launch_fail(error, -errno, "bind-mount the rootfs %s on itself", root);
        int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return launch_fail(error, -errno, "open the rootfs %s", root);
        r = mount_all(l, root_fd, error);
        close(root_fd);
        return r;
}

int mounts_enter_root(const char *root, GError **error) {
        if (chdir(root) < 0)
                return launch_fail(error, -errno, "chdir %s", root);
        /* pivot_root(".", "."): the old root ends up on top of the new one, then goes. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return launch_fail(error, -errno, "pivot_root to %s", root);
        if (umount2(".", MNT_DETACH) < 0)
                return launch_fail(error, -errno, "detach the old root");
        if (chdir("/") < 0)
                return launch_fail(error, -errno, "chdir /");
        return 0;
}
