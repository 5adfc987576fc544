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

/* The table behind CapfsHost.container_cache. */
GHashTable *capfs_container_cache_new(void);

/*
 * How many fds a cache that would like @wanted may hold: a quarter of RLIMIT_NOFILE at the
 * most (the container cache and the held files each take one quarter), at least 16.
 */
unsigned capfs_fd_budget(unsigned wanted);
/* Opens a regular file for reading: -EISDIR for a directory, -EINVAL for anything else but a file. */
int capfs_open_regular_at(int dirfd, const char *path);
/*
 * Reads the whole text behind @fd from offset 0 into @out (replacing its content), until a
 * read returns nothing or, when @one_piece (a kernel file made at once, see held.c), less
 * than was asked for.
 */
int capfs_pread_whole(int fd, bool one_piece, GString *out);
/* Reads a whole file relative to @dirfd into @out (replacing its content). Never blocks on FIFOs. */
int capfs_read_file_at(int dirfd, const char *path, GString *out);
/*
 * The same for a procfs, sysfs or cgroupfs file, through an fd held open for the next read
 * (held.c); other files are opened afresh each time. A host without held files reads afresh.
 */
int capfs_held_read(const CapfsHost *host, int dirfd, const char *path, GString *out);
/* @any_file_system: hold every file, also ordinary ones (tests on fixture trees). */
CapfsHeldFiles *capfs_held_files_new(bool any_file_system);
void capfs_held_files_free(CapfsHeldFiles *held);
/* Closes the files last read before @unused_since_usec (monotonic); returns how many stay open. */
unsigned capfs_held_files_prune(CapfsHeldFiles *held, int64_t unused_since_usec);
/* The same for /proc/PID/NAME. */
int capfs_read_proc_pid(const CapfsHost *host, pid_t pid, const char *name, GString *out);

/* Reads @knob of the container's cgroup in hierarchy @ctrl. -ENOENT when the host lacks it. */
int capfs_cgroup_read(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                      const char *knob, GString *out);
/* Reads a "key value" knob (memory.stat, cpu.stat) of the container's cgroup into a table (see parse.h). */
int capfs_cgroup_read_keyed(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                            const char *knob, GHashTable **ret);
/* Reads @knob of the cgroup at absolute @cgpath ("/a/b") in hierarchy @ctrl. */
/* Cuts the cgroup path @path ("/a/b") to its parent ("/a", then "/"); false when it is "/". */
bool capfs_cgroup_path_up(char *path);
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
/*
 * Where the container's usage of a controller is accounted: the nearest of its cgroup and
 * its ancestors that has @knob (a file of that controller), as an absolute path, and that
 * file's text in @text. On cgroup2 a cgroup whose parent does not enable a controller has
 * none of its files, and the kernel charges its tasks to that nearest ancestor, whose limits
 * are also the ones enforced. -ENOENT when no level has @knob.
 */
int capfs_cgroup_accounting_path(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                                 const char *knob, char **ret, GString *text);

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
/*
 * The whole cpuset, before the quota cut, and how many of its first CPUs are shown:
 * capfs_container_cpus() is that prefix. proc/stat folds the usage of the rest into it.
 */
int capfs_container_cpuset(const CapfsHost *host, const CapfsContainer *ct, CapfsCpuList **cpuset,
                           unsigned *shown);
/* All host CPUs online (sys/devices/system/cpu/online). */
int capfs_host_online_cpus(const CapfsHost *host, CapfsCpuList **ret);

/* ---- per-container load averages (loadavg.c), split so that tests can drive each step ---- */

/* The kernel's fixed point: loads are in units of 1/2048 task. */
#define CAPFS_LOADAVG_FSHIFT 11
#define CAPFS_LOADAVG_FIXED_1 (UINT64_C(1) << CAPFS_LOADAVG_FSHIFT)
/* A container nobody asked about for this long is forgotten. */
#define CAPFS_LOADAVG_FORGET_USEC (10 * 60 * G_USEC_PER_SEC)

/* The highest pid seen in one pid namespace ("pid:[INODE]"), as that namespace numbers it. */
typedef struct CapfsLoadavgNsPid {
        uint64_t pidns;
        pid_t pid;
} CapfsLoadavgNsPid;

/* One tick's tasks in one cgroup (its own tasks, not its descendants'). */
typedef struct CapfsLoadavgCounts {
        unsigned running; /* state R */
        unsigned uninterruptible; /* state D */
        GArray *last_pids; /* CapfsLoadavgNsPid, one per pid namespace */
} CapfsLoadavgCounts;

/* What proc/loadavg shows for one container. */
typedef struct CapfsLoadavgReading {
        uint64_t avg[3]; /* 1, 5, 15 minutes, CAPFS_LOADAVG_FSHIFT fixed point */
        unsigned running; /* tasks in state R at the last tick */
        unsigned active; /* tasks in state R or D at the last tick */
        pid_t last_pid; /* the highest pid, in the container's pid namespace, at the last tick; 0 if none */
} CapfsLoadavgReading;

/* A table cgroup path -> CapfsLoadavgCounts*, filled by capfs_loadavg_counts_add(). */
GHashTable *capfs_loadavg_counts_new(void);
/* Counts one task of @cgpath in @state ('R' or 'D'); @pidns and @nspid are 0 when unknown. */
void capfs_loadavg_counts_add(GHashTable *counts, const char *cgpath, char state, uint64_t pidns,
                              pid_t nspid);
/*
 * One pass over the host's tasks: every task in state R or D, by the cgroup path the
 * sampler uses (capfs_loadavg_controller()). Tasks of the root cgroup are left out.
 */
int capfs_loadavg_scan(const CapfsHost *host, GHashTable **ret);
/*
 * Folds one pass into every tracked container: a task counts for each tracked cgroup
 * on its path. @now_usec is monotonic; a tick that comes several intervals after the last
 * one applies them all with this pass's counts, as the kernel does after a tickless
 * stretch. Forgets containers not asked for CAPFS_LOADAVG_FORGET_USEC.
 */
void capfs_loadavg_tick(CapfsLoadavg *la, GHashTable *counts, int64_t now_usec);
/*
 * The reading of the container at @cgpath, whose pid namespace is @pidns (0: unknown).
 * The first query starts tracking it and reads zeros.
 */
void capfs_loadavg_query(CapfsLoadavg *la, const char *cgpath, uint64_t pidns, int64_t now_usec,
                         CapfsLoadavgReading *ret);
/* How many containers are tracked. */
unsigned capfs_loadavg_tracked(CapfsLoadavg *la);
/* The hierarchy whose paths key containers: cgroup2 on v2, else v1 cpu (or cpuacct). */
CapfsController capfs_loadavg_controller(const CapfsHost *host);
/* The inode of /proc/PID/ns/pid ("pid:[INODE]"), which names a pid namespace; 0 when unreadable. */
uint64_t capfs_pidns_of(const CapfsHost *host, pid_t pid);

/*
 * A container's memory as proc/meminfo and proc/swaps show it, in bytes. Computed in
 * one place (fs/memory.c) so that both files tell the same story.
 */
typedef struct CapfsMemory {
        /* False: neither memory nor swap is limited below the host's; the host's files are the view. */
        bool limited;
        uint64_t total, free, available;
        uint64_t swap_total, swap_free, swap_used;
        uint64_t cached, swap_cached;
        uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable, mlocked;
        uint64_t dirty, writeback, anon, mapped, shmem;
        uint64_t slab_reclaimable, slab_unreclaimable;
        uint64_t kernel_stack, page_tables, sec_page_tables, percpu, vmalloc;
        uint64_t anon_thp, shmem_thp, file_thp;
        uint64_t zswap, zswapped;
} CapfsMemory;
/*
 * @host_meminfo: the host's /proc/meminfo parsed by capfs_parse_keyed_u64() (values in kB),
 * read once by the caller so that the rendered file and the caps come from one snapshot.
 */
int capfs_container_memory(const CapfsHost *host, const CapfsContainer *ct, GHashTable *host_meminfo,
                           CapfsMemory *ret);
/* Reads the host's /proc/meminfo into @host_meminfo (for the renderer to follow) and computes from it. */
int capfs_container_memory_read(const CapfsHost *host, const CapfsContainer *ct, GString *host_meminfo,
                                CapfsMemory *ret);

/* ---- texts rendered for a container lately (render-cache.c) ---- */

CapfsRenderCache *capfs_render_cache_new(void);
CapfsRenderCache *capfs_render_cache_ref(CapfsRenderCache *cache);
void capfs_render_cache_unref(CapfsRenderCache *cache);
/* The text of @path rendered for @ct's container less than host->render_cache_usec ago, into @out. */
bool capfs_render_cache_get(const CapfsHost *host, const CapfsContainer *ct, const char *path, GString *out);
void capfs_render_cache_put(const CapfsHost *host, const CapfsContainer *ct, const char *path,
                            const GString *text, gint64 rendered_at);
/* After a change through the cgroup view: the container's next reads render afresh. */
void capfs_render_cache_forget(const CapfsContainer *ct);
/* Drops texts rendered before @older_than (monotonic µs): they would not be served again. */
void capfs_render_cache_prune(CapfsRenderCache *cache, gint64 older_than);

/* ---- the declared table of virtual files ---- */

typedef int (*CapfsRenderFn)(const CapfsHost *host, const CapfsContainer *ct, GString *out);

typedef struct CapfsVirtualFile {
        const char *path; /* relative to the mount root */
        const char *host_path; /* relative to ROOT/proc, served when rendering fails */
        mode_t perm; /* the kernel's own mode for the file: no view is more open than /proc */
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

/*
 * The host's /proc/cpuinfo text cut to @cpus (host numbers, in the order shown) and
 * renumbered from 0. -EINVAL for a layout it does not recognise, -ENOENT when a CPU has
 * no block: the caller then serves the host's file rather than a wrong one.
 */
int capfs_cpuinfo_select(const char *text, size_t len, const CapfsCpuList *cpus, GString *out);

/*
 * A subtree served by a module of its own. @path is relative to the mount root; every
 * callback gets the rest of the path below it ("" for its top). A NULL @changes, or a
 * NULL member of it, refuses that change with -EACCES, like everywhere else.
 */
typedef struct CapfsSubtreeChanges {
        int (*open)(const CapfsHost *, const CapfsContainer *, const char *, int flags);
        ssize_t (*write)(const CapfsHost *, const CapfsContainer *, const char *, const char *, size_t);
        int (*setattr)(const CapfsHost *, const CapfsContainer *, const char *, unsigned what,
                       uint64_t size);
        int (*mkdir)(const CapfsHost *, const CapfsContainer *, const char *, mode_t);
        int (*rmdir)(const CapfsHost *, const CapfsContainer *, const char *);
        int refused_errno; /* create, mknod, symlink, link and rename below the subtree */
} CapfsSubtreeChanges;

typedef struct CapfsSubtree {
        const char *path;
        /* Its files read the same for every process of a container: their texts may be kept. */
        bool render_cached;
        int (*stat)(const CapfsHost *, const CapfsContainer *, const char *, CapfsNodeAttr *);
        int (*readdir)(const CapfsHost *, const CapfsContainer *, const char *, CapfsDirFiller, void *);
        int (*read)(const CapfsHost *, const CapfsContainer *, const char *, GString *);
        int (*readlink)(const CapfsHost *, const CapfsContainer *, const char *, GString *);
        const CapfsSubtreeChanges *changes;
} CapfsSubtree;

extern const CapfsSubtree capfs_sys_cpu_subtree;
/* cgroup: the restricted read-write view of the cgroup hierarchies (cgroup-view.c). */
extern const CapfsSubtree capfs_cgroup_subtree;
/* by-pidns/N/cgroup: the same view, for the container of pid namespace N alone (by-pidns.c). */
extern const CapfsSubtree capfs_by_pidns_subtree;

/* sys/devices/system/cpu: the host directory, cut to the container's CPUs and renumbered. */
int capfs_sys_cpu_stat(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                       CapfsNodeAttr *ret);
int capfs_sys_cpu_readdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                          CapfsDirFiller fill, void *userdata);
int capfs_sys_cpu_read(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, GString *out);
int capfs_sys_cpu_readlink(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                           GString *out);

/* ---- the cgroup view's helpers: pid translation (cgroup-pids.c) ---- */

/* A container's pid namespace, as the cgroup view translates ids for it. */
typedef struct CapfsPidns {
        bool host; /* the daemon's own: ids are host ids */
        unsigned level; /* how deep it is nested below the daemon's (host: 0) */
        uint64_t inode; /* of /proc/INIT/ns/pid */
        int fd; /* that nsfs file, for the translation ioctls; < 0 where they cannot be used */
        pid_t init_pid, caller_pid; /* host ids */
} CapfsPidns;
int capfs_pidns_open(const CapfsHost *host, const CapfsContainer *ct, CapfsPidns *ret);
void capfs_pidns_clear(CapfsPidns *ns);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CapfsPidns, capfs_pidns_clear)
/* The id @ns gives the host task @task; -ESRCH when @ns cannot see it. */
int capfs_pidns_from_host(const CapfsHost *host, CapfsPidns *ns, pid_t task, pid_t *ret);
/* Appends host ids to @out: the tasks a translation without the kernel's help may consider. */
typedef int (*CapfsPidCandidates)(void *userdata, GArray *out);
/*
 * The host task @ns calls @id; -ESRCH when it has none. Kernels before 6.11 cannot be
 * asked: then only @candidates, the caller and the init are considered.
 */
int capfs_pidns_to_host(const CapfsHost *host, CapfsPidns *ns, pid_t id, CapfsPidCandidates candidates,
                        void *userdata, pid_t *ret);
/* Appends the ids in @file (cgroup.procs, tasks, cgroup.threads) of the cgroup @dirfd and all below it. */
int capfs_cgroup_collect_ids(int dirfd, const char *file, GArray *out);

/* ---- where a container's cgroup namespace starts (cgroup-ns.c) ---- */

/*
 * NULL in *@ret when the container's init shares the daemon's cgroup namespace: the view
 * shows host paths. Otherwise a table from hierarchy (as ct->hierarchy_root names them)
 * to the host path of that namespace's root, which /proc/self/cgroup inside shows as "/".
 * It is read from inside the namespace (one short-lived thread per namespace, cached);
 * where that cannot be done, the container's root stands in for it.
 */
int capfs_cgroupns_tops(const CapfsHost *host, const CapfsContainer *ct, GHashTable **ret);
/* "/a/b/c" seen as "/b/c" from inside a namespace: the namespace's root "/a". NULL if it is not a suffix. */
char *capfs_cgroupns_root_of(const char *host_path, const char *ns_path);

/* ---- the audit log of changes made through the cgroup view (audit.c) ---- */

typedef enum {
        CAPFS_AUDIT_WRITE,
        CAPFS_AUDIT_MKDIR,
        CAPFS_AUDIT_RMDIR,
        CAPFS_AUDIT_MOVE,
} CapfsAuditOp;

typedef struct CapfsAuditEvent {
        CapfsAuditOp op;
        const char *hierarchy; /* directory under /sys/fs/cgroup; "" on pure v2 */
        const char *root; /* the container's root in it */
        const char *path; /* host path of the cgroup, or of the knob written */
        const char *value; /* WRITE: the bytes written; NULL for an open for writing */
        size_t value_len;
        pid_t id, host_id; /* MOVE: the id as written (-1: not a pid; value says what) and the host's (0:
                              none) */
        int result; /* 0 or a negative errno */
} CapfsAuditEvent;

/* A container may log this many lines at once, then CAPFS_AUDIT_RATE a second. */
#define CAPFS_AUDIT_BURST 100
#define CAPFS_AUDIT_RATE 20
/* Containers whose rate is tracked; past this, idle ones are forgotten. */
#define CAPFS_AUDIT_TRACKED_MAX 1024

/* Logs @ev at info level (g_info), unless @ct is over its rate. */
void capfs_audit(const CapfsContainer *ct, const CapfsAuditEvent *ev);
/* The same at @now_usec (monotonic), for tests of the rate limit. */
void capfs_audit_at(const CapfsContainer *ct, const CapfsAuditEvent *ev, int64_t now_usec);
/* Forgets every container's rate (tests). */
void capfs_audit_reset(void);

G_END_DECLS
