/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-launch's parts, one per concern (as crun's libcrun and nspawn's nspawn-*.c split theirs):
 *
 *   options.c   the command line, parsed once into the Options below
 *   scope.c     systemd's transient scope with Delegate=yes
 *   cgroups.c   the container's cgroups: where, limits, joining, removal
 *   devices.c   the device rules: the v1 whitelist and the cgroup2 BPF program
 *   mounts.c    the container's mounts, a declared table and the steps around it
 *   security.c  the capability bounding set and the seccomp filter
 *   console.c   the pty the launcher relays, and waiting for init
 *   sysinfo.c   the container's seccomp listener: sysinfo(2) answered by capfs
 *   capfs-launch.c  main: the steps in order, the child that becomes init
 *
 * One error convention throughout: a step returns 0 or a negative errno and fills a GError whose
 * message names the step and the path (launch_fail()). The child reports its failure to the
 * launcher as {errno, message} over their socket (child_report()).
 */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CGROUP_ROOT "/sys/fs/cgroup"

typedef enum { SCOPE_AUTO, SCOPE_YES, SCOPE_NO } ScopeMode;
typedef enum { CGROUP_MODE_CAPFS, CGROUP_MODE_NATIVE } CgroupMode;
typedef enum { NETWORK_HOST, NETWORK_NONE } NetworkMode;

typedef struct {
        char *source; /* on the host */
        char *target; /* absolute, in the container */
        bool readonly;
} BindMount;

typedef struct {
        char *rootfs; /* absolute */
        char *name;
        uint64_t memory_bytes; /* 0: no limit */
        int cpus_milli; /* 0: no limit */
        int64_t pids; /* 0: no limit */
        /* The container's budget of cgroups below its root, and their depth; UINT64_MAX: none. */
        uint64_t max_descendants, max_depth;
        char *hostname;
        char *capfs;
        bool no_capfs;
        CgroupMode cgroup_mode;
        char *cap_drop; /* comma-separated, as given */
        char *cap_keep;
        NetworkMode network;
        GArray *binds; /* BindMount */
        char *cgroup_parent;
        ScopeMode scope;
        char **argv;
} Options;

/* One cgroup hierarchy the launcher is in, as /proc/self/cgroup and mountinfo show it. */
typedef struct {
        char *controllers; /* "memory", "cpu,cpuacct", "name=systemd", "" for cgroup2 */
        char *dir; /* its directory name under /sys/fs/cgroup */
        char *outer; /* the container's outer cgroup (device rules, the cgroup budget) */
        char *inner; /* the container's root */
        /* The limits go on the container's root, where runtimes look (a JVM reads its own
         * cgroup's memory.max), when something keeps the container from changing them there:
         * capfs's view (v1) or cgroup2's nsdelegate. Otherwise on the outer cgroup. */
        bool limits_on_root;
        bool created_outer, created_inner;
} Hierarchy;

/* The container's seccomp listener and the way to capfs's answers (sysinfo.c). */
typedef struct {
        int listener; /* -1: the filter has no listener (no capfs, or too old a kernel) */
        char *socket_path; /* capfs's proxy socket */
        int conn; /* connected to it; -1 between tries */
        int timeout_ms; /* how long a caller may wait for capfs before the kernel answers */
        pid_t init_pid;
        uint64_t answered, continued, continued_in_a_row;
} SysinfoRelay;

/* How long a sysinfo() caller waits for capfs at most: then the host's numbers. */
#define SYSINFO_RELAY_TIMEOUT_MS 2000

typedef struct {
        Options opt;
        GPtrArray *hierarchies; /* Hierarchy* */
        bool v2_only;
        bool nsdelegate; /* the cgroup2 tree is mounted with it */
        int pty_master;
        char pty_slave[64];
        pid_t child;
        char uuid[37];
        SysinfoRelay sysinfo;
} Launch;

/* ---- errors (capfs-launch.c) */

/* Sets ERROR to "MESSAGE: strerror(-R)" and returns R, a negative errno. */
int launch_fail(GError **error, int r, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Sets ERROR to MESSAGE alone (bad input, nothing the kernel said) and returns -EINVAL. */
int launch_invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* One write(2) of VALUE into PATH (cgroupfs takes each write as one value): 0 or -errno. */
int write_value(const char *path, const char *value);
/* write_value() with the failure in ERROR. */
int write_knob(const char *path, const char *value, GError **error);

/* ---- options.c */

/* Parses the command line into O, checks it and fills in the defaults. 0, or -EINVAL with the
 * option at fault in ERROR; 1 when --help or --version printed what was asked. */
int options_parse(Options *o, int argc, char **argv, GError **error);
void options_clear(Options *o);
/* "512M", "2G", "1073741824", "1GiB" -> bytes; -EINVAL for anything else or 0. */
int parse_size(const char *text, uint64_t *ret);
/* "1", "0.5", "2" -> thousandths of a CPU; -EINVAL for anything else, 0 or more than 4096. */
int parse_cpus(const char *text, int *ret_milli);
/* A cgroup budget: a number up to INT32_MAX (what cgroup2 takes), or "max" (UINT64_MAX). */
int parse_budget(const char *text, uint64_t *ret);
#define CGROUP_MAX_DESCENDANTS_DEFAULT 1000
#define CGROUP_MAX_DEPTH_DEFAULT 16

/* ---- init-cgroups.c */

/* The first systemd that refuses cgroup v1 altogether. */
#define SYSTEMD_CGROUP2_ONLY 258
/* The version of the systemd in the rootfs ROOT_FD (its libsystemd-shared-N.so), 0 when none is
 * found; *RET_DIR (freed and replaced) names the directory it is in. */
unsigned rootfs_systemd_version(int root_fd, char **ret_dir);
/* Refuses (-EINVAL and the reason in ERROR) a systemd init of SYSTEMD_CGROUP2_ONLY or later on a
 * host with v1 controllers, before anything is made. */
int init_check_cgroups(const Launch *l, GError **error);

/* ---- scope.c */

/* Moves the launcher into capfs-NAME.scope when systemd runs the host (or --scope=yes). */
int scope_enter(Launch *l, GError **error);

/* ---- cgroups.c */

/* Fills l->hierarchies from /proc/self/cgroup and mountinfo, and l->v2_only. */
int cgroups_discover(Launch *l, GError **error);
/* Makes the outer (limits, devices) and inner (the container's root) cgroups. */
int cgroups_create(Launch *l, GError **error);
int cgroups_join(Launch *l, pid_t pid, GError **error);
/* Removes what cgroups_create() made, everything below it included. */
void cgroups_remove(Launch *l);
/* The first COUNT CPUs of the cpuset list LIST ("0-3,8", 2 -> "0-1"), or NULL when LIST is no
 * cpuset list. */
char *first_cpus(const char *list, unsigned count);

/* ---- devices.c */

typedef struct {
        int32_t major, minor; /* character devices; minor -1: any */
} DeviceRule;

typedef struct {
        const char *name; /* under /dev */
        uint32_t major, minor;
} DeviceNode;

/* The nodes a container's /dev gets (bind mounts of the host's). */
extern const DeviceNode device_nodes[];
extern const size_t device_nodes_count;
/* The character devices a container may read and write: its nodes, the console, ptmx, ptys. */
GArray *device_rules(void);
/* The v1 devices.allow lines after "a" is denied: mknod of anything, access to the rules. */
GPtrArray *device_whitelist_v1(void);
/* The same rules as a BPF_CGROUP_DEVICE program (struct bpf_insn). */
GArray *device_program(void);
/* device_program() loaded through the kernel's verifier (its log in LOG): an fd, or -errno. */
int device_program_load(char *log, size_t log_size);
/* Applies the rules to the outer cgroup of H: the whitelist (v1), or the program (cgroup2). */
int devices_restrict_v1(const Hierarchy *h, GError **error);
int devices_restrict_v2(const Hierarchy *h, GError **error);

/* ---- mounts.c */

/* capfs is mounted at DIR (a FUSE file system with its proc/meminfo). */
int capfs_check_mounted(const char *dir, GError **error);
/* Every mount of the container, in its new mount namespace, below its rootfs. */
int mounts_setup(Launch *l, GError **error);
/* pivot_root into the rootfs, the old root detached. */
int mounts_enter_root(const char *root, GError **error);

/* What mount_table[] holds, for the tests. */
typedef struct {
        const char *path; /* relative to the rootfs */
        const char *fstype;
        unsigned long flags;
        const char *options;
} MountEntry;
extern const MountEntry mount_table[];
extern const size_t mount_table_count;

/* ---- security.c */

/* The capabilities a container never gets by default (README.md says why each). */
extern const char *const default_cap_drop[];
/* The system calls the filter refuses with EPERM outright. */
extern const char *const seccomp_refused[];
/* The capabilities to drop (cap_value_t) for the options: the default list, --cap-drop's, or
 * with --cap-keep all others. */
int caps_to_drop(const Options *o, GArray *drop, GError **error);
int caps_drop_bounding_set(GArray *drop, GError **error);
int caps_drop_from_process(GArray *drop, GError **error);
/*
 * Loads the filter. With @notify_sysinfo, sysinfo(2) goes to a listener, returned in
 * @ret_listener (-1 when this kernel or libseccomp cannot notify: then the kernel answers).
 */
int seccomp_load_filter(bool notify_sysinfo, int *ret_listener, GError **error);

/* ---- sysinfo.c */

/* Not yet listening: the listener comes from the child once its filter is loaded. */
void sysinfo_relay_init(SysinfoRelay *r, const char *capfs_dir);
void sysinfo_relay_clear(SysinfoRelay *r);
/* Answers the notification waiting on r->listener: 0, or -errno when the listener failed. */
int sysinfo_relay_handle(SysinfoRelay *r);

/* ---- console.c */

/* Opens the pty (l->pty_master, l->pty_slave); returns the slave's fd. */
int console_open(Launch *l, GError **error);
/* Relays the console until init exits; SIGTERM/SIGINT become init's shutdown signal. Returns
 * the exit status to exit with (init's, or 128 + its signal). */
int console_supervise(Launch *l, int sigfd);
