/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "handles.h"
#include "lowlevel.h"

/* Directories and files whose existence does not depend on the caller may be cached a while. */
#define STABLE_TIMEOUT_SEC 60.0

typedef struct FileHandle {
        GMutex lock;
        char *path;
        GString *content;
        bool rendered;
} FileHandle;

typedef struct DirEntry {
        char *name;
        CapfsNodeType type;
} DirEntry;

typedef struct DirHandle {
        char *path;
        GArray *entries; /* DirEntry, a snapshot taken at opendir */
} DirHandle;

static CapfsServer *server_of(fuse_req_t req) {
        return fuse_req_userdata(req);
}

/* The one place where libcapfs's negative errno becomes a FUSE reply. */
static void reply_errno(fuse_req_t req, int r) {
        g_assert(r < 0);
        fuse_reply_err(req, -r);
}

static __thread uint64_t request_pidns;

void capfs_request_set_pidns(uint64_t inode) {
        request_pidns = inode;
}

static int request_container(fuse_req_t req, CapfsContainer **ret) {
        const struct fuse_ctx *ctx = fuse_req_ctx(req);

        /* Requests the kernel makes on its own carry no pid; nothing can be rendered for them. */
        if (ctx->pid <= 0)
                return -EIO;
        return capfs_container_resolve_in(server_of(req)->host, ctx->pid, request_pidns, ret);
}

static int request_path(fuse_req_t req, fuse_ino_t ino, char **ret) {
        char *path = node_table_path(server_of(req)->nodes, ino);

        if (!path)
                return -ESTALE;
        *ret = path;
        return 0;
}

/* The path of @ino and the caller's container: what nearly every request starts with. */
static int request_node(fuse_req_t req, fuse_ino_t ino, char **path, CapfsContainer **ct) {
        int r = request_path(req, ino, path);

        return r < 0 ? r : request_container(req, ct);
}

static char *child_path(const char *parent, const char *name) {
        return *parent ? g_strconcat(parent, "/", name, NULL) : g_strdup(name);
}

static mode_t type_bits(CapfsNodeType type) {
        switch (type) {
        case CAPFS_NODE_DIR:
                return S_IFDIR;
        case CAPFS_NODE_SYMLINK:
                return S_IFLNK;
        case CAPFS_NODE_FILE:
        default:
                return S_IFREG;
        }
}

static void fill_stat(CapfsServer *srv, fuse_ino_t ino, const CapfsNodeAttr *attr, struct stat *st) {
        memset(st, 0, sizeof(*st));
        st->st_ino = ino;
        st->st_mode = type_bits(attr->type) | attr->perm;
        st->st_nlink = attr->type == CAPFS_NODE_DIR ? 2 : 1;
        st->st_uid = attr->uid;
        st->st_gid = attr->gid;
        st->st_size = (off_t) attr->size;
        st->st_blksize = 4096;
        st->st_atim = st->st_mtim = st->st_ctim = srv->started;
}

/* How long the kernel may keep an entry and its attributes. */
static double timeout_for(const CapfsServer *srv, const CapfsNodeAttr *attr) {
        if (attr->per_caller)
                return 0.0;
        /* The bound on what a container may see late is the render cache's. */
        if (attr->per_container)
                return (double) srv->host->render_cache_usec / G_USEC_PER_SEC;
        return STABLE_TIMEOUT_SEC;
}

static int stat_path(fuse_req_t req, const char *path, CapfsNodeAttr *attr) {
        g_autoptr(CapfsContainer) ct = NULL;
        int r = request_container(req, &ct);

        if (r < 0)
                return r;
        return capfs_node_stat(server_of(req)->host, ct, path, attr);
}

/* Gives the kernel an entry for @path, which exists for @ct; used by LOOKUP and MKDIR. */
static void reply_entry(fuse_req_t req, const CapfsContainer *ct, const char *path) {
        CapfsServer *srv = server_of(req);
        struct fuse_entry_param entry = {0};
        CapfsNodeAttr attr;
        int r;

        r = capfs_node_stat(srv->host, ct, path, &attr);
        if (r < 0)
                return reply_errno(req, r);
        entry.ino = node_table_ref(srv->nodes, path);
        entry.attr_timeout = entry.entry_timeout = timeout_for(srv, &attr);
        fill_stat(srv, entry.ino, &attr, &entry.attr);
        /* An interrupted lookup gives the kernel no reference to keep. */
        if (fuse_reply_entry(req, &entry) != 0)
                node_table_forget(srv->nodes, entry.ino, 1);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *dir = NULL, *path = NULL;
        int r;

        r = request_node(req, parent, &dir, &ct);
        if (r < 0)
                return reply_errno(req, r);
        path = child_path(dir, name);
        reply_entry(req, ct, path);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
        node_table_forget(server_of(req)->nodes, ino, nlookup);
        fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets) {
        for (size_t i = 0; i < count; i++)
                node_table_forget(server_of(req)->nodes, forgets[i].ino, forgets[i].nlookup);
        fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        g_autofree char *path = NULL;
        CapfsNodeAttr attr;
        struct stat st;
        int r;

        r = request_path(req, ino, &path);
        if (r < 0)
                return reply_errno(req, r);
        r = stat_path(req, path, &attr);
        if (r < 0)
                return reply_errno(req, r);
        fill_stat(server_of(req), ino, &attr, &st);
        fuse_reply_attr(req, &st, timeout_for(server_of(req), &attr));
}

/* Nothing served today may be changed: chmod, chown, truncate and utimes all end here. */
static unsigned setattr_changes(int to_set) {
        unsigned what = 0;

        if (to_set & FUSE_SET_ATTR_SIZE)
                what |= CAPFS_SETATTR_SIZE;
        if (to_set & FUSE_SET_ATTR_MODE)
                what |= CAPFS_SETATTR_MODE;
        if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
                what |= CAPFS_SETATTR_OWNER;
        if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                      FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))
                what |= CAPFS_SETATTR_TIMES;
        return what;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi) {
        CapfsServer *srv = server_of(req);
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *path = NULL;
        CapfsNodeAttr node;
        struct stat st;
        int r;

        r = request_node(req, ino, &path, &ct);
        if (r >= 0)
                r = capfs_node_setattr(srv->host, ct, path, setattr_changes(to_set),
                                       (uint64_t) attr->st_size);
        if (r >= 0)
                r = capfs_node_stat(srv->host, ct, path, &node);
        if (r < 0)
                return reply_errno(req, r);
        fill_stat(srv, ino, &node, &st);
        fuse_reply_attr(req, &st, timeout_for(srv, &node));
}

/* Extended attributes are never set through capfs; reading them is not offered at all. */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
                        int flags) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *path = NULL;
        int r;

        r = request_node(req, ino, &path, &ct);
        if (r >= 0)
                r = capfs_node_setattr(server_of(req)->host, ct, path, CAPFS_SETATTR_XATTR, 0);
        reply_errno(req, r < 0 ? r : -EIO);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
        op_setxattr(req, ino, name, NULL, 0, 0);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autoptr(GString) target = g_string_new(NULL);
        g_autofree char *path = NULL;
        int r;

        r = request_node(req, ino, &path, &ct);
        if (r >= 0)
                r = capfs_node_readlink(server_of(req)->host, ct, path, target);
        if (r < 0)
                return reply_errno(req, r);
        fuse_reply_readlink(req, target->str);
}

static void file_handle_free(FileHandle *fh) {
        /*
         * RELEASE can arrive as soon as READ's reply is on its way, while that thread still
         * holds the lock: wait for it to let go before the handle goes away.
         */
        g_mutex_lock(&fh->lock);
        g_mutex_unlock(&fh->lock);
        g_mutex_clear(&fh->lock);
        g_free(fh->path);
        g_string_free(fh->content, TRUE);
        g_free(fh);
}

static FileHandle *file_handle_new(char *path) {
        FileHandle *fh = g_new0(FileHandle, 1);

        g_mutex_init(&fh->lock);
        fh->path = path;
        fh->content = g_string_new(NULL);
        return fh;
}

/* The open file behind @fi; one an earlier worker opened is re-created from the inode's path. */
static FileHandle *file_handle_of(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        FileHandle *fh = handle_lookup(fi->fh);
        char *path;

        if (fh)
                return fh;
        if (request_path(req, ino, &path) < 0)
                return NULL;
        return handle_adopt(fi->fh, file_handle_new(path), (GDestroyNotify) file_handle_free);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *path = NULL;
        FileHandle *fh;
        CapfsNodeAttr attr;
        int r;

        /* A /proc file opens the same for everyone: its READ looks the caller's container up. */
        r = request_path(req, ino, &path);
        if (r >= 0 && capfs_node_needs_container(path))
                r = request_container(req, &ct);
        /*
         * Opening to write asks the node's rules (and refuses a directory); reading needs only
         * its stat. One of the two: each resolves the node afresh (a view's knob, a few syscalls).
         */
        if (r >= 0 && ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)))
                r = capfs_node_open(server_of(req)->host, ct, path, fi->flags);
        else if (r >= 0) {
                r = capfs_node_stat(server_of(req)->host, ct, path, &attr);
                if (r >= 0 && attr.type == CAPFS_NODE_DIR)
                        r = -EISDIR;
        }
        if (r < 0)
                return reply_errno(req, r);

        fh = file_handle_new(g_steal_pointer(&path));
        fi->fh = handle_register(fh, (GDestroyNotify) file_handle_free);
        /* Content is rendered for each caller: the page cache must never hand one container's view to
         * another. */
        fi->direct_io = 1;
        fi->keep_cache = 0;
        if (fuse_reply_open(req, fi) != 0)
                file_handle_free(handle_unregister(fi->fh));
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        FileHandle *fh = file_handle_of(req, ino, fi);
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = NULL;
        int r;

        if (!fh)
                return reply_errno(req, -ESTALE);
        locker = g_mutex_locker_new(&fh->lock);

        /* Like procfs: reading from the start (pread at 0, or lseek 0 as top and free do) shows fresh data.
         */
        if (off == 0 || !fh->rendered) {
                g_autoptr(CapfsContainer) ct = NULL;

                r = request_container(req, &ct);
                if (r >= 0)
                        r = capfs_node_read(server_of(req)->host, ct, fh->path, fh->content);
                if (r < 0)
                        return reply_errno(req, r);
                fh->rendered = true;
        }
        if (off < 0 || (uint64_t) off >= fh->content->len)
                return (void) fuse_reply_buf(req, NULL, 0);
        fuse_reply_buf(req, fh->content->str + off, MIN(size, fh->content->len - (size_t) off));
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi) {
        FileHandle *fh = file_handle_of(req, ino, fi);
        g_autoptr(CapfsContainer) ct = NULL;
        ssize_t n;
        int r;

        if (!fh)
                return reply_errno(req, -ESTALE);
        r = request_container(req, &ct);
        if (r < 0)
                return reply_errno(req, r);
        /* Knobs take one whole value per write(2); the offset means nothing to them. */
        n = capfs_node_write(server_of(req)->host, ct, fh->path, buf, size);
        if (n < 0)
                return reply_errno(req, (int) n);
        fuse_reply_write(req, (size_t) n);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        FileHandle *fh = handle_unregister(fi->fh);

        if (fh)
                file_handle_free(fh);
        fuse_reply_err(req, 0);
}

static void dir_entry_clear(DirEntry *entry) {
        g_free(entry->name);
}

static void dir_handle_free(DirHandle *dh) {
        g_free(dh->path);
        g_array_unref(dh->entries);
        g_free(dh);
}

static void add_dir_entry(void *userdata, const char *name, CapfsNodeType type) {
        DirHandle *dh = userdata;
        DirEntry entry = {.name = g_strdup(name), .type = type};

        g_array_append_val(dh->entries, entry);
}

/* A snapshot of the directory @ino as the caller sees it. */
static int dir_handle_open(fuse_req_t req, fuse_ino_t ino, DirHandle **ret) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *path = NULL;
        DirHandle *dh;
        int r;

        r = request_node(req, ino, &path, &ct);
        if (r < 0)
                return r;

        dh = g_new0(DirHandle, 1);
        dh->entries = g_array_new(FALSE, FALSE, sizeof(DirEntry));
        g_array_set_clear_func(dh->entries, (GDestroyNotify) dir_entry_clear);
        add_dir_entry(dh, ".", CAPFS_NODE_DIR);
        add_dir_entry(dh, "..", CAPFS_NODE_DIR);
        r = capfs_node_readdir(server_of(req)->host, ct, path, add_dir_entry, dh);
        if (r < 0) {
                dir_handle_free(dh);
                return r;
        }
        dh->path = g_steal_pointer(&path);
        *ret = dh;
        return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        DirHandle *dh;
        int r = dir_handle_open(req, ino, &dh);

        if (r < 0)
                return reply_errno(req, r);
        fi->fh = handle_register(dh, (GDestroyNotify) dir_handle_free);
        if (fuse_reply_open(req, fi) != 0)
                dir_handle_free(handle_unregister(fi->fh));
}

/* One an earlier worker opened is taken again, for the caller that reads it first. */
static DirHandle *dir_handle_of(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int *error) {
        DirHandle *dh = handle_lookup(fi->fh);

        if (dh)
                return dh;
        *error = dir_handle_open(req, ino, &dh);
        if (*error < 0)
                return NULL;
        return handle_adopt(fi->fh, dh, (GDestroyNotify) dir_handle_free);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        CapfsServer *srv = server_of(req);
        g_autofree char *buf = NULL;
        size_t used = 0;
        int r = 0;
        DirHandle *dh = dir_handle_of(req, ino, fi, &r);

        if (!dh)
                return reply_errno(req, r);
        buf = g_malloc(size);

        for (size_t i = off < 0 ? 0 : (size_t) off; i < dh->entries->len; i++) {
                const DirEntry *entry = &g_array_index(dh->entries, DirEntry, i);
                g_autofree char *path = child_path(dh->path, entry->name);
                struct stat st = {
                        .st_ino = node_table_peek(srv->nodes, path),
                        .st_mode = type_bits(entry->type),
                };
                size_t len =
                        fuse_add_direntry(req, buf + used, size - used, entry->name, &st, (off_t) i + 1);

                if (len > size - used)
                        break;
                used += len;
        }
        fuse_reply_buf(req, buf, used);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        DirHandle *dh = handle_unregister(fi->fh);

        if (dh)
                dir_handle_free(dh);
        fuse_reply_err(req, 0);
}

/* Creating files, device nodes, links or renaming: never; fs/ says with which errno. */
static void refuse_change(fuse_req_t req, fuse_ino_t parent) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *path = NULL;
        int r;

        r = request_node(req, parent, &path, &ct);
        if (r >= 0)
                r = capfs_node_refuse_change(server_of(req)->host, ct, path);
        reply_errno(req, r < 0 ? r : -EIO);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev) {
        refuse_change(req, parent);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
        refuse_change(req, parent);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name) {
        refuse_change(req, parent);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags) {
        refuse_change(req, parent);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
        refuse_change(req, newparent);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi) {
        refuse_change(req, parent);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *dir = NULL, *path = NULL;
        int r;

        r = request_node(req, parent, &dir, &ct);
        if (r < 0)
                return reply_errno(req, r);
        path = child_path(dir, name);
        r = capfs_node_mkdir(server_of(req)->host, ct, path, mode);
        if (r < 0)
                return reply_errno(req, r);
        reply_entry(req, ct, path);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
        g_autoptr(CapfsContainer) ct = NULL;
        g_autofree char *dir = NULL, *path = NULL;
        int r;

        r = request_node(req, parent, &dir, &ct);
        if (r < 0)
                return reply_errno(req, r);
        path = child_path(dir, name);
        r = capfs_node_rmdir(server_of(req)->host, ct, path);
        fuse_reply_err(req, r < 0 ? -r : 0); /* 0: removed */
}

const struct fuse_lowlevel_ops capfs_lowlevel_ops = {
        .lookup = op_lookup,
        .forget = op_forget,
        .forget_multi = op_forget_multi,
        .getattr = op_getattr,
        .setattr = op_setattr,
        .readlink = op_readlink,
        .mknod = op_mknod,
        .mkdir = op_mkdir,
        .unlink = op_unlink,
        .rmdir = op_rmdir,
        .symlink = op_symlink,
        .rename = op_rename,
        .link = op_link,
        .open = op_open,
        .read = op_read,
        .write = op_write,
        .release = op_release,
        .opendir = op_opendir,
        .readdir = op_readdir,
        .releasedir = op_releasedir,
        .create = op_create,
        .setxattr = op_setxattr,
        .removexattr = op_removexattr,
};
