/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The memory a container sees, shared by proc/meminfo and proc/swaps.
 *
 * MemTotal is the lowest memory limit on the container's cgroup and its ancestors, capped
 * at the host's; usage and the page counters come from the cgroup's own accounting. A
 * container never sees more free memory or swap than the host has left: with a 256 MiB
 * limit on a host with 100 MiB free, 100 MiB is what it can actually get.
 */
#include <stddef.h>

#include "internal.h"
#include "parse/parse.h"

/* Where one cgroup layout keeps what we need. */
typedef struct MemoryKnobs {
        CapfsController ctrl;
        const char *limit;
        const char *usage;
        /* v1: the memory+swap limit (memsw), v2: swap alone. Missing without swap accounting. */
        const char *swap_limit;
        const char *swap_usage;
        /* memory.stat's page cache key: present on every kernel, so its absence means garbage. */
        const char *cache_key;
} MemoryKnobs;

static const MemoryKnobs v1_knobs = {
        .ctrl = CAPFS_CTRL_MEMORY,
        .limit = "memory.limit_in_bytes",
        .usage = "memory.usage_in_bytes",
        .swap_limit = "memory.memsw.limit_in_bytes",
        .swap_usage = "memory.memsw.usage_in_bytes",
        .cache_key = "total_cache",
};

static const MemoryKnobs v2_knobs = {
        .ctrl = CAPFS_CTRL_UNIFIED,
        .limit = "memory.max",
        .usage = "memory.current",
        .swap_limit = "memory.swap.max",
        .swap_usage = "memory.swap.current",
        .cache_key = "file",
};

/*
 * memory.stat counters, by layout. v1 uses the hierarchical "total_" keys: the plain ones
 * leave out the child cgroups where a container's services run. NULL: this layout has no
 * such counter, and the field stays 0 (see proc-meminfo.c for why 0 and not the host's).
 * A key missing on an older kernel also leaves 0: the container's share is unknown.
 *
 * memcg's page cache counter does not include the swap cache (the kernel adds swap cache
 * pages to the node's NR_FILE_PAGES only), so "Cached" needs no SwapCached subtraction.
 */
typedef struct StatKey {
        size_t offset; /* of a uint64_t in CapfsMemory */
        const char *v1;
        const char *v2;
} StatKey;

static const StatKey stat_keys[] = {
        {offsetof(CapfsMemory, cached), "total_cache", "file"},
        {offsetof(CapfsMemory, swap_cached), "total_swapcached", "swapcached"},
        {offsetof(CapfsMemory, active_anon), "total_active_anon", "active_anon"},
        {offsetof(CapfsMemory, inactive_anon), "total_inactive_anon", "inactive_anon"},
        {offsetof(CapfsMemory, active_file), "total_active_file", "active_file"},
        {offsetof(CapfsMemory, inactive_file), "total_inactive_file", "inactive_file"},
        {offsetof(CapfsMemory, unevictable), "total_unevictable", "unevictable"},
        {offsetof(CapfsMemory, dirty), "total_dirty", "file_dirty"},
        {offsetof(CapfsMemory, writeback), "total_writeback", "file_writeback"},
        {offsetof(CapfsMemory, anon), "total_rss", "anon"},
        {offsetof(CapfsMemory, mapped), "total_mapped_file", "file_mapped"},
        {offsetof(CapfsMemory, shmem), "total_shmem", "shmem"},
        {offsetof(CapfsMemory, anon_thp), "total_rss_huge", "anon_thp"},
        {offsetof(CapfsMemory, shmem_thp), NULL, "shmem_thp"},
        {offsetof(CapfsMemory, file_thp), NULL, "file_thp"},
        {offsetof(CapfsMemory, slab_reclaimable), NULL, "slab_reclaimable"},
        {offsetof(CapfsMemory, slab_unreclaimable), NULL, "slab_unreclaimable"},
        {offsetof(CapfsMemory, kernel_stack), NULL, "kernel_stack"},
        {offsetof(CapfsMemory, page_tables), NULL, "pagetables"},
        {offsetof(CapfsMemory, sec_page_tables), NULL, "sec_pagetables"},
        {offsetof(CapfsMemory, percpu), NULL, "percpu"},
        {offsetof(CapfsMemory, vmalloc), NULL, "vmalloc"},
        {offsetof(CapfsMemory, zswap), NULL, "zswap"},
        {offsetof(CapfsMemory, zswapped), NULL, "zswapped"},
};

/* The host's own numbers, in bytes. */
typedef struct HostMemory {
        uint64_t total, free, available;
        uint64_t swap_total, swap_free;
        uint64_t mlocked;
} HostMemory;

static int host_value(GHashTable *meminfo, const char *key, bool required, uint64_t fallback,
                      uint64_t *ret) {
        uint64_t kb;

        if (!capfs_keyed_get(meminfo, key, &kb)) {
                if (required)
                        return -EINVAL;
                *ret = fallback;
                return 0;
        }
        if (kb > UINT64_MAX / 1024)
                return -ERANGE;
        *ret = kb * 1024;
        return 0;
}

static int read_host_memory(GHashTable *meminfo, HostMemory *ret) {
        HostMemory h = {0};
        int r;

        r = host_value(meminfo, "MemTotal", true, 0, &h.total);
        if (r >= 0)
                r = host_value(meminfo, "MemFree", true, 0, &h.free);
        /* Kernels before 3.14 lack MemAvailable; MemFree is the cautious stand-in. */
        if (r >= 0)
                r = host_value(meminfo, "MemAvailable", false, h.free, &h.available);
        if (r >= 0)
                r = host_value(meminfo, "SwapTotal", false, 0, &h.swap_total);
        if (r >= 0)
                r = host_value(meminfo, "SwapFree", false, h.swap_total, &h.swap_free);
        if (r >= 0)
                r = host_value(meminfo, "Mlocked", false, 0, &h.mlocked);
        if (r < 0)
                return r;
        *ret = h;
        return 0;
}

/* A usage counter: a plain number ("max" is a limit's word, never a usage's). */
static int parse_counter(const GString *text, uint64_t *ret) {
        uint64_t value;
        int r;

        r = capfs_parse_limit(text->str, text->len, &value);
        if (r < 0)
                return r;
        if (value == CAPFS_NO_LIMIT)
                return -EINVAL;
        *ret = value;
        return 0;
}

static int read_counter(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                        const char *knob, uint64_t *ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        r = capfs_cgroup_read(host, ct, ctrl, knob, buf);
        return r < 0 ? r : parse_counter(buf, ret);
}

/*
 * The swap the container may use, before the host cap; *accounted is false when the kernel
 * does not account swap per cgroup (v1 without swapaccount=1, v2 without memory.swap.*).
 *
 * v1 limits memory+swap together, so the swap left is memsw minus the memory limit. Both
 * are the lowest over the path, taken separately: a parent with memsw 768M over a child
 * with memory 256M lets the child fill 256M of memory and 512M of swap. v1's memory.stat
 * (@v1_stat, NULL on v2) has both lowest values already. @mem_total is
 * the memory limit already capped at the host's RAM: an unset v1 limit is a huge number
 * on both knobs, and their difference would wrongly say "no swap".
 */
static int container_swap_limit(const CapfsHost *host, const CapfsContainer *ct, const MemoryKnobs *knobs,
                                GHashTable *v1_stat, uint64_t mem_total, uint64_t *ret, bool *accounted) {
        uint64_t limit;
        int r;

        /* v1 shows swap in memory.stat ("total_swap") exactly when it accounts it. */
        if (v1_stat && capfs_keyed_get(v1_stat, "total_swap", NULL) &&
            capfs_keyed_get(v1_stat, "hierarchical_memsw_limit", &limit))
                r = 0;
        else
                r = capfs_cgroup_min_limit(host, ct, knobs->ctrl, knobs->swap_limit, &limit);
        if (r == -ENOENT) {
                *accounted = false;
                return 0;
        }
        if (r < 0)
                return r;
        *accounted = true;
        if (knobs == &v1_knobs)
                limit = limit > mem_total ? limit - mem_total : 0;
        *ret = limit;
        return 0;
}

/* The container's swap in use: v1 derives it from the memory+swap counter. */
static int container_swap_usage(const CapfsHost *host, const CapfsContainer *ct, const MemoryKnobs *knobs,
                                uint64_t mem_usage, uint64_t *ret) {
        uint64_t usage;
        int r;

        r = read_counter(host, ct, knobs->ctrl, knobs->swap_usage, &usage);
        if (r < 0)
                return r;
        /* The two v1 counters are read one after the other: memory may have grown in between. */
        if (knobs == &v1_knobs)
                usage = usage > mem_usage ? usage - mem_usage : 0;
        *ret = usage;
        return 0;
}

static int memory_stat_fill(GHashTable *stat, const MemoryKnobs *knobs, CapfsMemory *mem) {
        if (!capfs_keyed_get(stat, knobs->cache_key, NULL))
                return -EINVAL;

        for (size_t i = 0; i < G_N_ELEMENTS(stat_keys); i++) {
                const char *key = knobs == &v1_knobs ? stat_keys[i].v1 : stat_keys[i].v2;
                uint64_t *field = (uint64_t *) ((char *) mem + stat_keys[i].offset);

                if (key)
                        (void) capfs_keyed_get(stat, key, field);
        }
        return 0;
}

/*
 * v1's memory.stat has no slab breakdown. The kernel memory charged to the cgroup
 * (memory.kmem.usage_in_bytes: slab mostly, plus kernel stacks and page tables) is the
 * closest truth; it is shown as unreclaimable slab, so that MemAvailable and the
 * buff/cache of free(1) (Cached + SReclaimable) never count it as reclaimable.
 */
static int read_v1_kernel_memory(const CapfsHost *host, const CapfsContainer *ct, uint64_t usage,
                                 CapfsMemory *mem) {
        uint64_t kmem;
        int r;

        r = read_counter(host, ct, CAPFS_CTRL_MEMORY, "memory.kmem.usage_in_bytes", &kmem);
        if (r == -ENOENT)
                return 0; /* a kernel without kmem accounting: nothing to show */
        if (r < 0)
                return r;
        /* kmem is part of the memory counter; a later read must not make it exceed it. */
        mem->slab_unreclaimable = MIN(kmem, usage);
        return 0;
}

int capfs_container_memory(const CapfsHost *host, const CapfsContainer *ct, GHashTable *host_meminfo,
                           CapfsMemory *ret) {
        const MemoryKnobs *knobs = capfs_host_is_v2(host) ? &v2_knobs : &v1_knobs;
        const char *cgpath = ct->cgroup[knobs->ctrl];
        g_autofree char *charged_path = NULL;
        g_autoptr(GHashTable) v1_stat = NULL, charged_stat = NULL;
        g_autoptr(GString) usage_text = g_string_new(NULL);
        CapfsContainer charged;
        CapfsMemory mem = {0};
        HostMemory h;
        uint64_t mem_limit, swap_limit = 0, usage, swap_usage, reclaimable;
        bool swap_accounted;
        int r;

        r = read_host_memory(host_meminfo, &h);
        if (r < 0)
                return r;
        if (!cgpath)
                return -ENOENT;
        /* The root cgroup holds the whole machine (and has no limit knobs on v2). */
        if (g_str_equal(cgpath, "/")) {
                *ret = mem;
                return 0;
        }

        /*
         * v1's memory.stat has the lowest limits over the path (hierarchical_*_limit), so one
         * read replaces one per level; a tree without them is walked.
         */
        if (knobs == &v1_knobs) {
                r = capfs_cgroup_read_keyed(host, ct, knobs->ctrl, "memory.stat", &v1_stat);
                if (r < 0)
                        return r;
        }
        if (!v1_stat || !capfs_keyed_get(v1_stat, "hierarchical_memory_limit", &mem_limit)) {
                r = capfs_cgroup_min_limit(host, ct, knobs->ctrl, knobs->limit, &mem_limit);
                if (r < 0)
                        return r;
        }
        mem.total = MIN(mem_limit, h.total);

        r = container_swap_limit(host, ct, knobs, v1_stat, mem.total, &swap_limit, &swap_accounted);
        if (r < 0)
                return r;
        mem.swap_total = swap_accounted ? MIN(swap_limit, h.swap_total) : h.swap_total;

        mem.limited = mem.total < h.total || mem.swap_total < h.swap_total;
        if (!mem.limited) {
                *ret = mem;
                return 0;
        }

        /*
         * Usage comes from where the kernel charges it: on v2, a container's cgroup without
         * the memory controller enabled (limits on an outer cgroup, the payload in an inner
         * one that only delegates cpu, say) has no memory files of its own.
         */
        r = capfs_cgroup_accounting_path(host, ct, knobs->ctrl, knobs->usage, &charged_path, usage_text);
        if (r >= 0)
                r = parse_counter(usage_text, &usage);
        if (r < 0)
                return r;
        charged = *ct;
        charged.cgroup[knobs->ctrl] = charged_path;
        if (v1_stat && g_str_equal(charged_path, cgpath))
                charged_stat = g_hash_table_ref(v1_stat);
        else {
                r = capfs_cgroup_read_keyed(host, &charged, knobs->ctrl, "memory.stat", &charged_stat);
                if (r < 0)
                        return r;
        }
        r = memory_stat_fill(charged_stat, knobs, &mem);
        if (r < 0)
                return r;
        if (knobs == &v1_knobs) {
                r = read_v1_kernel_memory(host, &charged, usage, &mem);
                if (r < 0)
                        return r;
        }

        /* Usage may briefly exceed a limit (per-CPU charge batches, or a limit just lowered). */
        mem.free = MIN(mem.total > usage ? mem.total - usage : 0, h.free);
        /* What reclaim can give back without swapping: the file LRUs and reclaimable slab. */
        reclaimable = mem.active_file + mem.inactive_file + mem.slab_reclaimable;
        mem.available = MIN(MIN(mem.free + reclaimable, mem.total), h.available);
        /*
         * No memory.stat has an mlock counter. Mlocked pages are unevictable and also counted
         * in the host's Mlocked, so the smaller of the two is a bound that never overstates
         * either; it is exact in the common case where all unevictable pages are mlocked.
         */
        mem.mlocked = MIN(h.mlocked, mem.unevictable);

        if (swap_accounted) {
                r = container_swap_usage(host, &charged, knobs, usage, &swap_usage);
                if (r < 0)
                        return r;
                mem.swap_used = MIN(swap_usage, mem.swap_total);
                mem.swap_free = MIN(mem.swap_total - mem.swap_used, h.swap_free);
        } else {
                /* Unlimited and unaccounted: the container competes for the host's swap. */
                mem.swap_used = h.swap_total - MIN(h.swap_free, h.swap_total);
                mem.swap_free = h.swap_free;
        }

        *ret = mem;
        return 0;
}

int capfs_container_memory_read(const CapfsHost *host, const CapfsContainer *ct, GString *host_meminfo,
                                CapfsMemory *ret) {
        g_autoptr(GHashTable) host_values = NULL;
        int r;

        r = capfs_held_read(host, host->proc_fd, "meminfo", host_meminfo);
        if (r < 0)
                return r;
        r = capfs_parse_keyed_u64(host_meminfo->str, host_meminfo->len, &host_values);
        if (r < 0)
                return r;
        return capfs_container_memory(host, ct, host_values, ret);
}
