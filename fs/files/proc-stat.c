/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/stat: "cpu" and "cpuN" lines for the container's CPUs with its own usage; the
 * other lines are the host's (btime must stay the host's, or ps would misdate every
 * process, whose start times are ticks since the host booted).
 *
 * user and system come from the cgroup's accounting: per CPU on v1 (cpuacct), as totals
 * spread evenly on v2 (cpu.stat). Usage on CPUs the container is not shown (hidden by
 * the quota cut, or left behind by an earlier cpuset) is spread over the shown ones, so
 * the cpu lines always add up to everything the container used. idle is the rest of
 * each host CPU's time, so that tools computing busy = 1 - idle/total see the
 * container's share of that CPU. nice, iowait, irq, ... are 0: the kernel does not
 * account them per cgroup.
 */
#include <inttypes.h>
#include <string.h>

#include "../internal.h"
#include "../parse/parse.h"

#define NSEC_PER_SEC UINT64_C(1000000000)
#define NSEC_PER_USEC UINT64_C(1000)

typedef struct CgroupUsage {
        /* Per host CPU in ns (v1), or NULL when only totals are known (v2). */
        GArray *user_ns, *system_ns;
        uint64_t user_total_ns, system_total_ns;
} CgroupUsage;

static void cgroup_usage_clear(CgroupUsage *u) {
        g_clear_pointer(&u->user_ns, g_array_unref);
        g_clear_pointer(&u->system_ns, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CgroupUsage, cgroup_usage_clear)

static uint64_t sum_u64(const GArray *a) {
        uint64_t sum = 0;

        for (guint i = 0; i < a->len; i++)
                sum += g_array_index(a, guint64, i);
        return sum;
}

static int read_u64_list(const CapfsHost *host, const CapfsContainer *ct, const char *knob, GArray **ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        r = capfs_cgroup_read(host, ct, CAPFS_CTRL_CPUACCT, knob, buf);
        if (r < 0)
                return r;
        return capfs_parse_u64_list(buf->str, buf->len, ret);
}

static int read_usage_v1(const CapfsHost *host, const CapfsContainer *ct, CgroupUsage *ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        if (read_u64_list(host, ct, "cpuacct.usage_percpu_user", &ret->user_ns) < 0 ||
            read_u64_list(host, ct, "cpuacct.usage_percpu_sys", &ret->system_ns) < 0) {
                /* Kernels before 4.7 have only usage_all's table... or neither. */
                cgroup_usage_clear(ret);
                r = capfs_cgroup_read(host, ct, CAPFS_CTRL_CPUACCT, "cpuacct.usage_all", buf);
                if (r < 0)
                        return r;
                r = capfs_parse_cpuacct_usage_all(buf->str, buf->len, &ret->user_ns, &ret->system_ns);
                if (r < 0)
                        return r;
        }
        ret->user_total_ns = sum_u64(ret->user_ns);
        ret->system_total_ns = sum_u64(ret->system_ns);
        return 0;
}

static int read_usage_v2(const CapfsHost *host, const CapfsContainer *ct, CgroupUsage *ret) {
        g_autoptr(GHashTable) keyed = NULL;
        uint64_t user_usec, system_usec;
        int r;

        r = capfs_cgroup_read_keyed(host, ct, CAPFS_CTRL_UNIFIED, "cpu.stat", &keyed);
        if (r < 0)
                return r;
        if (!capfs_keyed_get(keyed, "user_usec", &user_usec) ||
            !capfs_keyed_get(keyed, "system_usec", &system_usec))
                return -ENODATA;
        if (user_usec > UINT64_MAX / NSEC_PER_USEC || system_usec > UINT64_MAX / NSEC_PER_USEC)
                return -ERANGE;
        ret->user_total_ns = user_usec * NSEC_PER_USEC;
        ret->system_total_ns = system_usec * NSEC_PER_USEC;
        return 0;
}

static uint64_t ns_to_ticks(uint64_t ns, long hz) {
        return ns / NSEC_PER_SEC * (uint64_t) hz + ns % NSEC_PER_SEC * (uint64_t) hz / NSEC_PER_SEC;
}

static uint64_t at_or_zero(const GArray *a, unsigned cpu) {
        return a && cpu < a->len ? g_array_index(a, guint64, cpu) : 0;
}

/* What ran on CPUs the container is not shown: the total less the shown CPUs' own. */
static uint64_t hidden_ns(const GArray *per_cpu, uint64_t total, const CapfsCpuList *shown) {
        uint64_t own_shown = 0;

        for (unsigned i = 0; i < shown->count; i++)
                own_shown += at_or_zero(per_cpu, shown->cpu[i]);
        return total > own_shown ? total - own_shown : 0;
}

/* Shown CPU @k is charged its own time and an even share of the hidden; the first take the remainder. */
static uint64_t charged_ns(const GArray *per_cpu, uint64_t hidden, const CapfsCpuList *shown, unsigned k) {
        return at_or_zero(per_cpu, shown->cpu[k]) + hidden / shown->count + (k < hidden % shown->count);
}

/* All the time a host CPU has accounted: guest and guest_nice are already inside user and nice. */
static uint64_t host_cpu_total(const CapfsStatCpu *line) {
        uint64_t total = 0;

        for (unsigned i = 0; i < MIN(line->fields, 8u); i++)
                total += line->value[i];
        return total;
}

static void append_cpu_line(GString *out, const char *name, unsigned fields, uint64_t user, uint64_t system,
                            uint64_t idle) {
        g_string_append_printf(out, "%s %" PRIu64 " 0 %" PRIu64 " %" PRIu64, name, user, system, idle);
        for (unsigned i = 4; i < fields; i++)
                g_string_append(out, " 0");
        g_string_append_c(out, '\n');
}

/* The host's lines other than "cpu" and "cpuN", in their order. */
static void append_other_lines(const GString *host_stat, GString *out) {
        const char *p = host_stat->str, *end = host_stat->str + host_stat->len;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *next = nl ? nl + 1 : end;

                if (!g_str_has_prefix(p, "cpu"))
                        g_string_append_len(out, p, next - p);
                p = next;
        }
}

/* Host cpuN lines by CPU number. */
static GPtrArray *index_host_cpus(const GArray *lines) {
        GPtrArray *by_cpu = g_ptr_array_new();

        for (guint i = 0; i < lines->len; i++) {
                CapfsStatCpu *line = &g_array_index(lines, CapfsStatCpu, i);

                if (line->cpu < 0)
                        continue;
                if ((guint) line->cpu >= by_cpu->len)
                        g_ptr_array_set_size(by_cpu, line->cpu + 1);
                by_cpu->pdata[line->cpu] = line;
        }
        return by_cpu;
}

static const CapfsStatCpu *find_host_cpu(const GPtrArray *by_cpu, unsigned cpu) {
        return cpu < by_cpu->len ? by_cpu->pdata[cpu] : NULL;
}

/*
 * A container accounted at the root of the hierarchy and shown every host CPU is the
 * host: its figures are the kernel's own, iowait, steal and all.
 */
static bool is_whole_host(const CapfsHost *host, const CapfsContainer *ct, const CapfsCpuList *shown,
                          const GPtrArray *by_cpu) {
        const char *cg = ct->cgroup[capfs_host_is_v2(host) ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_CPUACCT];
        unsigned host_cpus = 0;

        if (!cg || !g_str_equal(cg, "/"))
                return false;
        for (guint i = 0; i < by_cpu->len; i++)
                if (by_cpu->pdata[i])
                        host_cpus++;
        return host_cpus == shown->count;
}

int capfs_render_proc_stat(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        g_autofree CapfsCpuList *shown = NULL;
        g_autoptr(GString) host_stat = g_string_new(NULL);
        g_autoptr(GArray) lines = NULL;
        g_autoptr(GPtrArray) by_cpu = NULL;
        g_auto(CgroupUsage) usage = {};
        g_autoptr(GString) per_cpu = g_string_new(NULL);
        uint64_t sum_user = 0, sum_system = 0, sum_idle = 0, hidden_user, hidden_system;
        unsigned fields;
        int r;

        r = capfs_held_read(host, host->proc_fd, "stat", host_stat);
        if (r < 0)
                return r;
        r = capfs_parse_stat_cpus(host_stat->str, host_stat->len, &lines);
        if (r < 0)
                return r;
        by_cpu = index_host_cpus(lines);
        r = capfs_container_cpus(host, ct, &shown);
        if (r < 0)
                return r;
        /* Every shown CPU has a host line (the cpuset is cut to online CPUs), so this means all. */
        for (unsigned k = 0; k < shown->count; k++)
                if (!find_host_cpu(by_cpu, shown->cpu[k]))
                        return -ENOENT;
        if (is_whole_host(host, ct, shown, by_cpu)) {
                g_string_truncate(out, 0);
                g_string_append_len(out, host_stat->str, host_stat->len);
                return 0;
        }

        r = capfs_host_is_v2(host) ? read_usage_v2(host, ct, &usage) : read_usage_v1(host, ct, &usage);
        if (r < 0)
                return r;

        hidden_user = hidden_ns(usage.user_ns, usage.user_total_ns, shown);
        hidden_system = hidden_ns(usage.system_ns, usage.system_total_ns, shown);

        /* Print as many counters as this kernel does, so parsers keyed on the count still work. */
        fields = g_array_index(lines, CapfsStatCpu, 0).fields;
        for (unsigned k = 0; k < shown->count; k++) {
                const CapfsStatCpu *host_cpu = find_host_cpu(by_cpu, shown->cpu[k]);
                uint64_t total = host_cpu_total(host_cpu);
                uint64_t user =
                        ns_to_ticks(charged_ns(usage.user_ns, hidden_user, shown, k), host->clock_ticks);
                uint64_t system =
                        ns_to_ticks(charged_ns(usage.system_ns, hidden_system, shown, k), host->clock_ticks);
                /* More usage than the CPU's time happens only when hidden CPUs' usage was folded in. */
                uint64_t idle = total > user + system ? total - user - system : 0;
                char name[32];

                g_snprintf(name, sizeof(name), "cpu%u", k);
                append_cpu_line(per_cpu, name, fields, user, system, idle);
                sum_user += user;
                sum_system += system;
                sum_idle += idle;
        }

        g_string_truncate(out, 0);
        /* The kernel pads the aggregate's name to the width of "cpuN". */
        append_cpu_line(out, "cpu ", fields, sum_user, sum_system, sum_idle);
        g_string_append_len(out, per_cpu->str, per_cpu->len);
        append_other_lines(host_stat, out);
        return 0;
}
