/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The files capfs renders, each by one function in its own source file. */
#include "../internal.h"

const CapfsVirtualFile capfs_virtual_files[] = {
        {"proc/meminfo", "meminfo", 0444, capfs_render_proc_meminfo},
        {"proc/cpuinfo", "cpuinfo", 0444, capfs_render_proc_cpuinfo},
        {"proc/stat", "stat", 0444, capfs_render_proc_stat},
        {"proc/uptime", "uptime", 0444, capfs_render_proc_uptime},
        {"proc/loadavg", "loadavg", 0444, capfs_render_proc_loadavg},
        {"proc/diskstats", "diskstats", 0444, capfs_render_proc_diskstats},
        {"proc/swaps", "swaps", 0444, capfs_render_proc_swaps},
        {"proc/slabinfo", "slabinfo", 0400, capfs_render_proc_slabinfo},
        {"proc/pressure/cpu", "pressure/cpu", 0444, capfs_render_proc_pressure_cpu},
        {"proc/pressure/io", "pressure/io", 0444, capfs_render_proc_pressure_io},
        {"proc/pressure/memory", "pressure/memory", 0444, capfs_render_proc_pressure_memory},
};

const size_t capfs_virtual_files_count = G_N_ELEMENTS(capfs_virtual_files);
