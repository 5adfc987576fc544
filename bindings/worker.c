/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fairqueue.h"
#include "handles.h"
#include "handover.h"
#include "lowlevel.h"
#include "seccomp-proxy.h"
#include "worker.h"

#include <linux/fuse.h>

/* How often the control thread looks whether the inode journal needs compacting. */
#define CONTROL_TICK_MS 1000
/* How often, in ticks, it lets go of ended containers and of kernel files nobody reads. */
#define CONTAINER_PRUNE_TICKS 10
/* How often a stop wakes the threads still blocked in read() (a wake can come just before one). */
#define WAKE_RETRY_MS 20
/*
 * Threads wait for requests blocked in read(), where the kernel wakes exactly one of them per
 * request. This signal, whose handler does nothing and which does not restart read(), ends
 * such a wait when the worker stops or a queued request needs a thread.
 */
#define WAKE_SIGNAL SIGRTMIN

/*
 * What one container may have in the daemon at once. Requests are a hundred bytes or so (a
 * write to a knob a few more): 4 MiB is tens of thousands of waiting reads, more than a
 * container's pids.max usually lets it block. Four in service keep both cores and most of the
 * threads for everyone else, and still let a container's reads overlap a slow write of its own.
 */
#define FAIR_PER_CONTAINER_BYTES (4u << 20)
#define FAIR_TOTAL_BYTES (64u << 20)
#define FAIR_PER_CONTAINER_RUNNING 4
/* The request key of a caller whose process is gone before it could be looked at. */
#define FAIR_KEY_GONE 1
#define WORKER_MAX_THREADS 64

typedef struct Worker {
        Handover *handover;
        struct fuse_session *se;
        NodeTable *nodes;
        CapfsHost *host;
        int fuse_fd;
        int control_fd;
        int signal_fd;
        int quit_fd; /* readable once the session ended on its own: ends the control thread */

        GMutex lock;
        GCond changed;
        bool stopping; /* no thread starts another read */
        bool exiting; /* the session is over: readers return at once */
        GPtrArray *reading; /* WorkerThread: between their check of `stopping` and the end of their read */
        unsigned busy; /* requests read and not finished */
        bool stop_requested;
        bool loop_ended; /* libfuse's loop returned: nothing is read or served any more */

        /*
         * Fair mode: the thread that reads a request serves it, unless its container already has
         * FAIR_PER_CONTAINER_RUNNING requests in service; then it waits in the container's queue
         * and the thread goes back to reading. A thread that finishes a request serves the next
         * queued one that may go. Only where the kernel can resend what a dead worker had read
         * (FUSE_NOTIFY_RESEND): requests in these queues are in no hand-over slot.
         */
        bool fair;
        FairQueue *queue;
        unsigned refused;
        int proc_fd;

        /* The connection's FUSE_INIT, while this worker (the first) answers it. */
        uint64_t init_unique;
        uint8_t init_request[HANDOVER_INIT_MAX];
        size_t init_request_len;

        /* The replay of the recorded FUSE_INIT into our session. */
        bool replaying;
        bool replay_answered;
        bool replay_same;

        pthread_key_t thread_key;
} Worker;

/*
 * Callers' pid namespaces as a thread last looked them up, for the queues: a lookup costs a
 * path walk in procfs (5 µs here), four times per open+read+close. A process never changes its
 * pid namespace, so an entry can only be wrong once its pid is used again, which takes the pid
 * numbers going round; then a request is queued as another container's, no more. Only a key
 * looked up for this request is handed on to decide what the caller sees (pass_pidns()).
 */
#define KEY_CACHE_SLOTS 64
#define KEY_CACHE_USEC G_USEC_PER_SEC

typedef struct KeyCacheSlot {
        uint32_t pid;
        uint64_t key;
        gint64 until;
} KeyCacheSlot;

/* What a libfuse thread of ours is doing, for the drain and the in-flight slots. */
typedef struct WorkerThread {
        Worker *worker;
        pthread_t self;
        int slot;
        bool busy;
        bool counted; /* the request counts against its container's share (fair mode) */
        uint64_t key; /* its container */
        bool key_looked_up; /* for this request, not taken from keys[] */
        KeyCacheSlot keys[KEY_CACHE_SLOTS];
} WorkerThread;

/* libfuse hands the custom I/O hooks the session's userdata (the CapfsServer), not ours. */
static Worker *the_worker;

/* Called with w->lock held. */
static void finish_request_locked(Worker *w, WorkerThread *t) {
        if (!t->busy)
                return;
        t->busy = false;
        w->busy--;
        if (t->counted) {
                t->counted = false;
                fair_queue_done(w->queue, t->key);
        }
        if (w->stopping)
                g_cond_broadcast(&w->changed);
}

static void finish_request(Worker *w, WorkerThread *t) {
        if (!t->busy)
                return;
        g_mutex_lock(&w->lock);
        finish_request_locked(w, t);
        g_mutex_unlock(&w->lock);
}

/* Ends the read() of every thread waiting for a request; called with w->lock held. */
static void wake_readers(Worker *w) {
        for (guint i = 0; i < w->reading->len; i++) {
                WorkerThread *t = g_ptr_array_index(w->reading, i);
                pthread_kill(t->self, WAKE_SIGNAL);
        }
}

static void on_wake_signal(int sig) {
}

/*
 * A thread's end: at the session's end (cancelled in read()), or, should libfuse ever end an
 * idle thread (this worker keeps them all), right after a request without reading again.
 */
static void thread_state_free(void *data) {
        WorkerThread *t = data;
        Worker *w = t->worker;

        finish_request(w, t);
        /* A request its finished one held back may go now, and this thread will not take it. */
        if (w->queue) {
                g_mutex_lock(&w->lock);
                if (fair_queue_length(w->queue) > 0)
                        wake_readers(w);
                g_mutex_unlock(&w->lock);
        }
        g_free(t);
}

static WorkerThread *thread_state(Worker *w) {
        WorkerThread *t = pthread_getspecific(w->thread_key);

        if (!t) {
                t = g_new0(WorkerThread, 1);
                t->worker = w;
                t->self = pthread_self();
                t->slot = handover_claim_slot(w->handover);
                pthread_setspecific(w->thread_key, t);
        }
        return t;
}

static size_t flatten(const struct iovec *iov, int count, uint8_t *out, size_t max) {
        size_t len = 0;

        for (int i = 0; i < count; i++) {
                size_t n = MIN(iov[i].iov_len, max - len);
                memcpy(out + len, iov[i].iov_base, n);
                len += n;
        }
        return len;
}

static size_t iov_total(const struct iovec *iov, int count) {
        size_t len = 0;

        for (int i = 0; i < count; i++)
                len += iov[i].iov_len;
        return len;
}

/*
 * The kernel sent FUSE_INIT although one was recorded: the worker that recorded it died before
 * its reply reached the kernel, which has now resent the request. The recorded reply answers it.
 */
static void answer_init_again(Worker *w, uint64_t unique) {
        uint8_t reply[HANDOVER_INIT_MAX];
        size_t len;
        const void *recorded = handover_init_reply(w->handover, &len);
        struct fuse_out_header *out = (struct fuse_out_header *) reply;

        memcpy(reply, recorded, len);
        out->unique = unique;
        if (write(w->fuse_fd, reply, len) < 0)
                g_warning("cannot answer the resent FUSE_INIT: %s", g_strerror(errno));
}

/* Takes note of a request just read; false when it was answered here and libfuse must not see it. */
static bool accept_request(Worker *w, WorkerThread *t, const void *buf, size_t len) {
        const struct fuse_in_header *in = buf;

        if (in->opcode == FUSE_INIT) {
                if (handover_init_recorded(w->handover)) {
                        answer_init_again(w, in->unique);
                        return false;
                }
                g_mutex_lock(&w->lock);
                w->init_request_len = MIN(len, sizeof(w->init_request));
                memcpy(w->init_request, buf, w->init_request_len);
                w->init_unique = in->unique;
                g_mutex_unlock(&w->lock);
        }
        /* These are never answered, and the kernel keeps none of them waiting. */
        if (in->opcode != FUSE_FORGET && in->opcode != FUSE_BATCH_FORGET && in->opcode != FUSE_INTERRUPT)
                handover_slot_set(w->handover, t->slot, in->unique);
        return true;
}

/* libfuse cancels its threads in read() when the session ends: the drain must not wait for them. */
static void cancelled_in_read(void *data) {
        WorkerThread *t = data;
        Worker *w = t->worker;

        g_mutex_lock(&w->lock);
        g_ptr_array_remove_fast(w->reading, t);
        g_cond_broadcast(&w->changed);
        g_mutex_unlock(&w->lock);
}

/*
 * One request into @buf: > 0 its length, 0 to look at `stopping` and the queues again, -1
 * with errno. The caller put the thread in w->reading. The one place libfuse's cancellation
 * may end the thread (see io_read()).
 */
static ssize_t read_request(WorkerThread *t, int fd, void *buf, size_t len) {
        ssize_t n;
        int state;

        pthread_cleanup_push(cancelled_in_read, t);
        pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &state);
        n = read(fd, buf, len);
        pthread_setcancelstate(state, NULL);
        pthread_cleanup_pop(0);
        /* EINTR: WAKE_SIGNAL; ENOENT: the kernel ended the request before we could take it. */
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOENT))
                return 0;
        return n;
}

/* Linux 6.9 brought FUSE_NOTIFY_RESEND; without it a dead worker's queued requests would hang. */
static bool kernel_can_resend(void) {
        struct utsname u;
        unsigned major = 0, minor = 0;

        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
                return false;
        return major > 6 || (major == 6 && minor >= 9);
}

/*
 * Whose request this is, for the queues: the caller's pid namespace (a container has its own; the
 * host's processes share one). Requests of the connection itself come first.
 */
static uint64_t request_key(Worker *w, WorkerThread *t, const struct fuse_in_header *in) {
        KeyCacheSlot *slot = &t->keys[in->pid % KEY_CACHE_SLOTS];
        gint64 now;
        char path[32];
        struct stat st;

        t->key_looked_up = false;
        switch (in->opcode) {
        case FUSE_INIT:
        case FUSE_DESTROY:
        case FUSE_FORGET:
        case FUSE_BATCH_FORGET:
        case FUSE_INTERRUPT:
                return FAIR_KEY_CONNECTION;
        default:
                break;
        }
        if (in->pid == 0)
                return FAIR_KEY_CONNECTION;
        now = g_get_monotonic_time();
        if (slot->pid == in->pid && now < slot->until)
                return slot->key;
        snprintf(path, sizeof(path), "%u/ns/pid", in->pid);
        if (fstatat(w->proc_fd, path, &st, 0) < 0)
                return FAIR_KEY_GONE;
        *slot = (KeyCacheSlot){.pid = in->pid, .key = (uint64_t) st.st_ino, .until = now + KEY_CACHE_USEC};
        t->key_looked_up = true;
        return (uint64_t) st.st_ino;
}

static void answer_error(Worker *w, uint64_t unique, int error) {
        struct fuse_out_header out = {.len = sizeof(out), .error = -error, .unique = unique};

        if (write(w->fuse_fd, &out, sizeof(out)) < 0 && errno != ENOENT)
                g_warning("cannot answer request %" PRIu64 ": %s", unique, g_strerror(errno));
}

/*
 * Fair mode: whether the request just read in @buf is this thread's to serve now (true, counted
 * against its container) or waits in its container's queue (false; answered EAGAIN when that is
 * full). Called with w->lock held.
 */
static bool admit_or_queue(Worker *w, WorkerThread *t, uint64_t key, const void *buf, size_t len) {
        const struct fuse_in_header *in = buf;
        FairRequest *r;

        if (fair_queue_admit(w->queue, key)) {
                t->counted = true;
                t->key = key;
                return true;
        }
        r = fair_request_new(key, buf, len);
        if (fair_queue_push(w->queue, r) == 0)
                return false;
        /* Its container has too much waiting: it is the one kept waiting. */
        if (w->refused++ % 10000 == 0)
                g_warning("a container (pid namespace %" PRIu64 ") has over %u bytes of requests waiting; "
                          "refusing its new ones with EAGAIN (%u so far)",
                          key, FAIR_PER_CONTAINER_BYTES, w->refused);
        answer_error(w, in->unique, EAGAIN);
        fair_request_free(r);
        return false;
}

/* Fair mode: a queued request that may be served now, into @buf; called with w->lock held. */
static ssize_t take_queued(Worker *w, WorkerThread *t, void *buf, size_t len) {
        g_autoptr(FairRequest) r = fair_queue_pop(w->queue);

        if (!r)
                return 0;
        w->busy++;
        t->busy = true;
        t->counted = true;
        t->key = r->key;
        /* Perhaps from another thread's keys[]: libcapfs looks the caller up itself. */
        t->key_looked_up = false;
        if (r->len > len) {
                /* Cannot happen: libfuse's buffer holds the largest request the kernel sends. */
                g_warning("a %zu-byte request does not fit libfuse's %zu-byte buffer", r->len, len);
                return -1;
        }
        memcpy(buf, r->data, r->len);
        return (ssize_t) r->len;
}

/* A key looked up for this request is the caller's pid namespace: libcapfs need not look it up again. */
static void pass_pidns(const WorkerThread *t, uint64_t key) {
        capfs_request_set_pidns(t->key_looked_up && key > FAIR_KEY_GONE ? key : 0);
}

static ssize_t next_request(Worker *w, int fd, void *buf, size_t len) {
        WorkerThread *t = thread_state(w);

        for (;;) {
                uint64_t key = FAIR_KEY_CONNECTION;
                ssize_t n;
                int saved;
                bool serve;

                g_mutex_lock(&w->lock);
                /* Back here, the thread is done with its previous request. */
                finish_request_locked(w, t);
                if (w->exiting) {
                        g_mutex_unlock(&w->lock);
                        errno = EINTR;
                        return -1;
                }
                /* What waits in the queues goes first, also while the worker drains. */
                n = w->fair ? take_queued(w, t, buf, len) : 0;
                if (n != 0) {
                        g_mutex_unlock(&w->lock);
                        if (n > 0 && ((size_t) n < sizeof(struct fuse_in_header) ||
                                      accept_request(w, t, buf, (size_t) n))) {
                                pass_pidns(t, t->key);
                                return n;
                        }
                        finish_request(w, t);
                        continue;
                }
                if (w->stopping) {
                        g_cond_wait(&w->changed, &w->lock);
                        g_mutex_unlock(&w->lock);
                        continue;
                }
                g_ptr_array_add(w->reading, t);
                g_mutex_unlock(&w->lock);

                n = read_request(t, fd, buf, len);
                saved = errno;
                if (n >= (ssize_t) sizeof(struct fuse_in_header) && w->fair)
                        key = request_key(w, t, buf);

                g_mutex_lock(&w->lock);
                g_ptr_array_remove_fast(w->reading, t);
                serve = n > 0;
                if (serve && w->fair && n >= (ssize_t) sizeof(struct fuse_in_header))
                        serve = admit_or_queue(w, t, key, buf, (size_t) n);
                if (serve) {
                        w->busy++;
                        t->busy = true;
                }
                if (w->stopping)
                        g_cond_broadcast(&w->changed);
                g_mutex_unlock(&w->lock);

                if (n < 0) {
                        errno = saved;
                        return -1;
                }
                if (!serve)
                        continue;
                if ((size_t) n < sizeof(struct fuse_in_header) || accept_request(w, t, buf, (size_t) n)) {
                        pass_pidns(t, key);
                        return n;
                }
                finish_request(w, t);
        }
}

/*
 * libfuse lets its threads be cancelled while they wait for a request, i.e. in here. Only the
 * wait in read() may be cancelled (read_request()): anywhere else the thread may hold w->lock, or
 * be half-way through its accounting.
 */
static ssize_t io_read(int fd, void *buf, size_t len, void *userdata) {
        ssize_t n;
        int state, saved;

        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
        n = next_request(the_worker, fd, buf, len);
        saved = errno;
        pthread_setcancelstate(state, NULL);
        errno = saved;
        return n;
}

static ssize_t replay_reply(Worker *w, const struct iovec *iov, int count) {
        uint8_t reply[HANDOVER_INIT_MAX] = {0};
        size_t recorded_len, len = flatten(iov, count, reply, sizeof(reply));
        const void *recorded = handover_init_reply(w->handover, &recorded_len);
        const struct fuse_out_header *out = (const struct fuse_out_header *) reply;

        w->replay_answered = out->error == 0;
        w->replay_same = len == recorded_len && memcmp(reply, recorded, len) == 0;
        return (ssize_t) iov_total(iov, count);
}

static ssize_t io_writev(int fd, struct iovec *iov, int count, void *userdata) {
        Worker *w = the_worker;
        const struct fuse_out_header *out = iov[0].iov_base;
        uint64_t unique = out->unique;
        ssize_t n;

        /* Our answer to the replayed FUSE_INIT: the kernel had its answer long ago. */
        if (w->replaying)
                return replay_reply(w, iov, count);
        if (unique != 0 && unique == w->init_unique) {
                uint8_t reply[HANDOVER_INIT_MAX];
                size_t len = flatten(iov, count, reply, sizeof(reply));

                /* Recorded before the kernel sees it: a worker that takes over must find it. */
                handover_record_init(w->handover, w->init_request, w->init_request_len, reply, len);
                w->init_unique = 0;
        }
        n = writev(fd, iov, count);
        if (unique != 0) {
                int saved = errno;
                handover_slot_clear(w->handover, thread_state(w)->slot, unique);
                errno = saved;
        }
        return n;
}

static const struct fuse_custom_io worker_io = {
        .read = io_read,
        .writev = io_writev,
};

/* Gives our session the state the connection's FUSE_INIT left in the first worker's. */
static bool replay_init(Worker *w, GError **error) {
        size_t len;
        const void *recorded = handover_init_request(w->handover, &len);
        g_autofree void *request = g_memdup2(recorded, len);
        struct fuse_buf buf = {.size = len, .mem = request};

        w->replaying = true;
        fuse_session_process_buf(w->se, &buf);
        w->replaying = false;
        if (!w->replay_answered) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "this capfs cannot take over the FUSE connection: its libfuse refused the "
                            "connection's FUSE_INIT; restart capfs to remount with this version");
                return false;
        }
        if (!w->replay_same)
                g_warning(
                        "this capfs would have negotiated the FUSE connection differently; it serves "
                        "with what the kernel agreed to when it was mounted (restart capfs to renegotiate)");
        return true;
}

/* ---------------------------------------------------------------- control */

/* Waits, with w->lock held, for a change or for the next retry of the wake. */
static void wait_waking_readers(Worker *w) {
        wake_readers(w);
        g_cond_wait_until(&w->changed, &w->lock,
                          g_get_monotonic_time() + WAKE_RETRY_MS * G_TIME_SPAN_MILLISECOND);
}

static void drain(Worker *w) {
        g_mutex_lock(&w->lock);
        w->stopping = true;
        /* In fair mode, what waits in the queues is served before the worker goes. */
        while (!w->loop_ended &&
               (w->reading->len > 0 || w->busy > 0 || (w->queue && fair_queue_length(w->queue) > 0)))
                wait_waking_readers(w);
        g_mutex_unlock(&w->lock);
}

static void end_session(Worker *w) {
        g_mutex_lock(&w->lock);
        w->exiting = true;
        fuse_session_exit(w->se);
        g_cond_broadcast(&w->changed);
        /* Threads in read() return, see it, and libfuse's loop ends. */
        while (!w->loop_ended)
                wait_waking_readers(w);
        g_mutex_unlock(&w->lock);
}

/* true: stop now. */
static bool control_message(Worker *w) {
        char msg[32];
        ssize_t n = recv(w->control_fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);

        if (n < 0)
                return errno != EAGAIN && errno != EINTR;
        msg[n] = '\0';
        /* 0 bytes: the supervisor is gone (it kills us itself when it dies; this is a re-exec gone wrong).
         */
        return n == 0 || g_str_equal(msg, WORKER_MSG_STOP);
}

static gpointer control_thread(gpointer data) {
        Worker *w = data;
        unsigned ticks = 0;

        for (;;) {
                struct pollfd p[3] = {
                        {.fd = w->control_fd, .events = POLLIN},
                        {.fd = w->signal_fd, .events = POLLIN},
                        {.fd = w->quit_fd, .events = POLLIN},
                };
                int r = poll(p, 3, CONTROL_TICK_MS);

                if (r < 0 && errno != EINTR)
                        break;
                if (p[2].revents)
                        return NULL;
                if (p[1].revents) {
                        struct signalfd_siginfo si;
                        if (read(w->signal_fd, &si, sizeof(si)) == sizeof(si)) {
                                g_debug("worker: signal %u, stopping", si.ssi_signo);
                                break;
                        }
                }
                if (p[0].revents && control_message(w))
                        break;
                if (r == 0) {
                        /* A wake that came just before a thread's read() is repeated here. */
                        g_mutex_lock(&w->lock);
                        if (w->queue && fair_queue_length(w->queue) > 0)
                                wake_readers(w);
                        g_mutex_unlock(&w->lock);
                        handover_journal_compact(w->handover, w->nodes, false);
                        if (++ticks % CONTAINER_PRUNE_TICKS == 0)
                                capfs_host_prune(w->host);
                }
        }
        w->stop_requested = true;
        drain(w);
        handover_journal_seal(w->handover, w->nodes);
        end_session(w);
        return NULL;
}

static bool send_message(int fd, const char *msg) {
        return send(fd, msg, strlen(msg), MSG_NOSIGNAL) == (ssize_t) strlen(msg);
}

/* Waits for the supervisor's go (the previous worker is gone); false on stop or EOF. */
static bool wait_for_go(int fd) {
        char msg[32];
        ssize_t n;

        do
                n = recv(fd, msg, sizeof(msg) - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return false;
        msg[n] = '\0';
        return g_str_equal(msg, WORKER_MSG_GO);
}

/* ---------------------------------------------------------------- the loadavg sampler */

typedef struct Sampler {
        CapfsLoadavg *loadavg;
        CapfsHost *host;
        Handover *handover;
        bool too_large_logged;
        GMutex lock;
        GCond wake;
        bool stop;
} Sampler;

/* After every pass: the next worker goes on from here even if this one is killed. */
static void keep_loadavg(Sampler *s) {
        size_t len;
        g_autofree char *text = capfs_loadavg_export(s->loadavg, &len);

        if (!handover_store_loadavg(s->handover, text, len) && !s->too_large_logged) {
                g_warning(
                        "the load averages (%zu bytes) are too large to hand over; a new worker will start "
                        "them from 0",
                        len);
                s->too_large_logged = true;
        }
}

/* What the previous worker's sampler left, if anything. */
static void take_over_loadavg(CapfsLoadavg *loadavg, Handover *handover) {
        size_t len;
        g_autofree char *text = handover_load_loadavg(handover, &len);

        if (text && capfs_loadavg_import(loadavg, text, len) < 0)
                g_warning("cannot read the load averages the previous worker left; starting them from 0");
}

static gpointer sampler_thread(gpointer data) {
        Sampler *s = data;

        g_mutex_lock(&s->lock);
        while (!s->stop) {
                gint64 deadline = g_get_monotonic_time() + CAPFS_LOADAVG_INTERVAL_SEC * G_TIME_SPAN_SECOND;

                g_mutex_unlock(&s->lock);
                capfs_loadavg_sample(s->loadavg, s->host);
                keep_loadavg(s);
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

/* ---------------------------------------------------------------- the worker */

char *capfs_fuse_option_string(char **user) {
        g_autoptr(GString) opts = g_string_new("allow_other,default_permissions,fsname=capfs,subtype=capfs");

        for (char **o = user; o && *o; o++)
                g_string_append_printf(opts, ",%s", *o);
        return g_string_free(g_steal_pointer(&opts), FALSE);
}

/* "1000", or "max" for no budget. */
static char *budget_text(uint64_t value) {
        return value == CAPFS_CGROUP_BUDGET_NONE ? g_strdup("max") : g_strdup_printf("%" PRIu64, value);
}

static void announce(const CapfsHost *host, const char *mountpoint, CapfsCpuView view, uint32_t generation,
                     bool fair) {
        g_autofree char *descendants = budget_text(host->cgroup_max_descendants);
        g_autofree char *depth = budget_text(host->cgroup_max_depth);

        g_message(
                "serving %s (worker %u, pid %d; cgroup %s, CPU view %s, cgroup budget %s cgroups %s levels "
                "deep, texts kept %u ms, %s): "
                "proc/{meminfo,cpuinfo,stat,uptime,loadavg,diskstats,swaps,slabinfo,pressure/*}, "
                "sys/devices/system/cpu and the cgroup view cgroup/",
                mountpoint, generation, (int) getpid(), host->layout == CAPFS_LAYOUT_V2 ? "v2" : "v1/hybrid",
                view == CAPFS_CPU_VIEW_QUOTA ? "quota" : "cpuset", descendants, depth,
                (unsigned) (host->render_cache_usec / 1000),
                fair ? "per-container request queues"
                     : "requests in arrival order (this kernel cannot resend requests: no per-container "
                       "queues)");
}

/*
 * Without FUSE_NOTIFY_RESEND nothing could give a request back that this worker read and then
 * died with: it would hang its caller for good. Served through a clone of the connection, it is
 * ended by the kernel instead (ECONNABORTED) when the clone's last fd goes with the process;
 * the supervisor's fd keeps the connection. Kernels that can resend need the shared fd: closing
 * a clone would end the requests before the supervisor could have them resent.
 */
static int serve_through_clone(Worker *w, GError **error) {
        uint32_t original = (uint32_t) w->fuse_fd;
        int clone = open("/dev/fuse", O_RDWR | O_CLOEXEC);

        if (clone < 0 || ioctl(clone, FUSE_DEV_IOC_CLONE, &original) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot clone the FUSE connection (/dev/fuse, FUSE_DEV_IOC_CLONE): %s",
                            g_strerror(errno));
                if (clone >= 0)
                        close(clone);
                return -1;
        }
        close(w->fuse_fd);
        w->fuse_fd = clone;
        return 0;
}

static int open_fds(Worker *w, GError **error) {
        sigset_t stop_signals;

        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        sigaddset(&stop_signals, SIGHUP);
        w->signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK);
        w->quit_fd = eventfd(0, EFD_CLOEXEC);
        if (w->signal_fd < 0 || w->quit_fd < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot create the worker's event fds: %s", g_strerror(errno));
                return -1;
        }
        return 0;
}

/*
 * Threads block in read(). Set only once this worker serves: the fd may be the one the previous
 * worker read from until then (workers before this scheme made it non-blocking).
 */
static int block_in_read(Worker *w, GError **error) {
        struct sigaction wake = {.sa_handler = on_wake_signal}; /* no SA_RESTART: read() returns EINTR */
        int flags = fcntl(w->fuse_fd, F_GETFL);

        sigemptyset(&wake.sa_mask);
        if (sigaction(WAKE_SIGNAL, &wake, NULL) < 0 || flags < 0 ||
            fcntl(w->fuse_fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot make the FUSE fd %d blocking: %s", w->fuse_fd, g_strerror(errno));
                return -1;
        }
        return 0;
}

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

int worker_run(const WorkerConfig *config) {
        g_autoptr(GError) error = NULL;
        g_autoptr(CapfsHost) host = NULL;
        g_autoptr(CapfsLoadavg) loadavg = NULL;
        g_autoptr(NodeTable) nodes = NULL;
        g_autoptr(Handover) handover = NULL;
        g_autofree char *fuse_opts = NULL;
        char *fuse_argv[] = {"capfs", "-o", NULL, NULL};
        struct fuse_args args;
        struct fuse_loop_config *loop_config;
        CapfsServer server = {0};
        Sampler sampler = {0};
        Worker w = {.fuse_fd = config->fuse_fd,
                    .control_fd = config->control_fd,
                    .signal_fd = -1,
                    .quit_fd = -1,
                    .proc_fd = -1};
        GThread *sampler_th = NULL, *control_th = NULL;
        SeccompProxy *seccomp = NULL;
        sigset_t blocked;
        uint32_t generation;
        uint64_t one = 1;
        int r, status = WORKER_EXIT_FAILED;

        /* Signals go to the control thread's signalfd; every thread made from here inherits the mask. */
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGTERM);
        sigaddset(&blocked, SIGINT);
        sigaddset(&blocked, SIGHUP);
        sigaddset(&blocked, SIGUSR1);
        sigaddset(&blocked, SIGUSR2);
        pthread_sigmask(SIG_BLOCK, &blocked, NULL);
        signal(SIGPIPE, SIG_IGN);

        g_mutex_init(&w.lock);
        g_cond_init(&w.changed);
        w.reading = g_ptr_array_new();
        pthread_key_create(&w.thread_key, thread_state_free);
        the_worker = &w;

        handover = handover_open(config->state_fd, &error);
        if (!handover)
                goto out;
        w.handover = handover;
        generation = handover_generation(handover);
        handles_set_generation(generation);
        w.fair = kernel_can_resend() && !g_getenv("CAPFS_NO_FAIR_QUEUE");
        if (!kernel_can_resend() && serve_through_clone(&w, &error) < 0)
                goto out;
        if (open_fds(&w, &error) < 0)
                goto out;
        if (w.fair) {
                w.proc_fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (w.proc_fd < 0) {
                        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno),
                                    "cannot open /proc: %s", g_strerror(errno));
                        goto out;
                }
                w.queue = fair_queue_new(FAIR_PER_CONTAINER_BYTES, FAIR_TOTAL_BYTES,
                                         FAIR_PER_CONTAINER_RUNNING);
        }

        host = capfs_host_open("/", config->cpu_view, &error);
        if (!host)
                goto out;
        host->cgroup_max_descendants = config->cgroup_max_descendants;
        host->cgroup_max_depth = config->cgroup_max_depth;
        host->render_cache_usec = config->render_cache_usec;
        loadavg = capfs_loadavg_new();
        host->loadavg = loadavg;
        nodes = node_table_new();
        w.nodes = nodes;
        server.host = host;
        server.nodes = nodes;
        w.host = host;
        clock_gettime(CLOCK_REALTIME, &server.started);

        fuse_opts = capfs_fuse_option_string(config->fuse_options);
        fuse_argv[2] = fuse_opts;
        args = (struct fuse_args) FUSE_ARGS_INIT(3, fuse_argv);
        w.se = fuse_session_new(&args, &capfs_lowlevel_ops, sizeof(capfs_lowlevel_ops), &server);
        fuse_opt_free_args(&args);
        if (!w.se) {
                g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "cannot start a FUSE session with options '%s'; check the -o options",
                            fuse_opts);
                goto out;
        }
        /* The session owns the fd from here (fuse_session_destroy closes it). */
        r = fuse_session_custom_io(w.se, &worker_io, w.fuse_fd);
        if (r < 0) {
                g_set_error(&error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "cannot hand the FUSE fd to libfuse: %s", g_strerror(-r));
                goto out;
        }
        if (handover_init_recorded(handover) && !replay_init(&w, &error))
                goto out;

        if (!send_message(w.control_fd, WORKER_MSG_READY) || !wait_for_go(w.control_fd)) {
                /* Stopped before it served: the previous worker stays. */
                status = WORKER_EXIT_STOPPED;
                goto out;
        }
        if (block_in_read(&w, &error) < 0)
                goto out;
        handover_journal_restore(handover, nodes);
        handover_journal_attach(handover, nodes);
        announce(host, config->mountpoint, config->cpu_view, generation, w.fair);

        take_over_loadavg(loadavg, handover);
        sampler.loadavg = loadavg;
        sampler.host = host;
        sampler.handover = handover;
        g_mutex_init(&sampler.lock);
        g_cond_init(&sampler.wake);
        sampler_th = g_thread_new("capfs-loadavg", sampler_thread, &sampler);
        control_th = g_thread_new("capfs-control", control_thread, &w);
        if (config->seccomp_fd >= 0)
                seccomp = seccomp_proxy_start(host, config->seccomp_fd);

        loop_config = fuse_loop_cfg_create();
        /* One shared file: requests read on a clone die with the clone when this process does. */
        fuse_loop_cfg_set_clone_fd(loop_config, 0);
        /* Idle threads stay: one that ended after its request could leave a queued request unserved. */
        fuse_loop_cfg_set_idle_threads(loop_config, WORKER_MAX_THREADS);
        fuse_loop_cfg_set_max_threads(loop_config, WORKER_MAX_THREADS);
        r = fuse_session_loop_mt(w.se, loop_config);
        fuse_loop_cfg_destroy(loop_config);
        g_mutex_lock(&w.lock);
        w.loop_ended = true;
        g_cond_broadcast(&w.changed);
        g_mutex_unlock(&w.lock);

        if (write(w.quit_fd, &one, sizeof(one)) < 0)
                g_warning("cannot stop the control thread: %s", g_strerror(errno));
        g_thread_join(control_th);
        seccomp_proxy_stop(seccomp);
        sampler_stop(&sampler, sampler_th);
        g_mutex_clear(&sampler.lock);
        g_cond_clear(&sampler.wake);
        if (w.stop_requested)
                status = WORKER_EXIT_STOPPED;
        else if (r == 0) {
                g_message("%s: the FUSE connection ended (unmounted)", config->mountpoint);
                status = WORKER_EXIT_UNMOUNTED;
        } else
                g_warning("%s: serving failed: %s", config->mountpoint, g_strerror(r < 0 ? -r : r));

out:
        if (error)
                g_critical("%s", error->message);
        if (w.se)
                fuse_session_destroy(w.se);
        else
                close_fd(&w.fuse_fd);
        close_fd(&w.signal_fd);
        close_fd(&w.quit_fd);
        close_fd(&w.control_fd);
        close_fd(&w.proc_fd);
        if (config->seccomp_fd >= 0)
                close(config->seccomp_fd);
        /* Requests still queued go unanswered here: the supervisor has the kernel resend them. */
        g_clear_pointer(&w.queue, fair_queue_free);
        if (host)
                host->loadavg = NULL;
        /* Files the kernel still holds open: the next worker re-creates them. */
        handles_clear();
        the_worker = NULL;
        /* The main thread's own slot state; the others' went with their threads. */
        g_free(pthread_getspecific(w.thread_key));
        pthread_setspecific(w.thread_key, NULL);
        pthread_key_delete(w.thread_key);
        g_mutex_clear(&w.lock);
        g_cond_clear(&w.changed);
        g_ptr_array_unref(w.reading);
        return status;
}
