/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The tree under the mountpoint: the directories leading to the rendered files of
 * capfs_virtual_files[], and subtrees served by their own module (sys/devices/system/cpu).
 */
#include <fcntl.h>
#include <string.h>

#include "internal.h"

static const CapfsSubtree *const subtrees[] = {
        &capfs_sys_cpu_subtree,
        &capfs_cgroup_subtree,
        &capfs_by_pidns_subtree,
};

/* Files whose rendering failed once; logged once each so a broken kernel file cannot flood the log. */
static gint fallback_logged[64];
G_STATIC_ASSERT(G_N_ELEMENTS(fallback_logged) >= 11);

static const CapfsVirtualFile *find_file(const char *path) {
        for (size_t i = 0; i < capfs_virtual_files_count; i++)
                if (g_str_equal(capfs_virtual_files[i].path, path))
                        return &capfs_virtual_files[i];
        return NULL;
}

/* @path is a proper prefix of @full by whole components ("" is a prefix of everything). */
static bool is_component_prefix(const char *path, const char *full) {
        size_t len = strlen(path);

        if (len == 0)
                return *full != '\0';
        return strncmp(full, path, len) == 0 && full[len] == '/';
}

/* The subtree holding @path, and the rest of the path inside it ("" for its top). */
static const CapfsSubtree *find_subtree(const char *path, const char **rest) {
        for (size_t i = 0; i < G_N_ELEMENTS(subtrees); i++) {
                const char *top = subtrees[i]->path;
                size_t len = strlen(top);

                if (strncmp(path, top, len) != 0)
                        continue;
                if (path[len] == '\0') {
                        *rest = "";
                        return subtrees[i];
                }
                if (path[len] == '/') {
                        *rest = path + len + 1;
                        return subtrees[i];
                }
        }
        return NULL;
}

/* A directory that only leads to declared files or subtrees. */
static bool is_static_dir(const char *path) {
        for (size_t i = 0; i < capfs_virtual_files_count; i++)
                if (is_component_prefix(path, capfs_virtual_files[i].path))
                        return true;
        for (size_t i = 0; i < G_N_ELEMENTS(subtrees); i++)
                if (is_component_prefix(path, subtrees[i]->path))
                        return true;
        return false;
}

bool capfs_node_needs_container(const char *path) {
        const char *rest;

        return find_subtree(path, &rest) != NULL;
}

int capfs_node_stat(CapfsHost *host, const CapfsContainer *ct, const char *path, CapfsNodeAttr *ret) {
        const CapfsVirtualFile *file = find_file(path);
        const CapfsSubtree *sub;
        const char *rest;

        if (file) {
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_FILE, .perm = file->perm};
                return 0;
        }
        sub = find_subtree(path, &rest);
        if (sub)
                return sub->stat(host, ct, rest, ret);
        if (is_static_dir(path)) {
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_DIR, .perm = 0555};
                return 0;
        }
        return -ENOENT;
}

/* The next component of @full below @dir, when @dir leads to it. */
static void fill_child(const char *dir, const char *full, GHashTable *seen, CapfsDirFiller fill,
                       void *userdata) {
        const char *start, *slash;
        g_autofree char *name = NULL;

        if (!is_component_prefix(dir, full))
                return;
        start = full + strlen(dir) + (*dir ? 1 : 0);
        slash = strchr(start, '/');
        name = slash ? g_strndup(start, slash - start) : g_strdup(start);
        if (g_hash_table_contains(seen, name))
                return;
        fill(userdata, name, slash ? CAPFS_NODE_DIR : CAPFS_NODE_FILE);
        g_hash_table_add(seen, g_steal_pointer(&name));
}

int capfs_node_readdir(CapfsHost *host, const CapfsContainer *ct, const char *path, CapfsDirFiller fill,
                       void *userdata) {
        g_autoptr(GHashTable) seen = NULL;
        const CapfsSubtree *sub;
        const char *rest;

        sub = find_subtree(path, &rest);
        if (sub)
                return sub->readdir(host, ct, rest, fill, userdata);
        if (find_file(path))
                return -ENOTDIR;
        if (!is_static_dir(path))
                return -ENOENT;

        seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        for (size_t i = 0; i < capfs_virtual_files_count; i++)
                fill_child(path, capfs_virtual_files[i].path, seen, fill, userdata);
        for (size_t i = 0; i < G_N_ELEMENTS(subtrees); i++) {
                /* A subtree's top is a directory even though nothing declared lies below it. */
                g_autofree char *below = g_strconcat(subtrees[i]->path, "/", NULL);
                fill_child(path, below, seen, fill, userdata);
        }
        return 0;
}

static int node_render(CapfsHost *host, const CapfsContainer *ct, const CapfsVirtualFile *file,
                       const CapfsSubtree *sub, const char *rest, GString *out) {
        int r;

        if (sub)
                return sub->read(host, ct, rest, out);
        g_string_truncate(out, 0);
        r = file->render(host, ct, out);
        if (r >= 0)
                return 0;

        /* Data that cannot be computed (cgroup gone, file missing on this kernel): the host's file. */
        if (g_atomic_int_compare_and_exchange(&fallback_logged[file - capfs_virtual_files], 0, 1))
                g_debug("%s: cannot render for pid %d (%s); serving the host's /proc/%s", file->path,
                        (int) ct->init_pid, g_strerror(-r), file->host_path);
        r = capfs_held_read(host, host->proc_fd, file->host_path, out);
        /* The host's text is no view of the container: the next read tries the render again. */
        return r < 0 ? r : 1;
}

int capfs_node_read(CapfsHost *host, const CapfsContainer *ct, const char *path, GString *out) {
        const CapfsVirtualFile *file = find_file(path);
        const CapfsSubtree *sub = NULL;
        const char *rest = NULL;
        bool cached;
        gint64 started;
        int r;

        if (!file) {
                sub = find_subtree(path, &rest);
                if (!sub)
                        return is_static_dir(path) ? -EISDIR : -ENOENT;
        }
        cached = !sub || sub->render_cached;
        if (cached && capfs_render_cache_get(host, ct, path, out))
                return 0;
        started = g_get_monotonic_time();
        r = node_render(host, ct, file, sub, rest, out);
        if (r == 0 && cached)
                capfs_render_cache_put(host, ct, path, out, started);
        return r < 0 ? r : 0;
}

int capfs_node_readlink(CapfsHost *host, const CapfsContainer *ct, const char *path, GString *out) {
        const CapfsSubtree *sub;
        const char *rest;

        sub = find_subtree(path, &rest);
        if (sub)
                return sub->readlink(host, ct, rest, out);
        return find_file(path) || is_static_dir(path) ? -EINVAL : -ENOENT;
}

/* A node a change is asked for: what it is for the caller, and the changes its subtree allows. */
typedef struct ChangeTarget {
        CapfsNodeAttr attr;
        const CapfsSubtreeChanges *changes; /* NULL: nothing may change */
        const char *rest; /* the path inside the subtree */
} ChangeTarget;

static int change_target(CapfsHost *host, const CapfsContainer *ct, const char *path, ChangeTarget *ret) {
        const CapfsSubtree *sub;
        int r;

        r = capfs_node_stat(host, ct, path, &ret->attr);
        if (r < 0)
                return r;
        sub = find_subtree(path, &ret->rest);
        ret->changes = sub ? sub->changes : NULL;
        return 0;
}

/* A change through the view may change what the container's files say: it reads them afresh. */
static ssize_t changed(const CapfsContainer *ct, ssize_t result) {
        if (result >= 0)
                capfs_render_cache_forget(ct);
        return result;
}

int capfs_node_open(CapfsHost *host, const CapfsContainer *ct, const char *path, int flags) {
        bool writing = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
        ChangeTarget t;
        int r;

        r = change_target(host, ct, path, &t);
        if (r < 0)
                return r;
        if (t.attr.type == CAPFS_NODE_DIR)
                return writing ? -EISDIR : 0;
        if (!writing)
                return 0;
        return t.changes && t.changes->open ? t.changes->open(host, ct, t.rest, flags) : -EACCES;
}

ssize_t capfs_node_write(CapfsHost *host, const CapfsContainer *ct, const char *path, const char *data,
                         size_t size) {
        ChangeTarget t;
        int r;

        r = change_target(host, ct, path, &t);
        if (r < 0)
                return r;
        if (t.attr.type == CAPFS_NODE_DIR)
                return -EISDIR;
        if (!t.changes || !t.changes->write)
                return -EACCES;
        return changed(ct, t.changes->write(host, ct, t.rest, data, size));
}

int capfs_node_setattr(CapfsHost *host, const CapfsContainer *ct, const char *path, unsigned what,
                       uint64_t size) {
        ChangeTarget t;
        int r;

        r = change_target(host, ct, path, &t);
        if (r < 0)
                return r;
        if (!t.changes || !t.changes->setattr)
                return -EACCES;
        return (int) changed(ct, t.changes->setattr(host, ct, t.rest, what, size));
}

int capfs_node_mkdir(CapfsHost *host, const CapfsContainer *ct, const char *path, mode_t mode) {
        g_autofree char *parent = g_path_get_dirname(path);
        ChangeTarget t;
        CapfsNodeAttr attr;
        int r;

        /* The parent must exist for the caller; the new name itself is the subtree's business. */
        r = change_target(host, ct, g_str_equal(parent, ".") ? "" : parent, &t);
        if (r < 0)
                return r;
        if (t.attr.type != CAPFS_NODE_DIR)
                return -ENOTDIR;
        const CapfsSubtree *sub = find_subtree(path, &t.rest);
        if (sub && sub->changes && sub->changes->mkdir)
                return (int) changed(ct, sub->changes->mkdir(host, ct, t.rest, mode));
        return capfs_node_stat(host, ct, path, &attr) == 0 ? -EEXIST : -EACCES;
}

int capfs_node_rmdir(CapfsHost *host, const CapfsContainer *ct, const char *path) {
        ChangeTarget t;
        int r;

        r = change_target(host, ct, path, &t);
        if (r < 0)
                return r;
        if (t.attr.type != CAPFS_NODE_DIR)
                return -ENOTDIR;
        if (!t.changes || !t.changes->rmdir)
                return -EACCES;
        return (int) changed(ct, t.changes->rmdir(host, ct, t.rest));
}

int capfs_node_refuse_change(CapfsHost *host, const CapfsContainer *ct, const char *parent) {
        ChangeTarget t;
        int r;

        r = change_target(host, ct, parent, &t);
        if (r < 0)
                return r;
        if (t.attr.type != CAPFS_NODE_DIR)
                return -ENOTDIR;
        return t.changes && t.changes->refused_errno ? t.changes->refused_errno : -EACCES;
}
