/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-fdstore: the part of systemd's fd store capfs relies on, for hosts where no systemd unit
 * runs capfs. In Kubernetes capfs runs in a DaemonSet pod, and every upgrade or eviction replaces
 * that pod: without something that outlives it holding the FUSE connection, every container that
 * bound capfs's files would read ENOTCONN until it is recreated.
 *
 *   capfs-fdstore keep DIR       holds the fds capfs stores (sd_notify FDSTORE=1 on DIR/notify)
 *   capfs-fdstore run DIR -- capfs ...
 *                                fetches them from DIR/fetch and execs capfs with them in
 *                                LISTEN_FDS, as systemd starts a service with its fd store
 *
 * capfs itself cannot tell the two apart. As systemd does, the keeper drops an fd that reports
 * POLLHUP or POLLERR (a FUSE connection that was unmounted), replaces an fd stored again under the
 * same name, and keeps its fds when it hands them out. Unlike systemd it has no "stop": when the
 * process that stored the fds (or last fetched them) has exited and nobody fetched them for
 * --linger seconds, it lets them go, so that readers of an abandoned mount get ENOTCONN rather
 * than waiting for ever.
 *
 * Only root may store or fetch (the FUSE fd gives control of every container's view): DIR is
 * made 0700 and each peer's uid is checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROG "capfs-fdstore"
/* systemd's FileDescriptorStoreMax= of capfs.service; capfs stores three. */
#define STORE_MAX 16
#define NAME_MAX_LEN 255
#define DEFAULT_LINGER_SEC 300
#define DEFAULT_WAIT_SEC 60

static const char usage_text[] =
        "Usage: capfs-fdstore keep [--linger SEC] DIR\n"
        "       capfs-fdstore run [--wait SEC] DIR -- COMMAND [ARG...]\n"
        "\n"
        "Keeps capfs's FUSE connection across restarts of capfs where no systemd unit runs it\n"
        "(a Kubernetes DaemonSet): the role of systemd's fd store.\n"
        "\n"
        "keep   hold the fds that COMMAND stores with sd_notify FDSTORE=1 on DIR/notify, and hand\n"
        "       them out on DIR/fetch; runs until killed\n"
        "  --linger SEC  once the process that stored them has exited, let them go if nobody\n"
        "                fetched them within SEC seconds (default 300; 0: never)\n"
        "run    fetch the fds kept in DIR and exec COMMAND with them (LISTEN_FDS, LISTEN_FDNAMES,\n"
        "       LISTEN_PID) and NOTIFY_SOCKET=DIR/notify\n"
        "  --wait SEC    wait up to SEC seconds for a keeper on DIR (default 60)\n";

__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap) {
        fputs(PROG ": ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsay(fmt, ap);
        va_end(ap);
}

/* The fds of a received message's SCM_RIGHTS, at most @max of them (any beyond are closed). */
static size_t take_fds(struct msghdr *msg, int *fds, size_t max) {
        size_t n = 0;

        for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                        int fd;

                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        if (n < max)
                                fds[n++] = fd;
                        else
                                close(fd);
                }
        }
        return n;
}

static int64_t now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_seconds(const char *text, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(text, &end, 10);
        if (errno || end == text || *end || v > 86400 * 365)
                return false;
        *ret = (unsigned) v;
        return true;
}

static bool socket_path(const char *dir, const char *name, struct sockaddr_un *sa, socklen_t *len) {
        int n;

        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir, name);
        if (n < 0 || (size_t) n >= sizeof(sa->sun_path)) {
                say("%s/%s: the path is too long for a unix socket (%zu bytes at most); use a shorter DIR",
                    dir, name, sizeof(sa->sun_path) - 1);
                return false;
        }
        *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + (size_t) n + 1);
        return true;
}

/* ---------------------------------------------------------------- keep */

typedef struct {
        char name[NAME_MAX_LEN + 1];
        int fd;
} StoredFd;

typedef struct {
        const char *dir;
        unsigned linger_sec;
        StoredFd store[STORE_MAX];
        size_t n_store;
        /* Who is expected to come back for the fds: the last to store or fetch them. */
        pid_t owner;
        int owner_pidfd;
        int64_t let_go_at; /* 0: no deadline */
        bool warned_no_pid;
} Keeper;

static void store_drop(Keeper *k, size_t i, const char *why) {
        say("%s: dropped %s: %s", k->dir, k->store[i].name, why);
        close(k->store[i].fd);
        k->store[i] = k->store[--k->n_store];
}

static void store_empty(Keeper *k) {
        for (size_t i = 0; i < k->n_store; i++)
                close(k->store[i].fd);
        k->n_store = 0;
}

/* sd_notify's FDNAME rules: what fits in LISTEN_FDNAMES. */
static bool valid_name(const char *name) {
        size_t len = strlen(name);

        if (len == 0 || len > NAME_MAX_LEN)
                return false;
        for (const char *p = name; *p; p++)
                if (*p == ':' || *p < 0x21 || *p > 0x7e)
                        return false;
        return true;
}

static void store_put(Keeper *k, const char *name, int fd) {
        for (size_t i = 0; i < k->n_store; i++)
                if (g_str_equal(k->store[i].name, name)) {
                        close(k->store[i].fd);
                        k->store[i].fd = fd;
                        return;
                }
        if (k->n_store == STORE_MAX) {
                say("%s: already holding %d fds; refused %s", k->dir, STORE_MAX, name);
                close(fd);
                return;
        }
        g_strlcpy(k->store[k->n_store].name, name, sizeof(k->store[k->n_store].name));
        k->store[k->n_store++].fd = fd;
        say("%s: keeping %s", k->dir, name);
}

static void store_remove(Keeper *k, const char *name) {
        for (size_t i = 0; i < k->n_store; i++)
                if (g_str_equal(k->store[i].name, name)) {
                        store_drop(k, i, "removed by its owner (FDSTOREREMOVE=1)");
                        return;
                }
}

static void set_owner(Keeper *k, pid_t pid) {
        if (pid == k->owner && k->owner_pidfd >= 0)
                return;
        if (k->owner_pidfd >= 0)
                close(k->owner_pidfd);
        k->owner = pid;
        k->owner_pidfd = pid > 0 ? pidfd_open(pid, 0) : -1;
        k->let_go_at = 0;
        if (k->owner_pidfd < 0 && !k->warned_no_pid) {
                /* A pid of 0: the peer is in a pid namespace this keeper cannot see into. */
                say("%s: cannot watch pid %d (%s); the fds are kept until capfs-fdstore is stopped "
                    "(run the keeper in the host's pid namespace: hostPID)",
                    k->dir, (int) pid, pid > 0 ? g_strerror(errno) : "not in this pid namespace");
                k->warned_no_pid = true;
        }
}

static void close_fds(const int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

/* One sd_notify(3) datagram: FDSTORE=1 with FDNAME= and fds, FDSTOREREMOVE=1; the rest is not ours. */
static void on_notify(Keeper *k, int sock) {
        char buf[4096];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * STORE_MAX)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = &control,
                             .msg_controllen = sizeof(control)};
        const struct ucred *cred = NULL;
        int fds[STORE_MAX];
        size_t n_fds;
        g_autofree char *name = NULL;
        bool fdstore = false, remove = false;
        ssize_t n;

        n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
                return;
        buf[n] = '\0';
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
                    c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                        cred = (const struct ucred *) CMSG_DATA(c);
        n_fds = take_fds(&msg, fds, STORE_MAX);
        if (msg.msg_flags & MSG_CTRUNC)
                say("%s: a notification carried more fds than %d; dropped the rest", k->dir, STORE_MAX);
        if (!cred || cred->uid != 0) {
                say("%s/notify: ignored a notification from uid %d: only root may store fds", k->dir,
                    cred ? (int) cred->uid : -1);
                close_fds(fds, n_fds);
                return;
        }

        g_auto(GStrv) lines = g_strsplit(buf, "\n", -1);
        for (char **l = lines; *l; l++) {
                if (g_str_equal(*l, "FDSTORE=1"))
                        fdstore = true;
                else if (g_str_equal(*l, "FDSTOREREMOVE=1"))
                        remove = true;
                else if (g_str_has_prefix(*l, "FDNAME=")) {
                        g_free(name);
                        name = g_strdup(*l + strlen("FDNAME="));
                }
        }
        if (!name)
                name = g_strdup("stored");
        if ((fdstore || remove) && !valid_name(name)) {
                say("%s: ignored an fd named '%s': names are 1 to %d printable characters without ':'",
                    k->dir, name, NAME_MAX_LEN);
                close_fds(fds, n_fds);
                return;
        }
        if (remove)
                store_remove(k, name);
        if (fdstore) {
                for (size_t i = 0; i < n_fds; i++)
                        store_put(k, name, fds[i]);
                n_fds = 0;
                set_owner(k, cred->pid);
        }
        close_fds(fds, n_fds);
}

/* A fetch: every fd kept, with the names, in one message; the fds stay here too. */
static void on_fetch(Keeper *k, int listener) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * STORE_MAX)];
        } control = {0};
        g_autoptr(GString) names = g_string_new("FDNAMES=");
        struct ucred cred;
        socklen_t cred_len = sizeof(cred);
        struct iovec iov;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        int conn;

        conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return;
        if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0 || cred.uid != 0) {
                say("%s/fetch: refused uid %d: only root may fetch fds", k->dir, (int) cred.uid);
                close(conn);
                return;
        }
        for (size_t i = 0; i < k->n_store; i++)
                g_string_append_printf(names, "%s%s", i ? ":" : "", k->store[i].name);
        iov = (struct iovec){.iov_base = names->str, .iov_len = names->len};
        if (k->n_store > 0) {
                struct cmsghdr *c;

                msg.msg_control = control.buf;
                msg.msg_controllen = CMSG_SPACE(sizeof(int) * k->n_store);
                c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * k->n_store);
                for (size_t i = 0; i < k->n_store; i++)
                        memcpy(CMSG_DATA(c) + i * sizeof(int), &k->store[i].fd, sizeof(int));
        }
        if (sendmsg(conn, &msg, MSG_NOSIGNAL) < 0) {
                say("%s/fetch: cannot hand the fds to pid %d: %s", k->dir, (int) cred.pid,
                    g_strerror(errno));
        } else {
                say("%s: handed %s to pid %d", k->dir,
                    k->n_store ? names->str + strlen("FDNAMES=") : "nothing", (int) cred.pid);
                set_owner(k, cred.pid);
        }
        close(conn);
}

static int bind_socket(const char *dir, const char *name, int type) {
        struct sockaddr_un sa;
        socklen_t len;
        int sock, one = 1;

        if (!socket_path(dir, name, &sa, &len))
                return -1;
        sock = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (sock < 0) {
                say("cannot make a socket: %s", g_strerror(errno));
                return -1;
        }
        /* Left by an earlier keeper (we hold the lock): its fds died with it. */
        (void) unlink(sa.sun_path);
        if (bind(sock, (struct sockaddr *) &sa, len) < 0 ||
            (type == SOCK_DGRAM && setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) ||
            (type == SOCK_SEQPACKET && listen(sock, 16) < 0)) {
                say("cannot listen on %s: %s", sa.sun_path, g_strerror(errno));
                close(sock);
                return -1;
        }
        return sock;
}

/* DIR is root's alone; one keeper per DIR, a second waits for the first to end. */
static int lock_dir(const char *dir) {
        g_autofree char *lock = g_build_filename(dir, "lock", NULL);
        struct stat st;
        int fd;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                say("cannot create %s: %s", dir, g_strerror(errno));
                return -1;
        }
        errno = 0;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || chmod(dir, 0700) < 0) {
                say("%s: not a directory of root's (%s); give an empty directory, e.g. /run/capfs/fdstore",
                    dir, errno ? g_strerror(errno) : "wrong type or owner");
                return -1;
        }
        fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                say("cannot open %s: %s", lock, g_strerror(errno));
                return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                char owner[32] = "";
                ssize_t n = pread(fd, owner, sizeof(owner) - 1, 0);

                owner[n > 0 ? n : 0] = '\0';
                g_strchomp(owner);
                say("%s: another keeper (pid %s) holds it; waiting for it to end", dir,
                    *owner ? owner : "?");
                if (flock(fd, LOCK_EX) < 0) {
                        say("cannot lock %s: %s", lock, g_strerror(errno));
                        close(fd);
                        return -1;
                }
        }
        if (ftruncate(fd, 0) < 0 || dprintf(fd, "%d\n", (int) getpid()) < 0)
                say("%s: cannot record this keeper's pid: %s", lock, g_strerror(errno));
        return fd;
}

static int keep(const char *dir, unsigned linger_sec) {
        Keeper k = {.dir = dir, .linger_sec = linger_sec, .owner_pidfd = -1};
        g_autofree char *linger =
                linger_sec ? g_strdup_printf("%u s after their owner exits unclaimed", linger_sec)
                           : g_strdup("never");
        int lock_fd, notify, fetch;

        lock_fd = lock_dir(dir);
        if (lock_fd < 0)
                return 1;
        notify = bind_socket(dir, "notify", SOCK_DGRAM);
        fetch = notify >= 0 ? bind_socket(dir, "fetch", SOCK_SEQPACKET) : -1;
        if (fetch < 0)
                return 1;
        say("%s: keeping fds (NOTIFY_SOCKET=%s/notify); letting them go %s", dir, dir, linger);

        for (;;) {
                struct pollfd p[3 + STORE_MAX];
                int timeout = -1;
                size_t n = 0;

                p[n++] = (struct pollfd){.fd = notify, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = fetch, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = k.owner_pidfd, .events = POLLIN};
                /* No events asked: only POLLHUP and POLLERR, which a dead FUSE connection reports. */
                for (size_t i = 0; i < k.n_store; i++)
                        p[n++] = (struct pollfd){.fd = k.store[i].fd};
                if (k.let_go_at)
                        timeout = (int) MAX(0, k.let_go_at - now_ms());
                if (poll(p, n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        say("poll: %s", g_strerror(errno));
                        return 1;
                }
                if (p[0].revents & POLLIN)
                        on_notify(&k, notify);
                if (p[1].revents & POLLIN)
                        on_fetch(&k, fetch);
                if (p[2].revents & POLLIN) {
                        close(k.owner_pidfd);
                        k.owner_pidfd = -1;
                        if (k.linger_sec && k.n_store) {
                                k.let_go_at = now_ms() + (int64_t) k.linger_sec * 1000;
                                say("%s: pid %d, which holds the fds, has exited; keeping them for %u s",
                                    dir, (int) k.owner, k.linger_sec);
                        }
                }
                /* Backwards: store_drop() moves the last entry into the hole. The store may have
                 * changed above; its entries polled are the first n - 3 of it as it was. */
                for (size_t i = MIN(n - 3, k.n_store); i-- > 0;)
                        if (p[3 + i].fd == k.store[i].fd &&
                            (p[3 + i].revents & (POLLHUP | POLLERR | POLLNVAL)))
                                store_drop(&k, i,
                                           "its file reports a hang-up (for a FUSE connection: unmounted)");
                if (k.let_go_at && now_ms() >= k.let_go_at) {
                        say("%s: nobody came for the fds of pid %d within %u s; letting them go (readers of "
                            "its mount now get ENOTCONN; start capfs and restart the containers)",
                            dir, (int) k.owner, k.linger_sec);
                        store_empty(&k);
                        k.let_go_at = 0;
                }
        }
}

/* ---------------------------------------------------------------- run */

static int fetch_connect(const char *dir, unsigned wait_sec) {
        struct sockaddr_un sa;
        socklen_t len;
        int64_t give_up = now_ms() + (int64_t) wait_sec * 1000;
        bool told = false;

        if (!socket_path(dir, "fetch", &sa, &len))
                return -1;
        for (;;) {
                int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

                if (sock < 0) {
                        say("cannot make a socket: %s", g_strerror(errno));
                        return -1;
                }
                if (connect(sock, (struct sockaddr *) &sa, len) == 0)
                        return sock;
                close(sock);
                if ((errno != ENOENT && errno != ECONNREFUSED) || now_ms() >= give_up) {
                        say("cannot reach a keeper at %s: %s; start 'capfs-fdstore keep %s' first",
                            sa.sun_path, g_strerror(errno), dir);
                        return -1;
                }
                if (!told)
                        say("%s: waiting up to %u s for its keeper", dir, wait_sec);
                told = true;
                usleep(200 * 1000);
        }
}

static int run(const char *dir, unsigned wait_sec, char **command) {
        char buf[STORE_MAX * (NAME_MAX_LEN + 1) + 64];
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * STORE_MAX)];
        } control;
        struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
        struct msghdr msg = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = &control,
                             .msg_controllen = sizeof(control)};
        int fds[STORE_MAX];
        size_t n_fds;
        g_autofree char *notify = g_build_filename(dir, "notify", NULL);
        g_auto(GStrv) name_list = NULL;
        const char *names;
        ssize_t n;
        int sock;

        sock = fetch_connect(dir, wait_sec);
        if (sock < 0)
                return 1;
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 || (size_t) n < strlen("FDNAMES=") || strncmp(buf, "FDNAMES=", strlen("FDNAMES=")) != 0) {
                say("%s/fetch: no answer from the keeper (%s)", dir,
                    n < 0 ? g_strerror(errno) : "malformed");
                return 1;
        }
        buf[n] = '\0';
        names = buf + strlen("FDNAMES=");
        n_fds = take_fds(&msg, fds, STORE_MAX);
        close(sock);
        name_list = *names ? g_strsplit(names, ":", -1) : g_new0(char *, 1);
        if (n_fds != g_strv_length(name_list)) {
                say("%s/fetch: the keeper sent %zu fds for the names '%s'", dir, n_fds, names);
                return 1;
        }

        /* To 3, 4, ... (SD_LISTEN_FDS_START) in order, without clobbering one not yet moved:
         * first all above the range, then down into it (dup2 clears FD_CLOEXEC, as exec needs). */
        for (size_t i = 0; i < n_fds; i++) {
                int high = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + STORE_MAX);
                if (high < 0) {
                        say("cannot move fd %d: %s", fds[i], g_strerror(errno));
                        return 1;
                }
                close(fds[i]);
                fds[i] = high;
        }
        for (size_t i = 0; i < n_fds; i++) {
                if (dup2(fds[i], 3 + (int) i) < 0) {
                        say("cannot move fd %d: %s", fds[i], g_strerror(errno));
                        return 1;
                }
                close(fds[i]);
        }
        if (n_fds > 0) {
                g_autofree char *count = g_strdup_printf("%zu", n_fds);
                g_autofree char *pid = g_strdup_printf("%d", (int) getpid());

                say("%s: starting %s with %s", dir, command[0], names);
                g_setenv("LISTEN_FDS", count, true);
                g_setenv("LISTEN_FDNAMES", names, true);
                g_setenv("LISTEN_PID", pid, true);
        } else {
                say("%s: starting %s; nothing kept yet", dir, command[0]);
                g_unsetenv("LISTEN_FDS");
                g_unsetenv("LISTEN_FDNAMES");
                g_unsetenv("LISTEN_PID");
        }
        g_setenv("NOTIFY_SOCKET", notify, true);
        execvp(command[0], command);
        say("cannot run %s: %s", command[0], g_strerror(errno));
        return 127;
}

/* ---------------------------------------------------------------- main */

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsay(fmt, ap);
        va_end(ap);
        fputs(usage_text, stderr);
        return 2;
}

int main(int argc, char **argv) {
        unsigned linger_sec = DEFAULT_LINGER_SEC, wait_sec = DEFAULT_WAIT_SEC;
        g_autofree char *dir = NULL;
        const char *mode;
        int i;

        if (argc >= 2 && (g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h"))) {
                fputs(usage_text, stdout);
                return 0;
        }
        if (argc < 3)
                return usage_error("%s", "a mode (keep or run) and a DIR are needed");
        mode = argv[1];
        if (!g_str_equal(mode, "keep") && !g_str_equal(mode, "run"))
                return usage_error("unknown mode '%s'", mode);
        for (i = 2; i < argc && g_str_has_prefix(argv[i], "--") && !g_str_equal(argv[i], "--"); i += 2) {
                bool is_linger = g_str_equal(mode, "keep") && g_str_equal(argv[i], "--linger");
                bool is_wait = g_str_equal(mode, "run") && g_str_equal(argv[i], "--wait");

                if (!is_linger && !is_wait)
                        return usage_error("unknown option '%s'", argv[i]);
                if (i + 1 >= argc || !parse_seconds(argv[i + 1], is_linger ? &linger_sec : &wait_sec))
                        return usage_error("%s needs a number of seconds", argv[i]);
        }
        if (i >= argc)
                return usage_error("%s", "DIR is missing");
        /* Absolute: NOTIFY_SOCKET must name it from wherever capfs runs. */
        dir = g_canonicalize_filename(argv[i++], NULL);
        /* A dead capfs must not take the keeper with it. */
        signal(SIGPIPE, SIG_IGN);
        if (g_str_equal(mode, "keep")) {
                if (i != argc)
                        return usage_error("unexpected argument '%s'", argv[i]);
                return keep(dir, linger_sec);
        }
        if (i >= argc || !g_str_equal(argv[i], "--") || i + 1 >= argc)
                return usage_error("%s", "run needs '-- COMMAND [ARG...]' after DIR");
        return run(dir, wait_sec, argv + i + 1);
}
