/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-launch: runs a container whose root has no CAP_SYS_ADMIN, with systemd as init, on top
 * of capfs. The order of the steps is the one of DESIGN.md ("The launcher"): cgroups (outer with
 * the limits, inner as the container's root) -> namespaces -> mounts of everything systemd would
 * mount itself -> cgroups inside (real name=systemd and cgroup2, capfs's view for the v1
 * controllers) -> capfs bind mounts -> pivot_root -> capability bounding set and seccomp ->
 * exec init. The launcher stays in the foreground, relays the console and removes the cgroups
 * when init is gone.
 */
#include <errno.h>
#include <gio/gio.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glib.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <linux/sched.h>

#include "rootfs.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* The capabilities a container never gets by default; README.md says why each. */
static const char *const default_cap_drop[] = {
        "cap_sys_admin",
        "cap_sys_module",
        "cap_sys_rawio",
        "cap_sys_time",
        "cap_syslog",
        "cap_mac_admin",
        "cap_mac_override",
        "cap_net_admin",
        "cap_dac_read_search",
        "cap_sys_boot",
        "cap_bpf",
        "cap_perfmon",
        "cap_sys_resource",
        NULL,
};

/* The device nodes of a container: character major:minor, and the name under /dev. */
static const struct {
        const char *name;
        unsigned int major, minor;
} basic_devices[] = {
        {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

typedef struct {
        char *rootfs;
        char *name;
        char *memory;
        int cpus_milli;
        gint64 pids;
        char *hostname;
        char *capfs;
        gboolean no_capfs;
        char *cgroup_mode;
        char *cap_drop;
        char *cap_keep;
        char *network;
        char **binds;
        char *cgroup_parent;
        char *scope;
        char **argv;
} Options;

/* One cgroup hierarchy the launcher is in, as /proc/self/cgroup and mountinfo show it. */
typedef struct {
        char *controllers; /* "memory", "cpu,cpuacct", "name=systemd", "" for cgroup2 */
        char *dir; /* its directory name under /sys/fs/cgroup */
        char *outer; /* the container's outer cgroup (limits) */
        char *inner; /* the container's root */
        bool created_outer, created_inner;
} Hierarchy;

typedef struct {
        Options opt;
        GPtrArray *hierarchies; /* Hierarchy* */
        bool v2_only;
        int pty_master;
        char pty_slave[64];
        pid_t child;
        char uuid[37];
} Launch;

static void hierarchy_free(Hierarchy *h) {
        g_free(h->controllers);
        g_free(h->dir);
        g_free(h->outer);
        g_free(h->inner);
        g_free(h);
}

#define launch_error(error, ...) g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, __VA_ARGS__)

/* One write(2) of @value into @path (cgroupfs takes each write as one value): 0 or -errno. */
static int write_value(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int err = errno;
        close(fd);
        return n < 0 ? -err : 0;
}

static bool write_file(const char *path, const char *value, GError **error) {
        int r = write_value(path, value);
        if (r < 0)
                launch_error(error, "cannot write '%s' to %s: %s", value, path, g_strerror(-r));
        return r == 0;
}

/* ---------------------------------------------------------------- cgroups */

/* The directory of a v1 hierarchy under /sys/fs/cgroup, from the mount's super options. */
static char *hierarchy_mountpoint(const char *controllers) {
        g_autofree char *info = NULL;
        if (!g_file_get_contents("/proc/self/mountinfo", &info, NULL, NULL))
                return NULL;
        g_auto(GStrv) lines = g_strsplit(info, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) f = g_strsplit(*l, " ", -1);
                guint n = g_strv_length(f);
                guint sep = 0;
                for (guint i = 0; i < n; i++)
                        if (strcmp(f[i], "-") == 0) {
                                sep = i;
                                break;
                        }
                if (!sep || sep + 3 >= n || !g_str_has_prefix(f[4], CGROUP_ROOT "/"))
                        continue;
                if (controllers[0] == '\0') {
                        if (strcmp(f[sep + 1], "cgroup2") == 0)
                                return g_strdup(f[4]);
                        continue;
                }
                if (strcmp(f[sep + 1], "cgroup") != 0)
                        continue;
                g_autofree char *opts = g_strdup_printf(",%s,", f[sep + 3]);
                g_auto(GStrv) want = g_strsplit(controllers, ",", -1);
                bool all = true;
                for (char **w = want; *w; w++) {
                        g_autofree char *needle = g_strdup_printf(",%s,", *w);
                        all = all && strstr(opts, needle);
                }
                if (all)
                        return g_strdup(f[4]);
        }
        return NULL;
}

static bool cgroups_discover(Launch *l, GError **error) {
        g_autofree char *self = NULL;
        if (!g_file_get_contents("/proc/self/cgroup", &self, NULL, error))
                return false;
        l->hierarchies = g_ptr_array_new_with_free_func((GDestroyNotify) hierarchy_free);
        l->v2_only = access(CGROUP_ROOT "/cgroup.controllers", F_OK) == 0;
        g_auto(GStrv) lines = g_strsplit(self, "\n", -1);
        for (char **line = lines; *line && **line; line++) {
                g_auto(GStrv) f = g_strsplit(*line, ":", 3);
                if (g_strv_length(f) != 3)
                        continue;
                g_autofree char *mnt =
                        l->v2_only && !f[1][0] ? g_strdup(CGROUP_ROOT) : hierarchy_mountpoint(f[1]);
                if (!mnt)
                        continue;
                const char *parent = l->opt.cgroup_parent ? l->opt.cgroup_parent : f[2];
                Hierarchy *h = g_new0(Hierarchy, 1);
                h->controllers = g_strdup(f[1]);
                h->dir = g_path_get_basename(mnt);
                h->outer = g_strdup_printf("%s%s%s/capfs/%s", mnt, parent[0] == '/' ? "" : "/",
                                           strcmp(parent, "/") == 0 ? "" : parent, l->opt.name);
                h->inner = g_strdup_printf("%s/payload", h->outer);
                g_ptr_array_add(l->hierarchies, h);
        }
        if (l->hierarchies->len == 0) {
                launch_error(error,
                             "no cgroup hierarchy found in /proc/self/cgroup: is cgroupfs mounted under %s?",
                             CGROUP_ROOT);
                return false;
        }
        return true;
}

static bool has_controller(const Hierarchy *h, const char *controller) {
        g_auto(GStrv) c = g_strsplit(h->controllers, ",", -1);
        return g_strv_contains((const char *const *) c, controller);
}

static bool copy_knob(const char *from_dir, const char *to_dir, const char *knob, GError **error) {
        g_autofree char *from = g_build_filename(from_dir, knob, NULL);
        g_autofree char *to = g_build_filename(to_dir, knob, NULL);
        g_autofree char *value = NULL;
        if (!g_file_get_contents(from, &value, NULL, error))
                return false;
        g_strstrip(value);
        return write_file(to, value, error);
}

/* The first COUNT CPUs of a cpuset list ("0-3,8" -> COUNT 2: "0-1"). */
static char *first_cpus(const char *list, int count) {
        GString *out = g_string_new(NULL);
        g_auto(GStrv) ranges = g_strsplit(list, ",", -1);
        for (char **r = ranges; *r && count > 0; r++) {
                unsigned int lo, hi;
                int n = sscanf(*r, "%u-%u", &lo, &hi);
                if (n < 1)
                        continue;
                if (n == 1)
                        hi = lo;
                for (unsigned int cpu = lo; cpu <= hi && count > 0; cpu++, count--)
                        g_string_append_printf(out, "%s%u", out->len ? "," : "", cpu);
        }
        return g_string_free(out, FALSE);
}

static bool make_cgroup(const char *dir, bool cpuset, bool *created, GError **error) {
        if (mkdir(dir, 0755) < 0) {
                if (errno == EEXIST)
                        launch_error(error,
                                     "cgroup %s exists already: is a container named like this running? "
                                     "Choose another --name or remove it",
                                     dir);
                else
                        launch_error(error, "cannot create cgroup %s: %s", dir, g_strerror(errno));
                return false;
        }
        *created = true;
        if (cpuset) {
                g_autofree char *parent = g_path_get_dirname(dir);
                return copy_knob(parent, dir, "cpuset.cpus", error) &&
                       copy_knob(parent, dir, "cpuset.mems", error);
        }
        return true;
}

static gint64 parse_size(const char *text, GError **error) {
        char *end;
        guint64 value = g_ascii_strtoull(text, &end, 10);
        guint64 unit = 1;
        switch (g_ascii_toupper(*end)) {
        case 'K':
                unit = 1ULL << 10;
                end++;
                break;
        case 'M':
                unit = 1ULL << 20;
                end++;
                break;
        case 'G':
                unit = 1ULL << 30;
                end++;
                break;
        case 'T':
                unit = 1ULL << 40;
                end++;
                break;
        }
        if (end == text ||
            (*end && g_ascii_strcasecmp(end, "iB") != 0 && g_ascii_strcasecmp(end, "B") != 0) ||
            value == 0) {
                launch_error(error, "--memory: '%s' is not a size (examples: 512M, 2G, 1073741824)", text);
                return -1;
        }
        return (gint64) (value * unit);
}

static bool set_limit(const Hierarchy *h, bool v2, const char *v1_knob, const char *v2_knob,
                      const char *value, GError **error) {
        g_autofree char *path = g_build_filename(h->outer, v2 ? v2_knob : v1_knob, NULL);
        return write_file(path, value, error);
}

/* On the outer cgroup: deny every device, then allow the basic nodes, ptys and mknod (nodes made
 * are useless without access). */
typedef struct {
        int32_t major, minor; /* minor -1: any */
} DeviceRule;

/* Besides the basic nodes: the console, ptmx and the ptys. */
static const DeviceRule console_and_ptys[] = {{5, 1}, {5, 2}, {136, -1}};
#define USABLE_DEVICES_MAX (G_N_ELEMENTS(basic_devices) + G_N_ELEMENTS(console_and_ptys))

/* The character devices a container may read and write, the same on both cgroup layouts. */
static size_t usable_devices(DeviceRule out[USABLE_DEVICES_MAX]) {
        size_t n = 0;
        for (size_t i = 0; i < G_N_ELEMENTS(basic_devices); i++)
                out[n++] = (DeviceRule){(int32_t) basic_devices[i].major, (int32_t) basic_devices[i].minor};
        for (size_t i = 0; i < G_N_ELEMENTS(console_and_ptys); i++)
                out[n++] = console_and_ptys[i];
        return n;
}

static bool restrict_devices_v1(const Hierarchy *h, GError **error) {
        g_autofree char *deny = g_build_filename(h->outer, "devices.deny", NULL);
        g_autofree char *allow = g_build_filename(h->outer, "devices.allow", NULL);
        if (!write_file(deny, "a", error))
                return false;
        static const char *const make_any[] = {"c *:* m", "b *:* m"};
        for (size_t i = 0; i < G_N_ELEMENTS(make_any); i++)
                if (!write_file(allow, make_any[i], error))
                        return false;
        DeviceRule usable[USABLE_DEVICES_MAX];
        size_t count = usable_devices(usable);
        for (size_t i = 0; i < count; i++) {
                g_autofree char *minor =
                        usable[i].minor < 0 ? g_strdup("*") : g_strdup_printf("%d", usable[i].minor);
                g_autofree char *rule = g_strdup_printf("c %d:%s rwm", usable[i].major, minor);
                if (!write_file(allow, rule, error))
                        return false;
        }
        return true;
}

/*
 * cgroup2 has no devices controller: the same rules as restrict_devices_v1() are a
 * BPF_CGROUP_DEVICE program on the outer cgroup, which every cgroup below it also runs (and
 * programs a container might add further down can only narrow it). The context is
 * struct bpf_cgroup_dev_ctx: access_type (access << 16 | type), major, minor; 1 allows.
 */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

enum { R0, R1, R2, R3, R4, R5 };

/* "return @verdict": two instructions, which the test before them jumps over when it fails. */
static void emit_return(GArray *prog, int32_t verdict) {
        struct bpf_insn ret[] = {insn(BPF_ALU64 | BPF_MOV | BPF_K, R0, 0, 0, verdict),
                                 insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
        g_array_append_vals(prog, ret, G_N_ELEMENTS(ret));
}

/* Character device MAJOR:MINOR (MINOR -1: any) may be read, written and made. */
static void emit_char_rule(GArray *prog, int32_t major, int32_t minor) {
        struct bpf_insn test_major = insn(BPF_JMP | BPF_JNE | BPF_K, R4, 0, minor < 0 ? 2 : 3, major);
        g_array_append_val(prog, test_major);
        if (minor >= 0) {
                struct bpf_insn test_minor = insn(BPF_JMP | BPF_JNE | BPF_K, R5, 0, 2, minor);
                g_array_append_val(prog, test_minor);
        }
        emit_return(prog, 1);
}

static GArray *device_program(void) {
        GArray *prog = g_array_new(FALSE, FALSE, sizeof(struct bpf_insn));
        struct bpf_insn head[] = {
                insn(BPF_LDX | BPF_MEM | BPF_W, R2, R1, offsetof(struct bpf_cgroup_dev_ctx, access_type), 0),
                insn(BPF_LDX | BPF_MEM | BPF_W, R4, R1, offsetof(struct bpf_cgroup_dev_ctx, major), 0),
                insn(BPF_LDX | BPF_MEM | BPF_W, R5, R1, offsetof(struct bpf_cgroup_dev_ctx, minor), 0),
                insn(BPF_ALU64 | BPF_MOV | BPF_X, R3, R2, 0, 0),
                insn(BPF_ALU64 | BPF_AND | BPF_K, R3, 0, 0, 0xffff),
                insn(BPF_ALU64 | BPF_RSH | BPF_K, R2, 0, 0, 16),
                /* mknod alone, of any node: a node made is useless without access. */
                insn(BPF_JMP | BPF_JNE | BPF_K, R2, 0, 2, BPF_DEVCG_ACC_MKNOD),
        };
        g_array_append_vals(prog, head, G_N_ELEMENTS(head));
        emit_return(prog, 1);
        /* Past here only character devices are allowed at all. */
        struct bpf_insn char_only = insn(BPF_JMP | BPF_JEQ | BPF_K, R3, 0, 2, BPF_DEVCG_DEV_CHAR);
        g_array_append_val(prog, char_only);
        emit_return(prog, 0);
        DeviceRule usable[USABLE_DEVICES_MAX];
        size_t count = usable_devices(usable);
        for (size_t i = 0; i < count; i++)
                emit_char_rule(prog, usable[i].major, usable[i].minor);
        emit_return(prog, 0);
        return prog;
}

static bool restrict_devices_v2(const Hierarchy *h, GError **error) {
        g_autoptr(GArray) prog = device_program();
        char log[4096] = "";
        union bpf_attr load = {
                .prog_type = BPF_PROG_TYPE_CGROUP_DEVICE,
                .insns = (uint64_t) (uintptr_t) prog->data,
                .insn_cnt = prog->len,
                .license = (uint64_t) (uintptr_t) "LGPL",
                .log_buf = (uint64_t) (uintptr_t) log,
                .log_size = sizeof(log),
                .log_level = 1,
        };
        int prog_fd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
        if (prog_fd < 0) {
                launch_error(error,
                             "cannot load the device program for cgroup %s (bpf BPF_PROG_LOAD): %s%s%s",
                             h->outer, g_strerror(errno), *log ? "; verifier: " : "", log);
                return false;
        }
        int cg_fd = open(h->outer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg_fd < 0) {
                launch_error(error, "cannot open cgroup %s: %s", h->outer, g_strerror(errno));
                close(prog_fd);
                return false;
        }
        union bpf_attr attach = {
                .target_fd = (uint32_t) cg_fd,
                .attach_bpf_fd = (uint32_t) prog_fd,
                .attach_type = BPF_CGROUP_DEVICE,
                .attach_flags = BPF_F_ALLOW_MULTI,
        };
        int r = (int) syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach));
        int err = errno;
        close(cg_fd);
        /* Attached, the program lives as long as the cgroup. */
        close(prog_fd);
        if (r < 0) {
                launch_error(error,
                             "cannot attach the device program to cgroup %s (bpf BPF_PROG_ATTACH): %s",
                             h->outer, g_strerror(err));
                return false;
        }
        return true;
}

/*
 * Hands every controller @dir has down to its children. cgroup2 refuses that (EBUSY) while @dir
 * holds processes, unless it is the root: the container then needs a parent of its own.
 */
static bool enable_controllers(const char *dir, GError **error) {
        g_autofree char *available_path = g_build_filename(dir, "cgroup.controllers", NULL);
        g_autofree char *subtree = g_build_filename(dir, "cgroup.subtree_control", NULL);
        g_autofree char *available = NULL;
        g_autoptr(GError) local = NULL;
        if (!g_file_get_contents(available_path, &available, NULL, &local)) {
                launch_error(error, "cannot read %s: %s", available_path, local->message);
                return false;
        }
        g_auto(GStrv) controllers = g_strsplit_set(g_strstrip(available), " ", -1);
        for (char **c = controllers; *c && **c; c++) {
                g_autofree char *plus = g_strdup_printf("+%s", *c);
                if (write_value(subtree, plus) == -EBUSY) {
                        launch_error(error,
                                     "cannot hand the %s controller down from cgroup %s: it holds processes "
                                     "(cgroup2 allows that only in cgroups without any); give the container "
                                     "a parent cgroup without processes with --cgroup-parent",
                                     *c, dir);
                        return false;
                }
                /* Other refusals (a controller the kernel will not delegate) leave that one out. */
        }
        return true;
}

static bool cgroups_create(Launch *l, GError **error) {
        gint64 memory = 0;
        if (l->opt.memory && (memory = parse_size(l->opt.memory, error)) < 0)
                return false;
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                bool v2 = h->controllers[0] == '\0';
                bool cpuset = !v2 && has_controller(h, "cpuset");
                g_autofree char *capfs_dir = g_path_get_dirname(h->outer);
                bool made = mkdir(capfs_dir, 0755) == 0;
                if (!made && errno != EEXIST) {
                        launch_error(error, "cannot create cgroup %s: %s", capfs_dir, g_strerror(errno));
                        return false;
                }
                if (cpuset && made) {
                        g_autofree char *parent = g_path_get_dirname(capfs_dir);
                        if (!copy_knob(parent, capfs_dir, "cpuset.cpus", error) ||
                            !copy_knob(parent, capfs_dir, "cpuset.mems", error))
                                return false;
                }
                /* cgroup2: a limit needs its controller enabled in every cgroup above it. */
                if (v2 && l->v2_only) {
                        g_autofree char *parent = g_path_get_dirname(capfs_dir);
                        if (!enable_controllers(parent, error) || !enable_controllers(capfs_dir, error))
                                return false;
                }
                if (!make_cgroup(h->outer, cpuset, &h->created_outer, error))
                        return false;
                if (v2 && l->v2_only && !enable_controllers(h->outer, error))
                        return false;
                if (memory && (v2 ? l->v2_only : has_controller(h, "memory"))) {
                        g_autofree char *value = g_strdup_printf("%" G_GINT64_FORMAT, memory);
                        if (!set_limit(h, v2, "memory.limit_in_bytes", "memory.max", value, error))
                                return false;
                }
                if (l->opt.cpus_milli > 0 && (v2 ? l->v2_only : has_controller(h, "cpu"))) {
                        g_autofree char *quota = g_strdup_printf("%d", l->opt.cpus_milli * 100);
                        g_autofree char *max = g_strdup_printf("%s 100000", quota);
                        if (v2) {
                                if (!set_limit(h, v2, NULL, "cpu.max", max, error))
                                        return false;
                        } else if (!set_limit(h, v2, "cpu.cfs_period_us", NULL, "100000", error) ||
                                   !set_limit(h, v2, "cpu.cfs_quota_us", NULL, quota, error)) {
                                return false;
                        }
                }
                /* nproc and the runtimes that size thread pools read the affinity mask, which
                 * follows the cpuset: --cpus N also gives the first ceil(N) CPUs. */
                if (l->opt.cpus_milli > 0 && (v2 ? l->v2_only : cpuset)) {
                        g_autofree char *effective = g_build_filename(
                                h->outer, v2 ? "cpuset.cpus.effective" : "cpuset.cpus", NULL);
                        g_autofree char *list = NULL;
                        if (g_file_get_contents(effective, &list, NULL, NULL)) {
                                g_autofree char *cut =
                                        first_cpus(g_strstrip(list), (l->opt.cpus_milli + 999) / 1000);
                                if (*cut && !set_limit(h, v2, "cpuset.cpus", "cpuset.cpus", cut, error))
                                        return false;
                        }
                }
                if (l->opt.pids > 0 && (v2 ? l->v2_only : has_controller(h, "pids"))) {
                        g_autofree char *value = g_strdup_printf("%" G_GINT64_FORMAT, l->opt.pids);
                        if (!set_limit(h, v2, "pids.max", "pids.max", value, error))
                                return false;
                }
                if (!v2 && has_controller(h, "devices") && !restrict_devices_v1(h, error))
                        return false;
                if (v2 && l->v2_only && !restrict_devices_v2(h, error))
                        return false;
                if (!make_cgroup(h->inner, cpuset, &h->created_inner, error))
                        return false;
        }
        return true;
}

static bool cgroups_join(Launch *l, pid_t pid, GError **error) {
        g_autofree char *value = g_strdup_printf("%d", pid);
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                g_autofree char *procs = g_build_filename(h->inner, "cgroup.procs", NULL);
                if (!write_file(procs, value, error))
                        return false;
        }
        return true;
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
        /* A task that has just exited is still counted for a moment. */
        for (int i = 0; i < 100; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        break;
                g_usleep(20000);
        }
        return -errno;
}

static void cgroups_remove(Launch *l) {
        if (!l->hierarchies)
                return;
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                int r = 0;
                if (h->created_outer)
                        r = remove_cgroup_tree(h->outer);
                if (r < 0)
                        g_printerr("capfs-launch: cannot remove cgroup %s: %s\n", h->outer, g_strerror(-r));
                g_autofree char *capfs_dir = g_path_get_dirname(h->outer);
                (void) rmdir(capfs_dir); /* only when no other container uses it */
        }
}

/* ---------------------------------------------------------------- the container's mounts
 * These run in the child, in its new mount namespace, and report failures as text on a pipe:
 * after the clone there is no GError to hand back. */

static char child_error[1024];

__attribute__((format(printf, 1, 2))) static int child_fail(const char *fmt, ...) {
        int err = errno;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(child_error, sizeof(child_error), fmt, ap);
        va_end(ap);
        size_t len = strlen(child_error);
        snprintf(child_error + len, sizeof(child_error) - len, ": %s", g_strerror(err));
        return -1;
}

/* child_fail for a negative errno R. */
#define child_fail_r(r, ...) (errno = -(r), child_fail(__VA_ARGS__))

/* Every path below is relative to the container's rootfs (ROOT_FD) and resolved inside it
 * (rootfs.h): what the container planted there (symlinks to the host's directories, "..") leads
 * nowhere outside its tree, whatever it names. */
static int mount_in(int root_fd, const char *path, RootfsFlags flags, const char *source, const char *fstype,
                    unsigned long mountflags, const char *data) {
        int r = rootfs_mount(root_fd, path, flags, source, fstype, mountflags, data);
        if (r < 0)
                return child_fail_r(r, "mount %s (%s) on /%s in the rootfs", source ? source : "none",
                                    fstype ? fstype : "bind", path);
        return 0;
}

static int bind_in(int root_fd, const char *source, const char *path, bool readonly) {
        int r = rootfs_bind(root_fd, source, path, readonly);
        if (r < 0)
                return child_fail_r(r, "bind-mount %s on /%s in the rootfs", source, path);
        return 0;
}

static int mount_proc(int root_fd) {
        if (mount_in(root_fd, "proc", ROOTFS_MKDIR, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
            0)
                return -1;
        /* systemd's container interface: /proc/sys read-only; the rest that reaches the host's
         * kernel covered or read-only. */
        static const char *const readonly[] = {"proc/sys", "proc/sysrq-trigger", "proc/irq", "proc/bus",
                                               "proc/fs"};
        for (size_t i = 0; i < G_N_ELEMENTS(readonly); i++) {
                int r = rootfs_bind_readonly_self(root_fd, readonly[i]);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return child_fail_r(r, "make /%s read-only in the rootfs", readonly[i]);
        }
        return 0;
}

/* /sys/fs/cgroup as systemd wants it in a container without CAP_SYS_ADMIN: a tmpfs holding a
 * real name=systemd (v1) and cgroup2 mount made in the container's cgroup namespace, so that
 * statfs() tells systemd the layout, and capfs's restricted view for every controller hierarchy.
 * On a pure cgroup2 host, cgroup2 itself is mounted (its nested layout keeps the limits out of
 * reach). */
static int mount_cgroups(Launch *l, int root_fd) {
        const char *cg = CGROUP_ROOT + 1;
        if (l->v2_only)
                return mount_in(root_fd, cg, ROOTFS_MKDIR, "cgroup2", "cgroup2",
                                MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (mount_in(root_fd, cg, ROOTFS_MKDIR, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     "mode=755") < 0)
                return -1;
        for (guint i = 0; i < l->hierarchies->len; i++) {
                Hierarchy *h = l->hierarchies->pdata[i];
                g_autofree char *target = g_build_filename(cg, h->dir, NULL);
                int r;
                if (h->controllers[0] == '\0')
                        r = mount_in(root_fd, target, ROOTFS_MKDIR, "cgroup2", "cgroup2",
                                     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
                else if (g_str_has_prefix(h->controllers, "name=")) {
                        g_autofree char *data = g_strdup_printf("none,%s", h->controllers);
                        r = mount_in(root_fd, target, ROOTFS_MKDIR, "cgroup", "cgroup",
                                     MS_NOSUID | MS_NODEV | MS_NOEXEC, data);
                } else if (l->opt.no_capfs || g_strcmp0(l->opt.cgroup_mode, "native") == 0)
                        r = mount_in(root_fd, target, ROOTFS_MKDIR, "cgroup", "cgroup",
                                     MS_NOSUID | MS_NODEV | MS_NOEXEC, h->controllers);
                else {
                        g_autofree char *view = g_build_filename(l->opt.capfs, "cgroup", h->dir, NULL);
                        r = bind_in(root_fd, view, target, false);
                }
                if (r < 0)
                        return -1;
                /* Comounted controllers ("cpu,cpuacct") are also reachable by each name. */
                if (strchr(h->controllers, ',') && !g_str_has_prefix(h->controllers, "name=")) {
                        g_auto(GStrv) names = g_strsplit(h->controllers, ",", -1);
                        for (char **n = names; *n; n++) {
                                g_autofree char *link = g_build_filename(cg, *n, NULL);
                                if (strcmp(*n, h->dir) == 0)
                                        continue;
                                r = rootfs_symlink(root_fd, h->dir, link);
                                if (r < 0 && r != -EEXIST)
                                        return child_fail_r(r, "symlink /%s in the rootfs", link);
                        }
                }
        }
        return mount_in(root_fd, cg, 0, NULL, NULL,
                        MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755");
}

static int mount_dev(Launch *l, int root_fd) {
        if (mount_in(root_fd, "dev", ROOTFS_MKDIR, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
                     "mode=755,size=4m") < 0)
                return -1;
        for (size_t i = 0; i < G_N_ELEMENTS(basic_devices); i++) {
                g_autofree char *host = g_build_filename("/dev", basic_devices[i].name, NULL);
                g_autofree char *node = g_build_filename("dev", basic_devices[i].name, NULL);
                if (bind_in(root_fd, host, node, false) < 0)
                        return -1;
        }
        if (mount_in(root_fd, "dev/pts", ROOTFS_MKDIR, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                     "newinstance,ptmxmode=0666,mode=620,gid=5") < 0 ||
            mount_in(root_fd, "dev/shm", ROOTFS_MKDIR, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") <
                    0 ||
            mount_in(root_fd, "dev/mqueue", ROOTFS_MKDIR, "mqueue", "mqueue",
                     MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -1;
        static const char *const links[][2] = {{"pts/ptmx", "dev/ptmx"},
                                               {"/proc/self/fd", "dev/fd"},
                                               {"/proc/self/fd/0", "dev/stdin"},
                                               {"/proc/self/fd/1", "dev/stdout"},
                                               {"/proc/self/fd/2", "dev/stderr"}};
        for (size_t i = 0; i < G_N_ELEMENTS(links); i++) {
                int r = rootfs_symlink(root_fd, links[i][0], links[i][1]);
                if (r < 0)
                        return child_fail_r(r, "symlink /%s in the rootfs", links[i][1]);
        }
        /* The console is the pty whose other end the launcher relays. */
        return bind_in(root_fd, l->pty_slave, "dev/console", false);
}

static int mount_run(int root_fd) {
        static const struct {
                const char *path, *options;
                unsigned long flags;
        } tmpfs[] = {
                {"run", "mode=755,size=20%", MS_NOSUID | MS_NODEV | MS_STRICTATIME},
                {"run/lock", "mode=1777,size=5m", MS_NOSUID | MS_NODEV | MS_NOEXEC},
                {"run/user", "mode=755,size=20%", MS_NOSUID | MS_NODEV},
                {"tmp", "mode=1777,size=20%", MS_NOSUID | MS_NODEV},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(tmpfs); i++)
                if (mount_in(root_fd, tmpfs[i].path, ROOTFS_MKDIR, "tmpfs", "tmpfs", tmpfs[i].flags,
                             tmpfs[i].options) < 0)
                        return -1;
        int r = rootfs_write_file(root_fd, "run/systemd/container", "capfs\n");
        if (r < 0)
                return child_fail_r(r, "write /run/systemd/container in the rootfs");
        return 0;
}

/* capfs's per-container files over the container's own. */
static int mount_capfs(Launch *l, int root_fd) {
        if (l->opt.no_capfs)
                return 0;
        g_autofree char *proc = g_build_filename(l->opt.capfs, "proc", NULL);
        GDir *d = g_dir_open(proc, 0, NULL);
        if (!d)
                return child_fail("open %s", proc);
        const char *name;
        int r = 0;
        while (r == 0 && (name = g_dir_read_name(d))) {
                g_autofree char *src = g_build_filename(proc, name, NULL);
                g_autofree char *target = g_build_filename("proc", name, NULL);
                /* Only what the kernel has too: a file the container's /proc lacks stays absent. */
                int fd = rootfs_open(root_fd, target, 0, 0);
                if (fd < 0)
                        continue;
                close(fd);
                r = bind_in(root_fd, src, target, true);
        }
        g_dir_close(d);
        if (r < 0)
                return -1;
        g_autofree char *cpu = g_build_filename(l->opt.capfs, "sys/devices/system/cpu", NULL);
        return bind_in(root_fd, cpu, "sys/devices/system/cpu", true);
}

static int mount_binds(Launch *l, int root_fd) {
        for (char **b = l->opt.binds; b && *b; b++) {
                g_auto(GStrv) f = g_strsplit(*b, ":", 3);
                bool ro = f[1] && f[2] && strcmp(f[2], "ro") == 0;
                if (bind_in(root_fd, f[0], f[1], ro) < 0)
                        return -1;
        }
        return 0;
}

static int setup_loopback(void) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return child_fail("socket for lo");
        struct ifreq ifr = {0};
        g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
        int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
        if (r == 0) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                r = ioctl(fd, SIOCSIFFLAGS, &ifr);
        }
        close(fd);
        return r < 0 ? child_fail("bring up lo") : 0;
}

static int enter_root(const char *root) {
        if (chdir(root) < 0)
                return child_fail("chdir %s", root);
        /* pivot_root(".", "."): the old root ends up on top of the new one, then goes. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return child_fail("pivot_root to %s", root);
        if (umount2(".", MNT_DETACH) < 0)
                return child_fail("detach the old root");
        if (chdir("/") < 0)
                return child_fail("chdir /");
        return 0;
}

/* ---------------------------------------------------------------- capabilities and seccomp */

/* The capabilities to drop: the default list (or --cap-drop), or with --cap-keep everything else. */
static bool caps_to_drop(const Options *opt, GArray *drop, GError **error) {
        if (opt->cap_keep) {
                g_auto(GStrv) keep = g_strsplit(opt->cap_keep, ",", -1);
                GArray *kept = g_array_new(FALSE, FALSE, sizeof(cap_value_t));
                for (char **k = keep; *k && **k; k++) {
                        g_autofree char *name =
                                g_str_has_prefix(*k, "cap_") ? g_strdup(*k) : g_strconcat("cap_", *k, NULL);
                        cap_value_t v;
                        if (cap_from_name(name, &v) < 0) {
                                launch_error(
                                        error,
                                        "--cap-keep: unknown capability '%s' (names as in capabilities(7))",
                                        *k);
                                g_array_free(kept, TRUE);
                                return false;
                        }
                        g_array_append_val(kept, v);
                }
                for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                        bool keep_it = false;
                        for (guint i = 0; i < kept->len; i++)
                                keep_it = keep_it || g_array_index(kept, cap_value_t, i) == c;
                        if (!keep_it)
                                g_array_append_val(drop, c);
                }
                g_array_free(kept, TRUE);
                return true;
        }
        g_auto(GStrv) names =
                opt->cap_drop ? g_strsplit(opt->cap_drop, ",", -1) : g_strdupv((char **) default_cap_drop);
        for (char **n = names; *n && **n; n++) {
                g_autofree char *name =
                        g_str_has_prefix(*n, "cap_") ? g_strdup(*n) : g_strconcat("cap_", *n, NULL);
                cap_value_t v;
                if (cap_from_name(name, &v) < 0) {
                        launch_error(error,
                                     "--cap-drop: unknown capability '%s' (names as in capabilities(7))",
                                     *n);
                        return false;
                }
                g_array_append_val(drop, v);
        }
        return true;
}

static int drop_bounding_set(GArray *drop) {
        for (guint i = 0; i < drop->len; i++) {
                cap_value_t c = g_array_index(drop, cap_value_t, i);
                if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
                        return child_fail("drop capability %s from the bounding set", cap_to_name(c));
        }
        return 0;
}

static int drop_from_process(GArray *drop) {
        cap_t caps = cap_get_proc();
        if (!caps)
                return child_fail("read the capability sets");
        for (guint i = 0; i < drop->len; i++) {
                cap_value_t c = g_array_index(drop, cap_value_t, i);
                if (!CAP_IS_SUPPORTED(c))
                        continue;
                cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_CLEAR);
                cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_CLEAR);
                cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_CLEAR);
        }
        int r = cap_set_proc(caps);
        cap_free(caps);
        if (r < 0)
                return child_fail("set the capability sets");
        return cap_reset_ambient() < 0 ? child_fail("clear the ambient capabilities") : 0;
}

/* System calls a container never needs and that attack the host's kernel or its root: key
 * management (root's keyrings are the host's), kernel replacement, bpf and perf (kernel attack
 * surface), open_by_handle_at (opens files by inode, around the mount tree), and new user
 * namespaces (a full capability set over new mounts, cgroupfs included). */
static int load_seccomp(void) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return child_fail("seccomp_init");
        /* Also refuse them to 32-bit programs. */
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X86);
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X32);
        static const char *const refused[] = {
                "open_by_handle_at",
                "kexec_load",
                "kexec_file_load",
                "bpf",
                "perf_event_open",
                "keyctl",
                "add_key",
                "request_key",
                "userfaultfd",
                "fsopen",
                "fsmount",
                "fspick",
                "open_tree",
                "move_mount",
                "mount_setattr",
                "quotactl",
                "acct",
                "lookup_dcookie",
                "swapon",
                "swapoff",
        };
        int r = 0;
        for (size_t i = 0; r == 0 && i < G_N_ELEMENTS(refused); i++) {
                int nr = seccomp_syscall_resolve_name(refused[i]);
                if (nr != __NR_SCMP_ERROR)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
        }
        /* New user namespaces, by unshare() and clone(); clone3() hides its flags in memory the
         * filter cannot read, so it answers ENOSYS and the C library falls back to clone(). */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        /* Typing into the terminal of whoever started the container. */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX));
        /* Not no_new_privs: setuid programs (su, sudo) must keep working inside. The filter is
         * loaded while CAP_SYS_ADMIN is still effective, which the kernel requires without it. */
        if (r == 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        if (r < 0) {
                errno = -r;
                return child_fail("load the seccomp filter");
        }
        return 0;
}

/* ---------------------------------------------------------------- the child: becomes init */

typedef struct {
        Launch *launch;
        int sync_fd; /* reads the go-ahead, writes an error text */
        GArray *drop;
} ChildArgs;

static int child_setup(ChildArgs *a) {
        Launch *l = a->launch;
        char go;
        /* Wait until the launcher has put us into the container's cgroups. */
        if (read(a->sync_fd, &go, 1) != 1)
                return child_fail("wait for the launcher");
        if (unshare(CLONE_NEWCGROUP) < 0)
                return child_fail("unshare the cgroup namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return child_fail("make the mount tree private");
        /* The root must be a mount point for pivot_root; a bind of the rootfs onto itself is. The
         * rootfs's own path comes from the host's root (the command line) and is trusted. */
        const char *root = l->opt.rootfs;
        if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
                return child_fail("bind-mount the rootfs %s on itself", root);
        int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return child_fail("open the rootfs %s", root);
        int r = mount_proc(root_fd);
        if (r == 0)
                r = mount_in(root_fd, "sys", ROOTFS_MKDIR, "sysfs", "sysfs",
                             MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (r == 0)
                r = mount_cgroups(l, root_fd);
        if (r == 0)
                r = mount_dev(l, root_fd);
        if (r == 0)
                r = mount_run(root_fd);
        if (r == 0)
                r = mount_capfs(l, root_fd);
        if (r == 0)
                r = mount_binds(l, root_fd);
        if (r == 0 && g_strcmp0(l->opt.network, "none") == 0)
                r = setup_loopback();
        /* By default the rootfs's own name, which its init would set itself if it could. */
        g_autofree char *from_rootfs = NULL;
        const char *hostname = l->opt.hostname;
        if (r == 0 && !hostname && rootfs_read_file(root_fd, "etc/hostname", &from_rootfs) == 0 &&
            *g_strstrip(from_rootfs))
                hostname = from_rootfs;
        close(root_fd);
        if (r < 0)
                return -1;
        if (!hostname)
                hostname = l->opt.name;
        if (sethostname(hostname, strlen(hostname)) < 0)
                return child_fail("set the hostname %s", hostname);
        if (enter_root(root) < 0)
                return -1;
        /* The console: a session of its own with the pty as controlling terminal. */
        if (setsid() < 0)
                return child_fail("setsid");
        int tty = open("/dev/console", O_RDWR | O_CLOEXEC);
        if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
                return child_fail("open /dev/console as the controlling terminal");
        /* Sets the floor of the OOM score: without CAP_SYS_RESOURCE nothing inside can go below. */
        g_autofree char *adj = NULL;
        if (g_file_get_contents("/proc/self/oom_score_adj", &adj, NULL, NULL))
                (void) g_file_set_contents("/proc/self/oom_score_adj", g_strstrip(adj), -1, NULL);
        if (drop_bounding_set(a->drop) < 0 || load_seccomp() < 0 || drop_from_process(a->drop) < 0)
                return -1;
        if (dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0)
                return child_fail("attach the console");
        return 0;
}

static int child_main(void *data) {
        ChildArgs *a = data;
        Launch *l = a->launch;
        if (child_setup(a) < 0) {
                (void) !write(a->sync_fd, child_error, strlen(child_error));
                _exit(127);
        }
        g_autofree char *uuid = g_strdup_printf("container_uuid=%s", l->uuid);
        const char *term = g_getenv("TERM");
        g_autofree char *term_env = g_strdup_printf("TERM=%s", term ? term : "vt220");
        char *envp[] = {
                "container=capfs", uuid,
                term_env,          "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/root",      NULL};
        execve(l->opt.argv[0], l->opt.argv, envp);
        child_fail("exec %s in %s", l->opt.argv[0], l->opt.rootfs);
        (void) !write(a->sync_fd, child_error, strlen(child_error));
        _exit(127);
}

/* ---------------------------------------------------------------- the launcher */

static bool capfs_mounted(const char *dir, GError **error) {
        struct statfs fs;
        g_autofree char *meminfo = g_build_filename(dir, "proc/meminfo", NULL);
        if (statfs(dir, &fs) < 0 || fs.f_type != FUSE_SUPER_MAGIC || access(meminfo, R_OK) < 0) {
                launch_error(
                        error,
                        "capfs is not mounted at %s (%s): start it first (./scripts/run.sh, or capfs %s), "
                        "point --capfs at its mountpoint, or run without it: --no-capfs",
                        dir, statfs(dir, &fs) < 0 ? g_strerror(errno) : "no capfs file system there", dir);
                return false;
        }
        return true;
}

/* ---------------------------------------------------------------- systemd's transient scope */

/*
 * On a host run by systemd the cgroup tree is systemd's: cgroups made behind its back may be
 * moved or removed. A container's cgroups therefore go below a transient scope of its own,
 * capfs-NAME.scope, started over D-Bus with the launcher in it and Delegate=yes, which hands the
 * scope's subtree to us.
 */
typedef struct {
        char *job;
        char *result;
        bool timed_out;
} ScopeJob;

static void on_job_removed(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                           const char *signal, GVariant *params, gpointer data) {
        ScopeJob *j = data;
        guint32 id;
        const char *job, *unit, *result;
        if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(uoss)")))
                return;
        g_variant_get(params, "(u&o&s&s)", &id, &job, &unit, &result);
        if (j->job && !j->result && strcmp(job, j->job) == 0)
                j->result = g_strdup(result);
}

static gboolean on_scope_timeout(gpointer data) {
        ((ScopeJob *) data)->timed_out = true;
        return G_SOURCE_REMOVE;
}

#define SYSTEMD_BUS_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SCOPE_TIMEOUT_SEC 30

static bool start_scope(const char *unit, pid_t launcher, GError **error) {
        g_autoptr(GError) local = NULL;
        g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &local);
        if (!bus) {
                launch_error(error,
                             "cannot reach systemd on the system bus to create %s: %s; start dbus, or use "
                             "--scope=no to make the cgroups in cgroupfs directly",
                             unit, local->message);
                return false;
        }
        ScopeJob j = {0};
        guint sub = g_dbus_connection_signal_subscribe(bus, SYSTEMD_BUS_NAME, SYSTEMD_MANAGER, "JobRemoved",
                                                       SYSTEMD_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                       on_job_removed, &j, NULL);
        /* systemd sends its job signals only while some client is subscribed. */
        g_autoptr(GVariant) subscribed =
                g_dbus_connection_call_sync(bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                            "Subscribe", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        guint32 pid = (guint32) launcher;
        GVariantBuilder props;
        g_variant_builder_init(&props, G_VARIANT_TYPE("a(sv)"));
        g_autofree char *description = g_strdup_printf("capfs container %s", unit);
        g_variant_builder_add(&props, "(sv)", "Description", g_variant_new_string(description));
        g_variant_builder_add(&props, "(sv)", "PIDs",
                              g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, &pid, 1, sizeof(pid)));
        g_variant_builder_add(&props, "(sv)", "Delegate", g_variant_new_boolean(TRUE));
        g_variant_builder_add(&props, "(sv)", "CollectMode", g_variant_new_string("inactive-or-failed"));
        GVariant *args = g_variant_new("(ssa(sv)@a(sa(sv)))", unit, "fail", &props,
                                       g_variant_new_array(G_VARIANT_TYPE("(sa(sv))"), NULL, 0));
        g_autoptr(GVariant) reply = g_dbus_connection_call_sync(
                bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartTransientUnit", args,
                G_VARIANT_TYPE("(o)"), G_DBUS_CALL_FLAGS_NONE, SCOPE_TIMEOUT_SEC * 1000, NULL, &local);
        if (!reply) {
                g_dbus_connection_signal_unsubscribe(bus, sub);
                launch_error(error,
                             "systemd refused to create %s: %s; --scope=no makes the cgroups in "
                             "cgroupfs directly",
                             unit, local->message);
                return false;
        }
        g_variant_get(reply, "(o)", &j.job);
        guint timeout = g_timeout_add_seconds(SCOPE_TIMEOUT_SEC, on_scope_timeout, &j);
        while (!j.result && !j.timed_out)
                g_main_context_iteration(NULL, TRUE);
        if (!j.timed_out)
                g_source_remove(timeout);
        g_dbus_connection_signal_unsubscribe(bus, sub);
        bool done = j.result && strcmp(j.result, "done") == 0;
        if (!done)
                launch_error(error, "systemd did not start %s (job %s: %s); see journalctl -u %s", unit,
                             j.job, j.result ? j.result : "no answer within 30 s", unit);
        g_free(j.job);
        g_free(j.result);
        return done;
}

/*
 * Moves the launcher into capfs-NAME.scope when systemd runs the host (or --scope=yes). On cgroup2
 * a cgroup that hands controllers down may hold no processes: the launcher then moves on into the
 * scope's leaf "supervisor", and the scope becomes the parent of capfs/NAME.
 */
static bool enter_scope(Launch *l, GError **error) {
        Options *o = &l->opt;
        bool want = strcmp(o->scope, "yes") == 0 || (strcmp(o->scope, "auto") == 0 && !o->cgroup_parent &&
                                                     access("/run/systemd/system", F_OK) == 0);
        if (!want)
                return true;
        g_autofree char *unit = g_strdup_printf("capfs-%s.scope", o->name);
        /*
         * GDBus talks from a thread of its own, which would stay: it would take the signals the
         * launcher waits for with a signalfd, and a clone() beside it may inherit a held lock. A
         * child process asks for the scope (with the launcher's pid in it) and tells how it went.
         */
        pid_t launcher = getpid();
        int report[2];
        if (pipe2(report, O_CLOEXEC) < 0) {
                launch_error(error, "pipe: %s", g_strerror(errno));
                return false;
        }
        pid_t helper = fork();
        if (helper < 0) {
                launch_error(error, "fork: %s", g_strerror(errno));
                close(report[0]);
                close(report[1]);
                return false;
        }
        if (helper == 0) {
                GError *failure = NULL;
                close(report[0]);
                if (start_scope(unit, launcher, &failure))
                        _exit(0);
                if (write(report[1], failure->message, strlen(failure->message)) < 0)
                        _exit(2);
                _exit(1);
        }
        close(report[1]);
        g_autoptr(GString) message = g_string_new(NULL);
        char buf[512];
        ssize_t n;
        while ((n = read(report[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        g_string_append_len(message, buf, n);
        close(report[0]);
        int status;
        while (waitpid(helper, &status, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                launch_error(error, "%s", message->len ? message->str : "the D-Bus helper process failed");
                return false;
        }
        if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) != 0)
                return true;
        g_autofree char *self = NULL;
        if (!g_file_get_contents("/proc/self/cgroup", &self, NULL, error))
                return false;
        const char *line = strstr(self, "0::");
        if (!line) {
                launch_error(error, "/proc/self/cgroup has no cgroup2 line after entering %s", unit);
                return false;
        }
        g_autofree char *scope = g_strndup(line + 3, strcspn(line + 3, "\n"));
        g_autofree char *leaf = g_strdup_printf("%s%s/supervisor", CGROUP_ROOT, scope);
        g_autofree char *procs = g_build_filename(leaf, "cgroup.procs", NULL);
        g_autofree char *pid = g_strdup_printf("%d", (int) getpid());
        if (mkdir(leaf, 0755) < 0 && errno != EEXIST) {
                launch_error(error, "cannot create cgroup %s: %s", leaf, g_strerror(errno));
                return false;
        }
        if (!write_file(procs, pid, error))
                return false;
        g_free(o->cgroup_parent);
        o->cgroup_parent = g_steal_pointer(&scope);
        return true;
}

static bool check_options(Options *o, GError **error) {
        struct stat st;
        if (!o->scope)
                o->scope = g_strdup("auto");
        if (strcmp(o->scope, "auto") != 0 && strcmp(o->scope, "yes") != 0 && strcmp(o->scope, "no") != 0) {
                launch_error(error, "--scope=%s: use auto, yes or no", o->scope);
                return false;
        }
        if (strcmp(o->scope, "yes") == 0 && o->cgroup_parent) {
                launch_error(error,
                             "--scope=yes and --cgroup-parent exclude each other: the scope is the parent");
                return false;
        }
        if (!o->rootfs) {
                launch_error(
                        error,
                        "--rootfs DIR is required (a directory holding the container's root file system)");
                return false;
        }
        if (stat(o->rootfs, &st) < 0 || !S_ISDIR(st.st_mode)) {
                launch_error(error, "--rootfs %s: %s", o->rootfs,
                             errno ? g_strerror(errno) : "not a directory");
                return false;
        }
        g_autofree char *abs = realpath(o->rootfs, NULL);
        g_free(o->rootfs);
        o->rootfs = g_steal_pointer(&abs);
        if (!o->name)
                o->name = g_path_get_basename(o->rootfs);
        if (!o->name[0] || strchr(o->name, '/') || strcmp(o->name, ".") == 0 || strcmp(o->name, "..") == 0) {
                launch_error(error, "--name '%s': a container name is one path component", o->name);
                return false;
        }
        if (!o->capfs)
                o->capfs = g_strdup("/var/lib/capfs");
        if (!o->network)
                o->network = g_strdup("host");
        if (strcmp(o->network, "host") != 0 && strcmp(o->network, "none") != 0) {
                launch_error(error, "--network=%s: use host or none", o->network);
                return false;
        }
        if (o->cgroup_mode && strcmp(o->cgroup_mode, "capfs") != 0 &&
            strcmp(o->cgroup_mode, "native") != 0) {
                launch_error(error, "--cgroup=%s: use capfs or native", o->cgroup_mode);
                return false;
        }
        if (o->cap_drop && o->cap_keep) {
                launch_error(error, "--cap-drop and --cap-keep exclude each other");
                return false;
        }
        for (char **b = o->binds; b && *b; b++) {
                g_auto(GStrv) f = g_strsplit(*b, ":", 3);
                if (g_strv_length(f) < 2 || f[1][0] != '/' ||
                    (f[2] && strcmp(f[2], "ro") != 0 && strcmp(f[2], "rw") != 0) || access(f[0], F_OK) < 0) {
                        launch_error(
                                error,
                                "--bind %s: expected SRC:DST[:ro] with an existing SRC and an absolute DST",
                                *b);
                        return false;
                }
        }
        if (!o->argv || !o->argv[0]) {
                g_strfreev(o->argv);
                o->argv = g_new0(char *, 2);
                o->argv[0] = g_strdup("/sbin/init");
        }
        if (!o->no_capfs && !capfs_mounted(o->capfs, error))
                return false;
        return true;
}

static Options *parsed_options;

static gboolean parse_cpus(const char *name, const char *value, gpointer data, GError **error) {
        char *end;
        double cpus = g_ascii_strtod(value, &end);
        if (end == value || *end || cpus <= 0 || cpus > 4096) {
                launch_error(error, "--cpus: '%s' is not a CPU count (examples: 1, 0.5, 2)", value);
                return FALSE;
        }
        parsed_options->cpus_milli = (int) (cpus * 1000 + 0.5);
        return TRUE;
}

/* Relays the console until init exits; forwards SIGTERM/SIGINT as init's shutdown signal. */
static int supervise(Launch *l, int sigfd) {
        bool interactive = isatty(STDIN_FILENO);
        struct termios saved;
        if (interactive && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios raw = saved;
                cfmakeraw(&raw);
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        } else {
                interactive = false;
        }
        bool systemd =
                g_str_has_suffix(l->opt.argv[0], "init") || g_str_has_suffix(l->opt.argv[0], "systemd");
        int status = 0;
        bool exited = false, stdin_open = interactive;
        char buf[8192];
        while (!exited) {
                struct pollfd fds[3] = {{l->pty_master, POLLIN, 0},
                                        {sigfd, POLLIN, 0},
                                        {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
                if (poll(fds, 3, -1) < 0 && errno != EINTR)
                        break;
                if (fds[0].revents & POLLIN) {
                        ssize_t n = read(l->pty_master, buf, sizeof(buf));
                        if (n > 0)
                                (void) !write(STDOUT_FILENO, buf, (size_t) n);
                }
                if (fds[2].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
                        if (n > 0)
                                (void) !write(l->pty_master, buf, (size_t) n);
                        else
                                stdin_open = false;
                }
                if (fds[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        if (read(sigfd, &si, sizeof(si)) != sizeof(si))
                                continue;
                        if (si.ssi_signo == SIGCHLD) {
                                pid_t p;
                                int st;
                                while ((p = waitpid(-1, &st, WNOHANG)) > 0)
                                        if (p == l->child) {
                                                status = st;
                                                exited = true;
                                        }
                        } else {
                                /* systemd shuts down cleanly on SIGRTMIN+3; other inits on SIGTERM. */
                                kill(l->child, systemd ? SIGRTMIN + 3 : SIGTERM);
                        }
                }
        }
        /* What init printed last. */
        for (ssize_t n; (n = read(l->pty_master, buf, sizeof(buf))) > 0;)
                (void) !write(STDOUT_FILENO, buf, (size_t) n);
        if (interactive)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

static int open_console(Launch *l, GError **error) {
        int slave;
        struct winsize ws;
        bool have_size = ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0;
        if (openpty(&l->pty_master, &slave, l->pty_slave, NULL, have_size ? &ws : NULL) < 0) {
                launch_error(error, "cannot open a pty for the container's console: %s", g_strerror(errno));
                return -1;
        }
        if (!isatty(STDIN_FILENO)) {
                /* Output only, byte for byte: no CR added to newlines. */
                struct termios t;
                if (tcgetattr(slave, &t) == 0) {
                        cfmakeraw(&t);
                        tcsetattr(slave, TCSANOW, &t);
                }
        }
        fcntl(l->pty_master, F_SETFD, FD_CLOEXEC);
        fcntl(l->pty_master, F_SETFL, O_NONBLOCK);
        return slave;
}

int main(int argc, char **argv) {
        Launch l = {.pty_master = -1};
        Options *o = &l.opt;
        parsed_options = o;
        gboolean version = FALSE;
        GOptionEntry entries[] = {
                {"rootfs", 0, 0, G_OPTION_ARG_FILENAME, &o->rootfs, "The container's root file system",
                 "DIR"},
                {"name", 0, 0, G_OPTION_ARG_STRING, &o->name,
                 "Its name (cgroups capfs/NAME); default: the rootfs's", "NAME"},
                {"memory", 0, 0, G_OPTION_ARG_STRING, &o->memory, "Memory limit", "SIZE"},
                {"cpus", 0, 0, G_OPTION_ARG_CALLBACK, parse_cpus, "CPU limit (CFS quota)", "N"},
                {"pids", 0, 0, G_OPTION_ARG_INT64, &o->pids, "Task limit", "N"},
                {"hostname", 0, 0, G_OPTION_ARG_STRING, &o->hostname, "Host name (default: NAME)", "NAME"},
                {"capfs", 0, 0, G_OPTION_ARG_FILENAME, &o->capfs,
                 "capfs's mountpoint (default /var/lib/capfs)", "DIR"},
                {"no-capfs", 0, 0, G_OPTION_ARG_NONE, &o->no_capfs, "Run without capfs's views", NULL},
                {"cgroup", 0, 0, G_OPTION_ARG_STRING, &o->cgroup_mode,
                 "v1 controllers from capfs (default) or native", "capfs|native"},
                {"scope", 0, 0, G_OPTION_ARG_STRING, &o->scope,
                 "Ask systemd for a transient scope with Delegate=yes for the cgroups (auto: when the host "
                 "runs systemd and no --cgroup-parent is given)",
                 "auto|yes|no"},
                {"cgroup-parent", 0, 0, G_OPTION_ARG_STRING, &o->cgroup_parent,
                 "Parent of capfs/NAME in each hierarchy (default: the launcher's cgroup)", "PATH"},
                {"cap-drop", 0, 0, G_OPTION_ARG_STRING, &o->cap_drop,
                 "Capabilities to drop (replaces the default list)", "LIST"},
                {"cap-keep", 0, 0, G_OPTION_ARG_STRING, &o->cap_keep,
                 "Capabilities to keep; all others are dropped", "LIST"},
                {"network", 0, 0, G_OPTION_ARG_STRING, &o->network, "host (default) or none", "host|none"},
                {"bind", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o->binds, "Bind-mount SRC at DST",
                 "SRC:DST[:ro]"},
                {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
                {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->argv, NULL, "[CMD [ARGS...]]"},
                {NULL},
        };
        g_autoptr(GOptionContext) ctx = g_option_context_new("[--] [CMD [ARGS...]]");
        g_option_context_set_summary(
                ctx,
                "Runs a container without CAP_SYS_ADMIN, with capfs's views; CMD defaults to /sbin/init.");
        g_option_context_add_main_entries(ctx, entries, NULL);
        g_autoptr(GError) error = NULL;
        if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
                g_printerr("capfs-launch: %s (see --help)\n", error->message);
                return 2;
        }
        if (version) {
                printf("capfs-launch %s\n", CAPFS_VERSION);
                return 0;
        }
        if (geteuid() != 0) {
                g_printerr("capfs-launch: needs root (namespaces, mounts, cgroups); run it with sudo\n");
                return 1;
        }
        if (!check_options(o, &error)) {
                g_printerr("capfs-launch: %s\n", error->message);
                return 1;
        }
        g_autoptr(GArray) drop = g_array_new(FALSE, FALSE, sizeof(cap_value_t));
        if (!caps_to_drop(o, drop, &error) || !enter_scope(&l, &error) || !cgroups_discover(&l, &error)) {
                g_printerr("capfs-launch: %s\n", error->message);
                return 1;
        }
        g_autofree char *uuid = g_uuid_string_random();
        g_strlcpy(l.uuid, uuid, sizeof(l.uuid));

        /* From here on, what was made is undone on the way out. */
        int rc = 1;
        int slave = -1, sync[2] = {-1, -1}, sigfd = -1;
        g_autofree char *stack = NULL;
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (!cgroups_create(&l, &error) || (slave = open_console(&l, &error)) < 0)
                goto out;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
                launch_error(&error, "socketpair: %s", g_strerror(errno));
                goto out;
        }
        ChildArgs args = {.launch = &l, .sync_fd = sync[1], .drop = drop};
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
        if (strcmp(o->network, "none") == 0)
                flags |= CLONE_NEWNET;
        size_t stack_size = 1 << 20;
        stack = g_malloc(stack_size);
        l.child = clone(child_main, stack + stack_size, flags, &args);
        if (l.child < 0) {
                launch_error(&error, "cannot create the container's namespaces: %s", g_strerror(errno));
                goto out;
        }
        close(sync[1]);
        sync[1] = -1;
        close(slave);
        slave = -1;
        if (!cgroups_join(&l, l.child, &error)) {
                kill(l.child, SIGKILL);
                waitpid(l.child, NULL, 0);
                goto out;
        }
        /* Go; then either an error text comes back, or EOF when exec closed the socket. */
        char msg[1024];
        ssize_t n = write(sync[0], "g", 1) == 1 ? read(sync[0], msg, sizeof(msg) - 1) : -1;
        if (n != 0) {
                msg[n > 0 ? n : 0] = '\0';
                launch_error(&error, "setting up the container failed: %s", n > 0 ? msg : "lost the child");
                kill(l.child, SIGKILL);
                waitpid(l.child, NULL, 0);
                goto out;
        }
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
        rc = supervise(&l, sigfd);
out:
        if (error)
                g_printerr("capfs-launch: %s\n", error->message);
        cgroups_remove(&l);
        if (sigfd >= 0)
                close(sigfd);
        if (slave >= 0)
                close(slave);
        if (sync[0] >= 0)
                close(sync[0]);
        if (sync[1] >= 0)
                close(sync[1]);
        if (l.pty_master >= 0)
                close(l.pty_master);
        if (l.hierarchies)
                g_ptr_array_unref(l.hierarchies);
        return rc;
}
