/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* proc/loadavg: the container's load averages, from the daemon's sampler (fs/loadavg.c). */
#include <inttypes.h>

#include "../internal.h"
#include "../parse/parse.h"

/*
 * "total" of "running/total": the container's tasks now. The pids controller counts
 * them (threads included, as the kernel's nr_threads does) for the price of one read;
 * without it the sampler's R and D tasks are all that is known.
 */
static uint64_t container_tasks(const CapfsHost *host, const CapfsContainer *ct,
                                const CapfsLoadavgReading *reading) {
        g_autoptr(GString) buf = g_string_new(NULL);
        CapfsController ctrl = capfs_host_is_v2(host) ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_PIDS;
        g_autofree char *charged_path = NULL;
        uint64_t tasks;

        /* On v2 a cgroup without the pids controller is counted by the nearest ancestor with it. */
        if (capfs_cgroup_accounting_path(host, ct, ctrl, "pids.current", &charged_path, buf) < 0 ||
            capfs_parse_limit(buf->str, buf->len, &tasks) < 0 || tasks == CAPFS_NO_LIMIT)
                tasks = reading->active;
        /* The count is newer than the tick: never show more running tasks than there are. */
        return MAX(tasks, (uint64_t) reading->running);
}

/* The kernel prints each average rounded to two decimals: it adds 0.005 first. */
static void append_load(GString *out, uint64_t load) {
        uint64_t rounded = load + CAPFS_LOADAVG_FIXED_1 / 200;
        uint64_t hundredths = ((rounded & (CAPFS_LOADAVG_FIXED_1 - 1)) * 100) >> CAPFS_LOADAVG_FSHIFT;

        g_string_append_printf(out, "%" PRIu64 ".%02" PRIu64 " ", rounded >> CAPFS_LOADAVG_FSHIFT,
                               hundredths);
}

int capfs_render_proc_loadavg(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        CapfsController ctrl = capfs_loadavg_controller(host);
        const char *cgpath = ct->cgroup[ctrl];
        CapfsLoadavgReading reading;
        uint64_t tasks;

        /* No sampler running (e.g. a library without its daemon): the caller serves the host's file. */
        if (!host->loadavg)
                return -ENODATA;
        /*
         * Host processes see every host pid anyway and host tools expect the host's load;
         * tracking their cgroups would fill the table with every service on the host.
         * The root cgroup's load is the host's.
         */
        if (ct->host_pidns || (cgpath && g_str_equal(cgpath, "/")))
                return capfs_held_read(host, host->proc_fd, "loadavg", out);
        if (!cgpath)
                return -ENOENT;

        capfs_loadavg_query(host->loadavg, cgpath, capfs_pidns_of(host, ct->init_pid),
                            g_get_monotonic_time(), &reading);
        tasks = container_tasks(host, ct, &reading);

        g_string_truncate(out, 0);
        for (unsigned i = 0; i < G_N_ELEMENTS(reading.avg); i++)
                append_load(out, reading.avg[i]);
        g_string_append_printf(out, "%u/%" PRIu64 " %d\n", reading.running, tasks, (int) reading.last_pid);
        return 0;
}
