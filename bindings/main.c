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
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "lowlevel.h"

#define DEFAULT_MOUNTPOINT "/var/lib/capfs"
#define LOCK_DIR "/run/capfs"

typedef struct Options {
        gboolean foreground;
        gboolean debug;
        char *pidfile;
        char *cpu_view;
        char **fuse_options;
        gboolean version;
        char **rest;
} Options;

static void options_clear(Options *o) {
        g_free(o->pidfile);
        g_free(o->cpu_view);
        g_strfreev(o->fuse_options);
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
                {"options", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &o->fuse_options,
                 "FUSE mount options (allow_other and default_permissions are always set)", "OPTS"},
                {"version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL},
                {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->rest, NULL, NULL},
                G_OPTION_ENTRY_NULL,
        };
        g_autoptr(GOptionContext) context = g_option_context_new("[MOUNTPOINT]");

        g_option_context_set_summary(context,
                                     "Serves each container its own view of /proc (meminfo, cpuinfo, stat, "
                                     "uptime,\nloadavg, diskstats, swaps, slabinfo, pressure) and "
                                     "/sys/devices/system/cpu,\ncomputed from its cgroups. "
                                     "MOUNTPOINT defaults to " DEFAULT_MOUNTPOINT ".");
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
        return true;
}

/* /proc/self/mountinfo escapes blanks and backslashes in paths as \ooo. */
static char *unescape_mountinfo(const char *field) {
        GString *out = g_string_new(NULL);

        for (const char *p = field; *p; p++) {
                if (p[0] == '\\' && g_ascii_isdigit(p[1]) && g_ascii_isdigit(p[2]) &&
                    g_ascii_isdigit(p[3])) {
                        g_string_append_c(out, (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0')));
                        p += 3;
                } else
                        g_string_append_c(out, *p);
        }
        return g_string_free(out, FALSE);
}

/* The type of the filesystem mounted exactly at @path, or NULL. */
static char *mounted_fstype(const char *path) {
        g_autofree char *contents = NULL;
        g_auto(GStrv) lines = NULL;
        char *found = NULL;

        if (!g_file_get_contents("/proc/self/mountinfo", &contents, NULL, NULL))
                return NULL;
        lines = g_strsplit(contents, "\n", -1);
        for (char **line = lines; *line && **line; line++) {
                g_auto(GStrv) fields = g_strsplit(*line, " ", -1);
                g_autofree char *mountpoint = NULL;
                guint n = g_strv_length(fields);

                if (n < 5)
                        continue;
                mountpoint = unescape_mountinfo(fields[4]);
                if (!g_str_equal(mountpoint, path))
                        continue;
                for (guint i = 5; i + 1 < n; i++)
                        if (g_str_equal(fields[i], "-")) {
                                g_free(found);
                                found = g_strdup(fields[i + 1]); /* the last mount on top wins */
                                break;
                        }
        }
        return found;
}

/* Everything that would otherwise end in a hang or a half-mounted tree, checked up front. */
static bool check_mountpoint(const char *mountpoint, char **ret_real, GError **error) {
        g_autofree char *real = NULL;
        g_autofree char *fstype = NULL;
        struct stat st;

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
        if (fstype && g_str_has_prefix(fstype, "fuse")) {
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

static char *lock_path_for(const char *real) {
        g_autofree char *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, real, -1);

        return g_strdup_printf(LOCK_DIR "/%.16s.lock", digest);
}

/*
 * One lock per mountpoint so that two daemons started at once cannot both pass the
 * mountinfo check. The lock file holds the owner's pid for the error message.
 */
static int lock_mountpoint(const char *real, GError **error) {
        g_autofree char *path = lock_path_for(real);
        char owner[32] = "";
        int fd;

        if (g_mkdir_with_parents(LOCK_DIR, 0755) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot create %s: %s",
                            LOCK_DIR, g_strerror(errno));
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

static void record_lock_owner(int lock_fd) {
        char pid[32];
        int len = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());

        if (ftruncate(lock_fd, 0) < 0 || pwrite(lock_fd, pid, (size_t) len, 0) != len)
                g_debug("cannot record the owner in the lock file: %s", g_strerror(errno));
}

static bool write_pidfile(const char *path, GError **error) {
        g_autofree char *pid = g_strdup_printf("%d\n", (int) getpid());

        return g_file_set_contents(path, pid, -1, error);
}

typedef struct Sampler {
        CapfsLoadavg *loadavg;
        CapfsHost *host;
        GMutex lock;
        GCond wake;
        bool stop;
} Sampler;

static gpointer sampler_thread(gpointer data) {
        Sampler *s = data;

        g_mutex_lock(&s->lock);
        while (!s->stop) {
                gint64 deadline = g_get_monotonic_time() + CAPFS_LOADAVG_INTERVAL_SEC * G_TIME_SPAN_SECOND;

                g_mutex_unlock(&s->lock);
                capfs_loadavg_sample(s->loadavg, s->host);
                g_mutex_lock(&s->lock);
                while (!s->stop && g_cond_wait_until(&s->wake, &s->lock, deadline))
                        ;
        }
        g_mutex_unlock(&s->lock);
        return NULL;
}

static void sampler_stop(Sampler *s, GThread *thread) {
        g_mutex_lock(&s->lock);
        s->stop = true;
        g_cond_signal(&s->wake);
        g_mutex_unlock(&s->lock);
        g_thread_join(thread);
}

static char *fuse_option_string(char **user) {
        g_autoptr(GString) opts = g_string_new("allow_other,default_permissions,fsname=capfs,subtype=capfs");

        for (char **o = user; o && *o; o++)
                g_string_append_printf(opts, ",%s", *o);
        return g_string_free(g_steal_pointer(&opts), FALSE);
}

static void announce(const CapfsHost *host, const char *mountpoint, CapfsCpuView view) {
        g_message("serving %s (cgroup %s, CPU view %s): proc/{meminfo,cpuinfo,stat,uptime,loadavg,diskstats,"
                  "swaps,slabinfo,pressure/*}, sys/devices/system/cpu and the cgroup view cgroup/",
                  mountpoint, host->layout == CAPFS_LAYOUT_V2 ? "v2" : "v1/hybrid",
                  view == CAPFS_CPU_VIEW_QUOTA ? "quota" : "cpuset");
}

static int run(Options *o) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsLoadavg) loadavg = NULL;
        g_autoptr(NodeTable) nodes = NULL;
        g_autofree char *mountpoint = NULL;
        g_autofree char *fuse_opts = NULL;
        g_autofree char *lock_path = NULL;
        const char *wanted = o->rest && o->rest[0] ? o->rest[0] : DEFAULT_MOUNTPOINT;
        CapfsCpuView view = o->cpu_view && g_str_equal(o->cpu_view, "cpuset") ? CAPFS_CPU_VIEW_CPUSET
                                                                              : CAPFS_CPU_VIEW_QUOTA;
        char *fuse_argv[] = {"capfs", "-o", NULL, NULL};
        struct fuse_args args;
        struct fuse_session *se;
        struct fuse_loop_config *loop_config;
        CapfsServer server = {0};
        Sampler sampler = {0};
        GThread *thread;
        int lock_fd, r;

        if (!check_mountpoint(wanted, &mountpoint, &error) || !check_dev_fuse(&error))
                goto fail;
        lock_fd = lock_mountpoint(mountpoint, &error);
        if (lock_fd < 0)
                goto fail;

        host = capfs_host_open("/", view, &error);
        if (!host)
                goto fail;
        loadavg = capfs_loadavg_new();
        host->loadavg = loadavg;
        nodes = node_table_new();
        server.host = host;
        server.nodes = nodes;
        clock_gettime(CLOCK_REALTIME, &server.started);

        fuse_opts = fuse_option_string(o->fuse_options);
        fuse_argv[2] = fuse_opts;
        args = (struct fuse_args) FUSE_ARGS_INIT(3, fuse_argv);
        se = fuse_session_new(&args, &capfs_lowlevel_ops, sizeof(capfs_lowlevel_ops), &server);
        if (!se) {
                g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "cannot start a FUSE session with options '%s'; check the -o options",
                            fuse_opts);
                goto fail;
        }
        if (fuse_set_signal_handlers(se) < 0) {
                g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot install signal handlers");
                fuse_session_destroy(se);
                goto fail;
        }
        if (fuse_session_mount(se, mountpoint) < 0) {
                g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "cannot mount %s (see the message above); is /dev/fuse usable and are you root?",
                            mountpoint);
                fuse_remove_signal_handlers(se);
                fuse_session_destroy(se);
                goto fail;
        }

        if (!o->foreground) {
                /* Threads do not survive fork(): everything threaded starts after this. */
                log_to_syslog = true;
                openlog("capfs", LOG_PID, LOG_DAEMON);
                fuse_daemonize(0);
        }
        record_lock_owner(lock_fd);
        if (o->pidfile && !write_pidfile(o->pidfile, &error)) {
                g_warning("cannot write the pidfile %s: %s; serving anyway", o->pidfile, error->message);
                g_clear_error(&error);
        }
        announce(host, mountpoint, view);

        sampler.loadavg = loadavg;
        sampler.host = host;
        g_mutex_init(&sampler.lock);
        g_cond_init(&sampler.wake);
        thread = g_thread_new("capfs-loadavg", sampler_thread, &sampler);

        loop_config = fuse_loop_cfg_create();
        fuse_loop_cfg_set_clone_fd(loop_config, 1);
        fuse_loop_cfg_set_idle_threads(loop_config, 8);
        fuse_loop_cfg_set_max_threads(loop_config, 64);
        r = fuse_session_loop_mt(se, loop_config);
        fuse_loop_cfg_destroy(loop_config);

        sampler_stop(&sampler, thread);
        g_mutex_clear(&sampler.lock);
        g_cond_clear(&sampler.wake);
        fuse_session_unmount(se);
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        fuse_opt_free_args(&args);
        if (o->pidfile)
                unlink(o->pidfile);
        /* Removed while still held, so no newcomer can lock the old file after we let go. */
        lock_path = lock_path_for(mountpoint);
        unlink(lock_path);
        close(lock_fd);
        g_message("unmounted %s", mountpoint);
        host->loadavg = NULL;
        return r < 0 && r != -EINTR ? 1 : 0;

fail:
        fprintf(stderr, "capfs: %s\n", error->message);
        return 1;
}

int main(int argc, char **argv) {
        g_autoptr(GError) error = NULL;
        Options o = {0};
        int r;

        g_log_set_default_handler(log_handler, NULL);
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
        r = run(&o);
        options_clear(&o);
        return r;
}
