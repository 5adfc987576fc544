/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/uptime: the age of the container's init, and idle time as the kernel counts it
 * (summed over CPUs): the container's CPUs times its age, less the CPU time it used.
 * A caller in the host's pid namespace gets the host's file: its "init" is itself.
 */
#include <inttypes.h>

#include "../internal.h"
#include "../parse/parse.h"

#define NSEC_PER_CSEC UINT64_C(10000000)

/* All CPU time of the container's cgroup, in ns. */
static int cgroup_usage_ns(const CapfsHost *host, const CapfsContainer *ct, uint64_t *ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        if (capfs_host_is_v2(host)) {
                g_autoptr(GHashTable) keyed = NULL;
                uint64_t usec;

                r = capfs_cgroup_read_keyed(host, ct, CAPFS_CTRL_UNIFIED, "cpu.stat", &keyed);
                if (r < 0)
                        return r;
                if (!capfs_keyed_get(keyed, "usage_usec", &usec))
                        return -ENODATA;
                *ret = usec > UINT64_MAX / 1000 ? UINT64_MAX : usec * 1000;
                return 0;
        }

        r = capfs_cgroup_read(host, ct, CAPFS_CTRL_CPUACCT, "cpuacct.usage", buf);
        if (r < 0)
                return r;
        /* A plain number; "max" and "-1" cannot appear in a usage counter. */
        r = capfs_parse_limit(buf->str, buf->len, ret);
        if (r < 0)
                return r;
        return *ret == CAPFS_NO_LIMIT ? -EINVAL : 0;
}

int capfs_render_proc_uptime(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        g_autofree CapfsCpuList *cpus = NULL;
        g_autoptr(GString) buf = g_string_new(NULL);
        uint64_t host_uptime_cs, host_idle_cs, start_cs, age_cs, usage_ns, usage_cs, capacity_cs, idle_cs;
        int r;

        r = capfs_held_read(host, host->proc_fd, "uptime", buf);
        if (r < 0)
                return r;
        if (ct->host_pidns) {
                g_string_truncate(out, 0);
                g_string_append_len(out, buf->str, buf->len);
                return 0;
        }
        r = capfs_parse_uptime(buf->str, buf->len, &host_uptime_cs, &host_idle_cs);
        if (r < 0)
                return r;
        r = capfs_container_cpus(host, ct, &cpus);
        if (r < 0)
                return r;

        /* starttime is in USER_HZ ticks since boot, as /proc/PID/stat gives it. */
        start_cs = ct->init_start_ticks / (uint64_t) host->clock_ticks * 100 +
                   ct->init_start_ticks % (uint64_t) host->clock_ticks * 100 / (uint64_t) host->clock_ticks;
        age_cs = host_uptime_cs > start_cs ? host_uptime_cs - start_cs : 0;

        /*
         * Usage is what makes idle the container's own; without it (no accounting on
         * this host) the age alone still matters more than a host fallback would.
         */
        if (cgroup_usage_ns(host, ct, &usage_ns) < 0)
                usage_ns = 0;
        usage_cs = usage_ns / NSEC_PER_CSEC;
        capacity_cs = age_cs * cpus->count;
        /* The cgroup may be older than its init and have used more than that. */
        idle_cs = capacity_cs > usage_cs ? capacity_cs - usage_cs : 0;

        g_string_printf(out, "%" PRIu64 ".%02" PRIu64 " %" PRIu64 ".%02" PRIu64 "\n", age_cs / 100,
                        age_cs % 100, idle_cs / 100, idle_cs % 100);
        return 0;
}
