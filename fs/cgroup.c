/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "internal.h"
#include "parse/parse.h"

/* "/a/b" + "knob" -> "a/b/knob", relative to the hierarchy fd. Kernel paths never hold "..". */
static char *knob_path(const char *cgpath, const char *knob) {
        while (*cgpath == '/')
                cgpath++;
        return *cgpath ? g_strconcat(cgpath, "/", knob, NULL) : g_strdup(knob);
}

static bool path_is_sane(const char *cgpath) {
        g_auto(GStrv) parts = NULL;

        if (!cgpath || cgpath[0] != '/')
                return false;
        parts = g_strsplit(cgpath, "/", -1);
        for (char **p = parts; *p; p++)
                if (g_str_equal(*p, "..") || g_str_equal(*p, "."))
                        return false;
        return true;
}

int capfs_cgroup_read_path(const CapfsHost *host, CapfsController ctrl, const char *cgpath, const char *knob,
                           GString *out) {
        g_autofree char *rel = NULL;

        g_assert(ctrl < _CAPFS_CTRL_MAX);
        if (host->hierarchy_fd[ctrl] < 0)
                return -ENOENT;
        if (!path_is_sane(cgpath))
                return -EINVAL;
        rel = knob_path(cgpath, knob);
        return capfs_held_read(host, host->hierarchy_fd[ctrl], rel, out);
}

int capfs_cgroup_read(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                      const char *knob, GString *out) {
        if (!ct->cgroup[ctrl])
                return -ENOENT;
        return capfs_cgroup_read_path(host, ctrl, ct->cgroup[ctrl], knob, out);
}

bool capfs_cgroup_path_up(char *path) {
        char *slash = strrchr(path, '/');

        if (g_str_equal(path, "/") || !slash)
                return false;
        if (slash == path)
                slash[1] = '\0';
        else
                *slash = '\0';
        return true;
}

int capfs_cgroup_min_limit(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                           const char *knob, uint64_t *ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        g_autofree char *path = NULL;
        uint64_t lowest = CAPFS_NO_LIMIT;
        bool any = false;

        if (!ct->cgroup[ctrl])
                return -ENOENT;
        path = g_strdup(ct->cgroup[ctrl]);
        do {
                uint64_t value;

                if (capfs_cgroup_read_path(host, ctrl, path, knob, buf) >= 0 &&
                    capfs_parse_limit(buf->str, buf->len, &value) >= 0) {
                        any = true;
                        lowest = MIN(lowest, value);
                }
        } while (capfs_cgroup_path_up(path));
        if (!any)
                return -ENOENT;
        *ret = lowest;
        return 0;
}

int capfs_cgroup_read_keyed(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                            const char *knob, GHashTable **ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r;

        r = capfs_cgroup_read(host, ct, ctrl, knob, buf);
        if (r < 0)
                return r;
        return capfs_parse_keyed_u64(buf->str, buf->len, ret);
}

int capfs_cgroup_accounting_path(const CapfsHost *host, const CapfsContainer *ct, CapfsController ctrl,
                                 const char *knob, char **ret, GString *text) {
        g_autofree char *path = NULL;

        g_assert(ctrl < _CAPFS_CTRL_MAX);
        if (!ct->cgroup[ctrl] || host->hierarchy_fd[ctrl] < 0)
                return -ENOENT;
        if (!path_is_sane(ct->cgroup[ctrl]))
                return -EINVAL;
        path = g_strdup(ct->cgroup[ctrl]);
        for (;;) {
                int r = capfs_cgroup_read_path(host, ctrl, path, knob, text);

                if (r >= 0) {
                        *ret = g_steal_pointer(&path);
                        return 0;
                }
                if (r != -ENOENT)
                        return r;
                if (g_str_equal(path, "/"))
                        return -ENOENT;
                char *slash = strrchr(path, '/');
                if (slash == path)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
}
