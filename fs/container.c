/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

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

static int read_cgroups(const CapfsHost *host, CapfsContainer *ct) {
        g_autoptr(GString) buf = g_string_new(NULL);
        g_autoptr(GHashTable) table = NULL;
        GHashTableIter iter;
        gpointer key, value;
        int r;

        r = capfs_read_proc_pid(host, ct->init_pid, "cgroup", buf);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = capfs_parse_proc_cgroup(buf->str, buf->len, &table);
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

int capfs_container_resolve(CapfsHost *host, pid_t caller, CapfsContainer **ret) {
        g_autoptr(CapfsContainer) ct = g_new0(CapfsContainer, 1);
        g_autoptr(GString) stat = g_string_new(NULL);
        CapfsPidStat init_stat;
        char pidns[64];
        int r;

        if (caller <= 0)
                return -ESRCH;
        r = read_pidns(host, caller, pidns, sizeof(pidns));
        if (r < 0)
                return r;

        ct->caller_pid = caller;
        ct->host_pidns = g_str_equal(pidns, host->own_pidns);
        ct->init_pid = ct->host_pidns ? caller : lookup_init(host, caller, pidns);
        if (ct->init_pid <= 0)
                return -ESRCH;

        r = read_cgroups(host, ct);
        if (r < 0)
                return r;

        r = capfs_read_proc_pid(host, ct->init_pid, "stat", stat);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = capfs_parse_pid_stat(stat->str, stat->len, &init_stat);
        if (r < 0)
                return r;
        ct->init_start_ticks = init_stat.starttime;

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
        g_free(ct);
}
