/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>
#include <linux/fuse.h>

#include "handover.h"
#include "seccomp-proxy.h"
#include "runtime-dir.h"
#include "seccomp-wire.h"
#include "supervisor.h"
#include "worker.h"

/* Linux 6.9: put every request still waiting for an answer back in the queue. */
#define NOTIFY_RESEND 7
#define UNIQUE_RESEND (UINT64_C(1) << 63)
/* A worker asked to stop has this long to finish what it has read. */
#define STOP_TIMEOUT_SEC 10
/* A new worker has this long to say it is ready. */
#define START_TIMEOUT_SEC 60
/* Restarts after crashes close together are spaced out up to this. */
#define MAX_BACKOFF_MS 5000
/* Crashes this soon after a worker started serving count as a crash loop... */
#define QUICK_CRASH_MS 1000
/* ...and from this many in a row, restarts are spaced out. */
#define QUICK_CRASHES_BEFORE_BACKOFF 3

#define FDNAME_FUSE "capfs-fuse"
#define FDNAME_STATE "capfs-state"
#define FDNAME_SECCOMP "capfs-seccomp"
/* How soon a restarted capfs-fdstore gets our fds again. */
#define FD_STORE_CHECK_SEC 2

/* A file, told apart from one made later at the same path: inode numbers are reused at once on
 * many file systems, the change time at creation is not. */
typedef struct {
        dev_t dev;
        ino_t ino;
        struct timespec ctime;
} FileId;

static FileId file_id(const struct stat *st) {
        return (FileId){.dev = st->st_dev, .ino = st->st_ino, .ctime = st->st_ctim};
}

static bool file_id_equal(FileId a, FileId b) {
        return a.dev == b.dev && a.ino == b.ino && a.ctime.tv_sec == b.ctime.tv_sec &&
               a.ctime.tv_nsec == b.ctime.tv_nsec;
}

typedef struct Child {
        GPid pid;
        int control_fd;
        int seccomp_channel; /* ours of its seccomp proxy channel; -1: none */
        uint32_t generation;
        guint control_watch;
        guint timeout;
        gint64 serving_since; /* monotonic; 0 until it got "go" */
        bool ready;
        bool stop_sent;
} Child;

typedef struct Supervisor {
        const SupervisorConfig *config;
        struct fuse_session *se; /* NULL when the mount was taken over (re-exec, fd store) */
        int fuse_fd;
        /* The seccomp proxy's listening socket: held here so that holders can always connect,
         * also while no worker serves (their message waits for the next one). -1: none. */
        int seccomp_fd;
        SeccompRelay *relay;
        Handover *handover;
        GMainLoop *loop;
        Child *serving;
        Child *incoming;
        bool fd_store; /* systemd keeps our fds: a stop leaves the mount for the next start */
        /* The notify socket they were stored through, as a file (ino 0: not known). */
        FileId store_id;
        bool shutting_down;
        bool upgrade_requested;
        bool notified_ready;
        int exit_status;
        unsigned reloads;
        char *reload_result;
        int resend; /* -1 unknown, 0 unsupported by this kernel, 1 works */
        uint64_t last_inflight[HANDOVER_SLOTS];
        size_t n_last_inflight;
        unsigned quick_crashes;
        guint restart_source;
        guint shutdown_timeout;
        guint fuse_error_source;
} Supervisor;

static void start_worker(Supervisor *s);
static void shutdown_now(Supervisor *s);
static void store_fds(Supervisor *s);

char *capfs_lock_path(const char *mountpoint) {
        return capfs_runtime_path(mountpoint, "lock");
}

char *capfs_status_path(const char *mountpoint) {
        return capfs_runtime_path(mountpoint, "status");
}

/* ---------------------------------------------------------------- systemd */

/* One sd_notify(3) datagram, with @fd attached when >= 0; no libsystemd for one sendmsg(). */
/* NOTIFY_SOCKET as an address: a path, or '@' for an abstract name. */
static bool notify_address(struct sockaddr_un *sa, socklen_t *len) {
        const char *path = g_getenv("NOTIFY_SOCKET");

        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa->sun_path))
                return false;
        strncpy(sa->sun_path, path, sizeof(sa->sun_path) - 1);
        if (path[0] == '@')
                sa->sun_path[0] = '\0';
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path));
        return true;
}

static bool sd_notify_fd(const char *state, int fd) {
        const char *path = g_getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa;
        struct iovec iov = {.iov_base = (void *) state, .iov_len = strlen(state)};
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {0};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_name = &sa};
        int sock;
        bool sent;

        if (!notify_address(&sa, &msg.msg_namelen))
                return false;
        if (fd >= 0) {
                struct cmsghdr *cmsg;

                msg.msg_control = control.buf;
                msg.msg_controllen = sizeof(control.buf);
                cmsg = CMSG_FIRSTHDR(&msg);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        }
        sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return false;
        sent = sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0;
        if (!sent)
                g_warning("cannot notify systemd at %s (%s): %s", path, state, g_strerror(errno));
        close(sock);
        return sent;
}

/* The fds systemd kept for us (FDSTORE=1) across a restart, by name; -1 when absent. */
static void listen_fds(int *fuse_fd, int *state_fd, int *seccomp_fd) {
        const char *pid = g_getenv("LISTEN_PID"), *count = g_getenv("LISTEN_FDS");
        const char *names = g_getenv("LISTEN_FDNAMES");
        g_auto(GStrv) name = NULL;
        int n;

        *fuse_fd = *state_fd = *seccomp_fd = -1;
        if (!pid || !count || !names || atoi(pid) != getpid())
                return;
        n = atoi(count);
        name = g_strsplit(names, ":", -1);
        for (int i = 0; i < n && name[i]; i++) {
                int fd = 3 + i; /* SD_LISTEN_FDS_START */

                fcntl(fd, F_SETFD, FD_CLOEXEC);
                if (g_str_equal(name[i], FDNAME_FUSE) && *fuse_fd < 0)
                        *fuse_fd = fd;
                else if (g_str_equal(name[i], FDNAME_STATE) && *state_fd < 0)
                        *state_fd = fd;
                else if (g_str_equal(name[i], FDNAME_SECCOMP) && *seccomp_fd < 0)
                        *seccomp_fd = fd;
                else
                        close(fd);
        }
        g_unsetenv("LISTEN_PID");
        g_unsetenv("LISTEN_FDS");
        g_unsetenv("LISTEN_FDNAMES");
}

/*
 * The notify socket as a file: st_ino 0 for an abstract one (or none). systemd's socket never
 * changes while we run; capfs-fdstore's does when its keeper is restarted, and a new keeper holds
 * nothing of ours.
 */
static FileId notify_socket_id(void) {
        const char *path = g_getenv("NOTIFY_SOCKET");
        struct stat st;

        if (!path || path[0] != '/' || stat(path, &st) < 0)
                return (FileId){0};
        return file_id(&st);
}

/* A keeper killed leaves its socket file behind: only a connect() tells (ECONNREFUSED). */
static bool notify_socket_listening(void) {
        struct sockaddr_un sa;
        socklen_t len;
        int sock, r;

        if (!notify_address(&sa, &len))
                return true;
        sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return true;
        r = connect(sock, (struct sockaddr *) &sa, len);
        close(sock);
        return r == 0 || errno != ECONNREFUSED;
}

static void fd_store_lost(Supervisor *s, const char *path) {
        if (!s->fd_store)
                return;
        g_message("%s: the fd store at %s is gone; unmounting", s->config->mountpoint, path);
        s->fd_store = false;
}

/*
 * The store our fds are in is still the one at NOTIFY_SOCKET. A new one gets them again (systemd
 * and capfs-fdstore take an fd stored twice once). One that is gone may come back (a keeper
 * being replaced), but at a stop it means nobody will hold the connection for the next start:
 * the stop then unmounts, as without a store.
 */
static void fd_store_refresh(Supervisor *s, bool stopping) {
        const char *path = g_getenv("NOTIFY_SOCKET");
        struct stat st;

        if (!s->store_id.ino || !path)
                return;
        if (stat(path, &st) < 0) {
                if (errno == ENOENT && stopping)
                        fd_store_lost(s, path);
                return;
        }
        if (stopping && !notify_socket_listening()) {
                fd_store_lost(s, path);
                return;
        }
        if (file_id_equal(file_id(&st), s->store_id) && s->fd_store)
                return;
        g_message("%s: the fd store at %s is new (its keeper restarted); storing the connection in it again",
                  s->config->mountpoint, path);
        store_fds(s);
}

static gboolean on_fd_store_check(gpointer data) {
        Supervisor *s = data;

        if (!s->shutting_down)
                fd_store_refresh(s, false);
        return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------- the status file */

static void write_status(Supervisor *s) {
        g_autofree char *path = capfs_status_path(s->config->mountpoint);
        g_autofree char *text = g_strdup_printf(
                "supervisor=%d\nworker=%d\ngeneration=%u\nreloads=%u\nreload_result=%s\nmountpoint=%s\n"
                "fd_store=%s\n",
                (int) getpid(), s->serving ? (int) s->serving->pid : 0,
                s->serving ? s->serving->generation : 0, s->reloads,
                s->reload_result ? s->reload_result : "none", s->config->mountpoint,
                s->fd_store ? "yes" : "no");
        g_autoptr(GError) error = NULL;

        if (!g_file_set_contents(path, text, -1, &error))
                g_debug("cannot write %s: %s", path, error->message);
}

static void reload_done(Supervisor *s, const char *result) {
        g_free(s->reload_result);
        s->reload_result = g_strdup(result);
        s->reloads++;
        write_status(s);
        if (s->notified_ready)
                sd_notify_fd("READY=1", -1);
}

static char *describe_status(int status) {
        if (WIFSIGNALED(status))
                return g_strdup_printf("killed by signal %d (%s)", WTERMSIG(status),
                                       g_strsignal(WTERMSIG(status)));
        return g_strdup_printf("exit status %d", WEXITSTATUS(status));
}

/* ---------------------------------------------------------------- requests a dead worker left */

static bool answer_error(Supervisor *s, uint64_t unique, int error) {
        struct fuse_out_header out = {.len = sizeof(out), .error = -error, .unique = unique};

        /* ENOENT: answered already, or its caller gave up. */
        return write(s->fuse_fd, &out, sizeof(out)) == sizeof(out);
}

static bool notify_resend(Supervisor *s) {
        struct fuse_out_header out = {.len = sizeof(out), .error = NOTIFY_RESEND, .unique = 0};

        if (s->resend == 0)
                return false;
        if (write(s->fuse_fd, &out, sizeof(out)) == sizeof(out)) {
                s->resend = 1;
                return true;
        }
        if (errno == EINVAL) {
                s->resend = 0;
                g_message(
                        "this kernel cannot resend FUSE requests (FUSE_NOTIFY_RESEND, Linux 6.9); requests "
                        "in flight when a worker dies fail (ECONNABORTED or EINTR) instead");
        } else
                g_warning("cannot ask the kernel to resend the requests in flight: %s", g_strerror(errno));
        return false;
}

static bool was_in_flight_before(Supervisor *s, uint64_t unique) {
        for (size_t i = 0; i < s->n_last_inflight; i++)
                if (s->last_inflight[i] == (unique & ~UNIQUE_RESEND))
                        return true;
        return false;
}

/*
 * After a worker died: requests it had read wait in the kernel's processing queue. A request
 * that was in flight at the previous crash too is the likely cause: it is failed (EIO) so it
 * cannot kill the next worker. The others are resent to the next worker, or, on kernels that
 * cannot resend, failed with EINTR rather than left hanging.
 */
static void recover_in_flight(Supervisor *s) {
        uint64_t inflight[HANDOVER_SLOTS];
        size_t n = handover_take_inflight(s->handover, inflight);

        for (size_t i = 0; i < n; i++)
                if (was_in_flight_before(s, inflight[i])) {
                        g_warning("request %" G_GUINT64_FORMAT
                                  " was being served at two worker crashes in a "
                                  "row; failing it with EIO",
                                  inflight[i] & ~UNIQUE_RESEND);
                        answer_error(s, inflight[i], EIO);
                        inflight[i] = 0;
                }
        if (!notify_resend(s))
                for (size_t i = 0; i < n; i++)
                        if (inflight[i])
                                answer_error(s, inflight[i], EINTR);
        s->n_last_inflight = 0;
        for (size_t i = 0; i < n; i++)
                if (inflight[i])
                        s->last_inflight[s->n_last_inflight++] = inflight[i] & ~UNIQUE_RESEND;
        if (n)
                g_message("%zu request(s) were in flight in the dead worker: %s", n,
                          s->resend == 1 ? "resent to the next one" : "failed (ECONNABORTED or EINTR)");
}

/* ---------------------------------------------------------------- workers */

static Child *child_new(void) {
        Child *c = g_new0(Child, 1);

        c->control_fd = -1;
        c->seccomp_channel = -1;
        return c;
}

static void child_free(Child *c) {
        if (!c)
                return;
        if (c->control_watch)
                g_source_remove(c->control_watch);
        if (c->timeout)
                g_source_remove(c->timeout);
        if (c->control_fd >= 0)
                close(c->control_fd);
        if (c->seccomp_channel >= 0)
                close(c->seccomp_channel);
        g_free(c);
}

/* A worker that ended: what it did not answer of the seccomp proxy goes to the kernel. */
static void child_end(Supervisor *s, Child *c) {
        if (c)
                seccomp_relay_channel_gone(s->relay, c->seccomp_channel);
        child_free(c);
}

static void send_to(Child *c, const char *msg) {
        if (c->control_fd < 0 || send(c->control_fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
                g_debug("cannot send '%s' to worker %d: %s", msg, (int) c->pid, g_strerror(errno));
}

static gboolean on_fuse_error(gint fd, GIOCondition cond, gpointer data);

/*
 * The supervisor watches /dev/fuse for the end of the connection only while no worker serves
 * (a serving worker's read() reports it). A poll() on /dev/fuse sleeps on the queue every request
 * wakes, so a constant watch would wake the supervisor once per request.
 */
static void watch_connection(Supervisor *s) {
        bool wanted = !s->serving && !s->shutting_down;

        if (wanted && !s->fuse_error_source)
                s->fuse_error_source = g_unix_fd_add(s->fuse_fd, G_IO_ERR | G_IO_HUP, on_fuse_error, s);
        else if (!wanted && s->fuse_error_source) {
                g_source_remove(s->fuse_error_source);
                s->fuse_error_source = 0;
        }
}

static void go(Supervisor *s, Child *c) {
        s->incoming = NULL;
        s->serving = c;
        if (s->relay)
                seccomp_relay_serve_with(s->relay, c->seccomp_channel);
        watch_connection(s);
        c->serving_since = g_get_monotonic_time();
        send_to(c, WORKER_MSG_GO);
        write_status(s);
        if (!s->notified_ready) {
                s->notified_ready = true;
                sd_notify_fd("READY=1", -1);
        }
}

static gboolean on_stop_timeout(gpointer data) {
        Child *c = data;

        g_warning("worker %d did not finish within %d s of being asked to stop; killing it (its requests "
                  "go to the next worker)",
                  (int) c->pid, STOP_TIMEOUT_SEC);
        kill(c->pid, SIGKILL);
        c->timeout = 0;
        return G_SOURCE_REMOVE;
}

static void stop_child(Child *c) {
        if (c->stop_sent)
                return;
        c->stop_sent = true;
        send_to(c, WORKER_MSG_STOP);
        c->timeout = g_timeout_add_seconds(STOP_TIMEOUT_SEC, on_stop_timeout, c);
}

static gboolean on_start_timeout(gpointer data) {
        Child *c = data;

        g_warning("the new worker (pid %d) was not ready within %d s; killing it", (int) c->pid,
                  START_TIMEOUT_SEC);
        kill(c->pid, SIGKILL);
        c->timeout = 0;
        return G_SOURCE_REMOVE;
}

static gboolean on_control(gint fd, GIOCondition cond, gpointer data) {
        Supervisor *s = data;
        Child *c = s->incoming && s->incoming->control_fd == fd ? s->incoming : s->serving;
        char msg[32];
        ssize_t n;

        if (!c || c->control_fd != fd)
                return G_SOURCE_REMOVE;
        n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
        if (n <= 0) {
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return G_SOURCE_CONTINUE;
                /* Closed: the child exits; its child watch takes it from here. */
                c->control_watch = 0;
                return G_SOURCE_REMOVE;
        }
        msg[n] = '\0';
        if (!g_str_equal(msg, WORKER_MSG_READY) || c != s->incoming || c->ready)
                return G_SOURCE_CONTINUE;
        c->ready = true;
        if (c->timeout) {
                g_source_remove(c->timeout);
                c->timeout = 0;
        }
        if (s->shutting_down)
                return G_SOURCE_CONTINUE;
        if (!s->serving)
                go(s, c);
        else
                /* It goes once the one serving now has finished and exited. */
                stop_child(s->serving);
        return G_SOURCE_CONTINUE;
}

static gboolean on_restart(gpointer data) {
        Supervisor *s = data;

        s->restart_source = 0;
        if (!s->shutting_down && !s->incoming)
                start_worker(s);
        return G_SOURCE_REMOVE;
}

static void restart_later(Supervisor *s) {
        guint delay = s->quick_crashes < QUICK_CRASHES_BEFORE_BACKOFF
                              ? 0
                              : MIN(MAX_BACKOFF_MS,
                                    100u << MIN(s->quick_crashes - QUICK_CRASHES_BEFORE_BACKOFF, 10u));

        if (s->restart_source || s->incoming)
                return;
        if (delay)
                g_warning("the worker keeps crashing; next start in %u ms", delay);
        s->restart_source = g_timeout_add(delay, on_restart, s);
}

static void on_child_exit(GPid pid, gint status, gpointer data) {
        Supervisor *s = data;
        g_autofree char *how = describe_status(status);
        bool clean = WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_STOPPED;
        bool unmounted = WIFEXITED(status) && WEXITSTATUS(status) == WORKER_EXIT_UNMOUNTED;
        Child *c;

        g_spawn_close_pid(pid);
        if (s->incoming && s->incoming->pid == pid) {
                c = g_steal_pointer(&s->incoming);
                if (!s->shutting_down) {
                        g_autofree char *result =
                                g_strdup_printf("failed: the new worker (pid %d) ended before "
                                                "it served (%s)",
                                                (int) pid, how);
                        g_warning("reload %s%s", result,
                                  s->serving && !s->serving->stop_sent
                                          ? "; the previous worker keeps serving"
                                          : "");
                        if (s->serving)
                                /* When it was asked to stop already, its exit starts another one. */
                                reload_done(s, result);
                        else {
                                s->quick_crashes++;
                                restart_later(s);
                        }
                }
                child_end(s, c);
                if (s->shutting_down && !s->serving)
                        g_main_loop_quit(s->loop);
                return;
        }
        if (!s->serving || s->serving->pid != pid)
                return;
        c = g_steal_pointer(&s->serving);
        watch_connection(s);
        if (unmounted || s->shutting_down) {
                if (unmounted && !s->shutting_down)
                        g_message("%s was unmounted; exiting", s->config->mountpoint);
                if (s->incoming)
                        kill(s->incoming->pid, SIGKILL);
                else
                        g_main_loop_quit(s->loop);
                s->shutting_down = true;
                child_end(s, c);
                return;
        }
        if (!(clean && c->stop_sent)) {
                bool quick =
                        g_get_monotonic_time() - c->serving_since < QUICK_CRASH_MS * G_TIME_SPAN_MILLISECOND;

                g_warning("worker %u (pid %d) died: %s; %s", c->generation, (int) pid, how,
                          s->incoming ? "its replacement takes over" : "starting another");
                s->quick_crashes = quick ? s->quick_crashes + 1 : 0;
        }
        recover_in_flight(s);
        if (s->incoming && s->incoming->ready) {
                Child *next = s->incoming;
                go(s, next);
                reload_done(s, "ok");
        } else if (!s->incoming)
                restart_later(s);
        child_end(s, c);
        write_status(s);
}

/* What a worker and a re-executed supervisor are both told: how to log, how to serve, where. */
static void append_serving_args(GPtrArray *argv, const SupervisorConfig *config) {
        if (config->syslog)
                g_ptr_array_add(argv, g_strdup("--syslog"));
        for (char **a = config->worker_args; a && *a; a++)
                g_ptr_array_add(argv, g_strdup(*a));
        g_ptr_array_add(argv, g_strdup("--"));
        g_ptr_array_add(argv, g_strdup(config->mountpoint));
        g_ptr_array_add(argv, NULL);
}

static void start_worker(Supervisor *s) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *fds = NULL;
        int pair[2], seccomp_pair[2] = {-1, -1};
        int keep[4];
        Child *c;
        pid_t parent = getpid();
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
                g_warning("cannot create a control socket for a worker: %s", g_strerror(errno));
                restart_later(s);
                return;
        }
        c = child_new();
        c->generation = handover_next_generation(s->handover);
        c->control_fd = pair[0];
        /* Without it the worker serves its files all the same; sysinfo() then gets the host's numbers. */
        if (s->seccomp_fd >= 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, seccomp_pair) < 0)
                g_warning("cannot create a seccomp proxy channel for a worker: %s", g_strerror(errno));
        c->seccomp_channel = seccomp_pair[0];
        if (c->seccomp_channel >= 0)
                fcntl(c->seccomp_channel, F_SETFL, O_NONBLOCK);
        keep[0] = s->fuse_fd;
        keep[1] = handover_fd(s->handover);
        keep[2] = pair[1];
        keep[3] = seccomp_pair[1];
        fds = g_strdup_printf("--worker=%d,%d,%d,%d", keep[0], keep[1], keep[2], keep[3]);
        g_ptr_array_add(argv, g_strdup(s->config->exe));
        g_ptr_array_add(argv, g_strdup(fds));
        append_serving_args(argv, s->config);

        pid = fork();
        if (pid < 0) {
                g_warning("cannot start a worker: %s", g_strerror(errno));
                close(pair[1]);
                if (seccomp_pair[1] >= 0)
                        close(seccomp_pair[1]);
                child_free(c);
                restart_later(s);
                return;
        }
        if (pid == 0) {
                sigset_t none;

                /* Only async-signal-safe calls until exec. */
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* A worker must not outlive the one holding the mount (it could not be replaced). */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(WORKER_EXIT_FAILED);
                for (int i = 0; i < 4; i++)
                        if (keep[i] >= 0)
                                fcntl(keep[i], F_SETFD, 0);
                execv(s->config->exe, (char **) argv->pdata);
                _exit(127);
        }
        close(pair[1]);
        if (seccomp_pair[1] >= 0)
                close(seccomp_pair[1]);
        c->pid = pid;
        c->control_watch = g_unix_fd_add(c->control_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control, s);
        c->timeout = g_timeout_add_seconds(START_TIMEOUT_SEC, on_start_timeout, c);
        g_child_watch_add(pid, on_child_exit, s);
        s->incoming = c;
        g_debug("started worker %u (pid %d)", c->generation, (int) pid);
}

/* ---------------------------------------------------------------- reload, upgrade, stop */

static void reload(Supervisor *s) {
        if (s->shutting_down)
                return;
        if (s->incoming) {
                g_message("a worker is starting already; this reload request is merged with it");
                return;
        }
        g_message("reloading: starting a new worker from %s", s->config->exe);
        start_worker(s);
}

static gboolean on_sigusr1(gpointer data) {
        reload(data);
        return G_SOURCE_CONTINUE;
}

static char *resume_string(Supervisor *s) {
        return g_strdup_printf("%d,%d,%d,%d,%u,%d,%d", s->fuse_fd, handover_fd(s->handover),
                               s->serving ? (int) s->serving->pid : 0,
                               s->serving ? s->serving->control_fd : -1, s->reloads, s->fd_store ? 1 : 0,
                               s->seccomp_fd);
}

bool supervisor_parse_resume(const char *text, SupervisorResume *r) {
        int fd_store;

        /* The seventh, the seccomp proxy's socket, is new: a supervisor from before writes six. */
        r->seccomp_fd = -1;
        if (sscanf(text, "%d,%d,%d,%d,%u,%d,%d", &r->fuse_fd, &r->state_fd, &r->worker_pid,
                   &r->worker_control_fd, &r->reloads, &fd_store, &r->seccomp_fd) < 6)
                return false;
        r->fd_store = fd_store != 0;
        return r->fuse_fd >= 0 && r->state_fd >= 0;
}

/*
 * Whether @exe starts (its libraries load: it links libcapfs) and can read our hand-over
 * state. An exec that failed after it replaced us would take the mount with it.
 */
static bool preflight(Supervisor *s, GError **error) {
        g_autofree char *arg = g_strdup_printf("--preflight=%d", handover_fd(s->handover));
        char *argv[] = {(char *) s->config->exe, arg, NULL};
        int fd = handover_fd(s->handover);
        int status;
        pid_t pid = fork();

        if (pid < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot fork: %s",
                            g_strerror(errno));
                return false;
        }
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                fcntl(fd, F_SETFD, 0);
                execv(argv[0], argv);
                _exit(127);
        }
        for (int i = 0; i < STOP_TIMEOUT_SEC * 100; i++) {
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        g_autofree char *how = describe_status(status);
                        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                                return true;
                        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                                    "%s --preflight ended with %s (see its message above)", argv[0], how);
                        return false;
                }
                g_usleep(10 * 1000);
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s --preflight did not finish within %d s",
                    argv[0], STOP_TIMEOUT_SEC);
        return false;
}

/*
 * The supervisor itself is replaced by exec: same pid (so systemd's MAINPID and our children
 * stay), same fds, the new binary. The new image then replaces the worker.
 */
static void upgrade(Supervisor *s) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GError) error = NULL;
        g_autofree char *resume = NULL;
        int keep[5] = {s->fuse_fd, handover_fd(s->handover), s->config->lock_fd,
                       s->serving ? s->serving->control_fd : -1, s->seccomp_fd};

        if (s->shutting_down)
                return;
        if (s->incoming || !s->serving) {
                g_message("a worker is starting; the upgrade waits for it");
                s->upgrade_requested = true;
                return;
        }
        s->upgrade_requested = false;
        if (!preflight(s, &error)) {
                g_autofree char *result =
                        g_strdup_printf("failed: the new capfs cannot take over: %s", error->message);
                g_warning("upgrade %s; the running one stays", result);
                reload_done(s, result);
                return;
        }
        resume = resume_string(s);
        g_ptr_array_add(argv, g_strdup(s->config->exe));
        g_ptr_array_add(argv, g_strdup_printf("--resume=%s", resume));
        g_ptr_array_add(argv, g_strdup_printf("--lock-fd=%d", s->config->lock_fd));
        if (s->config->pidfile)
                g_ptr_array_add(argv, g_strdup_printf("--pidfile=%s", s->config->pidfile));
        append_serving_args(argv, s->config);
        g_message("upgrading: replacing the supervisor with %s, then the worker", s->config->exe);
        for (int i = 0; i < 5; i++)
                if (keep[i] >= 0)
                        fcntl(keep[i], F_SETFD, 0);
        sd_notify_fd("RELOADING=1", -1);
        /* The holders reconnect to the listening socket, which the new image serves. */
        g_clear_pointer(&s->relay, seccomp_relay_free);
        execv(s->config->exe, (char **) argv->pdata);
        g_warning("cannot exec %s: %s; upgrading the worker only", s->config->exe, g_strerror(errno));
        if (s->seccomp_fd >= 0) {
                s->relay = seccomp_relay_new(s->seccomp_fd);
                if (s->serving)
                        seccomp_relay_serve_with(s->relay, s->serving->seccomp_channel);
        }
        for (int i = 0; i < 5; i++)
                if (keep[i] >= 0)
                        fcntl(keep[i], F_SETFD, FD_CLOEXEC);
        reload(s);
}

static gboolean on_sigusr2(gpointer data) {
        upgrade(data);
        return G_SOURCE_CONTINUE;
}

static void unmount(Supervisor *s) {
        if (s->se) {
                /* Detaches lazily and closes the fd. */
                fuse_session_unmount(s->se);
                s->fuse_fd = -1;
                return;
        }
        if (umount2(s->config->mountpoint, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
                g_warning("cannot unmount %s: %s; unmount it with 'umount -l %s'", s->config->mountpoint,
                          g_strerror(errno), s->config->mountpoint);
}

static gboolean on_shutdown_timeout(gpointer data) {
        Supervisor *s = data;

        s->shutdown_timeout = 0;
        if (s->serving) {
                g_warning("worker %d did not stop within %d s; killing it", (int) s->serving->pid,
                          STOP_TIMEOUT_SEC);
                kill(s->serving->pid, SIGKILL);
        }
        if (s->incoming)
                kill(s->incoming->pid, SIGKILL);
        return G_SOURCE_REMOVE;
}

static void shutdown_now(Supervisor *s) {
        if (s->shutting_down)
                return;
        s->shutting_down = true;
        sd_notify_fd("STOPPING=1", -1);
        watch_connection(s);
        if (s->restart_source) {
                g_source_remove(s->restart_source);
                s->restart_source = 0;
        }
        /*
         * With systemd's fd store the connection outlives us: a restart takes it over, so the
         * mount stays. Otherwise we are the last ones holding it.
         */
        if (s->fd_store)
                fd_store_refresh(s, true);
        if (!s->fd_store)
                unmount(s);
        if (s->incoming) {
                /* Not serving: it ends when its control socket closes. */
                close(s->incoming->control_fd);
                s->incoming->control_fd = -1;
        }
        if (s->serving)
                stop_child(s->serving);
        if (!s->serving && !s->incoming)
                g_main_loop_quit(s->loop);
        s->shutdown_timeout = g_timeout_add_seconds(STOP_TIMEOUT_SEC + 2, on_shutdown_timeout, s);
}

static gboolean on_stop_signal(gpointer data) {
        shutdown_now(data);
        return G_SOURCE_CONTINUE;
}

/* POLLERR on /dev/fuse: the connection ended (unmounted by someone else, or aborted). */
static gboolean on_fuse_error(gint fd, GIOCondition cond, gpointer data) {
        Supervisor *s = data;

        s->fuse_error_source = 0;
        if (!s->shutting_down) {
                g_message("the FUSE connection of %s ended; exiting", s->config->mountpoint);
                s->fd_store = false;
                shutdown_now(s);
        }
        return G_SOURCE_REMOVE;
}

static gboolean on_upgrade_check(gpointer data) {
        Supervisor *s = data;

        if (s->upgrade_requested && s->serving && !s->incoming)
                upgrade(s);
        return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------- main loop */

static int supervise(Supervisor *s) {
        guint sources[7];
        g_autofree char *status = capfs_status_path(s->config->mountpoint);

        s->loop = g_main_loop_new(NULL, FALSE);
        if (s->seccomp_fd >= 0 && !s->relay)
                s->relay = seccomp_relay_new(s->seccomp_fd);
        sources[0] = g_unix_signal_add(SIGTERM, on_stop_signal, s);
        sources[1] = g_unix_signal_add(SIGINT, on_stop_signal, s);
        sources[2] = g_unix_signal_add(SIGHUP, on_stop_signal, s);
        sources[3] = g_unix_signal_add(SIGUSR1, on_sigusr1, s);
        sources[4] = g_unix_signal_add(SIGUSR2, on_sigusr2, s);
        sources[5] = g_timeout_add(200, on_upgrade_check, s);
        sources[6] = g_timeout_add_seconds(FD_STORE_CHECK_SEC, on_fd_store_check, s);
        /* Taken over from the store or from the supervisor before an upgrade: the same store. */
        if (s->fd_store && !s->store_id.ino)
                s->store_id = notify_socket_id();
        watch_connection(s);

        g_main_loop_run(s->loop);

        for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
                g_source_remove(sources[i]);
        if (s->shutdown_timeout)
                g_source_remove(s->shutdown_timeout);
        if (s->fuse_error_source)
                g_source_remove(s->fuse_error_source);
        child_end(s, g_steal_pointer(&s->serving));
        child_end(s, g_steal_pointer(&s->incoming));
        g_clear_pointer(&s->relay, seccomp_relay_free);
        g_main_loop_unref(s->loop);
        unlink(status);
        g_free(s->reload_result);
        return s->exit_status;
}

/*
 * A session whose mount is to stay (for the fd store's next start): libfuse can only forget its
 * mountpoint by unmounting, so it is kept, not freed, until the process ends.
 */
static struct fuse_session *kept_session;

static void supervisor_clear(Supervisor *s) {
        if (s->se && s->fd_store) {
                kept_session = g_steal_pointer(&s->se);
                s->fuse_fd = -1;
        } else if (s->se) {
                fuse_session_unmount(s->se);
                fuse_session_destroy(s->se);
                s->se = NULL;
                s->fuse_fd = -1;
        }
        if (s->fuse_fd >= 0)
                close(s->fuse_fd);
        if (s->seccomp_fd >= 0)
                close(s->seccomp_fd);
        handover_free(s->handover);
}

static void store_fds(Supervisor *s) {
        if (!g_getenv("NOTIFY_SOCKET"))
                return;
        s->fd_store = sd_notify_fd("FDSTORE=1\nFDNAME=" FDNAME_FUSE, s->fuse_fd) &&
                      sd_notify_fd("FDSTORE=1\nFDNAME=" FDNAME_STATE, handover_fd(s->handover));
        /* Kept too, so that holders still connect while capfs restarts. */
        if (s->fd_store && s->seccomp_fd >= 0)
                (void) sd_notify_fd("FDSTORE=1\nFDNAME=" FDNAME_SECCOMP, s->seccomp_fd);
        if (s->fd_store)
                s->store_id = notify_socket_id();
}

/* Without the socket capfs still serves its files; containers' sysinfo() then gets the host's numbers. */
static int open_seccomp_socket(const SupervisorConfig *config) {
        g_autofree char *path = capfs_seccomp_socket_path(config->mountpoint);
        g_autoptr(GError) error = NULL;
        int fd = seccomp_proxy_listen(path, &error);

        if (fd < 0)
                g_warning("%s; containers' sysinfo() will show the host's numbers", error->message);
        return fd;
}

static void announce_pid(const SupervisorConfig *config) {
        char pid[32];
        int len = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());

        if (ftruncate(config->lock_fd, 0) < 0 || pwrite(config->lock_fd, pid, (size_t) len, 0) != len)
                g_debug("cannot record the owner in the lock file: %s", g_strerror(errno));
        if (config->pidfile) {
                g_autoptr(GError) error = NULL;
                if (!g_file_set_contents(config->pidfile, pid, len, &error))
                        g_warning("cannot write the pidfile %s: %s; serving anyway", config->pidfile,
                                  error->message);
        }
}

static void remove_runtime_files(const SupervisorConfig *config, bool fd_store) {
        g_autofree char *lock = capfs_lock_path(config->mountpoint);
        g_autofree char *seccomp = capfs_seccomp_socket_path(config->mountpoint);

        if (config->pidfile)
                unlink(config->pidfile);
        /* systemd keeps the socket for the next start: its name stays with it. */
        if (!fd_store)
                unlink(seccomp);
        /* Removed while still held, so no newcomer can lock the old file after we let go. */
        unlink(lock);
}

int supervisor_run(const SupervisorConfig *config, const char *fuse_options, bool foreground) {
        static const struct fuse_lowlevel_ops no_ops = {0};
        g_autoptr(GError) error = NULL;
        Supervisor s = {.config = config, .fuse_fd = -1, .seccomp_fd = -1, .resend = -1};
        int stored_fuse, stored_state, stored_seccomp, r;

        listen_fds(&stored_fuse, &stored_state, &stored_seccomp);
        s.seccomp_fd = stored_seccomp >= 0 ? stored_seccomp : open_seccomp_socket(config);
        if (stored_fuse >= 0 && stored_state >= 0) {
                s.handover = handover_open(stored_state, &error);
                if (!s.handover) {
                        fprintf(stderr, "capfs: %s\n", error->message);
                        close(stored_fuse);
                        return 1;
                }
                s.fuse_fd = stored_fuse;
                /* systemd keeps its copies in the store while it passes them to us. */
                s.fd_store = true;
                /* A capfs from before the socket existed stored only the other two. */
                if (stored_seccomp < 0 && s.seccomp_fd >= 0)
                        (void) sd_notify_fd("FDSTORE=1\nFDNAME=" FDNAME_SECCOMP, s.seccomp_fd);
                g_message("%s: taking over the FUSE connection systemd kept for us", config->mountpoint);
        } else {
                char *fuse_argv[] = {"capfs", "-o", (char *) fuse_options, NULL};
                struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);

                if (stored_fuse >= 0)
                        close(stored_fuse);
                if (stored_state >= 0)
                        close(stored_state);
                s.handover = handover_create(&error);
                if (!s.handover) {
                        fprintf(stderr, "capfs: %s\n", error->message);
                        return 1;
                }
                s.se = fuse_session_new(&args, &no_ops, sizeof(no_ops), NULL);
                fuse_opt_free_args(&args);
                if (!s.se) {
                        fprintf(stderr,
                                "capfs: cannot start a FUSE session with options '%s'; check the -o "
                                "options\n",
                                fuse_options);
                        supervisor_clear(&s);
                        return 1;
                }
                if (fuse_session_mount(s.se, config->mountpoint) < 0) {
                        fprintf(stderr,
                                "capfs: cannot mount %s (see the message above); is /dev/fuse usable and "
                                "are you root?\n",
                                config->mountpoint);
                        fuse_session_destroy(s.se);
                        s.se = NULL;
                        supervisor_clear(&s);
                        return 1;
                }
                s.fuse_fd = fuse_session_fd(s.se);
                if (!foreground)
                        /* Threads do not survive fork(): everything threaded starts after this. */
                        fuse_daemonize(0);
                store_fds(&s);
        }
        announce_pid(config);
        /* A worker of the previous supervisor may have died with requests in flight. */
        if (stored_fuse >= 0)
                recover_in_flight(&s);
        start_worker(&s);
        r = supervise(&s);
        supervisor_clear(&s);
        remove_runtime_files(config, s.fd_store);
        g_message("%s %s", config->mountpoint, s.fd_store ? "left mounted for the next start" : "unmounted");
        return r;
}

int supervisor_resume(const SupervisorConfig *config, const SupervisorResume *resume) {
        g_autoptr(GError) error = NULL;
        Supervisor s = {.config = config,
                        .fuse_fd = resume->fuse_fd,
                        .seccomp_fd = resume->seccomp_fd,
                        .resend = -1};
        int r;

        fcntl(resume->fuse_fd, F_SETFD, FD_CLOEXEC);
        fcntl(resume->state_fd, F_SETFD, FD_CLOEXEC);
        fcntl(config->lock_fd, F_SETFD, FD_CLOEXEC);
        if (s.seccomp_fd >= 0)
                fcntl(s.seccomp_fd, F_SETFD, FD_CLOEXEC);
        else
                s.seccomp_fd = open_seccomp_socket(config);
        s.handover = handover_open(resume->state_fd, &error);
        if (!s.handover) {
                g_critical("%s", error->message);
                close(s.fuse_fd);
                return 1;
        }
        s.fd_store = resume->fd_store;
        s.reloads = resume->reloads;
        s.notified_ready = true;
        if (resume->worker_pid > 0) {
                Child *c = child_new();

                fcntl(resume->worker_control_fd, F_SETFD, FD_CLOEXEC);
                c->pid = resume->worker_pid;
                c->control_fd = resume->worker_control_fd;
                c->generation = handover_generation(s.handover);
                c->ready = true;
                c->serving_since = g_get_monotonic_time();
                c->control_watch =
                        g_unix_fd_add(c->control_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_control, &s);
                g_child_watch_add(c->pid, on_child_exit, &s);
                s.serving = c;
        }
        g_message("upgraded supervisor of %s running (pid %d)", config->mountpoint, (int) getpid());
        announce_pid(config);
        if (s.serving)
                reload(&s);
        else
                start_worker(&s);
        r = supervise(&s);
        supervisor_clear(&s);
        remove_runtime_files(config, s.fd_store);
        g_message("%s %s", config->mountpoint, s.fd_store ? "left mounted for the next start" : "unmounted");
        return r;
}
