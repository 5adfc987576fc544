/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which host CPUs a container is shown: its cpuset, cut to ceil(quota/period) of the
 * tightest CFS quota above it under CAPFS_CPU_VIEW_QUOTA. Every CPU-related file
 * (cpuinfo, stat, uptime, sys/devices/system/cpu) renders from this one answer, so a
 * container's nproc, top and lscpu agree with each other.
 */
#include "internal.h"
#include "parse/parse.h"

static CapfsCpuList *cpu_list_new(const guint *cpus, unsigned count) {
        CapfsCpuList *list = g_malloc(sizeof(CapfsCpuList) + sizeof(unsigned) * count);

        list->count = count;
        for (unsigned i = 0; i < count; i++)
                list->cpu[i] = cpus[i];
        return list;
}

/* "/a/b" -> "/a", "/a" -> "/"; false at the root. */
static bool cgroup_parent(char *path) {
        char *slash;

        if (g_str_equal(path, "/"))
                return false;
        slash = strrchr(path, '/');
        if (!slash)
                return false;
        if (slash == path)
                slash[1] = '\0';
        else
                *slash = '\0';
        return true;
}

/* An empty list is no answer: a v1 cpuset.cpus not configured yet cannot hold tasks. */
static int parse_cpus(const GString *buf, GArray **ret) {
        g_autoptr(GArray) cpus = NULL;
        int r;

        r = capfs_parse_cpuset(buf->str, buf->len, &cpus);
        if (r < 0)
                return r;
        if (cpus->len == 0)
                return -ENODATA;
        *ret = g_steal_pointer(&cpus);
        return 0;
}

static int read_cpuset_knob(const CapfsHost *host, CapfsController ctrl, const char *cgpath,
                            const char *knob, GArray **ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        r = capfs_cgroup_read_path(host, ctrl, cgpath, knob, buf);
        if (r < 0)
                return r;
        return parse_cpus(buf, ret);
}

/*
 * The nearest level that states its CPUs. On v2 a cgroup without the cpuset controller
 * enabled has no cpuset files and runs on its parent's CPUs; on v1 every level has them,
 * and the walk only matters when the container's own cgroup is gone.
 */
static int read_cgroup_cpuset(const CapfsHost *host, const CapfsContainer *ct, GArray **ret) {
        CapfsController ctrl = capfs_host_is_v2(host) ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_CPUSET;
        g_autofree char *path = NULL;

        if (!ct->cgroup[ctrl] || host->hierarchy_fd[ctrl] < 0)
                return -ENOENT;
        path = g_strdup(ct->cgroup[ctrl]);
        do {
                if (capfs_host_is_v2(host)) {
                        if (read_cpuset_knob(host, ctrl, path, "cpuset.cpus.effective", ret) >= 0)
                                return 0;
                } else {
                        if (read_cpuset_knob(host, ctrl, path, "cpuset.effective_cpus", ret) >= 0 ||
                            read_cpuset_knob(host, ctrl, path, "cpuset.cpus", ret) >= 0)
                                return 0;
                }
        } while (cgroup_parent(path));
        return -ENOENT;
}

/* ceil(quota/period) of one level; 0 when the level sets no quota. */
static unsigned quota_cpus(uint64_t quota, uint64_t period) {
        uint64_t n;

        if (quota == CAPFS_NO_LIMIT || period == 0 || period == CAPFS_NO_LIMIT)
                return 0;
        n = quota / period + (quota % period != 0);
        return (unsigned) CLAMP(n, 1, (uint64_t) G_MAXUINT);
}

static unsigned level_quota_cpus(const CapfsHost *host, CapfsController ctrl, const char *cgpath) {
        g_autoptr(GString) buf = g_string_new(NULL);
        uint64_t quota, period;

        if (capfs_host_is_v2(host)) {
                if (capfs_cgroup_read_path(host, ctrl, cgpath, "cpu.max", buf) < 0 ||
                    capfs_parse_cpu_max(buf->str, buf->len, &quota, &period) < 0)
                        return 0;
        } else {
                if (capfs_cgroup_read_path(host, ctrl, cgpath, "cpu.cfs_quota_us", buf) < 0 ||
                    capfs_parse_limit(buf->str, buf->len, &quota) < 0)
                        return 0;
                if (capfs_cgroup_read_path(host, ctrl, cgpath, "cpu.cfs_period_us", buf) < 0 ||
                    capfs_parse_limit(buf->str, buf->len, &period) < 0)
                        return 0;
        }
        return quota_cpus(quota, period);
}

/*
 * The tightest quota over the container's cgroup and its ancestors, in whole CPUs,
 * never below 1; 0 when no level sets one. A quota anywhere above throttles the
 * container just as its own does.
 */
static unsigned cgroup_quota_cpus(const CapfsHost *host, const CapfsContainer *ct) {
        CapfsController ctrl = capfs_host_is_v2(host) ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_CPU;
        g_autofree char *path = NULL;
        unsigned tightest = 0;

        if (!ct->cgroup[ctrl] || host->hierarchy_fd[ctrl] < 0)
                return 0;
        path = g_strdup(ct->cgroup[ctrl]);
        do {
                unsigned n = level_quota_cpus(host, ctrl, path);

                if (n > 0 && (tightest == 0 || n < tightest))
                        tightest = n;
        } while (cgroup_parent(path));
        return tightest;
}

static int host_online_array(const CapfsHost *host, GArray **ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        r = capfs_held_read(host, host->sys_fd, "devices/system/cpu/online", buf);
        if (r < 0)
                return r;
        return parse_cpus(buf, ret);
}

int capfs_host_online_cpus(const CapfsHost *host, CapfsCpuList **ret) {
        g_autoptr(GArray) cpus = NULL;
        int r;

        r = host_online_array(host, &cpus);
        if (r < 0)
                return r;
        *ret = cpu_list_new(&g_array_index(cpus, guint, 0), cpus->len);
        return 0;
}

/* Both arrays ascending; keeps the CPUs of @cpuset that are online. */
static void intersect_sorted(GArray *cpuset, const GArray *online) {
        guint kept = 0, j = 0;

        for (guint i = 0; i < cpuset->len; i++) {
                guint cpu = g_array_index(cpuset, guint, i);

                while (j < online->len && g_array_index(online, guint, j) < cpu)
                        j++;
                if (j < online->len && g_array_index(online, guint, j) == cpu)
                        g_array_index(cpuset, guint, kept++) = cpu;
        }
        g_array_set_size(cpuset, kept);
}

int capfs_container_cpuset(const CapfsHost *host, const CapfsContainer *ct, CapfsCpuList **cpuset,
                           unsigned *shown) {
        g_autoptr(GArray) cpus = NULL;
        g_autoptr(GArray) online = NULL;
        unsigned quota;
        int r;

        r = host_online_array(host, &online);
        if (read_cgroup_cpuset(host, ct, &cpus) >= 0) {
                /* A cpuset naming CPUs this host has no block or line for would break every view. */
                if (online) {
                        intersect_sorted(cpus, online);
                        if (cpus->len == 0)
                                g_clear_pointer(&cpus, g_array_unref);
                }
        }
        if (!cpus) {
                if (r < 0)
                        return r;
                cpus = g_steal_pointer(&online);
        }

        *shown = cpus->len;
        if (host->cpu_view == CAPFS_CPU_VIEW_QUOTA) {
                quota = cgroup_quota_cpus(host, ct);
                if (quota > 0 && quota < *shown)
                        *shown = quota;
        }
        *cpuset = cpu_list_new(&g_array_index(cpus, guint, 0), cpus->len);
        return 0;
}

int capfs_container_cpus(const CapfsHost *host, const CapfsContainer *ct, CapfsCpuList **ret) {
        g_autofree CapfsCpuList *cpuset = NULL;
        unsigned shown;
        int r;

        r = capfs_container_cpuset(host, ct, &cpuset, &shown);
        if (r < 0)
                return r;
        /* The list is a prefix of the cpuset: the first CPUs are the ones shown. */
        cpuset->count = shown;
        *ret = g_steal_pointer(&cpuset);
        return 0;
}
