/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcapfs: what the capfs filesystem contains and what it allows, decided from root
 * fds for /proc, /sys and the cgroup hierarchies. No FUSE here: the bindings turn
 * these calls into replies, and unit tests point the root fds at fixture trees.
 *
 * Every function returns 0 or a negative errno.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
        CAPFS_CTRL_MEMORY,
        CAPFS_CTRL_CPU,
        CAPFS_CTRL_CPUACCT,
        CAPFS_CTRL_CPUSET,
        CAPFS_CTRL_BLKIO,
        CAPFS_CTRL_PIDS,
        /* The cgroup2 tree: all of /sys/fs/cgroup on v2, /sys/fs/cgroup/unified on hybrid. */
        CAPFS_CTRL_UNIFIED,
        _CAPFS_CTRL_MAX,
} CapfsController;

typedef enum {
        CAPFS_LAYOUT_V1, /* v1 controllers, with or without a cgroup2 tree beside them (hybrid) */
        CAPFS_LAYOUT_V2, /* pure cgroup2 */
} CapfsLayout;

typedef enum {
        CAPFS_CPU_VIEW_QUOTA, /* cpuset, further cut to ceil(quota/period) */
        CAPFS_CPU_VIEW_CPUSET, /* cpuset alone */
} CapfsCpuView;

/*
 * The cgroup view's budget below a container's root, where its cgroup2 root sets no
 * cgroup.max.descendants / cgroup.max.depth of its own: room for systemd's slices, scopes and
 * services. CAPFS_CGROUP_BUDGET_NONE ("max") sets no budget.
 */
#define CAPFS_CGROUP_MAX_DESCENDANTS_DEFAULT 1000
#define CAPFS_CGROUP_MAX_DEPTH_DEFAULT 16
#define CAPFS_CGROUP_BUDGET_NONE UINT64_MAX

typedef struct CapfsLoadavg CapfsLoadavg;
typedef struct CapfsHeldFiles CapfsHeldFiles;
typedef struct CapfsRenderCache CapfsRenderCache;

/*
 * How long a container may be given a text rendered for it earlier (render-cache.c): the
 * daemon's default and the most it accepts. 0 renders every read afresh.
 */
#define CAPFS_RENDER_CACHE_USEC_DEFAULT (20 * 1000)
#define CAPFS_RENDER_CACHE_USEC_MAX (50 * 1000)

typedef struct CapfsHost {
        int proc_fd;
        int sys_fd;
        int cgroup_fd; /* /sys/fs/cgroup */
        int hierarchy_fd[_CAPFS_CTRL_MAX]; /* -1 where this host lacks the hierarchy */
        CapfsLayout layout;
        CapfsCpuView cpu_view;
        long clock_ticks; /* USER_HZ, the unit of /proc/stat */
        char *own_pidns; /* "pid:[N]" of the daemon, to recognise host callers */
        /* The daemon's cgroup and user namespaces ("cgroup:[N]", "user:[N]"); NULL: the kernel has none. */
        char *own_cgroupns;
        char *own_userns;
        CapfsLoadavg *loadavg; /* owned by the daemon; NULL: loadavg falls back to the host's */

        GMutex init_cache_lock;
        GHashTable *init_by_pidns; /* "pid:[N]" -> host pid of that namespace's init */
        /* "pid:[N]" -> what capfs_container_resolve() found for that namespace (container.c) */
        GRWLock container_cache_lock; /* readers look up, writers add and drop */
        GHashTable *container_cache;
        /* Kernel text files kept open between reads (held.c). */
        CapfsHeldFiles *held_files;
        /*
         * The cgroup view's budget where a container's cgroup2 root sets none: the daemon's
         * options, set after capfs_host_open() (which sets the defaults). Last, so that a daemon
         * that predates them still finds every other member where it was.
         */
        uint64_t cgroup_max_descendants;
        uint64_t cgroup_max_depth;
        /* Render cache time; capfs_host_open() sets 0 (none), the daemon its option. */
        uint64_t render_cache_usec;
} CapfsHost;

/* The container a request comes from: the init of the caller's pid namespace and its cgroups. */
typedef struct CapfsContainer {
        pid_t init_pid; /* host pid; the caller itself when it is in the host's pid namespace */
        bool host_pidns;
        char *cgroup[_CAPFS_CTRL_MAX]; /* absolute path in each hierarchy, NULL when unknown */
        uint64_t init_start_ticks; /* field 22 of /proc/PID/stat, ticks since boot */
        /* The host id (a thread id) of the task making the request: "0" written to cgroup.procs means it. */
        pid_t caller_pid;
        /*
         * Every hierarchy of /proc/INIT/cgroup, by the name it has there ("memory", "name=systemd",
         * "" for cgroup2), -> the container's root in it, pruned as cgroup[] is. NULL when unknown.
         */
        GHashTable *hierarchy_root;
        /* Texts rendered for this container lately, shared by its requests; NULL: none kept. */
        CapfsRenderCache *render_cache;
        /* The inode of its pid namespace (the caller's, for a host process): by-pidns/N is its. */
        uint64_t pidns_inode;
} CapfsContainer;

/*
 * Opens the host roots below @root ("/" on a real host, a fixture directory in tests):
 * ROOT/proc, ROOT/sys and ROOT/sys/fs/cgroup. Detects the cgroup layout from the tree.
 */
CapfsHost *capfs_host_open(const char *root, CapfsCpuView cpu_view, GError **error);
void capfs_host_free(CapfsHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapfsHost, capfs_host_free)

const char *capfs_controller_name(CapfsController ctrl);

/*
 * Maps a caller's host pid to its container. A container's pid namespace is remembered with
 * its init's /proc/PID/cgroup held open: while that still reads the same, the container is the
 * same, and a request costs one readlink and one read instead of a walk to the init.
 */
int capfs_container_resolve(CapfsHost *host, pid_t caller, CapfsContainer **ret);
/* The same when the caller's pid namespace is known already: the inode of /proc/CALLER/ns/pid (0: unknown).
 */
int capfs_container_resolve_in(CapfsHost *host, pid_t caller, uint64_t pidns_inode, CapfsContainer **ret);
/* Lets go of remembered containers whose init is gone (each holds a file open). */
void capfs_container_cache_prune(CapfsHost *host);
/* Every few seconds: forgets ended containers and closes the kernel files nobody read for a minute. */
void capfs_host_prune(CapfsHost *host);
size_t capfs_container_cache_size(CapfsHost *host);
void capfs_container_free(CapfsContainer *ct);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapfsContainer, capfs_container_free)

/* ---- the tree served under the mountpoint; paths are relative, "" is the root ---- */

typedef enum {
        CAPFS_NODE_DIR,
        CAPFS_NODE_FILE,
        CAPFS_NODE_SYMLINK,
} CapfsNodeType;

typedef struct CapfsNodeAttr {
        CapfsNodeType type;
        mode_t perm; /* permission bits only */
        uint64_t size; /* 0 for rendered files, as procfs does */
        /*
         * Whether the node exists, or what it is, depends on the caller: the kernel must not
         * cache its entry or attributes. Content is never cached (every file is direct I/O).
         */
        bool per_caller;
        /*
         * The same for every process of one container, and only reachable by it (by-pidns/):
         * the kernel may keep it for the render cache's time. In per_caller's padding: the
         * struct keeps its size for a daemon built before it.
         */
        bool per_container;
        uid_t uid; /* owner, as host ids: the kernel maps them into the caller's user namespace */
        gid_t gid;
} CapfsNodeAttr;

typedef void (*CapfsDirFiller)(void *userdata, const char *name, CapfsNodeType type);

/*
 * Whether anything but reading @path depends on the caller: false for the declared files and
 * the directories leading to them, whose stat, open and listing are the same for everyone
 * (their content is not), and which take a NULL container for those calls.
 */
bool capfs_node_needs_container(const char *path);
int capfs_node_stat(CapfsHost *host, const CapfsContainer *ct, const char *path, CapfsNodeAttr *ret);
int capfs_node_readdir(CapfsHost *host, const CapfsContainer *ct, const char *path, CapfsDirFiller fill,
                       void *userdata);
/* Renders the whole content of a file for @ct; reads at any offset are served from it. */
int capfs_node_read(CapfsHost *host, const CapfsContainer *ct, const char *path, GString *out);
int capfs_node_readlink(CapfsHost *host, const CapfsContainer *ct, const char *path, GString *out);

/*
 * What may be done to a node. Each checks the path for the caller first (-ENOENT when it
 * does not exist for them), then the policy: outside the views that allow changes, every
 * change is -EACCES.
 */
/* Whether @path may be opened with open(2) @flags (O_ACCMODE, O_TRUNC). */
int capfs_node_open(CapfsHost *host, const CapfsContainer *ct, const char *path, int flags);
/* One write(2): the whole value, passed on as one write. Returns bytes written or -errno. */
ssize_t capfs_node_write(CapfsHost *host, const CapfsContainer *ct, const char *path, const char *data,
                         size_t size);

typedef enum {
        CAPFS_SETATTR_SIZE = 1 << 0, /* truncate; only to 0, as a shell's "echo x > knob" does */
        CAPFS_SETATTR_MODE = 1 << 1,
        CAPFS_SETATTR_OWNER = 1 << 2,
        CAPFS_SETATTR_TIMES = 1 << 3,
        CAPFS_SETATTR_XATTR = 1 << 4,
} CapfsSetattr;
int capfs_node_setattr(CapfsHost *host, const CapfsContainer *ct, const char *path, unsigned what,
                       uint64_t size);
int capfs_node_mkdir(CapfsHost *host, const CapfsContainer *ct, const char *path, mode_t mode);
int capfs_node_rmdir(CapfsHost *host, const CapfsContainer *ct, const char *path);
/*
 * Creating a file, device node, symlink or hard link below @parent, or renaming in it, is
 * never allowed; this says with which errno (-ENOENT when @parent does not exist for the caller).
 */
int capfs_node_refuse_change(CapfsHost *host, const CapfsContainer *ct, const char *parent);

/*
 * What sysinfo(2) tells a process of @ct, the numbers of its proc/meminfo, proc/uptime and
 * proc/loadavg: a container's runtimes (glibc's sysconf(_SC_PHYS_PAGES), busybox, the JVM's
 * fallback) size themselves from it. Memory in bytes (mem_unit 1), as the kernel gives it on
 * 64-bit hosts.
 */
typedef struct CapfsSysinfo {
        uint64_t uptime_sec; /* rounded up, as the kernel does */
        uint64_t loads[3]; /* 1, 5 and 15 minutes; 1 << 16 is a load of 1 (SI_LOAD_SHIFT) */
        uint64_t total_ram, free_ram, shared_ram, buffer_ram;
        uint64_t total_swap, free_swap;
        uint64_t procs; /* tasks, threads included */
} CapfsSysinfo;
int capfs_container_sysinfo(CapfsHost *host, const CapfsContainer *ct, CapfsSysinfo *ret);

/*
 * Per-container load averages. The daemon owns the sampler and calls
 * capfs_loadavg_sample() every CAPFS_LOADAVG_INTERVAL_SEC from a thread of its own;
 * proc/loadavg renders from it. Cost per pass grows with the host's runnable tasks,
 * not with the number of containers.
 */
#define CAPFS_LOADAVG_INTERVAL_SEC 5
CapfsLoadavg *capfs_loadavg_new(void);
void capfs_loadavg_free(CapfsLoadavg *la);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapfsLoadavg, capfs_loadavg_free)
void capfs_loadavg_sample(CapfsLoadavg *la, const CapfsHost *host);
/*
 * The averages as text, for the next worker: a daemon replaced or restarted by its supervisor
 * carries on from them instead of showing every container a load of 0 again.
 */
char *capfs_loadavg_export(CapfsLoadavg *la, size_t *ret_len);
/* Takes in what capfs_loadavg_export() wrote; -EINVAL (and nothing taken) when it is not that. */
int capfs_loadavg_import(CapfsLoadavg *la, const char *text, size_t len);

G_END_DECLS
