/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where a container's cgroup namespace starts in each hierarchy. /proc/PID/cgroup
 * shows paths relative to the reader's cgroup namespace, so the namespace's root is
 * the host path of the init minus the path the init has inside it. The inside path is
 * read by a thread that joins the namespace (cgroup namespaces are per thread) and
 * exits; the answer is cached per namespace and init, and is checked again when the
 * init's own cgroups move under our feet.
 *
 * Where this cannot be done (fixture trees, a kernel refusing setns) the container's
 * root stands in: that is what capfs-launch, nspawn and LXC create.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"
#include "parse/parse.h"

/* Namespaces remembered; the cache starts afresh past this, to bound memory. */
#define CACHE_MAX 1024

typedef struct NsJob {
        const CapfsHost *host;
        pid_t init;
        int nsfd;
        GString *cgroup; /* /proc/INIT/cgroup as the namespace sees it */
        int result;
} NsJob;

/* A pthread mutex, not a GMutex: GLib's futex-based one is invisible to ThreadSanitizer. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *cache; /* "cgroup:[N] INIT START" -> GHashTable (hierarchy -> root) */

char *capfs_cgroupns_root_of(const char *host_path, const char *ns_path) {
        size_t host_len = strlen(host_path), ns_len = strlen(ns_path);

        if (ns_path[0] != '/' || host_path[0] != '/')
                return NULL;
        if (g_str_equal(ns_path, "/"))
                return g_strdup(host_path);
        /* "/.." and friends: the init lives above its namespace's root; nothing to strip. */
        if (strstr(ns_path, "/..") || ns_len > host_len)
                return NULL;
        if (strcmp(host_path + host_len - ns_len, ns_path) != 0)
                return NULL;
        if (host_len == ns_len)
                return g_strdup("/");
        /* Whole components: "/xb/c" does not end in the component "/b/c" after "/x". */
        if (host_path[host_len - ns_len] != '/')
                return NULL;
        return g_strndup(host_path, host_len - ns_len);
}

static gpointer read_inside(gpointer data) {
        NsJob *job = data;

        if (setns(job->nsfd, CLONE_NEWCGROUP) < 0) {
                job->result = -errno;
                return NULL;
        }
        job->result = capfs_read_proc_pid(job->host, job->init, "cgroup", job->cgroup);
        return NULL;
}

static int parse_cgroup_file(const CapfsHost *host, pid_t init, GHashTable **ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        r = capfs_read_proc_pid(host, init, "cgroup", buf);
        if (r < 0)
                return r;
        return capfs_parse_proc_cgroup(buf->str, buf->len, ret);
}

static bool same_table(GHashTable *a, GHashTable *b) {
        GHashTableIter iter;
        gpointer key, value;

        if (g_hash_table_size(a) != g_hash_table_size(b))
                return false;
        g_hash_table_iter_init(&iter, a);
        while (g_hash_table_iter_next(&iter, &key, &value))
                if (g_strcmp0(value, g_hash_table_lookup(b, key)) != 0)
                        return false;
        return true;
}

/* The exact roots, or NULL when the namespace cannot be looked into. */
static GHashTable *compute_tops(const CapfsHost *host, const CapfsContainer *ct, int nsfd) {
        g_autoptr(GHashTable) before = NULL, after = NULL, inside = NULL, tops = NULL;
        g_autoptr(GString) inside_text = g_string_new(NULL);
        g_autoptr(GThread) thread = NULL;
        g_autoptr(GError) error = NULL;
        NsJob job = {.host = host, .init = ct->init_pid, .nsfd = nsfd, .cgroup = inside_text};
        GHashTableIter iter;
        gpointer key, value;

        if (parse_cgroup_file(host, ct->init_pid, &before) < 0)
                return NULL;
        thread = g_thread_try_new("capfs-cgroupns", read_inside, &job, &error);
        if (!thread) {
                g_debug("cgroup view: cannot start a thread to read pid %d's cgroup namespace: %s",
                        (int) ct->init_pid, error->message);
                return NULL;
        }
        g_thread_join(g_steal_pointer(&thread));
        if (job.result < 0) {
                g_debug("cgroup view: cannot read pid %d's cgroups in its namespace: %s", (int) ct->init_pid,
                        g_strerror(-job.result));
                return NULL;
        }
        if (capfs_parse_proc_cgroup(job.cgroup->str, job.cgroup->len, &inside) < 0)
                return NULL;
        /* systemd moves itself into init.scope at boot: the two readings must be of one state. */
        if (parse_cgroup_file(host, ct->init_pid, &after) < 0 || !same_table(before, after))
                return NULL;

        tops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_iter_init(&iter, before);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                const char *ns_path = g_hash_table_lookup(inside, key);
                char *top = ns_path ? capfs_cgroupns_root_of(value, ns_path) : NULL;
                const char *fallback =
                        ct->hierarchy_root ? g_hash_table_lookup(ct->hierarchy_root, key) : NULL;

                if (!top && fallback)
                        top = g_strdup(fallback);
                if (top)
                        g_hash_table_replace(tops, g_strdup(key), top);
        }
        return g_steal_pointer(&tops);
}

static GHashTable *fallback_tops(const CapfsContainer *ct) {
        GHashTable *tops = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        GHashTableIter iter;
        gpointer key, value;

        if (ct->hierarchy_root) {
                g_hash_table_iter_init(&iter, ct->hierarchy_root);
                while (g_hash_table_iter_next(&iter, &key, &value))
                        g_hash_table_replace(tops, g_strdup(key), g_strdup(value));
        }
        return tops;
}

int capfs_cgroupns_tops(const CapfsHost *host, const CapfsContainer *ct, GHashTable **ret) {
        g_autofree char *cache_key = NULL;
        _cleanup_close_ int nsfd = -EBADF;
        char theirs[64], path[64];
        GHashTable *tops;
        unsigned long inode;
        struct stat st;
        ssize_t n;

        *ret = NULL;
        if (!host->own_cgroupns)
                return 0; /* no cgroup namespaces on this kernel: everyone shares the host's */
        snprintf(path, sizeof(path), "%d/ns/cgroup", (int) ct->init_pid);
        n = readlinkat(host->proc_fd, path, theirs, sizeof(theirs) - 1);
        if (n < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        theirs[n] = '\0';
        if (g_str_equal(host->own_cgroupns, theirs))
                return 0;

        cache_key = g_strdup_printf("%s %d %" G_GUINT64_FORMAT, theirs, (int) ct->init_pid,
                                    ct->init_start_ticks);
        pthread_mutex_lock(&cache_lock);
        tops = cache ? g_hash_table_lookup(cache, cache_key) : NULL;
        if (tops)
                g_hash_table_ref(tops);
        pthread_mutex_unlock(&cache_lock);
        if (tops) {
                *ret = tops;
                return 0;
        }

        /* Only a real nsfs file of the namespace the link named is joined. */
        nsfd = openat(host->proc_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (nsfd < 0 || sscanf(theirs, "cgroup:[%lu]", &inode) != 1 || fstat(nsfd, &st) < 0 ||
            (unsigned long) st.st_ino != inode) {
                *ret = fallback_tops(ct);
                return 0;
        }
        tops = compute_tops(host, ct, nsfd);
        if (!tops) {
                *ret = fallback_tops(ct);
                return 0;
        }

        pthread_mutex_lock(&cache_lock);
        if (!cache || g_hash_table_size(cache) >= CACHE_MAX) {
                g_clear_pointer(&cache, g_hash_table_unref);
                cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) g_hash_table_unref);
        }
        g_hash_table_replace(cache, g_steal_pointer(&cache_key), g_hash_table_ref(tops));
        pthread_mutex_unlock(&cache_lock);
        *ret = tops;
        return 0;
}
