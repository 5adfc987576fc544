/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capfs-launch's command line, parsed once: everything after this works with enums and numbers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"

int parse_size(const char *text, uint64_t *ret) {
        static const struct {
                char suffix;
                uint64_t unit;
        } units[] = {{'K', 1ULL << 10}, {'M', 1ULL << 20}, {'G', 1ULL << 30}, {'T', 1ULL << 40}};
        char *end;
        uint64_t unit = 1;

        if (!g_ascii_isdigit(text[0]))
                return -EINVAL;
        errno = 0;
        guint64 value = g_ascii_strtoull(text, &end, 10);
        if (errno || value == 0)
                return -EINVAL;
        for (size_t i = 0; i < G_N_ELEMENTS(units); i++)
                if (g_ascii_toupper(*end) == units[i].suffix) {
                        unit = units[i].unit;
                        end++;
                        break;
                }
        if (*end && g_ascii_strcasecmp(end, "iB") != 0 && g_ascii_strcasecmp(end, "B") != 0)
                return -EINVAL;
        if (value > UINT64_MAX / unit)
                return -EINVAL;
        *ret = value * unit;
        return 0;
}

int parse_cpus(const char *text, int *ret_milli) {
        char *end;
        double cpus = g_ascii_strtod(text, &end);

        if (end == text || *end || !(cpus > 0) || cpus > 4096)
                return -EINVAL;
        *ret_milli = (int) (cpus * 1000 + 0.5);
        if (*ret_milli == 0)
                return -EINVAL;
        return 0;
}

int parse_budget(const char *text, uint64_t *ret) {
        char *end;

        if (strcmp(text, "max") == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        if (!g_ascii_isdigit(text[0]))
                return -EINVAL;
        errno = 0;
        guint64 value = g_ascii_strtoull(text, &end, 10);
        if (errno || *end || value > INT32_MAX)
                return -EINVAL;
        *ret = value;
        return 0;
}

/* The raw strings GOption fills, turned into Options by check(). */
typedef struct {
        char *memory, *cpus, *cgroup_mode, *network, *scope, *max_descendants, *max_depth;
        char **binds;
        gint64 pids;
        gboolean version;
} Raw;

static void raw_clear(Raw *raw) {
        g_free(raw->memory);
        g_free(raw->cpus);
        g_free(raw->cgroup_mode);
        g_free(raw->network);
        g_free(raw->scope);
        g_free(raw->max_descendants);
        g_free(raw->max_depth);
        g_strfreev(raw->binds);
}

static int parse_bind(const char *spec, BindMount *ret, GError **error) {
        g_auto(GStrv) f = g_strsplit(spec, ":", 3);
        struct stat st;

        if (g_strv_length(f) < 2 || !f[0][0] || f[1][0] != '/' ||
            (f[2] && strcmp(f[2], "ro") != 0 && strcmp(f[2], "rw") != 0))
                return launch_invalid(error, "--bind %s: expected SRC:DST[:ro|:rw] with an absolute DST",
                                      spec);
        if (stat(f[0], &st) < 0)
                return launch_fail(error, -errno, "--bind %s: the source %s", spec, f[0]);
        ret->source = g_strdup(f[0]);
        ret->target = g_strdup(f[1]);
        ret->readonly = f[2] && strcmp(f[2], "ro") == 0;
        return 0;
}

static void bind_mount_clear(gpointer p) {
        BindMount *b = p;
        g_free(b->source);
        g_free(b->target);
}

/* Turns RAW into O: each option's value checked, the defaults filled in. */
static int check(Options *o, Raw *raw, GError **error) {
        struct stat st;
        int r;

        if (!raw->scope || strcmp(raw->scope, "auto") == 0)
                o->scope = SCOPE_AUTO;
        else if (strcmp(raw->scope, "yes") == 0)
                o->scope = SCOPE_YES;
        else if (strcmp(raw->scope, "no") == 0)
                o->scope = SCOPE_NO;
        else
                return launch_invalid(error, "--scope=%s: use auto, yes or no", raw->scope);
        if (o->scope == SCOPE_YES && o->cgroup_parent)
                return launch_invalid(error,
                                      "--scope=yes and --cgroup-parent exclude each other: the scope is "
                                      "the parent");

        if (!raw->cgroup_mode || strcmp(raw->cgroup_mode, "capfs") == 0)
                o->cgroup_mode = CGROUP_MODE_CAPFS;
        else if (strcmp(raw->cgroup_mode, "native") == 0)
                o->cgroup_mode = CGROUP_MODE_NATIVE;
        else
                return launch_invalid(error, "--cgroup=%s: use capfs or native", raw->cgroup_mode);

        if (!raw->network || strcmp(raw->network, "host") == 0)
                o->network = NETWORK_HOST;
        else if (strcmp(raw->network, "none") == 0)
                o->network = NETWORK_NONE;
        else
                return launch_invalid(error, "--network=%s: use host or none", raw->network);

        if (raw->memory && parse_size(raw->memory, &o->memory_bytes) < 0)
                return launch_invalid(error, "--memory: '%s' is not a size (examples: 512M, 2G, 1073741824)",
                                      raw->memory);
        if (raw->cpus && parse_cpus(raw->cpus, &o->cpus_milli) < 0)
                return launch_invalid(error, "--cpus: '%s' is not a CPU count (examples: 1, 0.5, 2)",
                                      raw->cpus);
        if (raw->pids < 0)
                return launch_invalid(error, "--pids: %" G_GINT64_FORMAT " is not a task count", raw->pids);
        o->pids = raw->pids;
        o->max_descendants = CGROUP_MAX_DESCENDANTS_DEFAULT;
        o->max_depth = CGROUP_MAX_DEPTH_DEFAULT;
        if (raw->max_descendants && parse_budget(raw->max_descendants, &o->max_descendants) < 0)
                return launch_invalid(error,
                                      "--cgroup-max-descendants: '%s' is not a number of cgroups (0 to "
                                      "2147483647, or max)",
                                      raw->max_descendants);
        if (raw->max_depth && parse_budget(raw->max_depth, &o->max_depth) < 0)
                return launch_invalid(error,
                                      "--cgroup-max-depth: '%s' is not a depth (0 to 2147483647, or max)",
                                      raw->max_depth);

        if (o->cap_drop && o->cap_keep)
                return launch_invalid(error, "--cap-drop and --cap-keep exclude each other");

        if (!o->rootfs)
                return launch_invalid(error,
                                      "--rootfs DIR is required (a directory holding the container's root "
                                      "file system)");
        if (stat(o->rootfs, &st) < 0)
                return launch_fail(error, -errno, "--rootfs %s", o->rootfs);
        if (!S_ISDIR(st.st_mode))
                return launch_fail(error, -ENOTDIR, "--rootfs %s", o->rootfs);
        g_autofree char *abs = realpath(o->rootfs, NULL);
        if (!abs)
                return launch_fail(error, -errno, "--rootfs %s", o->rootfs);
        g_free(o->rootfs);
        o->rootfs = g_steal_pointer(&abs);
        if (!o->name)
                o->name = g_path_get_basename(o->rootfs);
        if (!o->name[0] || strchr(o->name, '/') || strcmp(o->name, ".") == 0 || strcmp(o->name, "..") == 0)
                return launch_invalid(error, "--name '%s': a container name is one path component", o->name);
        if (!o->capfs)
                o->capfs = g_strdup("/var/lib/capfs");

        for (char **b = raw->binds; b && *b; b++) {
                BindMount bind = {0};
                if ((r = parse_bind(*b, &bind, error)) < 0)
                        return r;
                g_array_append_val(o->binds, bind);
        }
        if (!o->argv || !o->argv[0]) {
                g_strfreev(o->argv);
                o->argv = g_new0(char *, 2);
                o->argv[0] = g_strdup("/sbin/init");
        }
        return 0;
}

int options_parse(Options *o, int argc, char **argv, GError **error) {
        Raw raw = {0};
        GOptionEntry entries[] = {
                {"rootfs", 0, 0, G_OPTION_ARG_FILENAME, &o->rootfs, "The container's root file system",
                 "DIR"},
                {"name", 0, 0, G_OPTION_ARG_STRING, &o->name,
                 "Its name (cgroups capfs/NAME); default: the rootfs's", "NAME"},
                {"memory", 0, 0, G_OPTION_ARG_STRING, &raw.memory, "Memory limit", "SIZE"},
                {"cpus", 0, 0, G_OPTION_ARG_STRING, &raw.cpus, "CPU limit (CFS quota)", "N"},
                {"pids", 0, 0, G_OPTION_ARG_INT64, &raw.pids, "Task limit", "N"},
                {"hostname", 0, 0, G_OPTION_ARG_STRING, &o->hostname, "Host name (default: NAME)", "NAME"},
                {"capfs", 0, 0, G_OPTION_ARG_FILENAME, &o->capfs,
                 "capfs's mountpoint (default /var/lib/capfs)", "DIR"},
                {"no-capfs", 0, 0, G_OPTION_ARG_NONE, &o->no_capfs, "Run without capfs's views", NULL},
                {"cgroup", 0, 0, G_OPTION_ARG_STRING, &raw.cgroup_mode,
                 "v1 controllers from capfs (default) or native", "capfs|native"},
                {"scope", 0, 0, G_OPTION_ARG_STRING, &raw.scope,
                 "Ask systemd for a transient scope with Delegate=yes for the cgroups (auto: when the host "
                 "runs systemd and no --cgroup-parent is given)",
                 "auto|yes|no"},
                {"cgroup-max-descendants", 0, 0, G_OPTION_ARG_STRING, &raw.max_descendants,
                 "How many cgroups the container may make below its root (default 1000)", "N|max"},
                {"cgroup-max-depth", 0, 0, G_OPTION_ARG_STRING, &raw.max_depth,
                 "How many levels below its root (default 16)", "N|max"},
                {"cgroup-parent", 0, 0, G_OPTION_ARG_STRING, &o->cgroup_parent,
                 "Parent of capfs/NAME in each hierarchy (default: the launcher's cgroup)", "PATH"},
                {"cap-drop", 0, 0, G_OPTION_ARG_STRING, &o->cap_drop,
                 "Capabilities to drop (replaces the default list)", "LIST"},
                {"cap-keep", 0, 0, G_OPTION_ARG_STRING, &o->cap_keep,
                 "Capabilities to keep; all others are dropped", "LIST"},
                {"network", 0, 0, G_OPTION_ARG_STRING, &raw.network, "host (default) or none", "host|none"},
                {"bind", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &raw.binds, "Bind-mount SRC at DST",
                 "SRC:DST[:ro]"},
                {"version", 0, 0, G_OPTION_ARG_NONE, &raw.version, "Print the version", NULL},
                {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->argv, NULL, "[CMD [ARGS...]]"},
                {NULL, 0, 0, 0, NULL, NULL, NULL},
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new("[--] [CMD [ARGS...]]");
        int r;

        o->binds = g_array_new(FALSE, TRUE, sizeof(BindMount));
        g_array_set_clear_func(o->binds, bind_mount_clear);
        g_option_context_set_summary(
                ctx,
                "Runs a container without CAP_SYS_ADMIN, with capfs's views; CMD defaults to /sbin/init.");
        g_option_context_add_main_entries(ctx, entries, NULL);
        if (!g_option_context_parse(ctx, &argc, &argv, error)) {
                raw_clear(&raw);
                return -EINVAL;
        }
        if (raw.version) {
                printf("capfs-launch %s\n", CAPFS_VERSION);
                raw_clear(&raw);
                return 1;
        }
        r = check(o, &raw, error);
        raw_clear(&raw);
        return r;
}

void options_clear(Options *o) {
        g_free(o->rootfs);
        g_free(o->name);
        g_free(o->hostname);
        g_free(o->capfs);
        g_free(o->cap_drop);
        g_free(o->cap_keep);
        g_free(o->cgroup_parent);
        g_strfreev(o->argv);
        if (o->binds)
                g_array_unref(o->binds);
        memset(o, 0, sizeof(*o));
}
