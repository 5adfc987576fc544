/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * by-pidns/N/cgroup: the cgroup view of the container whose pid namespace has inode N, for the
 * processes of that namespace alone (any other caller finds nothing there).
 *
 * Why a second path to the same view: below cgroup/ one path names another cgroup for each
 * container, and the kernel's dentries and attributes are shared by all callers, so none may be
 * kept and every open walks each component with a LOOKUP (an open of a knob is some twelve
 * requests). Below by-pidns/N the answers are the same for everyone who may ask, so the kernel
 * keeps them for the render cache's time (host->render_cache_usec): a knob costs what a /proc
 * file costs. capfs-launch binds by-pidns/N/cgroup/HIERARCHY into its containers. N itself is
 * never kept: a walk through it is asked each time, which is where another caller is refused;
 * inside the container the walk starts below it, at the bind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define VIEW "cgroup"

/* Where a path below by-pidns leads (locate()). */
enum {
        AT_VIEW = 0, /* inside by-pidns/N/cgroup */
        AT_TOP = 1, /* by-pidns itself */
        AT_NS = 2, /* by-pidns/N */
};

/*
 * Where @subpath (below by-pidns) leads for @ct: AT_TOP, AT_NS, or AT_VIEW with @view set to the
 * path inside the cgroup view; -ENOENT for any other container's N, or a host caller.
 */
static int locate(const CapfsContainer *ct, const char *subpath, const char **view) {
        char *end;
        guint64 inode;

        if (!*subpath)
                return AT_TOP;
        /* One spelling of N: a name the kernel keeps is never an alias of another. */
        if (!ct || ct->host_pidns || ct->pidns_inode == 0 || !g_ascii_isdigit(*subpath) || *subpath == '0')
                return -ENOENT;
        inode = g_ascii_strtoull(subpath, &end, 10);
        if (inode != ct->pidns_inode || (*end != '\0' && *end != '/'))
                return -ENOENT;
        if (*end == '\0')
                return AT_NS;
        end++;
        if (g_str_equal(end, VIEW)) {
                *view = "";
                return AT_VIEW;
        }
        if (g_str_has_prefix(end, VIEW "/")) {
                *view = end + strlen(VIEW "/");
                return AT_VIEW;
        }
        return -ENOENT;
}

static int by_pidns_stat(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                         CapfsNodeAttr *ret) {
        const char *view;
        int r = locate(ct, subpath, &view);

        if (r < 0)
                return r;
        if (r != AT_VIEW) {
                /* The top is the same for all; N is checked on every walk through it. */
                *ret = (CapfsNodeAttr){.type = CAPFS_NODE_DIR, .perm = 0555, .per_caller = r == AT_NS};
                return 0;
        }
        r = capfs_cgroup_subtree.stat(host, ct, view, ret);
        if (r < 0)
                return r;
        ret->per_caller = false;
        ret->per_container = true;
        return 0;
}

static int by_pidns_readdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                            CapfsDirFiller fill, void *userdata) {
        const char *view;
        char name[32];
        int r = locate(ct, subpath, &view);

        if (r == AT_TOP) {
                /* Only the caller's own. */
                if (ct && !ct->host_pidns && ct->pidns_inode) {
                        snprintf(name, sizeof(name), "%" G_GUINT64_FORMAT, ct->pidns_inode);
                        fill(userdata, name, CAPFS_NODE_DIR);
                }
                return 0;
        }
        if (r == AT_NS) {
                fill(userdata, VIEW, CAPFS_NODE_DIR);
                return 0;
        }
        return r < 0 ? r : capfs_cgroup_subtree.readdir(host, ct, view, fill, userdata);
}

static int by_pidns_read(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                         GString *out) {
        const char *view;
        int r = locate(ct, subpath, &view);

        if (r != AT_VIEW)
                return r < 0 ? r : -EISDIR;
        return capfs_cgroup_subtree.read(host, ct, view, out);
}

static int by_pidns_readlink(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                             GString *out) {
        const char *view;
        int r = locate(ct, subpath, &view);

        if (r != AT_VIEW)
                return r < 0 ? r : -EINVAL;
        return capfs_cgroup_subtree.readlink(host, ct, view, out);
}

/* The top and N are not the view's: nothing of theirs changes. */
static int changing(const CapfsContainer *ct, const char *subpath, const char **view) {
        int r = locate(ct, subpath, view);

        return r == AT_TOP || r == AT_NS ? -EACCES : r;
}

static int by_pidns_open(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, int flags) {
        const char *view;
        int r = changing(ct, subpath, &view);

        return r < 0 ? r : capfs_cgroup_subtree.changes->open(host, ct, view, flags);
}

static ssize_t by_pidns_write(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                              const char *data, size_t size) {
        const char *view;
        int r = changing(ct, subpath, &view);

        return r < 0 ? r : capfs_cgroup_subtree.changes->write(host, ct, view, data, size);
}

static int by_pidns_setattr(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                            unsigned what, uint64_t size) {
        const char *view;
        int r = changing(ct, subpath, &view);

        return r < 0 ? r : capfs_cgroup_subtree.changes->setattr(host, ct, view, what, size);
}

static int by_pidns_mkdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                          mode_t mode) {
        const char *view;
        int r = changing(ct, subpath, &view);

        return r < 0 ? r : capfs_cgroup_subtree.changes->mkdir(host, ct, view, mode);
}

static int by_pidns_rmdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath) {
        const char *view;
        int r = changing(ct, subpath, &view);

        return r < 0 ? r : capfs_cgroup_subtree.changes->rmdir(host, ct, view);
}

const CapfsSubtree capfs_by_pidns_subtree = {
        .path = "by-pidns",
        .stat = by_pidns_stat,
        .readdir = by_pidns_readdir,
        .read = by_pidns_read,
        .readlink = by_pidns_readlink,
        .changes =
                &(const CapfsSubtreeChanges){
                        .open = by_pidns_open,
                        .write = by_pidns_write,
                        .setattr = by_pidns_setattr,
                        .mkdir = by_pidns_mkdir,
                        .rmdir = by_pidns_rmdir,
                        .refused_errno = -EPERM,
                },
};
