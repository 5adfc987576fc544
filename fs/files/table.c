/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The files capfs renders, each by one function in its own source file. */
#include "../internal.h"

const CapfsVirtualFile capfs_virtual_files[] = {
        { "proc/meminfo", "meminfo", capfs_render_proc_meminfo },
        { "proc/cpuinfo", "cpuinfo", capfs_render_proc_cpuinfo },
        { "proc/stat", "stat", capfs_render_proc_stat },
        { "proc/uptime", "uptime", capfs_render_proc_uptime },
        { "proc/loadavg", "loadavg", capfs_render_proc_loadavg },
        { "proc/diskstats", "diskstats", capfs_render_proc_diskstats },
        { "proc/swaps", "swaps", capfs_render_proc_swaps },
        { "proc/slabinfo", "slabinfo", capfs_render_proc_slabinfo },
        { "proc/pressure/cpu", "pressure/cpu", capfs_render_proc_pressure_cpu },
        { "proc/pressure/io", "pressure/io", capfs_render_proc_pressure_io },
        { "proc/pressure/memory", "pressure/memory", capfs_render_proc_pressure_memory },
};

const size_t capfs_virtual_files_count = G_N_ELEMENTS(capfs_virtual_files);
