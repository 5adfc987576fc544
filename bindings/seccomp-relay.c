/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor's half of the seccomp proxy: it owns the listening socket and the holders'
 * connections (LXC's monitors, capfs-launch), which therefore outlive any worker, and passes each
 * notification on to the serving worker over that worker's channel, tagged, with its fds. It keeps
 * each one (and its fds) until it is answered: a worker that dies with notifications in hand, or a
 * moment without any worker (a restart, a reload), only delays them to the next worker. One that
 * no worker answers within ANSWER_WITHIN_MS goes to the kernel: the holder gets
 * SECCOMP_USER_NOTIF_FLAG_CONTINUE (the host's numbers), never an error and never a closed
 * connection in the middle of a call, which LXC would answer with ENOSYS. A JVM that starts while
 * capfs reloads thus still sizes its heap to the container, not to the host.
 */
#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "seccomp-proxy.h"
#include "seccomp-wire.h"

/* Below capfs-launch's own 2 s (SYSINFO_RELAY_TIMEOUT_MS), so the holder hears it from us. */
#define ANSWER_WITHIN_MS 1500
#define DEADLINE_CHECK_MS 100

typedef struct SeccompRelay SeccompRelay;

typedef struct Holder {
        SeccompRelay *relay;
        int fd;
        guint watch;
        int refs;
} Holder;

typedef struct Outstanding {
        Holder *holder;
        int channel; /* the worker's it went to; -1: waiting for one */
        gint64 deadline; /* monotonic: then the kernel answers */
        int fds[PROXY_FDS]; /* kept to send it again to the next worker */
        size_t len;
        uint8_t message[]; /* as received: sent again, or the base of a CONTINUE answer */
} Outstanding;

typedef struct Channel {
        int fd;
        guint watch;
} Channel;

struct SeccompRelay {
        int listen_fd;
        guint listen_watch;
        GHashTable *holders; /* Holder* set */
        GHashTable *outstanding; /* tag (uint64_t*) -> Outstanding* */
        GPtrArray *channels; /* Channel*: every worker that may still answer */
        int serving; /* channel of the serving worker; -1: none */
        uint64_t next_tag;
        guint deadline_timer;
        unsigned continued_logged;
};

static Holder *holder_ref(Holder *h) {
        h->refs++;
        return h;
}

static void holder_unref(Holder *h) {
        if (--h->refs > 0)
                return;
        if (h->fd >= 0)
                close(h->fd);
        g_free(h);
}

static void holder_drop(SeccompRelay *r, Holder *h) {
        if (h->watch)
                g_source_remove(h->watch);
        h->watch = 0;
        g_hash_table_remove(r->holders, h); /* unrefs */
}

static void send_to_holder(Holder *h, const void *buf, size_t len) {
        /* A holder that went away meanwhile: nobody waits for this answer any more. */
        if (h->fd >= 0 && send(h->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t) len)
                g_debug("seccomp proxy: cannot answer holder fd %d: %s", h->fd, g_strerror(errno));
}

/* Lets the kernel answer: the notification's id with SECCOMP_USER_NOTIF_FLAG_CONTINUE. */
static void answer_continue(SeccompRelay *r, Holder *h, const uint8_t *message, size_t len,
                            const char *why) {
        ProxyHeader header;
        struct seccomp_notif req;
        struct seccomp_notif_resp resp = {.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
        g_autofree uint8_t *reply = NULL;
        size_t reply_len;

        memcpy(&header, message, sizeof(header));
        memcpy(&req, message + sizeof(header), sizeof(req));
        reply_len = sizeof(header) + header.sizes.seccomp_notif + header.sizes.seccomp_notif_resp;
        if (reply_len > len + header.sizes.seccomp_notif_resp)
                return;
        reply = g_malloc0(reply_len);
        header.reserved = 0;
        header.cookie_len = 0;
        memcpy(reply, &header, sizeof(header));
        memcpy(reply + sizeof(header), message + sizeof(header), header.sizes.seccomp_notif);
        resp.id = req.id;
        memcpy(reply + sizeof(header) + header.sizes.seccomp_notif, &resp, sizeof(resp));
        send_to_holder(h, reply, reply_len);
        if (r->continued_logged++ % 64 == 0)
                g_message("seccomp proxy: sysinfo() of pid %u left to the kernel (the host's numbers): %s",
                          req.pid, why);
}

static void outstanding_free(gpointer data) {
        Outstanding *o = data;
        holder_unref(o->holder);
        for (size_t i = 0; i < PROXY_FDS; i++)
                if (o->fds[i] >= 0)
                        close(o->fds[i]);
        g_free(o);
}

/* The worker's answers, as they came, on to the holders that asked: false when the channel ended. */
static bool read_answers(SeccompRelay *r, int fd) {
        uint8_t buf[sizeof(uint64_t) + PROXY_MESSAGE_MAX];
        ssize_t n;

        while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > (ssize_t) sizeof(uint64_t)) {
                uint64_t tag;
                Outstanding *o;

                memcpy(&tag, buf, sizeof(tag));
                o = g_hash_table_lookup(r->outstanding, &tag);
                /* An answer after its deadline, or from a worker it is no longer with: already answered. */
                if (o && o->channel == fd) {
                        send_to_holder(o->holder, buf + sizeof(tag), (size_t) n - sizeof(tag));
                        g_hash_table_remove(r->outstanding, &tag);
                }
        }
        return !(n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR));
}

static gboolean on_channel(gint fd, GIOCondition cond, gpointer data) {
        SeccompRelay *r = data;

        if (read_answers(r, fd) && !(cond & (G_IO_HUP | G_IO_ERR)))
                return G_SOURCE_CONTINUE;
        /* The worker is gone: what it held is passed on when its exit is seen. */
        for (guint i = 0; i < r->channels->len; i++) {
                Channel *c = r->channels->pdata[i];
                if (c->fd == fd)
                        c->watch = 0;
        }
        return G_SOURCE_REMOVE;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

/* Sends @o to the serving worker; false when none serves or its channel is full. */
static bool send_outstanding(SeccompRelay *r, uint64_t tag, Outstanding *o) {
        struct iovec iov[2] = {{.iov_base = &tag, .iov_len = sizeof(tag)},
                               {.iov_base = o->message, .iov_len = o->len}};

        if (r->serving < 0 || wire_send(r->serving, iov, 2, o->fds, PROXY_FDS, MSG_DONTWAIT) !=
                                      (ssize_t) (sizeof(tag) + o->len))
                return false;
        o->channel = r->serving;
        return true;
}

/* Every notification waiting for a worker, to the serving one. */
static void send_waiting(SeccompRelay *r) {
        GHashTableIter it;
        gpointer key, value;

        g_hash_table_iter_init(&it, r->outstanding);
        while (g_hash_table_iter_next(&it, &key, &value))
                if (((Outstanding *) value)->channel < 0 && !send_outstanding(r, *(uint64_t *) key, value))
                        break;
}

static gboolean on_deadline_check(gpointer data) {
        SeccompRelay *r = data;
        gint64 now = g_get_monotonic_time();
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, r->outstanding);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Outstanding *o = value;
                if (now < o->deadline)
                        continue;
                answer_continue(r, o->holder, o->message, o->len,
                                o->channel < 0 ? "no worker served within 1.5 s"
                                               : "the worker did not answer within 1.5 s");
                g_hash_table_iter_remove(&it);
        }
        if (g_hash_table_size(r->outstanding) > 0)
                return G_SOURCE_CONTINUE;
        r->deadline_timer = 0;
        return G_SOURCE_REMOVE;
}

/* Takes one notification over, with its fds: to the serving worker, or waiting for the next. */
static void pass_on(SeccompRelay *r, Holder *h, const uint8_t *message, size_t len, const int *fds) {
        uint64_t tag = ++r->next_tag;
        Outstanding *o = g_malloc(sizeof(*o) + len);

        o->holder = holder_ref(h);
        o->channel = -1;
        o->deadline = g_get_monotonic_time() + ANSWER_WITHIN_MS * G_TIME_SPAN_MILLISECOND;
        memcpy(o->fds, fds, sizeof(o->fds));
        o->len = len;
        memcpy(o->message, message, len);
        g_hash_table_insert(r->outstanding, g_memdup2(&tag, sizeof(tag)), o);
        (void) send_outstanding(r, tag, o);
        if (!r->deadline_timer)
                r->deadline_timer = g_timeout_add(DEADLINE_CHECK_MS, on_deadline_check, r);
}

/*
 * Takes every message @h sent, passing each on (@pass) or leaving it to the kernel. True while
 * the connection is good (nothing more to read now), false when it ended or misbehaved.
 */
static bool read_holder(SeccompRelay *r, Holder *h, bool pass) {
        int fd = h->fd;

        for (;;) {
                uint8_t buf[PROXY_MESSAGE_MAX];
                int fds[WIRE_FDS_MAX];
                size_t nfds;
                ProxyHeader header;
                ssize_t n = wire_recv(fd, buf, sizeof(buf), fds, &nfds, MSG_DONTWAIT);

                if (n == -EAGAIN || n == -EINTR)
                        return true;
                if (n <= 0) {
                        if (n == -EMSGSIZE)
                                g_warning("seccomp proxy: a message larger than %d bytes; closing that "
                                          "connection",
                                          PROXY_MESSAGE_MAX);
                        return false;
                }
                memcpy(&header, buf, MIN(sizeof(header), (size_t) n));
                if ((size_t) n < sizeof(header) + sizeof(struct seccomp_notif) || nfds != PROXY_FDS ||
                    header.sizes.seccomp_notif < sizeof(struct seccomp_notif) ||
                    sizeof(header) + (size_t) header.sizes.seccomp_notif > (size_t) n) {
                        g_warning("seccomp proxy: a malformed message (%zd bytes, %zu fds); closing that "
                                  "connection",
                                  n, nfds);
                        close_fds(fds, nfds);
                        return false;
                }
                if (pass)
                        pass_on(r, h, buf, (size_t) n, fds);
                else {
                        answer_continue(r, h, buf, (size_t) n, "capfs is stopping or being replaced");
                        close_fds(fds, nfds);
                }
        }
}

static void drain_holder(SeccompRelay *r, Holder *h) {
        (void) read_holder(r, h, false);
}

static gboolean on_holder(gint fd, GIOCondition cond, gpointer data) {
        Holder *h = data;
        SeccompRelay *r = h->relay;

        (void) fd;
        if (read_holder(r, h, true) && !(cond & (G_IO_HUP | G_IO_ERR)))
                return G_SOURCE_CONTINUE;
        h->watch = 0;
        holder_drop(r, h);
        return G_SOURCE_REMOVE;
}

static gboolean on_listen(gint fd, GIOCondition cond, gpointer data) {
        SeccompRelay *r = data;
        int conn;

        while ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
                Holder *h = g_new0(Holder, 1);

                h->relay = r;
                h->fd = conn;
                h->refs = 1;
                h->watch = g_unix_fd_add(conn, G_IO_IN | G_IO_HUP | G_IO_ERR, on_holder, h);
                g_hash_table_add(r->holders, h);
        }
        (void) cond;
        return G_SOURCE_CONTINUE;
}

SeccompRelay *seccomp_relay_new(int listen_fd) {
        SeccompRelay *r = g_new0(SeccompRelay, 1);

        r->listen_fd = listen_fd;
        r->serving = -1;
        r->holders = g_hash_table_new_full(NULL, NULL, (GDestroyNotify) holder_unref, NULL);
        r->outstanding = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, outstanding_free);
        r->channels = g_ptr_array_new_with_free_func(g_free);
        r->listen_watch = g_unix_fd_add(listen_fd, G_IO_IN, on_listen, r);
        return r;
}

void seccomp_relay_serve_with(SeccompRelay *r, int channel_fd) {
        r->serving = channel_fd;
        if (channel_fd < 0)
                return;
        Channel *c = g_new0(Channel, 1);
        c->fd = channel_fd;
        c->watch = g_unix_fd_add(channel_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_channel, r);
        g_ptr_array_add(r->channels, c);
        send_waiting(r);
}

/* Everything outstanding goes to the kernel. */
static void continue_all(SeccompRelay *r, const char *why) {
        GHashTableIter it;
        gpointer value;

        g_hash_table_iter_init(&it, r->outstanding);
        while (g_hash_table_iter_next(&it, NULL, &value)) {
                Outstanding *o = value;
                answer_continue(r, o->holder, o->message, o->len, why);
                g_hash_table_iter_remove(&it);
        }
}

void seccomp_relay_channel_gone(SeccompRelay *r, int channel_fd) {
        GHashTableIter it;
        gpointer value;

        if (!r || channel_fd < 0)
                return;
        for (guint i = 0; i < r->channels->len; i++) {
                Channel *c = r->channels->pdata[i];
                if (c->fd != channel_fd)
                        continue;
                if (c->watch)
                        g_source_remove(c->watch);
                g_ptr_array_remove_index_fast(r->channels, i);
                break;
        }
        /* Answers it sent before it ended are still in the socket. */
        (void) read_answers(r, channel_fd);
        /* What it did not answer waits for the next worker (or its deadline). */
        g_hash_table_iter_init(&it, r->outstanding);
        while (g_hash_table_iter_next(&it, NULL, &value))
                if (((Outstanding *) value)->channel == channel_fd)
                        ((Outstanding *) value)->channel = -1;
        if (r->serving == channel_fd)
                r->serving = -1;
        send_waiting(r);
}

void seccomp_relay_free(SeccompRelay *r) {
        GHashTableIter it;
        gpointer key;

        if (!r)
                return;
        continue_all(r, "capfs is stopping or being replaced");
        if (r->deadline_timer)
                g_source_remove(r->deadline_timer);
        for (guint i = 0; i < r->channels->len; i++) {
                Channel *c = r->channels->pdata[i];
                if (c->watch)
                        g_source_remove(c->watch);
        }
        g_hash_table_iter_init(&it, r->holders);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                Holder *h = key;
                if (h->watch)
                        g_source_remove(h->watch);
                h->watch = 0;
                /* First their sending side: a holder's next message fails at once (LXC and
                 * capfs-launch then connect again, to the listening socket, which the next
                 * supervisor serves: an upgrade, a restart from systemd's fd store). Then what
                 * they sent before that goes to the kernel, and only then the connection. */
                shutdown(h->fd, SHUT_RD);
                drain_holder(r, h);
        }
        g_source_remove(r->listen_watch);
        g_hash_table_unref(r->outstanding);
        g_hash_table_unref(r->holders);
        g_ptr_array_unref(r->channels);
        g_free(r);
}

int seccomp_proxy_listen(const char *path, GError **error) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NAMETOOLONG, "%s: too long for a socket",
                            path);
                return -1;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "socket: %s",
                            g_strerror(errno));
                return -1;
        }
        /* A socket file left by a capfs that did not stop cleanly: nobody listens on it any more. */
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
            listen(fd, SOMAXCONN) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot listen on %s: %s; is /run/capfs writable?", path, g_strerror(errno));
                close(fd);
                return -1;
        }
        return fd;
}
