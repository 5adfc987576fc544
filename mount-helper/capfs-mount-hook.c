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
 * Which cgroups: see binds.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>

#include "binds.h"
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

        if (!binds_capfs_mounted(capfs)) {
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
        if (binds_fstype_in(root_fd, "proc") != PROC_SUPER_MAGIC)
                die("%s/proc is not a proc mount; capfs needs lxc.mount.auto = proc:mixed (or proc:rw)",
                    root);
        if (binds_fstype_in(root_fd, "sys") != SYSFS_MAGIC)
                die("%s/sys is not a sysfs mount; capfs needs lxc.mount.auto = sys:mixed (or sys:ro)", root);

        g_autoptr(GError) error = NULL;
        if (!binds_proc_and_cpu(root_fd, root, container, capfs, &error) ||
            (with_cgroup && !binds_cgroups(root_fd, root, container, capfs, &error)))
                die("%s", error->message);
        close(root_fd);
        return 0;
}
