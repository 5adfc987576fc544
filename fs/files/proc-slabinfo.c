/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/slabinfo: the container's own slab caches where the kernel lists them per cgroup
 * (v1's memory.kmem.slabinfo), else an empty table.
 *
 * Why an empty table rather than the host's file for a container (on v2, and on v1 when
 * the cgroup's list is empty): the host's caches inside a 256 MiB container would read as
 * the container's, and /proc/slabinfo is 0400 for a reason (it helps heap exploits),
 * while capfs serves its files to every caller. Kernels from 5.9 on keep
 * memory.kmem.slabinfo but always leave it empty, pointing to tools/cgroup/memcg_slabinfo.py;
 * older ones leave it empty until the cgroup owns a cache. Only the root cgroup, which is
 * the whole machine, gets the host's file.
 */
#include <string.h>

#include "../internal.h"

/* As the kernel's print_slabinfo_header() writes it (a kernel without slab debug statistics). */
static const char slabinfo_header[] =
        "slabinfo - version: 2.1\n"
        "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>"
        " : tunables <limit> <batchcount> <sharedfactor>"
        " : slabdata <active_slabs> <num_slabs> <sharedavail>\n";

int capfs_render_proc_slabinfo(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        CapfsController ctrl = capfs_host_is_v2(host) ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_MEMORY;
        g_autoptr(GString) caches = g_string_new(NULL);
        int r;

        if (!ct->cgroup[ctrl])
                return -ENOENT;
        if (g_str_equal(ct->cgroup[ctrl], "/"))
                return capfs_held_read(host, host->proc_fd, "slabinfo", out);

        if (capfs_host_is_v2(host)) {
                g_string_append(out, slabinfo_header);
                return 0;
        }

        r = capfs_cgroup_read(host, ct, ctrl, "memory.kmem.slabinfo", caches);
        if (r < 0)
                return r;
        /* The kernel prints the header before the first cache only: an empty list has none. */
        if (!g_str_has_prefix(caches->str, "slabinfo - version:"))
                g_string_append(out, slabinfo_header);
        g_string_append_len(out, caches->str, caches->len);
        return 0;
}
