/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The container's cgroups: capfs/NAME below the launcher's own cgroup (or --cgroup-parent, or
 * systemd's scope) in every hierarchy it is in. capfs/NAME ("outer") carries the device rules and
 * the cgroup budget; capfs/NAME/payload ("inner") is the container's root, which its init joins
 * before it makes its cgroup namespace. The limits go on the container's root, where the JVM,
 * Node.js and Go read them (each at its own cgroup, never above), wherever the container cannot
 * change them there: behind capfs's view (v1 controllers), or on a cgroup2 mount with nsdelegate,
 * where the kernel refuses a namespace's writes to its root's files. Where nothing protects the
 * root (--cgroup=native on v1, cgroup2 without nsdelegate) they stay on the outer cgroup, out of
 * reach and out of sight. Only cgroups made here are ever removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "parse/parse.h"

static void hierarchy_free(Hierarchy *h) {
        g_free(h->controllers);
        g_free(h->dir);
        g_free(h->outer);
        g_free(h->inner);
        g_free(h);
}

static bool has_controller(const Hierarchy *h, const char *controller) {
        g_auto(GStrv) c = g_strsplit(h->controllers, ",", -1);
        return g_strv_contains((const char *const *) c, controller);
}

/* Whether the super options of a v1 cgroup mount ("rw,memory") name every one of CONTROLLERS. */
static bool mounts_controllers(const char *super_options, const char *controllers) {
        g_autofree char *opts = g_strdup_printf(",%s,", super_options);
        g_auto(GStrv) want = g_strsplit(controllers, ",", -1);
        for (char **w = want; *w; w++) {
                g_autofree char *needle = g_strdup_printf(",%s,", *w);
                if (!strstr(opts, needle))
                        return false;
        }
        return true;
}

/* Whether a mount's super options ("rw,nsdelegate,memory_recursiveprot") hold OPTION. */
static bool has_option(const char *super_options, const char *option) {
        g_auto(GStrv) opts = g_strsplit(super_options, ",", -1);
        return g_strv_contains((const char *const *) opts, option);
}

/* The directory of a hierarchy under /sys/fs/cgroup ("" for cgroup2), from mountinfo. */
static char *hierarchy_mountpoint(GPtrArray *mounts, const char *controllers, bool *nsdelegate) {
        for (guint i = 0; i < mounts->len; i++) {
                const CapfsMountinfo *m = mounts->pdata[i];
                if (!g_str_has_prefix(m->mountpoint, CGROUP_ROOT "/") &&
                    strcmp(m->mountpoint, CGROUP_ROOT) != 0)
                        continue;
                if (controllers[0] == '\0' && strcmp(m->fstype, "cgroup2") == 0)
                        *nsdelegate = has_option(m->super_options, "nsdelegate");
                if (controllers[0] == '\0' ? strcmp(m->fstype, "cgroup2") == 0
                                           : strcmp(m->fstype, "cgroup") == 0 &&
                                                     mounts_controllers(m->super_options, controllers))
                        return g_strdup(m->mountpoint);
        }
        return NULL;
}

int cgroups_discover(Launch *l, GError **error) {
        g_autofree char *self = NULL, *info = NULL;
        g_autoptr(GPtrArray) mounts = NULL;
        g_autoptr(GError) local = NULL;
        int r;

        if (!g_file_get_contents("/proc/self/cgroup", &self, NULL, &local) ||
            !g_file_get_contents("/proc/self/mountinfo", &info, NULL, &local))
                return launch_invalid(error, "%s", local->message);
        r = capfs_parse_mountinfo(info, strlen(info), &mounts);
        if (r < 0)
                return launch_fail(error, r, "cannot parse /proc/self/mountinfo");
        l->hierarchies = g_ptr_array_new_with_free_func((GDestroyNotify) hierarchy_free);
        l->v2_only = access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0;
        g_auto(GStrv) lines = g_strsplit(self, "\n", -1);
        for (char **line = lines; *line && **line; line++) {
                g_auto(GStrv) f = g_strsplit(*line, ":", 3);
                if (g_strv_length(f) != 3)
                        continue;
                bool nsdelegate = false;
                g_autofree char *found = hierarchy_mountpoint(mounts, f[1], &nsdelegate);
                g_autofree char *mnt =
                        l->v2_only && !f[1][0] ? g_strdup(CGROUP_ROOT) : g_steal_pointer(&found);
                if (!mnt)
                        continue;
                if (!f[1][0])
                        l->nsdelegate = nsdelegate;
                const char *parent = l->opt.cgroup_parent ? l->opt.cgroup_parent : f[2];
                Hierarchy *h = g_new0(Hierarchy, 1);
                h->controllers = g_strdup(f[1]);
                h->dir = g_path_get_basename(mnt);
                h->outer = g_strdup_printf("%s%s%s/capfs/%s", mnt, parent[0] == '/' ? "" : "/",
                                           strcmp(parent, "/") == 0 ? "" : parent, l->opt.name);
                h->inner = g_strdup_printf("%s/payload", h->outer);
                if (!f[1][0])
                        h->limits_on_root = nsdelegate;
                else if (!g_str_has_prefix(f[1], "name="))
                        h->limits_on_root = !l->opt.no_capfs && l->opt.cgroup_mode == CGROUP_MODE_CAPFS;
                g_ptr_array_add(l->hierarchies, h);
        }
        if (l->hierarchies->len == 0)
                return launch_invalid(error,
                                      "no cgroup hierarchy found in /proc/self/cgroup: is cgroupfs mounted "
                                      "under " CGROUP_ROOT "?");
        return 0;
}

static int copy_knob(const char *from_dir, const char *to_dir, const char *knob, GError **error) {
        g_autofree char *from = g_build_filename(from_dir, knob, NULL);
        g_autofree char *to = g_build_filename(to_dir, knob, NULL);
        g_autofree char *value = NULL;
        g_autoptr(GError) local = NULL;
        if (!g_file_get_contents(from, &value, NULL, &local))
                return launch_invalid(error, "%s", local->message);
        return write_knob(to, g_strstrip(value), error);
}

char *first_cpus(const char *list, unsigned count) {
        g_autoptr(GArray) cpus = NULL;
        if (capfs_parse_cpuset(list, strlen(list), &cpus) < 0)
                return NULL;
        GString *out = g_string_new(NULL);
        capfs_format_cpuset((const guint *) (void *) cpus->data, MIN(count, cpus->len), out);
        return g_string_free(out, FALSE);
}

static int make_cgroup(const char *dir, bool cpuset, bool *created, GError **error) {
        if (mkdir(dir, 0755) < 0) {
                if (errno == EEXIST)
                        return launch_fail(
                                error, -EEXIST,
                                "cgroup %s: is a container named like this running? Choose another "
                                "--name or remove it",
                                dir);
                return launch_fail(error, -errno, "cannot create cgroup %s", dir);
        }
        *created = true;
        if (cpuset) {
                g_autofree char *parent = g_path_get_dirname(dir);
                int r = copy_knob(parent, dir, "cpuset.cpus", error);
                return r < 0 ? r : copy_knob(parent, dir, "cpuset.mems", error);
        }
        return 0;
}

/*
 * Hands every controller DIR has down to its children. cgroup2 refuses that (EBUSY) while DIR
 * holds processes, unless it is the root: the container then needs a parent of its own.
 */
static int enable_controllers(const char *dir, GError **error) {
        g_autofree char *available_path = g_build_filename(dir, "cgroup.controllers", NULL);
        g_autofree char *subtree = g_build_filename(dir, "cgroup.subtree_control", NULL);
        g_autofree char *available = NULL;
        g_autoptr(GError) local = NULL;
        if (!g_file_get_contents(available_path, &available, NULL, &local))
                return launch_invalid(error, "cannot read %s: %s", available_path, local->message);
        g_auto(GStrv) controllers = g_strsplit_set(g_strstrip(available), " ", -1);
        for (char **c = controllers; *c && **c; c++) {
                g_autofree char *plus = g_strdup_printf("+%s", *c);
                if (write_value(subtree, plus) == -EBUSY)
                        return launch_fail(
                                error, -EBUSY,
                                "cannot hand the %s controller down from cgroup %s: it holds processes "
                                "(cgroup2 allows that only in cgroups without any); give the container "
                                "a parent cgroup without processes with --cgroup-parent",
                                *c, dir);
                /* Other refusals (a controller the kernel will not delegate) leave that one out. */
        }
        return 0;
}

static const char *limits_dir(const Hierarchy *h) {
        return h->limits_on_root ? h->inner : h->outer;
}

static int set_knob_in(const char *dir, const char *knob, const char *value, GError **error) {
        g_autofree char *path = g_build_filename(dir, knob, NULL);
        return write_knob(path, value, error);
}

static int set_knob(const Hierarchy *h, const char *knob, const char *value, GError **error) {
        return set_knob_in(limits_dir(h), knob, value, error);
}

/*
 * The cgroup budget in the cgroup2 tree, on the outer cgroup with one more of each for the
 * container's root: there the container cannot raise it, even on a cgroup2 mount without
 * nsdelegate (a hybrid host's). The kernel enforces it in that tree; capfs's view takes it from
 * there for the v1 hierarchies too.
 */
static int set_budget(const Hierarchy *h, const Options *o, GError **error) {
        int r;

        if (o->max_descendants != UINT64_MAX) {
                g_autofree char *value = g_strdup_printf("%" G_GUINT64_FORMAT, o->max_descendants + 1);
                if ((r = set_knob_in(h->outer, "cgroup.max.descendants", value, error)) < 0)
                        return r;
        }
        if (o->max_depth != UINT64_MAX) {
                g_autofree char *value = g_strdup_printf("%" G_GUINT64_FORMAT, o->max_depth + 1);
                if ((r = set_knob_in(h->outer, "cgroup.max.depth", value, error)) < 0)
                        return r;
        }
        return 0;
}

/* The limits of the options on H's limits_dir(), for the controllers H has. */
static int set_limits(Launch *l, Hierarchy *h, GError **error) {
        const Options *o = &l->opt;
        bool v2 = h->controllers[0] == '\0';
        int r;

        if (v2 && (r = set_budget(h, o, error)) < 0)
                return r;
        if (v2 && !l->v2_only)
                return 0; /* a hybrid host's cgroup2 tree has no controllers to limit with */
        if (o->memory_bytes && (v2 || has_controller(h, "memory"))) {
                g_autofree char *value = g_strdup_printf("%" G_GUINT64_FORMAT, o->memory_bytes);
                if ((r = set_knob(h, v2 ? "memory.max" : "memory.limit_in_bytes", value, error)) < 0)
                        return r;
        }
        if (o->cpus_milli > 0 && (v2 || has_controller(h, "cpu"))) {
                g_autofree char *quota = g_strdup_printf("%d", o->cpus_milli * 100);
                g_autofree char *max = g_strdup_printf("%s 100000", quota);
                if (v2)
                        r = set_knob(h, "cpu.max", max, error);
                else if ((r = set_knob(h, "cpu.cfs_period_us", "100000", error)) == 0)
                        r = set_knob(h, "cpu.cfs_quota_us", quota, error);
                if (r < 0)
                        return r;
        }
        /* nproc and the runtimes that size thread pools read the affinity mask, which follows the
         * cpuset: --cpus N also gives the first ceil(N) CPUs. */
        if (o->cpus_milli > 0 && (v2 || has_controller(h, "cpuset"))) {
                g_autofree char *effective =
                        g_build_filename(limits_dir(h), v2 ? "cpuset.cpus.effective" : "cpuset.cpus", NULL);
                g_autofree char *list = NULL;
                if (g_file_get_contents(effective, &list, NULL, NULL)) {
                        g_autofree char *cut =
                                first_cpus(g_strstrip(list), (unsigned) (o->cpus_milli + 999) / 1000);
                        if (cut && *cut && (r = set_knob(h, "cpuset.cpus", cut, error)) < 0)
                                return r;
                }
        }
        if (o->pids > 0 && (v2 || has_controller(h, "pids"))) {
                g_autofree char *value = g_strdup_printf("%" G_GINT64_FORMAT, o->pids);
                if ((r = set_knob(h, "pids.max", value, error)) < 0)
                        return r;
        }
        return 0;
}

/* Says where the limits are when they cannot be where runtimes look. */
static void cgroups_log_layout(const Launch *l) {
        for (guint i = 0; i < l->hierarchies->len; i++) {
                const Hierarchy *h = l->hierarchies->pdata[i];
                bool v2 = h->controllers[0] == '\0';
                if (h->limits_on_root || g_str_has_prefix(h->controllers, "name=") || (v2 && !l->v2_only))
                        continue;
                g_printerr(
                        "capfs-launch: the %s limits are on %s, above the container's root: there %s could "
                        "raise them. Runtimes that read their own cgroup's limits (the JVM, Node.js, Go) "
                        "will not see them; sysinfo() and capfs's /proc still show them.\n",
                        v2 ? "cgroup2" : h->controllers, h->outer,
                        v2 ? "the container, on a cgroup2 mount without nsdelegate,"
                           : "the container, with --cgroup=native,");
        }
}

int cgroups_create(Launch *l, GError **error) {
        int r;

        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                bool v2 = h->controllers[0] == '\0';
                bool cpuset = !v2 && has_controller(h, "cpuset");
                g_autofree char *capfs_dir = g_path_get_dirname(h->outer);
                bool made = mkdir(capfs_dir, 0755) == 0;
                if (!made && errno != EEXIST)
                        return launch_fail(error, -errno, "cannot create cgroup %s", capfs_dir);
                if (cpuset && made) {
                        g_autofree char *parent = g_path_get_dirname(capfs_dir);
                        if ((r = copy_knob(parent, capfs_dir, "cpuset.cpus", error)) < 0 ||
                            (r = copy_knob(parent, capfs_dir, "cpuset.mems", error)) < 0)
                                return r;
                }
                /* cgroup2: a limit needs its controller enabled in every cgroup above it. */
                if (v2 && l->v2_only) {
                        g_autofree char *parent = g_path_get_dirname(capfs_dir);
                        if ((r = enable_controllers(parent, error)) < 0 ||
                            (r = enable_controllers(capfs_dir, error)) < 0)
                                return r;
                }
                if ((r = make_cgroup(h->outer, cpuset, &h->created_outer, error)) < 0)
                        return r;
                if (v2 && l->v2_only && (r = enable_controllers(h->outer, error)) < 0)
                        return r;
                if (!v2 && has_controller(h, "devices") && (r = devices_restrict_v1(h, error)) < 0)
                        return r;
                if (v2 && l->v2_only && (r = devices_restrict_v2(h, error)) < 0)
                        return r;
                /*
                 * Limits on the root: after it exists (a v1 cpuset copies its parent's CPUs when
                 * made). Limits above it: before, since a v1 cpuset cannot shrink below a child's
                 * CPUs (EBUSY), and the root then copies the cut set.
                 */
                if (!h->limits_on_root && (r = set_limits(l, h, error)) < 0)
                        return r;
                if ((r = make_cgroup(h->inner, cpuset, &h->created_inner, error)) < 0)
                        return r;
                if (h->limits_on_root && (r = set_limits(l, h, error)) < 0)
                        return r;
        }
        cgroups_log_layout(l);
        return 0;
}

int cgroups_join(Launch *l, pid_t pid, GError **error) {
        g_autofree char *value = g_strdup_printf("%d", pid);
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                g_autofree char *procs = g_build_filename(h->inner, "cgroup.procs", NULL);
                int r = write_knob(procs, value, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Removes DIR and everything systemd created below it, deepest first. */
static int remove_cgroup_tree(const char *dir) {
        GDir *d = g_dir_open(dir, 0, NULL);
        if (d) {
                const char *name;
                while ((name = g_dir_read_name(d))) {
                        g_autofree char *sub = g_build_filename(dir, name, NULL);
                        struct stat st;
                        if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
                                remove_cgroup_tree(sub);
                }
                g_dir_close(d);
        }
        /* A task that has just exited is still counted until it is reaped: a busy machine can take
         * seconds. */
        for (int i = 0; i < 500; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        break;
                g_usleep(20000);
        }
        return -errno;
}

void cgroups_remove(Launch *l) {
        if (!l->hierarchies)
                return;
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                int r = 0;
                if (h->created_outer)
                        r = remove_cgroup_tree(h->outer);
                if (r < 0)
                        g_printerr(
                                "capfs-launch: cannot remove cgroup %s: %s; remove it with rmdir once its "
                                "processes are gone\n",
                                h->outer, g_strerror(-r));
                g_autofree char *capfs_dir = g_path_get_dirname(h->outer);
                (void) rmdir(capfs_dir); /* only when no other container uses it */
        }
}
