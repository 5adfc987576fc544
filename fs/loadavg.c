/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-container load averages. The kernel keeps one load average for the whole host;
 * containers get theirs from a sampler: every CAPFS_LOADAVG_INTERVAL_SEC one pass over
 * all host tasks finds those in state R or D, and each of them counts for every tracked
 * container on its cgroup path. A pass costs one stat read per host thread (plus a listing
 * of task/ for multi-threaded processes) and three small reads per R/D task; containers
 * only add hash lookups and a few multiplications each, so the sampler stays flat where
 * a per-container scan (lxcfs) stalls.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "parse/parse.h"

/* exp(-5s/1min), exp(-5s/5min), exp(-5s/15min) in fixed point: the kernel's EXP_1, EXP_5, EXP_15. */
static const uint64_t decay_factor[3] = {1884, 2014, 2037};

typedef struct Tracked {
        char *path; /* the key, in the sampler's hierarchy */
        CapfsLoadavgReading reading; /* what readers copy */
        /* Written by readers under the reader lock, hence atomics; read by the tick. */
        uint64_t pidns;
        int64_t last_asked_usec;
        /* The tick's scratch, only touched under the writer lock. */
        unsigned tick_running;
        unsigned tick_active;
        pid_t tick_last_pid;
} Tracked;

struct CapfsLoadavg {
        /*
         * Readers (renderers, on many threads) look up and copy one entry; the sampler takes
         * the writer side only to fold a finished pass in, never during the pass itself.
         */
        GRWLock lock;
        GHashTable *tracked; /* path -> Tracked*, owned */
        bool ticked;
        int64_t last_tick_usec;
};

static void tracked_free(gpointer data) {
        Tracked *t = data;

        g_free(t->path);
        g_free(t);
}

CapfsLoadavg *capfs_loadavg_new(void) {
        CapfsLoadavg *la = g_new0(CapfsLoadavg, 1);

        g_rw_lock_init(&la->lock);
        la->tracked = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, tracked_free);
        return la;
}

void capfs_loadavg_free(CapfsLoadavg *la) {
        if (!la)
                return;
        g_hash_table_unref(la->tracked);
        g_rw_lock_clear(&la->lock);
        g_free(la);
}

/* ---- the arithmetic: the kernel's fixed-point exponential decay ---- */

/*
 * One step of the average towards @active (both fixed point). Rounding up while the
 * load rises lets a steady load actually reach its value instead of stopping short.
 */
static uint64_t decay_step(uint64_t load, uint64_t factor, uint64_t active) {
        uint64_t next = load * factor + active * (CAPFS_LOADAVG_FIXED_1 - factor);

        if (active >= load)
                next += CAPFS_LOADAVG_FIXED_1 - 1;
        return next / CAPFS_LOADAVG_FIXED_1;
}

/* @factor to the power @n in fixed point, by squaring, each product rounded to nearest. */
static uint64_t factor_pow(uint64_t factor, unsigned n) {
        const uint64_t half = CAPFS_LOADAVG_FIXED_1 / 2;
        uint64_t result = CAPFS_LOADAVG_FIXED_1;

        while (n > 0) {
                if (n & 1)
                        result = (result * factor + half) >> CAPFS_LOADAVG_FSHIFT;
                n >>= 1;
                if (n > 0)
                        factor = (factor * factor + half) >> CAPFS_LOADAVG_FSHIFT;
        }
        return result;
}

/* Whole intervals since the last tick, at least one; a late sampler must not slow time down. */
static unsigned elapsed_intervals(const CapfsLoadavg *la, int64_t now_usec) {
        const int64_t interval = (int64_t) CAPFS_LOADAVG_INTERVAL_SEC * G_USEC_PER_SEC;
        int64_t n;

        if (!la->ticked || now_usec <= la->last_tick_usec)
                return 1;
        n = (now_usec - la->last_tick_usec + interval / 2) / interval;
        /* After a day every factor has decayed to 0 anyway. */
        return (unsigned) CLAMP(n, 1, 24 * 3600 / CAPFS_LOADAVG_INTERVAL_SEC);
}

/* ---- a pass's counts ---- */

static void counts_free(gpointer data) {
        CapfsLoadavgCounts *c = data;

        if (c->last_pids)
                g_array_unref(c->last_pids);
        g_free(c);
}

GHashTable *capfs_loadavg_counts_new(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, counts_free);
}

void capfs_loadavg_counts_add(GHashTable *counts, const char *cgpath, char state, uint64_t pidns,
                              pid_t nspid) {
        CapfsLoadavgCounts *c;
        CapfsLoadavgNsPid entry = {pidns, nspid};

        if (state != 'R' && state != 'D')
                return;
        c = g_hash_table_lookup(counts, cgpath);
        if (!c) {
                c = g_new0(CapfsLoadavgCounts, 1);
                g_hash_table_insert(counts, g_strdup(cgpath), c);
        }
        if (state == 'R')
                c->running++;
        else
                c->uninterruptible++;

        if (pidns == 0 || nspid <= 0)
                return;
        if (!c->last_pids)
                c->last_pids = g_array_new(false, false, sizeof(CapfsLoadavgNsPid));
        /* A cgroup's tasks nearly always share one namespace: the array stays at one element. */
        for (guint i = 0; i < c->last_pids->len; i++) {
                CapfsLoadavgNsPid *seen = &g_array_index(c->last_pids, CapfsLoadavgNsPid, i);

                if (seen->pidns == pidns) {
                        seen->pid = MAX(seen->pid, nspid);
                        return;
                }
        }
        g_array_append_val(c->last_pids, entry);
}

/* ---- the tick ---- */

static void attribute_to(Tracked *t, const CapfsLoadavgCounts *c) {
        uint64_t pidns = __atomic_load_n(&t->pidns, __ATOMIC_RELAXED);

        t->tick_running += c->running;
        t->tick_active += c->running + c->uninterruptible;
        if (!c->last_pids || pidns == 0)
                return;
        /*
         * Only pids of the container's own namespace are numbers it knows; tasks of nested
         * namespaces (or of none it can see) count for the load but name no pid.
         */
        for (guint i = 0; i < c->last_pids->len; i++) {
                const CapfsLoadavgNsPid *seen = &g_array_index(c->last_pids, CapfsLoadavgNsPid, i);

                if (seen->pidns == pidns)
                        t->tick_last_pid = MAX(t->tick_last_pid, seen->pid);
        }
}

/* Counts @cgpath's tasks for every tracked cgroup that is @cgpath or one of its ancestors. */
static void attribute(CapfsLoadavg *la, const char *cgpath, const CapfsLoadavgCounts *c) {
        g_autofree char *path = g_strdup(cgpath);

        for (;;) {
                Tracked *t = g_hash_table_lookup(la->tracked, path);
                char *slash;

                if (t)
                        attribute_to(t, c);
                slash = strrchr(path, '/');
                if (!slash || (slash == path && path[1] == '\0'))
                        return;
                /* Cutting at a "/" keeps whole components: "/parent/ct20" never yields "/parent/ct2". */
                if (slash == path)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
}

void capfs_loadavg_tick(CapfsLoadavg *la, GHashTable *counts, int64_t now_usec) {
        GHashTableIter iter;
        gpointer key, value;
        unsigned intervals;
        uint64_t factor[3];

        g_rw_lock_writer_lock(&la->lock);

        intervals = elapsed_intervals(la, now_usec);
        for (unsigned i = 0; i < G_N_ELEMENTS(factor); i++)
                factor[i] = factor_pow(decay_factor[i], intervals);
        la->ticked = true;
        la->last_tick_usec = now_usec;

        g_hash_table_iter_init(&iter, la->tracked);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                Tracked *t = value;

                t->tick_running = t->tick_active = 0;
                t->tick_last_pid = 0;
        }

        /* Cost: distinct task cgroups times their depth, independent of how many are tracked. */
        if (g_hash_table_size(la->tracked) > 0) {
                g_hash_table_iter_init(&iter, counts);
                while (g_hash_table_iter_next(&iter, &key, &value))
                        attribute(la, key, value);
        }

        g_hash_table_iter_init(&iter, la->tracked);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                Tracked *t = value;
                int64_t asked = __atomic_load_n(&t->last_asked_usec, __ATOMIC_RELAXED);
                uint64_t active = (uint64_t) t->tick_active * CAPFS_LOADAVG_FIXED_1;

                if (now_usec - asked > CAPFS_LOADAVG_FORGET_USEC) {
                        g_hash_table_iter_remove(&iter);
                        continue;
                }
                for (unsigned i = 0; i < G_N_ELEMENTS(factor); i++)
                        t->reading.avg[i] = decay_step(t->reading.avg[i], factor[i], active);
                t->reading.running = t->tick_running;
                t->reading.active = t->tick_active;
                t->reading.last_pid = t->tick_last_pid;
        }

        g_rw_lock_writer_unlock(&la->lock);
}

/* ---- readers ---- */

static void note_asked(Tracked *t, uint64_t pidns, int64_t now_usec) {
        __atomic_store_n(&t->last_asked_usec, now_usec, __ATOMIC_RELAXED);
        /* A container re-created under the same cgroup path brings a new namespace. */
        if (pidns != 0)
                __atomic_store_n(&t->pidns, pidns, __ATOMIC_RELAXED);
}

void capfs_loadavg_query(CapfsLoadavg *la, const char *cgpath, uint64_t pidns, int64_t now_usec,
                         CapfsLoadavgReading *ret) {
        Tracked *t;
        bool found;

        g_rw_lock_reader_lock(&la->lock);
        t = g_hash_table_lookup(la->tracked, cgpath);
        found = t != NULL;
        if (found) {
                *ret = t->reading;
                note_asked(t, pidns, now_usec);
        }
        g_rw_lock_reader_unlock(&la->lock);
        if (found)
                return;

        /* First time: start tracking. Another reader may have done it meanwhile. */
        g_rw_lock_writer_lock(&la->lock);
        t = g_hash_table_lookup(la->tracked, cgpath);
        if (!t) {
                t = g_new0(Tracked, 1);
                t->path = g_strdup(cgpath);
                g_hash_table_insert(la->tracked, t->path, t);
        }
        *ret = t->reading;
        note_asked(t, pidns, now_usec);
        g_rw_lock_writer_unlock(&la->lock);
}

unsigned capfs_loadavg_tracked(CapfsLoadavg *la) {
        unsigned n;

        g_rw_lock_reader_lock(&la->lock);
        n = g_hash_table_size(la->tracked);
        g_rw_lock_reader_unlock(&la->lock);
        return n;
}

/* ---- hand-over to the next worker ---- */

#define EXPORT_HEADER "capfs-loadavg 1"

/*
 * One line per container: the path (escaped: a cgroup name may hold any byte but '/' and NUL),
 * the three averages, the last tick's counts, the pid namespace and when it was last asked for.
 * Times are CLOCK_MONOTONIC, the same clock in every process of the host.
 */
char *capfs_loadavg_export(CapfsLoadavg *la, size_t *ret_len) {
        g_autoptr(GString) out = g_string_new(NULL);
        GHashTableIter iter;
        gpointer value;

        g_rw_lock_reader_lock(&la->lock);
        g_string_append_printf(out, EXPORT_HEADER " %d %" G_GINT64_FORMAT "\n", la->ticked ? 1 : 0,
                               la->last_tick_usec);
        g_hash_table_iter_init(&iter, la->tracked);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                const Tracked *t = value;
                g_autofree char *escaped = g_strescape(t->path, NULL);

                g_string_append_printf(out,
                                       "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                                       " %u %u %d %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " %s\n",
                                       t->reading.avg[0], t->reading.avg[1], t->reading.avg[2],
                                       t->reading.running, t->reading.active, (int) t->reading.last_pid,
                                       __atomic_load_n(&t->pidns, __ATOMIC_RELAXED),
                                       __atomic_load_n(&t->last_asked_usec, __ATOMIC_RELAXED), escaped);
        }
        g_rw_lock_reader_unlock(&la->lock);
        *ret_len = out->len;
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static Tracked *parse_tracked(const char *line) {
        Tracked t = {0};
        int last_pid, consumed = 0;

        if (sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64 " %u %u %d %" SCNu64 " %" SCNd64 " %n",
                   &t.reading.avg[0], &t.reading.avg[1], &t.reading.avg[2], &t.reading.running,
                   &t.reading.active, &last_pid, &t.pidns, &t.last_asked_usec, &consumed) != 8 ||
            consumed == 0 || line[consumed] == '\0')
                return NULL;
        t.reading.last_pid = last_pid;
        t.path = g_strcompress(line + consumed);
        if (t.path[0] != '/') {
                g_free(t.path);
                return NULL;
        }
        return g_memdup2(&t, sizeof(t));
}

int capfs_loadavg_import(CapfsLoadavg *la, const char *text, size_t len) {
        g_autofree char *copy = g_strndup(text, len);
        g_auto(GStrv) lines = g_strsplit(copy, "\n", -1);
        g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func(tracked_free);
        int ticked = 0;
        int64_t last_tick = 0;

        if (!lines[0] || sscanf(lines[0], EXPORT_HEADER " %d %" SCNd64, &ticked, &last_tick) != 2)
                return -EINVAL;
        for (char **line = lines + 1; *line; line++) {
                Tracked *t;

                if (**line == '\0')
                        continue;
                t = parse_tracked(*line);
                if (!t)
                        return -EINVAL;
                g_ptr_array_add(parsed, t);
        }

        g_rw_lock_writer_lock(&la->lock);
        la->ticked = ticked != 0;
        la->last_tick_usec = last_tick;
        while (parsed->len > 0) {
                Tracked *t = g_ptr_array_steal_index_fast(parsed, parsed->len - 1);
                g_hash_table_replace(la->tracked, t->path, t);
        }
        g_rw_lock_writer_unlock(&la->lock);
        return 0;
}

/* ---- the pass over /proc ---- */

/*
 * v1: the cpu hierarchy, because that is where the scheduler groups a container's
 * runnable tasks (its shares and quota live there), every runtime gives each container
 * its own cpu cgroup, and systemd comounts cpuacct with it (same paths). The named
 * systemd and hybrid unified trees may instead hold the runtime's service.
 */
CapfsController capfs_loadavg_controller(const CapfsHost *host) {
        if (capfs_host_is_v2(host))
                return CAPFS_CTRL_UNIFIED;
        if (host->hierarchy_fd[CAPFS_CTRL_CPU] >= 0)
                return CAPFS_CTRL_CPU;
        if (host->hierarchy_fd[CAPFS_CTRL_CPUACCT] >= 0)
                return CAPFS_CTRL_CPUACCT;
        return CAPFS_CTRL_UNIFIED;
}

uint64_t capfs_pidns_of(const CapfsHost *host, pid_t pid) {
        char path[64], link[64];
        uint64_t inode;
        ssize_t n;

        snprintf(path, sizeof(path), "%d/ns/pid", (int) pid);
        n = readlinkat(host->proc_fd, path, link, sizeof(link) - 1);
        if (n < 0)
                return 0;
        link[n] = '\0';
        if (sscanf(link, "pid:[%" SCNu64 "]", &inode) != 1)
                return 0;
        return inode;
}

/* Reads a small procfs file into @buf without allocating: this runs once per host task. */
static ssize_t read_small_at(int dirfd, const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        size_t used = 0;

        if (fd < 0)
                return -errno;
        while (used < size) {
                ssize_t n = read(fd, buf + used, size - used);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                used += (size_t) n;
        }
        return (ssize_t) used;
}

static pid_t parse_pid_name(const char *name) {
        char *end;
        long pid;

        if (name[0] < '1' || name[0] > '9')
                return 0;
        errno = 0;
        pid = strtol(name, &end, 10);
        if (errno != 0 || *end != '\0' || pid > INT32_MAX)
                return 0;
        return (pid_t) pid;
}

typedef struct ScanState {
        const CapfsHost *host;
        const char *cgroup_key; /* of /proc/PID/cgroup: "" for cgroup2, else the controller */
        GString *buf;
        GHashTable *counts;
} ScanState;

/* The task's cgroup in the sampler's hierarchy; NULL if it is gone or has none there. */
static char *read_cgroup_path(ScanState *s, pid_t pid) {
        g_autoptr(GHashTable) table = NULL;

        if (capfs_read_proc_pid(s->host, pid, "cgroup", s->buf) < 0 ||
            capfs_parse_proc_cgroup(s->buf->str, s->buf->len, &table) < 0)
                return NULL;
        return g_strdup(g_hash_table_lookup(table, s->cgroup_key));
}

/* The thread's id in its own (innermost) pid namespace; 0 when unknown. */
static pid_t read_task_nspid(const CapfsHost *host, pid_t pid, pid_t tid) {
        char path[64], buf[4096];
        pid_t innermost;
        unsigned levels;
        ssize_t n;

        snprintf(path, sizeof(path), "%d/task/%d/status", (int) pid, (int) tid);
        n = read_small_at(host->proc_fd, path, buf, sizeof(buf));
        if (n < 0 || capfs_parse_status_nspid(buf, (size_t) n, &innermost, &levels) < 0)
                return 0;
        return innermost;
}

/* What one process's tasks need from /proc beyond their state, read at its first R or D task. */
typedef struct ProcessInfo {
        pid_t pid;
        bool looked_up;
        char *cgpath;
        uint64_t pidns;
} ProcessInfo;

static void count_task(ScanState *s, ProcessInfo *proc, pid_t tid, char state) {
        /* What the kernel's load counts: runnable and uninterruptible ("I", idle, is not). */
        if (state != 'R' && state != 'D')
                return;
        /* Threads share their process's cgroup and namespace here; read them once. */
        if (!proc->looked_up) {
                proc->looked_up = true;
                proc->cgpath = read_cgroup_path(s, proc->pid);
                if (proc->cgpath && !g_str_equal(proc->cgpath, "/"))
                        proc->pidns = capfs_pidns_of(s->host, proc->pid);
        }
        /* The root cgroup's view is the host's own /proc/loadavg. */
        if (!proc->cgpath || g_str_equal(proc->cgpath, "/"))
                return;
        capfs_loadavg_counts_add(s->counts, proc->cgpath, state, proc->pidns,
                                 read_task_nspid(s->host, proc->pid, tid));
}

/*
 * The main thread's stat says how many threads the process has: for the many
 * single-threaded processes that one read is all, without listing task/ (which costs
 * as much again). Its task/ copy is read rather than PID/stat: the same text for a
 * thread, and the one place every thread's state is read from.
 */
static void scan_process(ScanState *s, pid_t pid) {
        ProcessInfo proc = {.pid = pid};
        char path[NAME_MAX + 32], stat[1024];
        CapfsPidStat parsed;
        ssize_t n;
        int fd;
        DIR *tasks;
        struct dirent *de;

        snprintf(path, sizeof(path), "%d/task/%d/stat", (int) pid, (int) pid);
        n = read_small_at(s->host->proc_fd, path, stat, sizeof(stat));
        if (n < 0 || capfs_parse_pid_stat(stat, (size_t) n, &parsed) < 0)
                return; /* exited meanwhile, or its main thread did */
        count_task(s, &proc, pid, parsed.state);
        if (parsed.num_threads == 1)
                goto out;

        snprintf(path, sizeof(path), "%d/task", (int) pid);
        fd = openat(s->host->proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                goto out;
        tasks = fdopendir(fd);
        if (!tasks) {
                close(fd);
                goto out;
        }
        while ((de = readdir(tasks))) {
                pid_t tid = parse_pid_name(de->d_name);

                if (tid <= 0 || tid == pid)
                        continue;
                snprintf(path, sizeof(path), "%s/stat", de->d_name);
                n = read_small_at(dirfd(tasks), path, stat, sizeof(stat));
                if (n < 0 || capfs_parse_pid_stat(stat, (size_t) n, &parsed) < 0)
                        continue;
                count_task(s, &proc, tid, parsed.state);
        }
        closedir(tasks);
out:
        g_free(proc.cgpath);
}

int capfs_loadavg_scan(const CapfsHost *host, GHashTable **ret) {
        g_autoptr(GHashTable) counts = capfs_loadavg_counts_new();
        g_autoptr(GString) buf = g_string_new(NULL);
        CapfsController ctrl = capfs_loadavg_controller(host);
        ScanState s = {
                .host = host,
                .cgroup_key = ctrl == CAPFS_CTRL_UNIFIED ? "" : capfs_controller_name(ctrl),
                .buf = buf,
                .counts = counts,
        };
        int fd;
        DIR *dir;
        struct dirent *de;

        /* A descriptor of our own: readdir must not share its offset with other threads. */
        fd = openat(host->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(dir))) {
                pid_t pid = parse_pid_name(de->d_name);

                if (pid > 0)
                        scan_process(&s, pid);
        }
        closedir(dir);

        *ret = g_steal_pointer(&counts);
        return 0;
}

void capfs_loadavg_sample(CapfsLoadavg *la, const CapfsHost *host) {
        g_autoptr(GHashTable) counts = NULL;
        int r;

        r = capfs_loadavg_scan(host, &counts);
        if (r < 0) {
                /* Better a late tick (the next one catches up) than a pass of false zeros. */
                g_debug("loadavg: cannot scan the host's tasks: %s", g_strerror(-r));
                return;
        }
        capfs_loadavg_tick(la, counts, g_get_monotonic_time());
}
