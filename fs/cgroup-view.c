/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup: the restricted read-write view of the cgroup hierarchies. It lets a container
 * without CAP_SYS_ADMIN manage the cgroups below its own, while capfs, acting as root
 * on its behalf, checks every operation before the kernel sees it:
 *
 *  - A caller sees its container's subtree. The container's root in a hierarchy is the
 *    cgroup of the init of the caller's pid namespace (systemd's init.scope pruned, as
 *    everywhere in capfs). Outside a cgroup namespace, paths are the host's and the
 *    ancestors of the root appear as read-only directories holding only the next step
 *    down; inside one, paths start at that namespace's root, exactly as
 *    /proc/self/cgroup shows them there. Anything else does not exist (ENOENT), for
 *    every operation. Paths are compared by whole components.
 *  - The root's own knobs are read-only (EACCES): the limits the host set are the
 *    ceiling. Only moving tasks (cgroup.procs, tasks, cgroup.threads) and handing
 *    controllers down (cgroup.subtree_control) are allowed there. The knobs of every
 *    cgroup below are writable; mkdir and rmdir work below the root.
 *  - A few knobs are never writable (see never_writable[]); symlinks, links, renames,
 *    device nodes, new files, chmod, chown, utimes and xattrs never (EPERM).
 *  - Pids written are the caller's; only tasks already in the subtree may be moved.
 *    Pids read are translated back; those the caller cannot see are left out.
 *  - A container whose init sits at the top of a hierarchy was delegated nothing
 *    there: it sees that hierarchy read-only. A host process (in the daemon's pid
 *    namespace) gets the same rules with its own cgroup as its root.
 *  - mkdir has a budget, in each hierarchy: so many cgroups below the root, so many
 *    levels deep; past it, EAGAIN, as cgroup2's own limits answer (see check_budget()).
 *
 * v1 and hybrid hosts show one directory per hierarchy under /sys/fs/cgroup, with their
 * names (memory, cpu, systemd, unified, ...). Comounts keep the symlinks the host has
 * ("cpu" -> "cpu,cpuacct"): the container sees the tree the tools expect, and each
 * cgroup has one path, which the audit log and the whole-component checks rely on. On
 * pure v2 hosts the view is the unified tree itself.
 *
 * Host paths are opened one component at a time with O_NOFOLLOW below the hierarchy's
 * directory; every node is per-caller (no entry or attribute caching in the kernel).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "internal.h"
#include "parse/parse.h"

typedef enum {
        NODE_TOP, /* cgroup/ on v1: one entry per hierarchy */
        NODE_LINK, /* a hierarchy's other name, a symlink to a comount ("cpu" -> "cpu,cpuacct") */
        NODE_ANCESTOR, /* above the container's root: only the way down to it */
        NODE_CGROUP, /* the container's root or a cgroup below it */
        NODE_KNOB, /* a file of such a cgroup */
} NodeKind;

typedef struct Hierarchy {
        char *name; /* directory under /sys/fs/cgroup; "" on pure v2 */
        const char *key; /* its name in /proc/PID/cgroup, borrowed from ct->hierarchy_root */
        const char *root; /* the container's root, a host path, borrowed likewise */
        char *top; /* host path the caller sees as the hierarchy's top */
        bool read_only; /* nothing was delegated in it */
} Hierarchy;

typedef struct ViewNode {
        NodeKind kind;
        Hierarchy h;
        char *cgroup; /* ANCESTOR, CGROUP: its host path; KNOB: its cgroup's */
        char *knob; /* KNOB: the file's name */
        char *link_target; /* LINK */
        mode_t perm; /* CGROUP, KNOB: the host's permission bits */
} ViewNode;

static void view_node_clear(ViewNode *n) {
        g_free(n->h.name);
        g_free(n->h.top);
        g_free(n->cgroup);
        g_free(n->knob);
        g_free(n->link_target);
        *n = (ViewNode){0};
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ViewNode, view_node_clear)

/*
 * Knobs that hand out power over things outside the container's share, so capfs
 * never writes them, anywhere: the device whitelist; release_agent, which the kernel
 * runs as root on the host, and notify_on_release, which arms it; cgroup.event_control,
 * which takes file descriptors of the writer (the daemon's, here); clone_children,
 * which copies cpuset settings the container did not choose; memory.use_hierarchy,
 * whose 0 would let children escape the root's memory limit on old kernels; and the
 * net_cls/net_prio tags, which the host's traffic control and priorities trust.
 */
static const char *const never_writable[] = {
        "devices.allow",        "devices.deny",         "release_agent",
        "notify_on_release",    "cgroup.event_control", "cgroup.clone_children",
        "memory.use_hierarchy", "net_cls.classid",      "net_prio.ifpriomap",
};

/* Files whose content is a list of task ids. */
static const char *const id_lists[] = {"cgroup.procs", "tasks", "cgroup.threads"};

static bool name_in(const char *name, const char *const *list, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (g_str_equal(name, list[i]))
                        return true;
        return false;
}

static bool is_id_list(const char *knob) {
        return name_in(knob, id_lists, G_N_ELEMENTS(id_lists));
}

/* @path is @ancestor or below it, by whole components. */
static bool path_within(const char *path, const char *ancestor) {
        size_t len = strlen(ancestor);

        if (g_str_equal(ancestor, "/"))
                return true;
        return strncmp(path, ancestor, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

/* "/" + "a" -> "/a"; "/x" + "a" -> "/x/a". */
static char *path_join(const char *dir, const char *name) {
        return g_str_equal(dir, "/") ? g_strconcat("/", name, NULL) : g_strconcat(dir, "/", name, NULL);
}

/* A path component a caller may name: ENAMETOOLONG past NAME_MAX, ENOENT for "", "." and "..". */
static int check_component(const char *name) {
        if (strlen(name) > NAME_MAX)
                return -ENAMETOOLONG;
        if (*name == '\0' || g_str_equal(name, ".") || g_str_equal(name, ".."))
                return -ENOENT;
        return 0;
}

/* The hierarchy named @name under /sys/fs/cgroup (v1), as /proc/PID/cgroup names it. */
static bool find_hierarchy(const CapfsHost *host, const CapfsContainer *ct, const char *name,
                           const char **key, const char **root) {
        g_auto(GStrv) parts = NULL;
        gpointer k, v;

        if (!ct->hierarchy_root)
                return false;
        if (capfs_host_is_v2(host) || g_str_equal(name, "unified")) {
                /* The cgroup2 line, "0::/path". */
                if (!g_hash_table_lookup_extended(ct->hierarchy_root, "", &k, &v))
                        return false;
                *key = k;
                *root = v;
                return true;
        }
        /* "cpu,cpuacct" is listed as "N:cpu,cpuacct:/path"; "systemd" as "N:name=systemd:/path". */
        parts = g_strsplit(name, ",", -1);
        for (char **p = parts; *p; p++) {
                g_autofree char *named = g_strconcat("name=", *p, NULL);

                if (g_hash_table_lookup_extended(ct->hierarchy_root, *p, &k, &v) ||
                    g_hash_table_lookup_extended(ct->hierarchy_root, named, &k, &v)) {
                        *key = k;
                        *root = v;
                        return true;
                }
        }
        return false;
}

static int hierarchy_init(const CapfsHost *host, const CapfsContainer *ct, const char *name,
                          Hierarchy *ret) {
        g_autoptr(GHashTable) tops = NULL;
        const char *top;
        int r;

        if (!find_hierarchy(host, ct, name, &ret->key, &ret->root))
                return -ENOENT;
        r = capfs_cgroupns_tops(host, ct, &tops);
        if (r < 0)
                return r;
        top = tops ? g_hash_table_lookup(tops, ret->key) : NULL;
        ret->name = g_strdup(name);
        ret->top = g_strdup(top ? top : "/");
        ret->read_only = !ct->host_pidns && g_str_equal(ret->root, "/");
        return 0;
}

/* An fd of the hierarchy's directory; O_NOFOLLOW: "cpu" may be a link, and is not walked through. */
static int open_hierarchy(const CapfsHost *host, const char *name) {
        int fd;

        if (*name == '\0')
                fd = openat(host->cgroup_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        else
                fd = openat(host->cgroup_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/*
 * One openat2() for the whole path, where the kernel has it (5.6+): no symlink anywhere, nothing
 * above the cgroup root. -ENOSYS: walk it a component at a time instead.
 */
static int open_cgroup_at_once(const CapfsHost *host, const Hierarchy *h, const char *cgpath) {
        struct open_how how = {
                .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_BENEATH,
        };
        g_autofree char *path = NULL;
        int fd;

        while (*cgpath == '/')
                cgpath++;
        if (*h->name)
                path = *cgpath ? g_strconcat(h->name, "/", cgpath, NULL) : g_strdup(h->name);
        else
                path = g_strdup(*cgpath ? cgpath : ".");
        fd = (int) syscall(SYS_openat2, host->cgroup_fd, path, &how, sizeof(how));
        return fd < 0 ? -errno : fd;
}

/* The directory of cgroup @cgpath ("/a/b") below the hierarchy, never through a symlink. */
static int open_cgroup(const CapfsHost *host, const Hierarchy *h, const char *cgpath) {
        g_auto(GStrv) parts = NULL;
        int fd = open_cgroup_at_once(host, h, cgpath);

        if (fd != -ENOSYS)
                return fd == -ELOOP || fd == -ENOTDIR || fd == -EXDEV ? -ENOENT : fd;
        parts = g_strsplit(cgpath, "/", -1);
        fd = open_hierarchy(host, h->name);

        for (char **p = parts; fd >= 0 && *p; p++) {
                int child;

                if (**p == '\0')
                        continue;
                child = openat(fd, *p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                fd = child < 0 ? -errno : child;
        }
        /* A symlink where a directory should be: for the caller, nothing is there. */
        return fd == -ELOOP || fd == -ENOTDIR ? -ENOENT : fd;
}

/* What a v1 hierarchy link points to, if it is one the view shows: a sibling hierarchy directory. */
static int hierarchy_link_target(const CapfsHost *host, const CapfsContainer *ct, const char *name,
                                 char **ret) {
        char target[NAME_MAX + 1];
        const char *key, *root;
        struct stat st;
        ssize_t n;

        n = readlinkat(host->cgroup_fd, name, target, sizeof(target) - 1);
        if (n < 0)
                return -ENOENT;
        target[n] = '\0';
        if (check_component(target) < 0 || strchr(target, '/'))
                return -ENOENT;
        if (fstatat(host->cgroup_fd, target, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                return -ENOENT;
        if (!find_hierarchy(host, ct, target, &key, &root))
                return -ENOENT;
        *ret = g_strdup(target);
        return 0;
}

/* Resolves @subpath (below cgroup/) for the caller: what it is, or -ENOENT when it does not exist for them.
 */
static int view_resolve(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                        ViewNode *ret) {
        g_auto(GStrv) parts = NULL;
        g_autofree char *hpath = NULL;
        char **rest;
        const char *name = "";
        int r;

        *ret = (ViewNode){0};
        parts = *subpath ? g_strsplit(subpath, "/", -1) : g_new0(char *, 1);
        for (char **p = parts; *p; p++) {
                r = check_component(*p);
                if (r < 0)
                        return r;
        }

        rest = parts;
        if (!capfs_host_is_v2(host)) {
                struct stat st;

                if (!parts[0]) {
                        ret->kind = NODE_TOP;
                        return 0;
                }
                name = parts[0];
                rest = parts + 1;
                if (fstatat(host->cgroup_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -ENOENT;
                if (S_ISLNK(st.st_mode)) {
                        r = hierarchy_link_target(host, ct, name, &ret->link_target);
                        if (r < 0)
                                return r;
                        if (*rest)
                                return -ENOTDIR; /* the kernel follows the link; capfs never does */
                        ret->kind = NODE_LINK;
                        return 0;
                }
                if (!S_ISDIR(st.st_mode))
                        return -ENOENT;
        }

        r = hierarchy_init(host, ct, name, &ret->h);
        if (r < 0)
                return r;

        hpath = g_strdup(ret->h.top);
        for (char **p = rest; *p; p++) {
                char *next = path_join(hpath, *p);
                g_free(hpath);
                hpath = next;
        }

        if (!path_within(hpath, ret->h.root)) {
                if (path_within(ret->h.root, hpath)) {
                        ret->kind = NODE_ANCESTOR;
                        ret->cgroup = g_steal_pointer(&hpath);
                        return 0;
                }
                return -ENOENT;
        }

        /* In the subtree: the host says what is there. */
        {
                g_autofree char *parent = NULL;
                _cleanup_close_ int dirfd = -EBADF;
                const char *last;
                struct stat st;

                if (g_str_equal(hpath, ret->h.root)) {
                        dirfd = open_cgroup(host, &ret->h, hpath);
                        if (dirfd < 0)
                                return dirfd;
                        if (fstat(dirfd, &st) < 0)
                                return -errno;
                        ret->kind = NODE_CGROUP;
                        ret->perm = st.st_mode & 07777;
                        ret->cgroup = g_steal_pointer(&hpath);
                        return 0;
                }
                last = strrchr(hpath, '/') + 1;
                parent = last - 1 == hpath ? g_strdup("/") : g_strndup(hpath, (gsize) (last - 1 - hpath));
                dirfd = open_cgroup(host, &ret->h, parent);
                if (dirfd < 0)
                        return dirfd;
                if (fstatat(dirfd, last, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
                ret->perm = st.st_mode & 07777;
                if (S_ISDIR(st.st_mode)) {
                        ret->kind = NODE_CGROUP;
                        ret->cgroup = g_steal_pointer(&hpath);
                        return 0;
                }
                if (S_ISREG(st.st_mode)) {
                        ret->kind = NODE_KNOB;
                        ret->knob = g_strdup(last);
                        ret->cgroup = g_steal_pointer(&parent);
                        return 0;
                }
                return -ENOENT; /* cgroupfs has nothing else; whatever this is, it is not shown */
        }
}

static bool is_root(const ViewNode *n) {
        return g_str_equal(n->cgroup, n->h.root);
}

/*
 * Whether the knob @n may be written through the view: 0 or -EACCES. At the root, the
 * files cgroup2 itself gives a delegatee (and keeps writable at a cgroup namespace's root
 * under nsdelegate): moving tasks, and cgroup.subtree_control, which only enables what the
 * host's cgroup.controllers offers for the children, all still under the root's limits.
 * A container on pure v2 needs the latter for its children to have any knob at all.
 */
static int knob_write_policy(const ViewNode *n) {
        if (name_in(n->knob, never_writable, G_N_ELEMENTS(never_writable)))
                return -EACCES;
        if (n->h.read_only)
                return -EACCES;
        if (is_root(n) && !is_id_list(n->knob) && !g_str_equal(n->knob, "cgroup.subtree_control"))
                return -EACCES;
        return 0;
}

/*
 * The owner of the container's nodes: in a user namespace of its own, the host ids its
 * root maps to, so that the container's root may use them (the kernel checks modes
 * against these, default_permissions). Otherwise, and when 0 is not mapped, root's.
 */
static void container_owner(const CapfsHost *host, const CapfsContainer *ct, uid_t *uid, gid_t *gid) {
        g_autoptr(GString) map = g_string_new(NULL);
        char theirs[64], path[64];
        uint32_t mapped_uid, mapped_gid;
        ssize_t n;

        *uid = 0;
        *gid = 0;
        if (!host->own_userns)
                return;
        snprintf(path, sizeof(path), "%d/ns/user", (int) ct->init_pid);
        n = readlinkat(host->proc_fd, path, theirs, sizeof(theirs) - 1);
        if (n < 0)
                return;
        theirs[n] = '\0';
        if (g_str_equal(host->own_userns, theirs))
                return;
        if (capfs_read_proc_pid(host, ct->init_pid, "uid_map", map) < 0 ||
            capfs_parse_id_map(map->str, map->len, 0, &mapped_uid) < 0)
                return;
        if (capfs_read_proc_pid(host, ct->init_pid, "gid_map", map) < 0 ||
            capfs_parse_id_map(map->str, map->len, 0, &mapped_gid) < 0)
                return;
        *uid = mapped_uid;
        *gid = mapped_gid;
}

static int view_stat(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                     CapfsNodeAttr *ret) {
        g_auto(ViewNode) n = {0};
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        *ret = (CapfsNodeAttr){.per_caller = true};
        switch (n.kind) {
        case NODE_TOP:
        case NODE_ANCESTOR:
                ret->type = CAPFS_NODE_DIR;
                ret->perm = 0555;
                return 0;
        case NODE_LINK:
                ret->type = CAPFS_NODE_SYMLINK;
                ret->perm = 0777;
                return 0;
        case NODE_CGROUP:
                ret->type = CAPFS_NODE_DIR;
                ret->perm = n.h.read_only ? n.perm & ~0222 : n.perm;
                break;
        case NODE_KNOB:
                ret->type = CAPFS_NODE_FILE;
                /* What cannot be written does not say it can: ls -l tells the rules. */
                ret->perm = knob_write_policy(&n) < 0 ? n.perm & ~0222 : n.perm;
                break;
        }
        container_owner(host, ct, &ret->uid, &ret->gid);
        return 0;
}

static int list_hierarchies(const CapfsHost *host, const CapfsContainer *ct, CapfsDirFiller fill,
                            void *userdata) {
        _cleanup_close_ int fd = openat(host->cgroup_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *dir;

        if (fd < 0)
                return -errno;
        dir = fdopendir(fd);
        if (!dir)
                return -errno;
        fd = -EBADF;
        while ((de = readdir(dir))) {
                const char *key, *root;
                g_autofree char *target = NULL;
                struct stat st;

                if (de->d_name[0] == '.' || fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) && find_hierarchy(host, ct, de->d_name, &key, &root))
                        fill(userdata, de->d_name, CAPFS_NODE_DIR);
                else if (S_ISLNK(st.st_mode) && hierarchy_link_target(host, ct, de->d_name, &target) >= 0)
                        fill(userdata, de->d_name, CAPFS_NODE_SYMLINK);
        }
        closedir(dir);
        return 0;
}

static int list_cgroup(const CapfsHost *host, const ViewNode *n, CapfsDirFiller fill, void *userdata) {
        int fd = open_cgroup(host, &n->h, n->cgroup);
        struct dirent *de;
        DIR *dir;

        if (fd < 0)
                return fd;
        dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        while ((de = readdir(dir))) {
                unsigned char type = de->d_type;

                if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
                        continue;
                if (type == DT_UNKNOWN) {
                        struct stat st;

                        if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
                }
                if (type == DT_DIR)
                        fill(userdata, de->d_name, CAPFS_NODE_DIR);
                else if (type == DT_REG)
                        fill(userdata, de->d_name, CAPFS_NODE_FILE);
        }
        closedir(dir);
        return 0;
}

static int view_readdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                        CapfsDirFiller fill, void *userdata) {
        g_auto(ViewNode) n = {0};
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        switch (n.kind) {
        case NODE_TOP:
                return list_hierarchies(host, ct, fill, userdata);
        case NODE_ANCESTOR: {
                /* Only the next component toward the root: "/a" above "/a/b/c" holds "b". */
                const char *below = n.h.root + (g_str_equal(n.cgroup, "/") ? 1 : strlen(n.cgroup) + 1);
                g_autofree char *next = g_strndup(below, strcspn(below, "/"));

                fill(userdata, next, CAPFS_NODE_DIR);
                return 0;
        }
        case NODE_CGROUP:
                return list_cgroup(host, &n, fill, userdata);
        case NODE_LINK:
        case NODE_KNOB:
                break;
        }
        return -ENOTDIR;
}

/* Opens knob @n for @flags; O_NOFOLLOW and a check that it is still a regular file. */
static int open_knob(const CapfsHost *host, const ViewNode *n, int flags) {
        _cleanup_close_ int dirfd = open_cgroup(host, &n->h, n->cgroup);
        struct stat st;
        int fd;

        if (dirfd < 0)
                return dirfd;
        fd = openat(dirfd, n->knob, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno == ELOOP ? -ENOENT : -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -ENOENT;
        }
        return fd;
}

static int read_knob(const CapfsHost *host, const ViewNode *n, GString *out) {
        _cleanup_close_ int fd = open_knob(host, n, O_RDONLY);

        g_string_truncate(out, 0);
        if (fd < 0)
                return fd;
        for (;;) {
                gsize used = out->len;
                ssize_t got;

                g_string_set_size(out, used + 4096);
                got = read(fd, out->str + used, 4096);
                if (got < 0) {
                        int r = -errno;

                        g_string_set_size(out, used);
                        if (r == -EINTR)
                                continue;
                        return r;
                }
                g_string_set_size(out, used + (gsize) got);
                if (got == 0)
                        return 0;
        }
}

/* The ids of cgroup.procs, tasks or cgroup.threads as the caller's pid namespace numbers them. */
static int read_id_list(const CapfsHost *host, const CapfsContainer *ct, const ViewNode *n, GString *out) {
        g_autoptr(GString) raw = g_string_new(NULL);
        g_autoptr(GArray) ids = NULL;
        g_auto(CapfsPidns) ns = {.fd = -EBADF};
        int r;

        r = read_knob(host, n, raw);
        if (r < 0)
                return r;
        if (ct->host_pidns) {
                g_string_assign(out, raw->str);
                return 0;
        }
        r = capfs_parse_u64_list(raw->str, raw->len, &ids);
        if (r < 0)
                return r;
        r = capfs_pidns_open(host, ct, &ns);
        if (r < 0)
                return r;
        g_string_truncate(out, 0);
        for (guint i = 0; i < ids->len; i++) {
                guint64 id = g_array_index(ids, guint64, i);
                pid_t mine;

                if (id == 0 || id > G_MAXINT32 || capfs_pidns_from_host(host, &ns, (pid_t) id, &mine) < 0)
                        continue;
                g_string_append_printf(out, "%d\n", (int) mine);
        }
        return 0;
}

static int view_read(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, GString *out) {
        g_auto(ViewNode) n = {0};
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        switch (n.kind) {
        case NODE_KNOB:
                return is_id_list(n.knob) ? read_id_list(host, ct, &n, out) : read_knob(host, &n, out);
        case NODE_LINK:
                return -EINVAL;
        case NODE_TOP:
        case NODE_ANCESTOR:
        case NODE_CGROUP:
                break;
        }
        return -EISDIR;
}

static int view_readlink(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                         GString *out) {
        g_auto(ViewNode) n = {0};
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        if (n.kind != NODE_LINK)
                return -EINVAL;
        g_string_assign(out, n.link_target);
        return 0;
}

static int view_open(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, int flags) {
        g_auto(ViewNode) n = {0};
        g_autofree char *path = NULL;
        CapfsAuditEvent ev;
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        if (n.kind != NODE_KNOB)
                return -EACCES;
        r = knob_write_policy(&n);
        if (r < 0) {
                /* A shell's "echo > knob" ends here: the attempt is what an operator wants to see. */
                path = path_join(n.cgroup, n.knob);
                ev = (CapfsAuditEvent){.op = CAPFS_AUDIT_WRITE,
                                       .hierarchy = n.h.name,
                                       .root = n.h.root,
                                       .path = path,
                                       .result = r};
                capfs_audit(ct, &ev);
        }
        return r;
}

/* Candidates for pid translation without the kernel's help: the tasks of the container's subtree. */
typedef struct Candidates {
        const CapfsHost *host;
        const ViewNode *node;
} Candidates;

/*
 * Thread ids, even for cgroup.procs: the kernel takes any thread's id there (and moves its
 * whole process), so the candidates are every thread, from the thread list each cgroup has
 * (cgroup2: cgroup.threads; v1: tasks).
 */
static int collect_subtree(void *userdata, GArray *out) {
        const Candidates *c = userdata;
        const Hierarchy *h = &c->node->h;
        _cleanup_close_ int fd = open_cgroup(c->host, h, h->root);
        bool cgroup2 = *h->key == '\0';

        if (fd < 0)
                return fd;
        return capfs_cgroup_collect_ids(fd, cgroup2 ? "cgroup.threads" : "tasks", out);
}

/* Whether host task @task is in the container's subtree of this hierarchy: 0, -EPERM or -ESRCH. */
static int task_in_subtree(const CapfsHost *host, const ViewNode *n, pid_t task) {
        g_autoptr(GString) buf = g_string_new(NULL);
        g_autoptr(GHashTable) table = NULL;
        const char *where;
        int r;

        r = capfs_read_proc_pid(host, task, "cgroup", buf);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = capfs_parse_proc_cgroup(buf->str, buf->len, &table);
        if (r < 0)
                return r;
        where = g_hash_table_lookup(table, n->h.key);
        return where && path_within(where, n->h.root) ? 0 : -EPERM;
}

static int write_all_once(int fd, const char *data, size_t size, ssize_t *written) {
        ssize_t w;

        do
                w = write(fd, data, size);
        while (w < 0 && errno == EINTR);
        if (w < 0)
                return -errno;
        *written = w;
        return 0;
}

/* A write to cgroup.procs, tasks or cgroup.threads: the caller's id becomes the host's, if it may move. */
static ssize_t move_task(const CapfsHost *host, const CapfsContainer *ct, const ViewNode *n,
                         const char *data, size_t size, CapfsAuditEvent *ev) {
        g_auto(CapfsPidns) ns = {.fd = -EBADF};
        _cleanup_close_ int fd = -EBADF;
        Candidates candidates = {.host = host, .node = n};
        char text[16];
        pid_t id, task = 0;
        ssize_t written;
        int r;

        r = capfs_parse_written_pid(data, size, &id);
        if (r < 0)
                return r; /* ev->id stays -1: the log shows what was written */
        ev->id = id;
        if (id == 0) {
                /* "The writer": the kernel would take the daemon itself, so it is the caller, by name. */
                task = ct->caller_pid;
                if (task <= 0)
                        return -ESRCH;
        } else {
                r = capfs_pidns_open(host, ct, &ns);
                if (r < 0)
                        return r;
                r = capfs_pidns_to_host(host, &ns, id, collect_subtree, &candidates, &task);
                if (r < 0)
                        return r;
        }
        ev->host_id = task;
        r = task_in_subtree(host, n, task);
        if (r < 0)
                return r;

        /*
         * The task may exit and its pid be reused between here and the kernel's move, the
         * same window the kernel's own pid lookup for a writer has; the move stays inside
         * the subtree's hierarchy either way, as the destination was checked.
         */
        fd = open_knob(host, n, O_WRONLY);
        if (fd < 0)
                return fd;
        snprintf(text, sizeof(text), "%d", (int) task);
        r = write_all_once(fd, text, strlen(text), &written);
        if (r < 0)
                return r;
        /* The caller wrote its own bytes; all of them were taken. */
        return (ssize_t) size;
}

static ssize_t view_write(const CapfsHost *host, const CapfsContainer *ct, const char *subpath,
                          const char *data, size_t size) {
        g_auto(ViewNode) n = {0};
        g_autofree char *path = NULL;
        CapfsAuditEvent ev = {0};
        ssize_t result;
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        if (n.kind != NODE_KNOB)
                return -EACCES;

        path = path_join(n.cgroup, n.knob);
        ev = (CapfsAuditEvent){
                .op = is_id_list(n.knob) ? CAPFS_AUDIT_MOVE : CAPFS_AUDIT_WRITE,
                .hierarchy = n.h.name,
                .root = n.h.root,
                .path = path,
                .value = data,
                .value_len = size,
                .id = -1,
        };
        result = knob_write_policy(&n);
        if (result >= 0 && ev.op == CAPFS_AUDIT_MOVE) {
                result = move_task(host, ct, &n, data, size, &ev);
        } else if (result >= 0) {
                _cleanup_close_ int fd = open_knob(host, &n, O_WRONLY);
                ssize_t written = 0;

                /* One write(2) of exactly the caller's bytes: the kernel parses and judges the value. */
                result = fd < 0 ? fd : write_all_once(fd, data, size, &written);
                if (result >= 0)
                        result = written;
        }
        ev.result = result < 0 ? (int) result : 0;
        capfs_audit(ct, &ev);
        return result;
}

static int view_setattr(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, unsigned what,
                        uint64_t size) {
        g_auto(ViewNode) n = {0};
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        if (what & (CAPFS_SETATTR_MODE | CAPFS_SETATTR_OWNER | CAPFS_SETATTR_XATTR))
                return -EPERM;
        /*
         * The kernel stamps mtime along with every truncation (open with O_TRUNC included),
         * so times that come with a size are part of "echo x > knob"; alone, they are a touch.
         */
        if (!(what & CAPFS_SETATTR_SIZE))
                return what & CAPFS_SETATTR_TIMES ? -EPERM : 0;
        if (n.kind != NODE_KNOB)
                return n.kind == NODE_LINK ? -EPERM : -EISDIR;
        r = knob_write_policy(&n);
        if (r < 0)
                return r;
        /* Knobs have no length to cut to: truncating to 0 is the no-op a shell's ">" needs, no more. */
        return size == 0 ? 0 : -EPERM;
}

/*
 * The budget of cgroups a container may make. Each one costs kernel memory charged to the
 * container (about 11 KB) and an entry in the daemon's inode table while it is known, and
 * nothing else stops a container's root from making thousands: so capfs refuses a mkdir that
 * would put more than cgroup.max.descendants cgroups below the container's root, or one more
 * than cgroup.max.depth levels below it, with the EAGAIN cgroup2 gives for its own limits.
 * The daemon's numbers (--cgroup-max-descendants, --cgroup-max-depth) are the most a container
 * gets; lower ones on its cgroup2 root or an ancestor of it (where a launcher writes them) hold
 * instead, an ancestor's less one per level between (its subtree holds those levels too). So a
 * container that can write its own root's cgroup.max.* (a cgroup2 mount without nsdelegate, as on
 * hybrid hosts) can lower its budget, never raise it. They apply in each hierarchy on its own: on
 * v1 every controller has a tree of its own, and a container's cgroups in each.
 */

/* One of cgroup.max.descendants and cgroup.max.depth for the container: the lowest of @ceiling
 * and what its cgroup2 root and ancestors set, as above. */
static uint64_t budget_value(const CapfsHost *host, const CapfsContainer *ct, const char *knob,
                             uint64_t ceiling) {
        g_autoptr(GString) buf = g_string_new(NULL);
        g_autofree char *path = NULL;
        uint64_t lowest = ceiling, levels = 0;

        /* No cgroup2 tree: only the daemon's numbers. */
        if (!ct->cgroup[CAPFS_CTRL_UNIFIED])
                return ceiling;
        path = g_strdup(ct->cgroup[CAPFS_CTRL_UNIFIED]);
        do {
                uint64_t value;

                /* No such file (an older kernel, the tree's root) or "max": nothing set there. */
                if (capfs_cgroup_read_path(host, CAPFS_CTRL_UNIFIED, path, knob, buf) >= 0 &&
                    capfs_parse_limit(buf->str, buf->len, &value) >= 0 && value != CAPFS_NO_LIMIT)
                        lowest = MIN(lowest, value > levels ? value - levels : 0);
                levels++;
        } while (capfs_cgroup_path_up(path));
        return lowest;
}

/* How many levels @path is below @root ("/ct1/a/b" below "/ct1": 2). */
static uint64_t depth_below(const char *path, const char *root) {
        const char *rest = g_str_equal(root, "/") ? path : path + strlen(root);
        uint64_t depth = 0;

        for (; *rest; rest++)
                if (*rest == '/')
                        depth++;
        return depth;
}

/*
 * The cgroups below the root of @h, counted up to @limit: the walk stops there, so it costs
 * at most @limit directories whatever the tree holds. A directory's link count is 2 plus its
 * subdirectories on cgroupfs (kernfs), as on most file systems: one fstat() counts a cgroup's
 * children, and only the children that have children of their own are entered. Where the
 * count says nothing (below 2), the children are counted one by one. One directory is open at
 * a time; a cgroup removed meanwhile, or one that cannot be opened, is not entered.
 */
static int count_descendants(const CapfsHost *host, const Hierarchy *h, uint64_t limit, uint64_t *ret) {
        g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
        uint64_t count = 0;
        bool root = true;

        g_ptr_array_add(pending, g_strdup(h->root));
        while (pending->len > 0 && count < limit) {
                g_autofree char *dir = g_ptr_array_steal_index_fast(pending, pending->len - 1);
                int fd = open_cgroup(host, h, dir);
                bool counted = false;
                struct dirent *de;
                struct stat st;
                DIR *d;

                if (fd < 0 && root)
                        return fd;
                root = false;
                if (fd < 0)
                        continue;
                if (fstat(fd, &st) == 0 && st.st_nlink >= 2) {
                        count += st.st_nlink - 2;
                        counted = true;
                        if (st.st_nlink == 2 || count >= limit) {
                                close(fd);
                                continue;
                        }
                }
                d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        continue;
                }
                while (count < limit && (de = readdir(d))) {
                        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                                continue;
                        if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
                                continue;
                        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                            !S_ISDIR(st.st_mode))
                                continue;
                        if (!counted)
                                count++;
                        /* A leaf (2 links) has nothing below it to count. */
                        if (st.st_nlink != 2)
                                g_ptr_array_add(pending, path_join(dir, de->d_name));
                }
                closedir(d);
        }
        *ret = MIN(count, limit);
        return 0;
}

/* Whether cgroup @path (not made yet) fits the container's budget in @h: 0 or -EAGAIN. */
static int check_budget(const CapfsHost *host, const CapfsContainer *ct, const Hierarchy *h,
                        const char *path) {
        uint64_t max_depth = budget_value(host, ct, "cgroup.max.depth", host->cgroup_max_depth);
        uint64_t max_descendants =
                budget_value(host, ct, "cgroup.max.descendants", host->cgroup_max_descendants);
        uint64_t count;
        int r;

        if (max_depth != CAPFS_CGROUP_BUDGET_NONE && depth_below(path, h->root) > max_depth) {
                g_debug("cgroup view: %s%s%s: deeper than the budget's %" G_GUINT64_FORMAT
                        " levels below %s",
                        h->name, *h->name ? ":" : "", path, max_depth, h->root);
                return -EAGAIN;
        }
        if (max_descendants == CAPFS_CGROUP_BUDGET_NONE)
                return 0;
        r = count_descendants(host, h, max_descendants, &count);
        if (r < 0)
                return r;
        if (count >= max_descendants) {
                g_debug("cgroup view: %s%s%s: the budget's %" G_GUINT64_FORMAT " cgroups below %s are made",
                        h->name, *h->name ? ":" : "", path, max_descendants, h->root);
                return -EAGAIN;
        }
        return 0;
}

/*
 * A mkdir is counted and made under one of these, chosen by the container's root, so that
 * mkdirs at once cannot each find one place left and together go past the budget. pthread
 * mutexes, as in audit.c: ThreadSanitizer cannot see GLib's.
 */
static pthread_mutex_t budget_locks[16] = {[0 ... 15] = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t *budget_lock(const Hierarchy *h) {
        return &budget_locks[(g_str_hash(h->name) ^ g_str_hash(h->root)) % G_N_ELEMENTS(budget_locks)];
}

static int view_mkdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath, mode_t mode) {
        g_auto(ViewNode) existing = {0};
        g_auto(ViewNode) parent = {0};
        g_autofree char *parent_path = NULL, *path = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        const char *slash = strrchr(subpath, '/');
        const char *name = slash ? slash + 1 : subpath;
        CapfsAuditEvent ev = {.op = CAPFS_AUDIT_MKDIR};
        int r;

        /* "..", "." and overlong names are refused before anything else is looked at. */
        r = check_component(name);
        if (r < 0)
                return r;
        r = view_resolve(host, ct, subpath, &existing);
        if (r >= 0)
                return -EEXIST;
        if (r != -ENOENT)
                return r;
        parent_path = slash ? g_strndup(subpath, (gsize) (slash - subpath)) : g_strdup("");
        r = view_resolve(host, ct, parent_path, &parent);
        if (r < 0)
                return r;
        if (parent.kind == NODE_KNOB)
                return -ENOTDIR;
        /* Above the root, or the list of hierarchies: nothing may be added there. */
        if (parent.kind != NODE_CGROUP)
                return -EACCES;

        path = path_join(parent.cgroup, name);
        ev.hierarchy = parent.h.name;
        ev.root = parent.h.root;
        ev.path = path;
        if (parent.h.read_only) {
                r = -EACCES;
        } else {
                pthread_mutex_t *lock = budget_lock(&parent.h);

                pthread_mutex_lock(lock);
                r = check_budget(host, ct, &parent.h, path);
                if (r >= 0) {
                        dirfd = open_cgroup(host, &parent.h, parent.cgroup);
                        r = dirfd;
                }
                /* The mode is the kernel's business: cgroupfs makes every cgroup 0755 whatever is asked. */
                if (dirfd >= 0)
                        r = mkdirat(dirfd, name, 0755) < 0 ? -errno : 0;
                pthread_mutex_unlock(lock);
        }
        ev.result = r;
        capfs_audit(ct, &ev);
        return r;
}

static int view_rmdir(const CapfsHost *host, const CapfsContainer *ct, const char *subpath) {
        g_auto(ViewNode) n = {0};
        g_autofree char *parent = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        CapfsAuditEvent ev = {.op = CAPFS_AUDIT_RMDIR};
        const char *last;
        int r;

        r = view_resolve(host, ct, subpath, &n);
        if (r < 0)
                return r;
        if (n.kind == NODE_KNOB)
                return -ENOTDIR;
        /* The top, a link or an ancestor: not the caller's to remove. */
        if (n.kind != NODE_CGROUP)
                return -EACCES;

        ev.hierarchy = n.h.name;
        ev.root = n.h.root;
        ev.path = n.cgroup;
        /*
         * The root itself: EACCES, what a delegated tree answers too (its parent is not
         * the container's to change).
         */
        if (is_root(&n) || n.h.read_only) {
                r = -EACCES;
        } else {
                last = strrchr(n.cgroup, '/') + 1;
                parent = last - 1 == n.cgroup ? g_strdup("/")
                                              : g_strndup(n.cgroup, (gsize) (last - 1 - n.cgroup));
                dirfd = open_cgroup(host, &n.h, parent);
                r = dirfd;
                if (dirfd >= 0)
                        r = unlinkat(dirfd, last, AT_REMOVEDIR) < 0 ? -errno : 0;
        }
        ev.result = r;
        capfs_audit(ct, &ev);
        return r;
}

const CapfsSubtree capfs_cgroup_subtree = {
        .path = "cgroup",
        .stat = view_stat,
        .readdir = view_readdir,
        .read = view_read,
        .readlink = view_readlink,
        .changes =
                &(const CapfsSubtreeChanges){
                        .open = view_open,
                        .write = view_write,
                        .setattr = view_setattr,
                        .mkdir = view_mkdir,
                        .rmdir = view_rmdir,
                        .refused_errno = -EPERM,
                },
};
