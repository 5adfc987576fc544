/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/pressure/{cpu,io,memory}: the container's PSI files. They live in the cgroup2
 * tree, which pure v2 hosts and hybrid ones (/sys/fs/cgroup/unified) both have.
 */
#include <stdio.h>

#include "../internal.h"

static int render_pressure(const CapfsHost *host, const CapfsContainer *ct, const char *resource,
                           GString *out) {
        const char *cgpath = ct->cgroup[CAPFS_CTRL_UNIFIED];
        char name[32];
        int r;

        if (!cgpath)
                return -ENOENT;
        /* The root cgroup's pressure is the system's, which the kernel shows in /proc/pressure. */
        if (g_str_equal(cgpath, "/")) {
                snprintf(name, sizeof(name), "pressure/%s", resource);
                return capfs_held_read(host, host->proc_fd, name, out);
        }

        snprintf(name, sizeof(name), "%s.pressure", resource);
        r = capfs_cgroup_read(host, ct, CAPFS_CTRL_UNIFIED, name, out);
        if (r < 0)
                return r;
        /* Served verbatim, so it must at least look like PSI: "some avg10=..." first. */
        if (!g_str_has_prefix(out->str, "some avg10="))
                return -EINVAL;
        return 0;
}

int capfs_render_proc_pressure_cpu(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        return render_pressure(host, ct, "cpu", out);
}

int capfs_render_proc_pressure_io(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        return render_pressure(host, ct, "io", out);
}

int capfs_render_proc_pressure_memory(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        return render_pressure(host, ct, "memory", out);
}
