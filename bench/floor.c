/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-bench-floor: the FUSE floor. A libfuse3 low-level file system with one file, "file",
 * returning a constant text, mounted as capfs is (allow_other, direct I/O, so every read reaches
 * the daemon). Nothing is computed per request: what a read costs here is what FUSE itself costs,
 * the least any FUSE /proc view can cost. Its entry and attributes are cached for an hour (they
 * never change), which only ever makes it faster.
 *
 *   capfs-bench-floor [--loop single|mt|clone] MOUNTPOINT   (foreground; SIGTERM unmounts)
 *
 * The loop modes of libfuse3, none of which is the fastest for every load, so bench/run runs all
 * three and takes the best as the floor:
 *   single  fuse_session_loop(): one thread, no hand-off
 *   mt      fuse_session_loop_mt() as libfuse configures it by default (10 idle threads at most)
 *   clone   fuse_session_loop_mt() with a cloned /dev/fuse fd per thread, 8 idle and 64 at most
 *           (capfs's own configuration)
 */
#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_SECONDS 3600.0

/* About the size of /proc/meminfo, so copying costs the same. */
static char content[1400];

static void floor_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        struct stat st = {.st_ino = ino, .st_nlink = 1};
        if (ino == FUSE_ROOT_ID)
                st.st_mode = S_IFDIR | 0555;
        else
                st.st_mode = S_IFREG | 0444, st.st_size = sizeof(content) - 1;
        fuse_reply_attr(req, &st, CACHE_SECONDS);
}

static void floor_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
        struct fuse_entry_param e = {.ino = 2};
        if (parent != FUSE_ROOT_ID || strcmp(name, "file") != 0) {
                fuse_reply_err(req, ENOENT);
                return;
        }
        e.attr.st_ino = 2;
        e.attr.st_mode = S_IFREG | 0444;
        e.attr.st_nlink = 1;
        e.attr.st_size = sizeof(content) - 1;
        e.attr_timeout = CACHE_SECONDS;
        e.entry_timeout = CACHE_SECONDS;
        fuse_reply_entry(req, &e);
}

static void floor_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
        fi->direct_io = 1;
        fuse_reply_open(req, fi);
}

static void floor_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
        size_t len = sizeof(content) - 1;
        if ((size_t) off >= len)
                fuse_reply_buf(req, NULL, 0);
        else
                fuse_reply_buf(req, content + off, size < len - (size_t) off ? size : len - (size_t) off);
}

static const struct fuse_lowlevel_ops floor_ops = {
        .lookup = floor_lookup,
        .getattr = floor_getattr,
        .open = floor_open,
        .read = floor_read,
};

int main(int argc, char **argv) {
        const char *loop = "clone", *mountpoint;
        int r;

        if (argc == 4 && strcmp(argv[1], "--loop") == 0)
                loop = argv[2];
        else if (argc != 2) {
                fprintf(stderr, "usage: %s [--loop single|mt|clone] MOUNTPOINT\n", argv[0]);
                return 2;
        }
        if (strcmp(loop, "single") != 0 && strcmp(loop, "mt") != 0 && strcmp(loop, "clone") != 0) {
                fprintf(stderr, "%s: unknown loop mode '%s' (single, mt or clone)\n", argv[0], loop);
                return 2;
        }
        mountpoint = argv[argc - 1];
        for (size_t i = 0; i + 1 < sizeof(content); i++)
                content[i] = (i % 40 == 39) ? '\n' : 'a' + (char) (i % 26);
        char *fuse_argv[] = {argv[0], "-o", "allow_other,default_permissions,fsname=floor,subtype=floor",
                             NULL};
        struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
        struct fuse_session *se = fuse_session_new(&args, &floor_ops, sizeof(floor_ops), NULL);
        if (!se || fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, mountpoint) != 0) {
                fprintf(stderr, "%s: cannot mount on %s\n", argv[0], mountpoint);
                return 1;
        }
        if (strcmp(loop, "single") == 0) {
                r = fuse_session_loop(se);
        } else {
                struct fuse_loop_config *config = fuse_loop_cfg_create();
                if (strcmp(loop, "clone") == 0) {
                        fuse_loop_cfg_set_clone_fd(config, 1);
                        fuse_loop_cfg_set_idle_threads(config, 8);
                        fuse_loop_cfg_set_max_threads(config, 64);
                }
                r = fuse_session_loop_mt(se, config);
                fuse_loop_cfg_destroy(config);
        }
        fuse_session_unmount(se);
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        return r ? 1 : 0;
}
