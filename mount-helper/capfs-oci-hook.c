/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-oci-hook: capfs for containers of OCI runtimes (runc, crun) started by podman, CRI-O or
 * anything else that runs OCI hooks. It gives the container capfs's view of /proc and
 * /sys/devices/system/cpu and, for a container running systemd on a cgroup v1 or hybrid host, of
 * its cgroup controllers (binds.h), as capfs-launch and the LXC hook do.
 *
 * It runs as a createContainer hook: the runtime has made the container's mount namespace and
 * mounted /proc, /sys and the cgroups below the rootfs, and has not yet pivoted into it. The hook
 * runs in that namespace as the host's root, reads the container's state on stdin and the
 * bundle's config.json for the rootfs and annotations, and resolves every target inside the
 * rootfs (rootfs.h). What it mounts stays in the container's namespace. Run at another stage
 * (prestart and createRuntime run in the runtime's namespace, the host's) it refuses: its mounts
 * would land on the host and the container would see none of them. (The state's pid does not
 * tell: runc gives this stage the init's pid in the container's own pid namespace, 1.)
 */
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/magic.h>

#include "binds.h"
#include "launch.h"
#include "oci.h"
#include "rootfs.h"

#define PROG "capfs-oci-hook"

static const char usage_text[] =
        "Usage: capfs-oci-hook [--capfs DIR]\n"
        "\n"
        "capfs's OCI hook, for the createContainer stage; the container's state comes on stdin.\n"
        "Installed for podman and CRI-O by .../share/containers/oci/hooks.d/capfs.json, which runs\n"
        "it for containers with the annotation io.capfs.enabled=true.\n"
        "\n"
        "  --capfs DIR   where capfs is mounted (default /var/lib/capfs)\n"
        "\n"
        "Annotations:\n"
        "  io.capfs.enabled=false   do nothing for this container (where the hook runs for all)\n"
        "  io.capfs.optional=true   start the container without capfs when capfs is not mounted\n"
        "                           (a warning instead of refusing to start it)\n"
        "  io.capfs.cgroup=view     the cgroup view over the v1 controllers (cgroup v1 and hybrid\n"
        "                           hosts); the default for containers running systemd\n"
        "  io.capfs.cgroup=none     the runtime's cgroup mounts, untouched\n"
        "  io.capfs.cpuset=keep     leave the cpuset of a container with a CPU quota and no\n"
        "                           cpuset of its own (by default narrowed to ceil(quota/period)\n"
        "                           CPUs, which nproc and thread pools follow)\n";

/* To stderr, which runc shows in the error of a failed start and crun does not (it writes it
 * where the annotation run.oci.hooks.stderr says), and to syslog (the journal) for both. */
__attribute__((format(printf, 2, 0))) static void vsay(int priority, const char *fmt, va_list ap) {
        va_list again;
        va_copy(again, ap);
        fputs(PROG ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        vsyslog(priority, fmt, again);
        va_end(again);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsay(LOG_ERR, fmt, ap);
        va_end(ap);
        exit(1);
}

__attribute__((format(printf, 1, 2))) static void warn(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsay(LOG_WARNING, fmt, ap);
        va_end(ap);
}

static char *read_text(const char *path) {
        char *text = NULL;
        return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

/*
 * Narrows the cpuset of the container's cgroup to its first COUNT CPUs. The hook runs in the
 * container's cgroups (the runtime moved its init there before this stage); their paths are read
 * in the host's cgroup namespace (the container may have its own), and found below the host's
 * cgroup mounts, which this mount namespace still has before pivot_root. The runtime writes the
 * cpuset after this stage only when the container names one, which then has no count here.
 * A failure leaves the container's CPUs as they are, with a warning.
 */
static void narrow_cpuset(const OciContainer *c, unsigned count) {
        int ns = open("/proc/1/ns/cgroup", O_RDONLY | O_CLOEXEC);
        if (ns >= 0) {
                /* Only a change of view: the hook is single-threaded and about to exit. */
                if (setns(ns, CLONE_NEWCGROUP) < 0)
                        warn("warning: cannot enter the host's cgroup namespace: %s", g_strerror(errno));
                close(ns);
        }
        g_autofree char *self = read_text("/proc/self/cgroup"),
                        *mountinfo = read_text("/proc/self/mountinfo");
        bool v2 = false;
        g_autofree char *dir = self && mountinfo ? oci_cpuset_dir(self, mountinfo, &v2) : NULL;
        g_autofree char *effective_path =
                dir ? g_build_filename(dir, v2 ? "cpuset.cpus.effective" : "cpuset.effective_cpus", NULL)
                    : NULL;
        /* cgroup2 gives the container a cpuset only when its parent hands the controller down,
         * which runtimes do for the controllers a container's limits use: not cpuset here. */
        if (v2 && effective_path && access(effective_path, F_OK) < 0) {
                g_autofree char *parent = g_path_get_dirname(dir);
                g_autofree char *subtree = g_build_filename(parent, "cgroup.subtree_control", NULL);
                int r = write_value(subtree, "+cpuset");
                if (r < 0)
                        warn("warning: container %s: cannot enable the cpuset controller in %s: %s", c->id,
                             subtree, g_strerror(-r));
        }
        g_autofree char *effective = effective_path ? read_text(effective_path) : NULL;
        g_autofree char *cut = effective ? first_cpus(g_strstrip(effective), count) : NULL;
        g_autofree char *cpus_path = dir ? g_build_filename(dir, "cpuset.cpus", NULL) : NULL;
        if (!cut || !*cut) {
                warn("warning: container %s: no cpuset cgroup found (%s); its affinity keeps all "
                     "the CPUs, so nproc shows the host's (capfs's /sys and /proc still show %u)",
                     c->id, effective_path ? effective_path : "not in /proc/self/cgroup and mountinfo",
                     count);
                return;
        }
        int r = write_value(cpus_path, cut);
        if (r < 0)
                warn("warning: container %s: cannot narrow %s to %s: %s", c->id, cpus_path, cut,
                     g_strerror(-r));
}

int main(int argc, char **argv) {
        const char *capfs = "/var/lib/capfs";

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--capfs") == 0) {
                        if (++i >= argc)
                                die("--capfs needs a directory");
                        capfs = argv[i];
                } else if (g_str_has_prefix(a, "--capfs="))
                        capfs = a + strlen("--capfs=");
                else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
                        fputs(usage_text, stdout);
                        return 0;
                } else
                        die("unknown argument '%s' (see --help)", a);
        }

        openlog(PROG, LOG_PID, LOG_DAEMON);
        g_autoptr(GError) error = NULL;
        g_autoptr(GIOChannel) in = g_io_channel_unix_new(STDIN_FILENO);
        g_autofree char *state = NULL;
        gsize length = 0;
        if (g_io_channel_set_encoding(in, NULL, &error) != G_IO_STATUS_NORMAL ||
            g_io_channel_read_to_end(in, &state, &length, &error) != G_IO_STATUS_NORMAL)
                die("cannot read the container's state on stdin: %s", error->message);
        g_autoptr(OciContainer) c = oci_container_load(state, length, &error);
        if (!c)
                die("%s", error->message);
        OciPlan plan;
        if (!oci_plan(c, &plan, &error))
                die("%s", error->message);
        if (plan.skip)
                return 0;
        if (!binds_capfs_mounted(capfs)) {
                if (plan.optional) {
                        warn("warning: capfs is not mounted at %s; container %s starts without it "
                             "(io.capfs.optional=true)",
                             capfs, c->id);
                        return 0;
                }
                die("capfs is not mounted at %s, so container %s would see the host's memory and CPUs; "
                    "start capfs (systemctl start capfs), or set the annotation io.capfs.optional=true to "
                    "start it without capfs",
                    capfs, c->id);
        }

        int root_fd = open(c->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                die("cannot open the rootfs %s of container %s: %s", c->root, c->id, g_strerror(errno));
        /* The runtime mounts the container's /proc in the container's namespace: seen from
         * another (the runtime's, at prestart or createRuntime), it is an empty directory. */
        if (binds_fstype_in(root_fd, "proc") != PROC_SUPER_MAGIC)
                die("%s/proc of container %s is not a proc mount: this hook must run at the createContainer "
                    "stage, in the container's mount namespace, where the runtime has mounted it; fix the "
                    "stage in the hook's configuration (capfs.json: \"stages\": [\"createContainer\"])",
                    c->root, c->id);
        if (binds_fstype_in(root_fd, "sys") != SYSFS_MAGIC)
                die("%s/sys of container %s is not a sysfs mount: capfs needs the runtime's /sys", c->root,
                    c->id);
        if (!binds_proc_and_cpu(root_fd, c->root, c->id, capfs, &error) ||
            (plan.cgroup_view && !binds_cgroups(root_fd, c->root, c->id, capfs, &error)))
                die("%s", error->message);
        close(root_fd);
        if (plan.cpuset_count)
                narrow_cpuset(c, plan.cpuset_count);
        return 0;
}
