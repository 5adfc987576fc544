/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs: the host-wide daemon serving per-container /proc and /sys views over FUSE. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "handover.h"
#include "runtime-dir.h"
#include "seccomp-wire.h"
#include "supervisor.h"
#include "worker.h"
#include "parse/parse.h"

#define DEFAULT_MOUNTPOINT "/var/lib/capfs"
/* --check: how long the mount has to answer one read. */
#define CHECK_TIMEOUT_SEC 5
/* The render cache's time (libcapfs's bounds, in the option's unit). */
#define RENDER_CACHE_MS_DEFAULT 20
#define RENDER_CACHE_MS_MAX 50
G_STATIC_ASSERT(RENDER_CACHE_MS_DEFAULT * 1000 == CAPFS_RENDER_CACHE_USEC_DEFAULT);
G_STATIC_ASSERT(RENDER_CACHE_MS_MAX * 1000 == CAPFS_RENDER_CACHE_USEC_MAX);
/* --upgrade: how long the new supervisor and worker have to take over. */
#define UPGRADE_TIMEOUT_SEC 90

typedef struct Options {
        gboolean foreground;
        gboolean debug;
        char *pidfile;
        char *cpu_view;
        /* As given (passed on to workers so), and as numbers (CAPFS_CGROUP_BUDGET_NONE: "max"). */
        char *cgroup_max_descendants;
        char *cgroup_max_depth;
        uint64_t max_descendants;
        uint64_t max_depth;
        char *render_cache; /* as given; NULL: not given */
        unsigned render_cache_ms;
        char **fuse_options;
        gboolean version;
        gboolean check;
        gboolean upgrade;
        gboolean print_seccomp_socket;
        /* Between capfs processes: a worker's fds, an upgraded supervisor's state. */
        char *worker;
        char *resume;
        int lock_fd;
        int preflight;
        gboolean syslog;
        char **rest;
} Options;

static void options_clear(Options *o) {
        g_free(o->pidfile);
        g_free(o->cpu_view);
        g_free(o->cgroup_max_descendants);
        g_free(o->cgroup_max_depth);
        g_free(o->render_cache);
        g_strfreev(o->fuse_options);
        g_free(o->worker);
        g_free(o->resume);
        g_strfreev(o->rest);
}

static bool log_to_syslog;

static void log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data) {
        int priority = LOG_INFO;

        if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
                priority = LOG_ERR;
        else if (level & G_LOG_LEVEL_WARNING)
                priority = LOG_WARNING;
        else if (level & G_LOG_LEVEL_DEBUG) {
                if (!g_log_get_debug_enabled())
                        return;
                priority = LOG_DEBUG;
        }
        if (log_to_syslog)
                syslog(priority, "%s", message);
        else
                fprintf(stderr, "capfs: %s\n", message);
}

/*
 * A --cgroup-max-* value, as cgroup2's own cgroup.max.descendants and cgroup.max.depth take
 * it: a number from 0 to INT_MAX, or "max" (no budget). NULL (not given): @fallback.
 */
static bool parse_cgroup_budget(const char *option, const char *text, uint64_t fallback, uint64_t *ret,
                                GError **error) {
        guint64 value;

        if (!text) {
                *ret = fallback;
                return true;
        }
        if (g_str_equal(text, "max")) {
                *ret = CAPFS_CGROUP_BUDGET_NONE;
                return true;
        }
        if (!g_ascii_isdigit(*text) || !g_ascii_string_to_unsigned(text, 10, 0, INT_MAX, &value, NULL)) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--%s=%s: expected a number from 0 to %d, or 'max'", option, text, INT_MAX);
                return false;
        }
        *ret = value;
        return true;
}

static bool parse_options(int *argc, char ***argv, Options *o, GError **error) {
        const GOptionEntry entries[] = {
                {"foreground", 'f', 0, G_OPTION_ARG_NONE, &o->foreground, "Stay in the foreground", NULL},
                {"debug", 'd', 0, G_OPTION_ARG_NONE, &o->debug, "Log debug messages (implies --foreground)",
                 NULL},
                {"pidfile", 'p', 0, G_OPTION_ARG_FILENAME, &o->pidfile, "Write the daemon's pid to FILE",
                 "FILE"},
                {"cpu-view", 0, 0, G_OPTION_ARG_STRING, &o->cpu_view,
                 "CPUs a container sees: 'quota' (cpuset cut to the CFS quota, default) or 'cpuset'",
                 "quota|cpuset"},
                {"cgroup-max-descendants", 0, 0, G_OPTION_ARG_STRING, &o->cgroup_max_descendants,
                 "Cgroups a container may make below its root through the cgroup view, where its cgroup2 "
                 "root sets no cgroup.max.descendants (default " G_STRINGIFY(
                         CAPFS_CGROUP_MAX_DESCENDANTS_DEFAULT) ")",
                 "N|max"},
                {"cgroup-max-depth", 0, 0, G_OPTION_ARG_STRING, &o->cgroup_max_depth,
                 "How many levels below its root a container may make cgroups through the cgroup view, "
                 "where its cgroup2 root sets no cgroup.max.depth (default " G_STRINGIFY(
                         CAPFS_CGROUP_MAX_DEPTH_DEFAULT) ")",
                 "N|max"},
                {"render-cache-ms", 0, 0, G_OPTION_ARG_STRING, &o->render_cache,
                 "How old, in milliseconds, a text rendered for a container may be when another read of "
                 "that container gets it (0 to " G_STRINGIFY(RENDER_CACHE_MS_MAX) ", default " G_STRINGIFY(
                         RENDER_CACHE_MS_DEFAULT) "; 0 renders every read)",
                 "MS"},
                {"options", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &o->fuse_options,
                 "FUSE mount options (allow_other and default_permissions are always set)", "OPTS"},
                {"version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL},
                {"check", 0, 0, G_OPTION_ARG_NONE, &o->check,
                 "Tell whether MOUNTPOINT is mounted and served, and by which processes; exit 0 if so",
                 NULL},
                {"upgrade", 0, 0, G_OPTION_ARG_NONE, &o->upgrade,
                 "Replace the running capfs of MOUNTPOINT with the capfs and libcapfs installed now, "
                 "without unmounting",
                 NULL},
                {"print-seccomp-socket", 0, 0, G_OPTION_ARG_NONE, &o->print_seccomp_socket,
                 "Print the socket on which the capfs of MOUNTPOINT answers containers' sysinfo() (for "
                 "LXC's "
                 "lxc.seccomp.notify.proxy) and exit",
                 NULL},
                {"worker", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->worker, NULL, NULL},
                {"resume", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &o->resume, NULL, NULL},
                {"lock-fd", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &o->lock_fd, NULL, NULL},
                {"syslog", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &o->syslog, NULL, NULL},
                {"preflight", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &o->preflight, NULL, NULL},
                {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->rest, NULL, NULL},
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GOptionContext) context = g_option_context_new("[MOUNTPOINT]");

        g_option_context_set_summary(
                context, "Serves each container its own view of /proc (meminfo, cpuinfo, stat, "
                         "uptime,\nloadavg, diskstats, swaps, slabinfo, pressure) and "
                         "/sys/devices/system/cpu,\ncomputed from its cgroups. "
                         "MOUNTPOINT defaults to " DEFAULT_MOUNTPOINT ".\n\n"
                         "Signals: SIGTERM/SIGINT unmount and exit; SIGUSR1 replaces the serving "
                         "worker\n(reloading libcapfs); SIGUSR2 (capfs --upgrade) replaces the "
                         "whole daemon.");
        g_option_context_add_main_entries(context, entries, NULL);
        if (!g_option_context_parse(context, argc, argv, error))
                return false;
        if (o->rest && g_strv_length(o->rest) > 1) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                            "too many arguments: one MOUNTPOINT at most (see --help)");
                return false;
        }
        if (o->cpu_view && !g_str_equal(o->cpu_view, "quota") && !g_str_equal(o->cpu_view, "cpuset")) {
                g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--cpu-view=%s: expected 'quota' or 'cpuset'", o->cpu_view);
                return false;
        }
        o->render_cache_ms = RENDER_CACHE_MS_DEFAULT;
        if (o->render_cache) {
                guint64 ms;
                if (!g_ascii_string_to_unsigned(o->render_cache, 10, 0, RENDER_CACHE_MS_MAX, &ms, NULL)) {
                        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                    "--render-cache-ms=%s: expected 0 to %d milliseconds", o->render_cache,
                                    RENDER_CACHE_MS_MAX);
                        return false;
                }
                o->render_cache_ms = (unsigned) ms;
        }
        if (!parse_cgroup_budget("cgroup-max-descendants", o->cgroup_max_descendants,
                                 CAPFS_CGROUP_MAX_DESCENDANTS_DEFAULT, &o->max_descendants, error) ||
            !parse_cgroup_budget("cgroup-max-depth", o->cgroup_max_depth, CAPFS_CGROUP_MAX_DEPTH_DEFAULT,
                                 &o->max_depth, error))
                return false;
        return true;
}

/* The type of the filesystem mounted exactly at @path (the last one, on top of the others), or
 * NULL. */
static char *mounted_fstype(const char *path) {
        g_autofree char *contents = NULL;
        g_autoptr(GPtrArray) mounts = NULL;
        gsize len;

        if (!g_file_get_contents("/proc/self/mountinfo", &contents, &len, NULL) ||
            capfs_parse_mountinfo(contents, len, &mounts) < 0)
                return NULL;
        for (guint i = mounts->len; i-- > 0;) {
                const CapfsMountinfo *m = mounts->pdata[i];
                if (g_str_equal(m->mountpoint, path))
                        return g_strdup(m->fstype);
        }
        return NULL;
}

/* systemd kept the connection of the previous run for us (FDSTORE): the mount is ours. */
static bool taking_over_from_fd_store(void) {
        const char *names = g_getenv("LISTEN_FDNAMES");

        return names && strstr(names, "capfs-fuse") && g_getenv("LISTEN_PID") &&
               atoi(g_getenv("LISTEN_PID")) == getpid();
}

/*
 * Under systemd the mountpoint is the unit's: a mount left by an earlier run whose connection
 * is gone (the fd store was emptied by a stop) is detached so this run can mount again.
 */
static bool detach_dead_mount(const char *mountpoint) {
        if (!g_getenv("NOTIFY_SOCKET"))
                return false;
        if (umount2(mountpoint, MNT_DETACH) < 0)
                return false;
        g_message("%s: detached the disconnected mount an earlier run left", mountpoint);
        return true;
}

static int probe_read(const char *mountpoint);

/*
 * A FUSE mount whose connection is gone. stat() cannot tell (the kernel answers it from cached
 * attributes); a read must reach the daemon. Never asked while taking over the connection: the
 * read would wait for this very process.
 */
static bool mount_disconnected(const char *path) {
        int r;

        if (taking_over_from_fd_store())
                return false;
        r = probe_read(path);
        return r == ENOTCONN || r == ECONNABORTED;
}

/* Everything that would otherwise end in a hang or a half-mounted tree, checked up front. */
static bool check_mountpoint(const char *mountpoint, char **ret_real, GError **error) {
        g_autofree char *real = NULL;
        g_autofree char *fstype = NULL;
        struct stat st;

        /* The one directory the service needs, made here rather than by the unit (see
         * capfs.service). mkdir() of an existing mountpoint fails in the parent's file system,
         * without asking the FUSE mount on it. */
        if (g_getenv("NOTIFY_SOCKET") && mkdir(mountpoint, 0755) == 0)
                g_message("%s: created", mountpoint);
        if (taking_over_from_fd_store()) {
                /* The mount's root belongs to the connection in hand, which nobody serves until
                 * this process does: a stat() here could wait for ever. Only mountinfo may tell. */
                real = realpath(mountpoint, NULL);
                fstype = real ? mounted_fstype(real) : NULL;
                if (!fstype || !g_str_has_prefix(fstype, "fuse")) {
                        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                                    "systemd handed over a FUSE connection for %s, but no FUSE file system "
                                    "is mounted there; run 'systemctl stop capfs' (which empties the fd "
                                    "store) and start it again",
                                    mountpoint);
                        return false;
                }
                *ret_real = g_steal_pointer(&real);
                return true;
        }
        if (mount_disconnected(mountpoint))
                detach_dead_mount(mountpoint);
        if (stat(mountpoint, &st) < 0) {
                int e = errno;
                if (e == ENOENT)
                        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                                    "mountpoint %s does not exist; create it with 'mkdir -p %s'", mountpoint,
                                    mountpoint);
                else if (e == ENOTCONN)
                        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                                    "%s: %s: a FUSE daemon that served it has died; unmount it with "
                                    "'umount -l %s' and start capfs again",
                                    mountpoint, g_strerror(e), mountpoint);
                else
                        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e),
                                    "cannot use mountpoint %s: %s", mountpoint, g_strerror(e));
                return false;
        }
        if (!S_ISDIR(st.st_mode)) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "mountpoint %s is not a directory; give capfs an empty directory", mountpoint);
                return false;
        }
        real = realpath(mountpoint, NULL);
        if (!real) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot resolve mountpoint %s: %s", mountpoint, g_strerror(errno));
                return false;
        }
        fstype = mounted_fstype(real);
        if (fstype && g_str_has_prefix(fstype, "fuse") && mount_disconnected(real)) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "%s: a FUSE daemon that served it has died; unmount it with 'umount -l %s' and "
                            "start capfs again",
                            real, real);
                return false;
        }
        if (fstype && g_str_has_prefix(fstype, "fuse") && !taking_over_from_fd_store()) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "%s is already a %s mount (is another capfs serving it?); stop that daemon or "
                            "unmount it with 'umount %s' first",
                            real, fstype, real);
                return false;
        }
        *ret_real = g_steal_pointer(&real);
        return true;
}

static bool check_dev_fuse(GError **error) {
        int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot open /dev/fuse: %s; load the module with 'modprobe fuse' (inside a "
                            "container, pass the device in: --device /dev/fuse)",
                            g_strerror(errno));
                return false;
        }
        close(fd);
        return true;
}

/*
 * One lock per mountpoint so that two daemons started at once cannot both pass the
 * mountinfo check. The lock file holds the owner's pid for the error message.
 */
static int lock_mountpoint(const char *real, GError **error) {
        g_autofree char *path = capfs_lock_path(real);
        char owner[32] = "";
        int fd;

        if (g_mkdir_with_parents(CAPFS_RUNTIME_DIR, 0755) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s: %s",
                            CAPFS_RUNTIME_DIR, g_strerror(errno));
                return -1;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot open %s: %s", path,
                            g_strerror(errno));
                return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                ssize_t n = pread(fd, owner, sizeof(owner) - 1, 0);
                owner[n > 0 ? n : 0] = '\0';
                g_strchomp(owner);
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "%s is already served by capfs (pid %s, lock %s); stop that daemon first", real,
                            *owner ? owner : "unknown", path);
                close(fd);
                return -1;
        }
        return fd;
}

static CapfsCpuView cpu_view_of(const Options *o) {
        return o->cpu_view && g_str_equal(o->cpu_view, "cpuset") ? CAPFS_CPU_VIEW_CPUSET
                                                                 : CAPFS_CPU_VIEW_QUOTA;
}

static const char *wanted_mountpoint(const Options *o) {
        return o->rest && o->rest[0] ? o->rest[0] : DEFAULT_MOUNTPOINT;
}

/* What workers and an upgraded supervisor are started from: the path, so a newly installed capfs
 * is what runs, not the (maybe deleted) file this process was started from. */
static char *self_exe(void) {
        g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);

        if (exe && g_str_has_suffix(exe, " (deleted)"))
                exe[strlen(exe) - strlen(" (deleted)")] = '\0';
        return g_steal_pointer(&exe);
}

/* The options every worker gets, as the supervisor was given them. */
static char **worker_args(const Options *o) {
        GPtrArray *args = g_ptr_array_new();

        if (o->cpu_view)
                g_ptr_array_add(args, g_strdup_printf("--cpu-view=%s", o->cpu_view));
        if (o->cgroup_max_descendants)
                g_ptr_array_add(args,
                                g_strdup_printf("--cgroup-max-descendants=%s", o->cgroup_max_descendants));
        if (o->cgroup_max_depth)
                g_ptr_array_add(args, g_strdup_printf("--cgroup-max-depth=%s", o->cgroup_max_depth));
        if (o->render_cache)
                g_ptr_array_add(args, g_strdup_printf("--render-cache-ms=%s", o->render_cache));
        for (char **opt = o->fuse_options; opt && *opt; opt++)
                g_ptr_array_add(args, g_strdup_printf("--options=%s", *opt));
        if (o->debug)
                g_ptr_array_add(args, g_strdup("--debug"));
        g_ptr_array_add(args, NULL);
        return (char **) g_ptr_array_free(args, FALSE);
}

static void use_syslog(void) {
        log_to_syslog = true;
        openlog("capfs", LOG_PID, LOG_DAEMON);
}

static int run_worker(const Options *o) {
        WorkerConfig config = {
                .mountpoint = wanted_mountpoint(o),
                .cpu_view = cpu_view_of(o),
                .cgroup_max_descendants = o->max_descendants,
                .cgroup_max_depth = o->max_depth,
                .render_cache_usec = (uint64_t) o->render_cache_ms * 1000,
                .fuse_options = o->fuse_options,
        };

        /* The fourth, the seccomp proxy's socket, is new: a supervisor from before passes three. */
        config.seccomp_fd = -1;
        if (sscanf(o->worker, "%d,%d,%d,%d", &config.fuse_fd, &config.state_fd, &config.control_fd,
                   &config.seccomp_fd) < 3) {
                fprintf(stderr,
                        "capfs: --worker=%s: expected three or four fds (it is started by capfs itself)\n",
                        o->worker);
                return WORKER_EXIT_FAILED;
        }
        if (o->syslog)
                use_syslog();
        return worker_run(&config);
}

/* The name is derived from the mountpoint as it resolves, like the supervisor's lock file. */
static int print_seccomp_socket(const Options *o) {
        const char *wanted = wanted_mountpoint(o);
        g_autofree char *real = realpath(wanted, NULL);
        g_autofree char *path = capfs_seccomp_socket_path(real ? real : wanted);

        printf("%s\n", path);
        return 0;
}

/* Run by a supervisor before it execs this binary to replace itself: can it read its state? */
static int preflight(int state_fd) {
        g_autoptr(GError) error = NULL;
        g_autoptr(Handover) handover = handover_open(state_fd, &error);

        if (!handover) {
                fprintf(stderr, "capfs: %s\n", error->message);
                return 1;
        }
        return 0;
}

static int run_resumed(const Options *o) {
        g_autofree char *exe = self_exe();
        g_auto(GStrv) args = worker_args(o);
        SupervisorResume resume = {0};
        SupervisorConfig config = {
                .mountpoint = wanted_mountpoint(o),
                .exe = exe,
                .worker_args = args,
                .pidfile = o->pidfile,
                .syslog = o->syslog,
                .lock_fd = o->lock_fd,
        };

        if (!supervisor_parse_resume(o->resume, &resume) || o->lock_fd < 0) {
                fprintf(stderr, "capfs: --resume=%s: not a state capfs wrote\n", o->resume);
                return 1;
        }
        if (o->syslog)
                use_syslog();
        return supervisor_resume(&config, &resume);
}

static int run_daemon(const Options *o) {
        g_autoptr(GError) error = NULL;
        g_autofree char *mountpoint = NULL;
        g_autofree char *fuse_opts = NULL;
        g_autofree char *exe = self_exe();
        g_auto(GStrv) args = worker_args(o);
        int lock_fd, r;

        if (!check_mountpoint(wanted_mountpoint(o), &mountpoint, &error) || !check_dev_fuse(&error))
                goto fail;
        lock_fd = lock_mountpoint(mountpoint, &error);
        if (lock_fd < 0)
                goto fail;
        if (!exe) {
                g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "cannot tell where this capfs binary is (/proc/self/exe); is /proc mounted?");
                close(lock_fd);
                goto fail;
        }
        fuse_opts = capfs_fuse_option_string(o->fuse_options);
        if (!o->foreground)
                use_syslog();
        {
                SupervisorConfig config = {
                        .mountpoint = mountpoint,
                        .exe = exe,
                        .worker_args = args,
                        .pidfile = o->pidfile,
                        .syslog = !o->foreground,
                        .lock_fd = lock_fd,
                };
                r = supervisor_run(&config, fuse_opts, o->foreground);
        }
        close(lock_fd);
        return r;

fail:
        fprintf(stderr, "capfs: %s\n", error->message);
        return 1;
}

/* ---------------------------------------------------------------- --check and --upgrade */

/* KEY's value in a status file's "key=value" lines. */
static char *status_field(const char *status, const char *key) {
        g_auto(GStrv) lines = g_strsplit(status ? status : "", "\n", -1);

        for (char **line = lines; *line; line++)
                if (g_str_has_prefix(*line, key) && (*line)[strlen(key)] == '=')
                        return g_strdup(*line + strlen(key) + 1);
        return NULL;
}

static char *read_status(const char *mountpoint) {
        g_autofree char *path = capfs_status_path(mountpoint);
        char *contents = NULL;

        g_file_get_contents(path, &contents, NULL, NULL);
        return contents;
}

/* The libcapfs file a process has mapped, as /proc/PID/maps names it. */
static char *mapped_library(int pid) {
        g_autofree char *path = g_strdup_printf("/proc/%d/maps", pid);
        g_autofree char *maps = NULL;
        g_auto(GStrv) lines = NULL;

        if (pid <= 0 || !g_file_get_contents(path, &maps, NULL, NULL))
                return NULL;
        lines = g_strsplit(maps, "\n", -1);
        for (char **line = lines; *line; line++) {
                const char *file = strchr(*line, '/');
                if (file && strstr(file, "/libcapfs"))
                        return g_strdup(file);
        }
        return NULL;
}

/* Reads MOUNTPOINT/proc/uptime in a child: 0, a positive errno, or -1 when it did not answer. */
static int probe_read(const char *mountpoint) {
        g_autofree char *file = g_build_filename(mountpoint, "proc", "uptime", NULL);
        pid_t pid = fork();
        int status;

        if (pid < 0)
                return errno;
        if (pid == 0) {
                char buf[256];
                int fd = open(file, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
                        _exit(errno ? errno : EIO);
                _exit(0);
        }
        for (int i = 0; i < CHECK_TIMEOUT_SEC * 100; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
                g_usleep(10 * 1000);
        }
        /* A FUSE request waits killably. */
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        return -1;
}

static int check(const Options *o) {
        const char *wanted = wanted_mountpoint(o);
        g_autofree char *real = realpath(wanted, NULL);
        g_autofree char *fstype = NULL, *status = NULL, *supervisor = NULL, *worker = NULL;
        g_autofree char *generation = NULL, *library = NULL;
        int r;

        if (!real) {
                int e = errno;
                if (e == ENOTCONN)
                        printf("%s: mounted but disconnected: the capfs serving it died; unmount it with "
                               "'umount -l %s' and start capfs again\n",
                               wanted, wanted);
                else
                        printf("%s: %s\n", wanted, g_strerror(e));
                return 1;
        }
        fstype = mounted_fstype(real);
        if (!fstype || !g_str_has_prefix(fstype, "fuse")) {
                printf("%s: not mounted; start capfs for it ('capfs %s' or 'systemctl start capfs')\n", real,
                       real);
                return 1;
        }
        status = read_status(real);
        supervisor = status_field(status, "supervisor");
        worker = status_field(status, "worker");
        generation = status_field(status, "generation");
        library = mapped_library(worker ? atoi(worker) : 0);
        r = probe_read(real);
        if (r == ENOTCONN || r == ECONNABORTED) {
                printf("%s: mounted but disconnected: the capfs serving it died; unmount it with 'umount -l "
                       "%s' "
                       "and start capfs again\n",
                       real, real);
                return 1;
        }
        if (r != 0) {
                printf("%s: mounted (%s) but %s; supervisor pid %s\n", real, fstype,
                       r < 0 ? "did not answer a read within " G_STRINGIFY(CHECK_TIMEOUT_SEC) " s"
                             : g_strerror(r),
                       supervisor ? supervisor : "unknown (no status file)");
                return 1;
        }
        printf("%s: served (supervisor pid %s, worker pid %s, worker generation %s, libcapfs %s)\n", real,
               supervisor ? supervisor : "unknown", worker ? worker : "unknown",
               generation ? generation : "unknown", library ? library : "unknown");
        /* Containers' sysinfo() still works without it (the kernel answers): a note, not a failure. */
        g_autofree char *socket_path = capfs_seccomp_socket_path(real);
        struct stat st;
        if (stat(socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
                printf("%s: containers' sysinfo() answered on %s\n", real, socket_path);
        else
                printf("%s: no seccomp socket at %s: containers' sysinfo() shows the host's numbers\n", real,
                       socket_path);
        return 0;
}

static int upgrade(const Options *o) {
        const char *wanted = wanted_mountpoint(o);
        g_autofree char *real = realpath(wanted, NULL);
        g_autofree char *status = NULL, *supervisor = NULL, *reloads = NULL;
        int pid;

        if (!real) {
                fprintf(stderr, "capfs: cannot resolve %s: %s\n", wanted, g_strerror(errno));
                return 1;
        }
        status = read_status(real);
        supervisor = status_field(status, "supervisor");
        reloads = status_field(status, "reloads");
        pid = supervisor ? atoi(supervisor) : 0;
        if (pid <= 0 || kill(pid, SIGUSR2) < 0) {
                fprintf(stderr,
                        "capfs: %s is not served by a running capfs (no supervisor in %s); start it "
                        "instead\n",
                        real, CAPFS_RUNTIME_DIR);
                return 1;
        }
        for (int i = 0; i < UPGRADE_TIMEOUT_SEC * 20; i++) {
                g_autofree char *now = read_status(real);
                g_autofree char *count = status_field(now, "reloads");
                g_autofree char *result = NULL, *worker = NULL, *generation = NULL, *exe = NULL;
                g_autofree char *exe_link = g_strdup_printf("/proc/%d/exe", pid);

                g_usleep(50 * 1000);
                if (!count || g_strcmp0(count, reloads) == 0)
                        continue;
                result = status_field(now, "reload_result");
                worker = status_field(now, "worker");
                generation = status_field(now, "generation");
                exe = g_file_read_link(exe_link, NULL);
                if (!g_str_equal(result, "ok")) {
                        fprintf(stderr, "capfs: upgrading %s %s\n", real, result);
                        return 1;
                }
                printf("%s: upgraded: supervisor pid %d runs %s, worker pid %s (generation %s)\n", real, pid,
                       exe ? exe : "?", worker ? worker : "?", generation ? generation : "?");
                return 0;
        }
        fprintf(stderr, "capfs: %s: the upgrade did not finish within %d s; see the log of capfs (pid %d)\n",
                real, UPGRADE_TIMEOUT_SEC, pid);
        return 1;
}

/*
 * The worker keeps a file open per known container and per kernel file it renders from
 * (libcapfs sizes those caches by this limit); nothing here uses select(), so the soft limit
 * may go up to the hard one, as systemd advises for such programs.
 */
static void raise_fd_limit(void) {
        struct rlimit nofile;

        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &nofile);
        }
}

int main(int argc, char **argv) {
        g_autoptr(GError) error = NULL;
        Options o = {.lock_fd = -1, .preflight = -1};
        int r;

        g_log_set_default_handler(log_handler, NULL);
        raise_fd_limit();
        if (!parse_options(&argc, &argv, &o, &error)) {
                fprintf(stderr, "capfs: %s\n", error->message);
                options_clear(&o);
                return 1;
        }
        if (o.version) {
                printf("capfs %s\n", CAPFS_VERSION);
                options_clear(&o);
                return 0;
        }
        if (o.debug) {
                o.foreground = TRUE;
                g_log_set_debug_enabled(TRUE);
        }
        if (o.preflight >= 0)
                r = preflight(o.preflight);
        else if (o.worker)
                r = run_worker(&o);
        else if (o.resume)
                r = run_resumed(&o);
        else if (o.check)
                r = check(&o);
        else if (o.upgrade)
                r = upgrade(&o);
        else if (o.print_seccomp_socket)
                r = print_seccomp_socket(&o);
        else
                r = run_daemon(&o);
        options_clear(&o);
        return r;
}
