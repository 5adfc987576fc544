/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "parse/parse.h"

static int read_pidns(const CapfsHost *host, pid_t pid, char *buf, size_t size) {
        char path[64];
        ssize_t n;

        snprintf(path, sizeof(path), "%d/ns/pid", (int) pid);
        n = readlinkat(host->proc_fd, path, buf, size - 1);
        if (n < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        buf[n] = '\0';
        return 0;
}

/* True when @pid is pid 1 of its own (innermost) pid namespace. */
static bool is_namespace_init(const CapfsHost *host, pid_t pid) {
        g_autoptr(GString) status = g_string_new(NULL);
        pid_t innermost;
        unsigned levels;

        if (capfs_read_proc_pid(host, pid, "status", status) < 0)
                return false;
        if (capfs_parse_status_nspid(status->str, status->len, &innermost, &levels) < 0)
                return false;
        return innermost == 1;
}

static bool init_still_valid(const CapfsHost *host, pid_t init, const char *pidns) {
        char ns[64];

        if (read_pidns(host, init, ns, sizeof(ns)) < 0 || !g_str_equal(ns, pidns))
                return false;
        return is_namespace_init(host, init);
}

/*
 * The usual case: init is an ancestor of every process in its namespace. A process that
 * entered with setns() has a parent outside; then the namespace's init is found by a scan.
 */
static pid_t find_init_by_ancestry(const CapfsHost *host, pid_t pid, const char *pidns) {
        g_autoptr(GString) stat = g_string_new(NULL);

        for (unsigned depth = 0; depth < 4096 && pid > 0; depth++) {
                CapfsPidStat parsed;
                char ns[64];

                if (read_pidns(host, pid, ns, sizeof(ns)) < 0 || !g_str_equal(ns, pidns))
                        return 0;
                if (is_namespace_init(host, pid))
                        return pid;
                if (capfs_read_proc_pid(host, pid, "stat", stat) < 0 ||
                    capfs_parse_pid_stat(stat->str, stat->len, &parsed) < 0)
                        return 0;
                pid = parsed.ppid;
        }
        return 0;
}

static pid_t find_init_by_scan(const CapfsHost *host, const char *pidns) {
        _cleanup_close_ int fd = openat(host->proc_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *dir;
        struct dirent *de;
        pid_t found = 0;

        if (fd < 0)
                return 0;
        dir = fdopendir(fd);
        if (!dir)
                return 0;
        fd = -EBADF; /* owned by dir now */
        while (!found && (de = readdir(dir))) {
                char *end;
                long pid = strtol(de->d_name, &end, 10);
                char ns[64];

                if (*end || pid <= 0 || pid > INT32_MAX)
                        continue;
                if (read_pidns(host, (pid_t) pid, ns, sizeof(ns)) < 0 || !g_str_equal(ns, pidns))
                        continue;
                if (is_namespace_init(host, (pid_t) pid))
                        found = (pid_t) pid;
        }
        closedir(dir);
        return found;
}

static pid_t lookup_init(CapfsHost *host, pid_t caller, const char *pidns) {
        pid_t init;

        g_mutex_lock(&host->init_cache_lock);
        init = GPOINTER_TO_INT(g_hash_table_lookup(host->init_by_pidns, pidns));
        g_mutex_unlock(&host->init_cache_lock);
        if (init > 0 && init_still_valid(host, init, pidns))
                return init;

        init = find_init_by_ancestry(host, caller, pidns);
        if (init <= 0)
                init = find_init_by_scan(host, pidns);
        if (init <= 0)
                return 0;

        g_mutex_lock(&host->init_cache_lock);
        g_hash_table_replace(host->init_by_pidns, g_strdup(pidns), GINT_TO_POINTER(init));
        g_mutex_unlock(&host->init_cache_lock);
        return init;
}

static CapfsController controller_from_key(const char *key, bool *found) {
        *found = true;
        if (*key == '\0')
                return CAPFS_CTRL_UNIFIED;
        for (CapfsController c = 0; c < CAPFS_CTRL_UNIFIED; c++)
                if (g_str_equal(key, capfs_controller_name(c)))
                        return c;
        *found = false;
        return _CAPFS_CTRL_MAX;
}

/*
 * systemd as a container's init moves itself into init.scope; the container is the
 * cgroup above it, where its limits and all its services' usage are.
 */
static char *container_root_of(const char *path, bool in_container) {
        if (in_container && g_str_has_suffix(path, "/init.scope")) {
                size_t len = strlen(path) - strlen("/init.scope");
                return len == 0 ? g_strdup("/") : g_strndup(path, len);
        }
        return g_strdup(path);
}

/* Fills ct->cgroup[] and ct->hierarchy_root from the text of /proc/INIT/cgroup. */
static int parse_cgroups(const CapfsHost *host, CapfsContainer *ct, const char *text, size_t len) {
        g_autoptr(GHashTable) table = NULL;
        GHashTableIter iter;
        gpointer key, value;
        int r;

        r = capfs_parse_proc_cgroup(text, len, &table);
        if (r < 0)
                return r;

        ct->hierarchy_root = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                bool found;
                CapfsController c = controller_from_key(key, &found);

                g_hash_table_replace(ct->hierarchy_root, g_strdup(key),
                                     container_root_of(value, !ct->host_pidns));

                if (!found)
                        continue;
                /* On pure v2 the "0::" line is the only one that counts. */
                if (capfs_host_is_v2(host) && c != CAPFS_CTRL_UNIFIED)
                        continue;
                g_free(ct->cgroup[c]);
                ct->cgroup[c] = container_root_of(value, !ct->host_pidns);
        }
        return 0;
}

/* ---- containers seen before ---- */

/*
 * Larger than any /proc/PID/cgroup seen in practice (a dozen hierarchies with paths a few
 * hundred bytes long); a longer one is simply not remembered.
 */
#define CGROUP_TEXT_MAX 8192
/*
 * Each holds a file open; beyond this many (fewer with a low RLIMIT_NOFILE), forgotten ones
 * are looked up again.
 */
#define CONTAINER_CACHE_MAX 4096

typedef struct CachedContainer {
        /*
         * /proc/INIT/cgroup, open. A /proc/PID file belongs to the process, not to the number:
         * once the init is gone, reading it fails (ESRCH) even if the pid is used again. So a
         * read that succeeds says the init, and with it the pid namespace, is the one we saw.
         */
        int cgroup_fd;
        char *cgroup_text; /* what it read when the container was resolved */
        size_t cgroup_len;
        CapfsContainer *ct; /* caller_pid 0; never changed once cached */
} CachedContainer;

static void cached_container_clear(CachedContainer *cc) {
        capfs_closep(&cc->cgroup_fd);
        g_free(cc->cgroup_text);
        capfs_container_free(cc->ct);
}

static void cached_container_unref(CachedContainer *cc) {
        g_atomic_rc_box_release_full(cc, (GDestroyNotify) cached_container_clear);
}

GHashTable *capfs_container_cache_new(void) {
        return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify) cached_container_unref);
}

/* The current text of an open /proc/PID/cgroup; -ESRCH once its process is gone, -E2BIG if too long. */
static ssize_t reread_cgroups(int fd, char *buf, size_t size) {
        ssize_t n;

        do
                n = pread(fd, buf, size, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        /* procfs gives the whole of a file this small in one read; a full buffer may not be all. */
        if ((size_t) n == size)
                return -E2BIG;
        return n;
}

static CapfsContainer *container_copy(const CapfsContainer *from, pid_t caller) {
        CapfsContainer *ct = g_new0(CapfsContainer, 1);

        ct->init_pid = from->init_pid;
        ct->host_pidns = from->host_pidns;
        ct->init_start_ticks = from->init_start_ticks;
        ct->caller_pid = caller;
        for (CapfsController c = 0; c < _CAPFS_CTRL_MAX; c++)
                ct->cgroup[c] = g_strdup(from->cgroup[c]);
        if (from->hierarchy_root)
                ct->hierarchy_root = g_hash_table_ref(from->hierarchy_root);
        ct->render_cache = capfs_render_cache_ref(from->render_cache);
        ct->pidns_inode = from->pidns_inode;
        return ct;
}

static CachedContainer *cache_get(CapfsHost *host, const char *pidns) {
        CachedContainer *cc;

        g_rw_lock_reader_lock(&host->container_cache_lock);
        cc = g_hash_table_lookup(host->container_cache, pidns);
        if (cc)
                g_atomic_rc_box_acquire(cc);
        g_rw_lock_reader_unlock(&host->container_cache_lock);
        return cc;
}

static void cache_drop(CapfsHost *host, const char *pidns, CachedContainer *cc) {
        g_rw_lock_writer_lock(&host->container_cache_lock);
        if (g_hash_table_lookup(host->container_cache, pidns) == cc)
                g_hash_table_remove(host->container_cache, pidns);
        g_rw_lock_writer_unlock(&host->container_cache_lock);
}

/* The container of @pidns as remembered, if its init still reads the same cgroups; else NULL. */
static CapfsContainer *resolve_cached(CapfsHost *host, const char *pidns, pid_t caller) {
        CachedContainer *cc = cache_get(host, pidns);
        CapfsContainer *ct = NULL;
        char text[CGROUP_TEXT_MAX];
        ssize_t n;

        if (!cc)
                return NULL;
        n = reread_cgroups(cc->cgroup_fd, text, sizeof(text));
        if (n >= 0 && (size_t) n == cc->cgroup_len && memcmp(text, cc->cgroup_text, (size_t) n) == 0)
                ct = container_copy(cc->ct, caller);
        else
                /* The init is gone or moved: look again. */
                cache_drop(host, pidns, cc);
        cached_container_unref(cc);
        return ct;
}

/* Callers hold container_cache_lock. */
static void cache_prune_locked(CapfsHost *host) {
        gint64 expired = g_get_monotonic_time() - (gint64) host->render_cache_usec;
        GHashTableIter iter;
        CachedContainer *cc;
        char byte;

        g_hash_table_iter_init(&iter, host->container_cache);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *) &cc))
                if (pread(cc->cgroup_fd, &byte, 1, 0) < 0)
                        g_hash_table_iter_remove(&iter);
                else if (cc->ct->render_cache)
                        capfs_render_cache_prune(cc->ct->render_cache, expired);
}

/*
 * Remembers @ct, resolved from @text, the content of /proc/INIT/cgroup: only if a fresh open of
 * that file still shows it, and the init still has the start time @ct was resolved with (so the
 * file opened is the init's, not that of a process that took its pid since).
 */
static void cache_add(CapfsHost *host, const char *pidns, CapfsContainer *ct, const char *text, size_t len) {
        g_autoptr(GString) stat = g_string_new(NULL);
        char path[64], now[CGROUP_TEXT_MAX];
        CapfsPidStat parsed;
        CachedContainer *cc;
        unsigned max;
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "%d/cgroup", (int) ct->init_pid);
        fd = openat(host->proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return;
        n = reread_cgroups(fd, now, sizeof(now));
        if (n < 0 || (size_t) n != len || memcmp(now, text, len) != 0 ||
            capfs_read_proc_pid(host, ct->init_pid, "stat", stat) < 0 ||
            capfs_parse_pid_stat(stat->str, stat->len, &parsed) < 0 ||
            parsed.starttime != ct->init_start_ticks) {
                close(fd);
                return;
        }

        cc = g_atomic_rc_box_new0(CachedContainer);
        cc->cgroup_fd = fd;
        cc->cgroup_text = g_memdup2(text, len);
        cc->cgroup_len = len;
        /* Only a container remembered keeps texts: it is known by its init, not by one caller. */
        ct->render_cache = capfs_render_cache_new();
        cc->ct = container_copy(ct, 0);

        max = capfs_fd_budget(CONTAINER_CACHE_MAX);
        g_rw_lock_writer_lock(&host->container_cache_lock);
        if (g_hash_table_size(host->container_cache) >= max) {
                cache_prune_locked(host);
                /* Still full of live containers: forget them all, the busy ones come back first. */
                if (g_hash_table_size(host->container_cache) >= max)
                        g_hash_table_remove_all(host->container_cache);
        }
        g_hash_table_replace(host->container_cache, g_strdup(pidns), cc);
        g_rw_lock_writer_unlock(&host->container_cache_lock);
}

void capfs_container_cache_prune(CapfsHost *host) {
        g_rw_lock_writer_lock(&host->container_cache_lock);
        cache_prune_locked(host);
        g_rw_lock_writer_unlock(&host->container_cache_lock);
}

size_t capfs_container_cache_size(CapfsHost *host) {
        size_t n;

        g_rw_lock_reader_lock(&host->container_cache_lock);
        n = g_hash_table_size(host->container_cache);
        g_rw_lock_reader_unlock(&host->container_cache_lock);
        return n;
}

/* N of "pid:[N]"; 0 if the link reads otherwise. */
static uint64_t pidns_inode_of(const char *pidns) {
        guint64 inode;
        char *end;

        if (!g_str_has_prefix(pidns, "pid:["))
                return 0;
        inode = g_ascii_strtoull(pidns + strlen("pid:["), &end, 10);
        return *end == ']' && end[1] == '\0' ? inode : 0;
}

int capfs_container_resolve(CapfsHost *host, pid_t caller, CapfsContainer **ret) {
        return capfs_container_resolve_in(host, caller, 0, ret);
}

int capfs_container_resolve_in(CapfsHost *host, pid_t caller, uint64_t pidns_inode, CapfsContainer **ret) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autoptr(GString) stat = g_string_new(NULL);
        g_autoptr(GString) cgroups = g_string_new(NULL);
        CapfsPidStat init_stat;
        char pidns[64];
        int r;

        if (caller <= 0)
                return -ESRCH;
        /* The link reads "pid:[INODE]", the inode of the namespace's nsfs file. */
        if (pidns_inode != 0)
                snprintf(pidns, sizeof(pidns), "pid:[%" G_GUINT64_FORMAT "]", pidns_inode);
        else {
                r = read_pidns(host, caller, pidns, sizeof(pidns));
                if (r < 0)
                        return r;
        }

        /* The host's own processes are each their own "container" (their own cgroups): not remembered. */
        if (!g_str_equal(pidns, host->own_pidns)) {
                ct = resolve_cached(host, pidns, caller);
                if (ct) {
                        *ret = g_steal_pointer(&ct);
                        return 0;
                }
        }

        ct = g_new0(CapfsContainer, 1);
        ct->caller_pid = caller;
        ct->host_pidns = g_str_equal(pidns, host->own_pidns);
        ct->pidns_inode = pidns_inode_of(pidns);
        ct->init_pid = ct->host_pidns ? caller : lookup_init(host, caller, pidns);
        if (ct->init_pid <= 0)
                return -ESRCH;

        r = capfs_read_proc_pid(host, ct->init_pid, "cgroup", cgroups);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = parse_cgroups(host, ct, cgroups->str, cgroups->len);
        if (r < 0)
                return r;

        r = capfs_read_proc_pid(host, ct->init_pid, "stat", stat);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = capfs_parse_pid_stat(stat->str, stat->len, &init_stat);
        if (r < 0)
                return r;
        ct->init_start_ticks = init_stat.starttime;

        if (!ct->host_pidns)
                cache_add(host, pidns, ct, cgroups->str, cgroups->len);
        *ret = g_steal_pointer(&ct);
        return 0;
}

void capfs_container_free(CapfsContainer *ct) {
        if (!ct)
                return;
        for (CapfsController c = 0; c < _CAPFS_CTRL_MAX; c++)
                g_free(ct->cgroup[c]);
        if (ct->hierarchy_root)
                g_hash_table_unref(ct->hierarchy_root);
        capfs_render_cache_unref(ct->render_cache);
        g_free(ct);
}
