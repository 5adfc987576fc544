/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the pieces of libcapfs share; not installed, not seen by the bindings. */
#pragma once

#include <errno.h>
#include <unistd.h>

#include "capfs.h"

G_BEGIN_DECLS

static inline void capfs_closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ __attribute__((cleanup(capfs_closep)))

#define CAPFS_NO_LIMIT UINT64_MAX

/* Reads a whole file relative to @dirfd into @out (replacing its content). Never blocks on FIFOs. */
int capfs_read_file_at(int dirfd, const char *path, GString *out);
/* The same for /proc/PID/NAME. */
int capfs_read_proc_pid(const CapfsHost *host, pid_t pid, const char *name, GString *out);

/* Reads @knob of the container's cgroup in hierarchy @ctrl. -ENOENT when the host lacks it. */
int capfs_cgroup_read(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                      const char *knob, GString *out);
/* Reads @knob of the cgroup at absolute @cgpath ("/a/b") in hierarchy @ctrl. */
int capfs_cgroup_read_path(const CapfsHost *host, CapfsController ctrl, const char *cgpath, const char *knob,
                           GString *out);
/*
 * The lowest limit in @knob over the container's cgroup and all its ancestors up to the
 * hierarchy root: a limit anywhere above caps the container too. Values are parsed with
 * capfs_parse_limit(); CAPFS_NO_LIMIT when no level sets one. Levels whose knob is missing
 * are skipped; -ENOENT only when no level has it.
 */
int capfs_cgroup_min_limit(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                           const char *knob, uint64_t *ret);

/* The cgroup2 tree to read v2 files from: v2 layout, or hybrid's unified tree. */
static inline bool capfs_host_is_v2(const CapfsHost *host) {
        return host->layout == CAPFS_LAYOUT_V2;
}

/*
 * The CPUs a container sees, as host CPU numbers in ascending order; the container
 * calls them 0..count-1. The cpuset, cut to ceil(quota/period) under CAPFS_CPU_VIEW_QUOTA.
 */
typedef struct CapfsCpuList {
        unsigned count;
        unsigned cpu[]; /* host CPU numbers */
} CapfsCpuList;
int capfs_container_cpus(const CapfsHost *host, const CapfsContainer *ct, CapfsCpuList **ret);
/* All host CPUs online (sys/devices/system/cpu/online). */
int capfs_host_online_cpus(const CapfsHost *host, CapfsCpuList **ret);

/* ---- the declared table of virtual files ---- */

typedef int (*CapfsRenderFn)(const CapfsHost *host, const CapfsContainer *ct, GString *out);

typedef struct CapfsVirtualFile {
        const char *path; /* relative to the mount root */
        const char *host_path; /* relative to ROOT, served when rendering fails */
        CapfsRenderFn render;
} CapfsVirtualFile;

extern const CapfsVirtualFile capfs_virtual_files[];
extern const size_t capfs_virtual_files_count;

int capfs_render_proc_meminfo(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_cpuinfo(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_stat(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_uptime(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_loadavg(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_diskstats(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_swaps(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_slabinfo(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_pressure_cpu(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_pressure_io(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_proc_pressure_memory(const CapfsHost *host, const CapfsContainer *ct, GString *out);
int capfs_render_sys_cpu_online(const CapfsHost *host, const CapfsContainer *ct, GString *out);

/* sys/devices/system/cpu: the host directory, cut to the container's CPUs and renumbered. */
int capfs_sys_cpu_stat(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                       CapfsNodeAttr *ret);
int capfs_sys_cpu_readdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                          CapfsDirFiller fill, void *userdata);
int capfs_sys_cpu_read(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, GString *out);
int capfs_sys_cpu_readlink(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                           GString *out);

G_END_DECLS
