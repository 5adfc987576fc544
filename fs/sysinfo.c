/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What sysinfo(2) answers a process of a container: read off the very files the container sees
 * (proc/meminfo, proc/uptime, proc/loadavg, through capfs_node_read(), fallbacks included), so
 * that free(1), which reads the file, and glibc's sysconf(_SC_PHYS_PAGES) or busybox's free,
 * which call sysinfo(), can never disagree.
 */
#include "internal.h"
#include "parse/parse.h"

/* sysinfo's loads are fixed point with 16 fractional bits (SI_LOAD_SHIFT). */
#define SYSINFO_LOAD_ONE (UINT64_C(1) << 16)

static int meminfo_bytes(GHashTable *meminfo, const char *key, uint64_t *ret) {
        uint64_t kb;

        if (!capfs_keyed_get(meminfo, key, &kb))
                return -ENODATA;
        *ret = kb > UINT64_MAX / 1024 ? UINT64_MAX : kb * 1024;
        return 0;
}

int capfs_container_sysinfo(CapfsHost *host, const CapfsContainer *ct, CapfsSysinfo *ret) {
        g_autoptr(GString) text = g_string_new(NULL);
        g_autoptr(GHashTable) meminfo = NULL;
        CapfsSysinfo info = {0};
        CapfsLoadavgLine loadavg;
        uint64_t uptime_cs;
        int r;

        r = capfs_node_read(host, ct, "proc/meminfo", text);
        if (r < 0)
                return r;
        r = capfs_parse_keyed_u64(text->str, text->len, &meminfo);
        if (r < 0)
                return r;
        if ((r = meminfo_bytes(meminfo, "MemTotal", &info.total_ram)) < 0 ||
            (r = meminfo_bytes(meminfo, "MemFree", &info.free_ram)) < 0 ||
            (r = meminfo_bytes(meminfo, "SwapTotal", &info.total_swap)) < 0 ||
            (r = meminfo_bytes(meminfo, "SwapFree", &info.free_swap)) < 0)
                return r;
        /* The kernel's sharedram is Shmem and its bufferram is Buffers; a kernel without them has 0. */
        (void) meminfo_bytes(meminfo, "Shmem", &info.shared_ram);
        (void) meminfo_bytes(meminfo, "Buffers", &info.buffer_ram);

        r = capfs_node_read(host, ct, "proc/uptime", text);
        if (r < 0)
                return r;
        r = capfs_parse_uptime(text->str, text->len, &uptime_cs, NULL);
        if (r < 0)
                return r;
        /* The kernel rounds a started second up. */
        info.uptime_sec = uptime_cs / 100 + (uptime_cs % 100 ? 1 : 0);

        r = capfs_node_read(host, ct, "proc/loadavg", text);
        if (r < 0)
                return r;
        r = capfs_parse_loadavg(text->str, text->len, &loadavg);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < G_N_ELEMENTS(info.loads); i++)
                info.loads[i] = loadavg.load_hundredths[i] * SYSINFO_LOAD_ONE / 100;
        /* Both count threads: the kernel's procs is nr_threads, as loadavg's total is. */
        info.procs = loadavg.total;

        *ret = info;
        return 0;
}
