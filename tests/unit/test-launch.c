/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-launch's parts that need no container: option parsing and its errors, sizes and CPU
 * counts, the CPU list cut, the capabilities to drop, the device rules and the BPF program (loaded
 * where the kernel lets us), the mount table, and the LXC policy files, which must say what the
 * launcher's own tables say.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <linux/bpf.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"

/* ---------------------------------------------------------------- sizes and CPUs */

static void test_parse_size(void) {
        static const struct {
                const char *text;
                uint64_t bytes;
        } good[] = {
                {"1073741824", 1073741824},
                {"512M", 536870912},
                {"512m", 536870912},
                {"2G", 2147483648},
                {"1GiB", 1073741824},
                {"1gb", 1073741824},
                {"4K", 4096},
                {"1T", 1099511627776},
                {"1B", 1},
                {"16777215T", 16777215ULL << 40},
        };
        static const char *const bad[] = {"",          "M",    "0",   "0G",  "-1",  "+1",
                                          "12X",       "1.5G", "1 G", "1GG", "1Gx", "99999999999999999999",
                                          "16777216T", " 1"};
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                uint64_t bytes = 0;
                g_test_message("size %s", good[i].text);
                g_assert_cmpint(parse_size(good[i].text, &bytes), ==, 0);
                g_assert_cmpuint(bytes, ==, good[i].bytes);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                uint64_t bytes = 7;
                g_test_message("not a size: '%s'", bad[i]);
                g_assert_cmpint(parse_size(bad[i], &bytes), ==, -EINVAL);
                g_assert_cmpuint(bytes, ==, 7);
        }
}

static void test_parse_cpus(void) {
        static const struct {
                const char *text;
                int milli;
        } good[] = {{"1", 1000}, {"0.5", 500}, {"2", 2000}, {"1.25", 1250}, {"0.001", 1}, {"4096", 4096000}};
        static const char *const bad[] = {"", "0", "-1", "abc", "1x", "4097", "0.0001", "nan", "inf", "1e9"};
        for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
                int milli = 0;
                g_assert_cmpint(parse_cpus(good[i].text, &milli), ==, 0);
                g_assert_cmpint(milli, ==, good[i].milli);
        }
        for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
                int milli = 0;
                g_test_message("not a CPU count: '%s'", bad[i]);
                g_assert_cmpint(parse_cpus(bad[i], &milli), ==, -EINVAL);
        }
}

static void test_first_cpus(void) {
        static const struct {
                const char *list;
                unsigned count;
                const char *cut;
        } cases[] = {
                {"0-3,8", 2, "0-1"},     {"2,5-7", 3, "2,5-6"}, {"0-3", 10, "0-3"},  {"4", 1, "4"},
                {"0-3,8\n", 5, "0-3,8"}, {"0-63", 1, "0"},      {"1,3,5", 2, "1,3"},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *cut = first_cpus(cases[i].list, cases[i].count);
                g_assert_cmpstr(cut, ==, cases[i].cut);
        }
        g_autofree char *junk = first_cpus("0-x", 1);
        g_assert_null(junk);
}

/* ---------------------------------------------------------------- options */

/* Parses ARGS (NULL-terminated, without argv[0]) into O; returns options_parse()'s result. */
static int parse_args(Options *o, GError **error, const char *const *args) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_ptr_array_add(argv, (char *) "capfs-launch");
        for (const char *const *a = args; *a; a++)
                g_ptr_array_add(argv, (char *) *a);
        g_ptr_array_add(argv, NULL);
        memset(o, 0, sizeof(*o));
        return options_parse(o, (int) argv->len - 1, (char **) argv->pdata, error);
}

static void test_options_defaults(void) {
        Options o;
        g_autoptr(GError) error = NULL;
        const char *const args[] = {"--rootfs", "/", "--name", "ct1", NULL};

        g_assert_cmpint(parse_args(&o, &error, args), ==, 0);
        g_assert_no_error(error);
        g_assert_cmpstr(o.rootfs, ==, "/");
        g_assert_cmpstr(o.name, ==, "ct1");
        g_assert_cmpstr(o.capfs, ==, "/var/lib/capfs");
        g_assert_cmpint(o.scope, ==, SCOPE_AUTO);
        g_assert_cmpint(o.cgroup_mode, ==, CGROUP_MODE_CAPFS);
        g_assert_cmpint(o.network, ==, NETWORK_HOST);
        g_assert_cmpuint(o.memory_bytes, ==, 0);
        g_assert_cmpint(o.cpus_milli, ==, 0);
        g_assert_cmpint(o.pids, ==, 0);
        g_assert_cmpuint(o.binds->len, ==, 0);
        g_assert_cmpuint(o.max_descendants, ==, 1000);
        g_assert_cmpuint(o.max_depth, ==, 16);
        g_assert_cmpstr(o.argv[0], ==, "/sbin/init");
        g_assert_null(o.argv[1]);
        options_clear(&o);
}

static void test_options_all(void) {
        Options o;
        g_autoptr(GError) error = NULL;
        g_autofree char *dir = g_dir_make_tmp("capfs-test-launch-XXXXXX", NULL);
        g_autofree char *rootfs = g_build_filename(dir, "debian", NULL);
        g_assert_cmpint(g_mkdir(rootfs, 0755), ==, 0);
        const char *const args[] = {"--rootfs",
                                    rootfs,
                                    "--memory",
                                    "512M",
                                    "--cpus",
                                    "1.5",
                                    "--pids",
                                    "256",
                                    "--scope=no",
                                    "--cgroup=native",
                                    "--network=none",
                                    "--cgroup-max-descendants",
                                    "200",
                                    "--cgroup-max-depth=max",
                                    "--bind",
                                    "/etc:/data/etc:ro",
                                    "--bind",
                                    "/tmp:/scratch",
                                    "--hostname",
                                    "box",
                                    "--cap-drop",
                                    "sys_admin,net_admin",
                                    "--",
                                    "/bin/sh",
                                    "-c",
                                    "true",
                                    NULL};

        g_assert_cmpint(parse_args(&o, &error, args), ==, 0);
        g_assert_no_error(error);
        g_assert_cmpstr(o.name, ==, "debian"); /* the rootfs's name */
        g_assert_cmpuint(o.memory_bytes, ==, 536870912);
        g_assert_cmpint(o.cpus_milli, ==, 1500);
        g_assert_cmpint(o.pids, ==, 256);
        g_assert_cmpint(o.scope, ==, SCOPE_NO);
        g_assert_cmpint(o.cgroup_mode, ==, CGROUP_MODE_NATIVE);
        g_assert_cmpint(o.network, ==, NETWORK_NONE);
        g_assert_cmpstr(o.hostname, ==, "box");
        g_assert_cmpuint(o.max_descendants, ==, 200);
        g_assert_cmpuint(o.max_depth, ==, UINT64_MAX);
        g_assert_cmpuint(o.binds->len, ==, 2);
        BindMount *b = &g_array_index(o.binds, BindMount, 0);
        g_assert_cmpstr(b->source, ==, "/etc");
        g_assert_cmpstr(b->target, ==, "/data/etc");
        g_assert_true(b->readonly);
        b = &g_array_index(o.binds, BindMount, 1);
        g_assert_cmpstr(b->target, ==, "/scratch");
        g_assert_false(b->readonly);
        g_assert_cmpstr(o.argv[0], ==, "/bin/sh");
        g_assert_cmpstr(o.argv[2], ==, "true");
        options_clear(&o);
        g_assert_cmpint(g_rmdir(rootfs), ==, 0);
        g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_options_errors(void) {
        static const struct {
                const char *args[10];
                const char *message; /* a part of the error's text */
        } cases[] = {
                {{"--name", "x", NULL}, "--rootfs DIR is required"},
                {{"--rootfs", "/nonexistent-capfs-rootfs", NULL},
                 "--rootfs /nonexistent-capfs-rootfs: No such file"},
                {{"--rootfs", "/etc/hostname", NULL}, "Not a directory"},
                {{"--rootfs", "/", "--name", "t", "--scope=maybe", NULL},
                 "--scope=maybe: use auto, yes or no"},
                {{"--rootfs", "/", "--name", "t", "--scope=yes", "--cgroup-parent", "/x", NULL},
                 "exclude each other"},
                {{"--rootfs", "/", "--name", "t", "--cgroup=hybrid", NULL},
                 "--cgroup=hybrid: use capfs or native"},
                {{"--rootfs", "/", "--name", "t", "--network=bridge", NULL},
                 "--network=bridge: use host or none"},
                {{"--rootfs", "/", "--name", "t", "--memory", "12X", NULL}, "--memory: '12X' is not a size"},
                {{"--rootfs", "/", "--name", "t", "--cpus", "0", NULL}, "--cpus: '0' is not a CPU count"},
                {{"--rootfs", "/", "--name", "t", "--pids", "-5", NULL}, "--pids: -5 is not a task count"},
                {{"--rootfs", "/", "--name", "t", "--cap-drop", "a", "--cap-keep", "b", NULL},
                 "--cap-drop and --cap-keep exclude"},
                {{"--rootfs", "/", "--name", "t", "--bind", "/etc", NULL}, "--bind /etc: expected SRC:DST"},
                {{"--rootfs", "/", "--name", "t", "--bind", "/etc:relative", NULL}, "with an absolute DST"},
                {{"--rootfs", "/", "--name", "t", "--bind", "/etc:/x:rx", NULL},
                 "--bind /etc:/x:rx: expected"},
                {{"--rootfs", "/", "--name", "t", "--bind", "/nonexistent-src:/x", NULL},
                 "the source /nonexistent-src: No such file"},
                {{"--rootfs", "/", "--name", "a/b", NULL},
                 "--name 'a/b': a container name is one path component"},
                {{"--rootfs", "/", "--name", "..", NULL}, "a container name is one path component"},
                {{"--rootfs", "/", "--name", "t", "--no-such-option", NULL}, "--no-such-option"},
                {{"--rootfs", "/", "--name", "t", "--cgroup-max-descendants", "-1", NULL},
                 "--cgroup-max-descendants: '-1' is not a number of cgroups"},
                {{"--rootfs", "/", "--name", "t", "--cgroup-max-depth", "2147483648", NULL},
                 "--cgroup-max-depth: '2147483648' is not a depth"},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                Options o;
                g_autoptr(GError) error = NULL;
                g_test_message("expecting: %s", cases[i].message);
                g_assert_cmpint(parse_args(&o, &error, cases[i].args), <, 0);
                g_assert_nonnull(error);
                if (!strstr(error->message, cases[i].message))
                        g_error("error '%s' lacks '%s'", error->message, cases[i].message);
                options_clear(&o);
        }
}

/* ---------------------------------------------------------------- capabilities */

static GArray *drop_for(const char *cap_drop, const char *cap_keep, GError **error, int *r) {
        Options o = {.cap_drop = (char *) cap_drop, .cap_keep = (char *) cap_keep};
        GArray *drop = g_array_new(FALSE, FALSE, sizeof(cap_value_t));
        *r = caps_to_drop(&o, drop, error);
        return drop;
}

static bool contains(GArray *caps, cap_value_t c) {
        for (guint i = 0; i < caps->len; i++)
                if (g_array_index(caps, cap_value_t, i) == c)
                        return true;
        return false;
}

static void test_caps(void) {
        g_autoptr(GError) error = NULL;
        int r;

        g_autoptr(GArray) defaults = drop_for(NULL, NULL, &error, &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpuint(defaults->len, ==, g_strv_length((char **) default_cap_drop));
        g_assert_true(contains(defaults, CAP_SYS_ADMIN));
        g_assert_true(contains(defaults, CAP_SYS_MODULE));
        g_assert_true(contains(defaults, CAP_SYS_RESOURCE));
        /* What systemd needs to boot stays. */
        g_assert_false(contains(defaults, CAP_CHOWN));
        g_assert_false(contains(defaults, CAP_SETUID));
        g_assert_false(contains(defaults, CAP_MKNOD));

        g_autoptr(GArray) listed = drop_for("sys_admin,cap_net_admin", NULL, &error, &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpuint(listed->len, ==, 2);
        g_assert_true(contains(listed, CAP_SYS_ADMIN) && contains(listed, CAP_NET_ADMIN));

        g_autoptr(GArray) kept = drop_for(NULL, "chown,cap_setuid", &error, &r);
        g_assert_cmpint(r, ==, 0);
        g_assert_cmpuint(kept->len, ==, CAP_LAST_CAP + 1 - 2);
        g_assert_false(contains(kept, CAP_CHOWN) || contains(kept, CAP_SETUID));
        g_assert_true(contains(kept, CAP_SYS_ADMIN));

        g_array_unref(drop_for("sys_admin,sys_wizard", NULL, &error, &r));
        g_assert_cmpint(r, ==, -EINVAL);
        g_assert_nonnull(strstr(error->message, "--cap-drop: unknown capability 'sys_wizard'"));
        g_clear_error(&error);
        g_array_unref(drop_for(NULL, "frob", &error, &r));
        g_assert_cmpint(r, ==, -EINVAL);
        g_assert_nonnull(strstr(error->message, "--cap-keep: unknown capability 'frob'"));
}

/* ---------------------------------------------------------------- devices */

static void test_device_whitelist(void) {
        static const char *const expected[] = {
                "c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm",   "c 1:8 rwm",
                "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",
        };
        g_autoptr(GPtrArray) lines = device_whitelist_v1();
        g_assert_cmpuint(lines->len, ==, G_N_ELEMENTS(expected));
        for (guint i = 0; i < lines->len; i++)
                g_assert_cmpstr(lines->pdata[i], ==, expected[i]);
}

static void test_device_program(void) {
        g_autoptr(GArray) prog = device_program();
        g_autoptr(GArray) rules = device_rules();
        const struct bpf_insn *insns = (const struct bpf_insn *) (void *) prog->data;

        /* 7 to load and test mknod, 2 to allow it, 1 + 2 for character devices only, each rule's
         * test (1 or 2) and its 2, and the final 2. */
        guint expected = 7 + 2 + 3 + 2;
        for (guint i = 0; i < rules->len; i++)
                expected += (g_array_index(rules, DeviceRule, i).minor < 0 ? 1 : 2) + 2;
        g_assert_cmpuint(prog->len, ==, expected);
        g_assert_cmpint(insns[prog->len - 1].code, ==, BPF_JMP | BPF_EXIT);
        g_assert_cmpint(insns[prog->len - 2].imm, ==, 0); /* what no rule allows is refused */

        char log[4096] = "";
        int fd = device_program_load(log, sizeof(log));
        if (fd == -EPERM || fd == -ENOSYS || fd == -EACCES) {
                g_test_skip("this kernel or user may not load BPF programs");
                return;
        }
        if (fd < 0)
                g_error("the verifier refused the device program: %s; %s", g_strerror(-fd), log);
        close(fd);
}

/* ---------------------------------------------------------------- mounts */

static void test_mount_table(void) {
        g_assert_cmpuint(mount_table_count, >=, 10);
        g_assert_cmpstr(mount_table[0].path, ==, "proc");
        for (size_t i = 0; i < mount_table_count; i++) {
                const MountEntry *e = &mount_table[i];
                g_test_message("mount %s (%s)", e->path, e->fstype);
                g_assert_true(e->path[0] != '/' && !strstr(e->path, ".."));
                g_assert_true(e->flags & MS_NOSUID);
                /* A parent comes before what is mounted below it. */
                g_autofree char *parent = g_path_get_dirname(e->path);
                if (strcmp(parent, ".") != 0) {
                        bool before = false;
                        for (size_t j = 0; j < i; j++)
                                before = before || strcmp(mount_table[j].path, parent) == 0;
                        g_assert_true(before);
                }
                if (strcmp(e->path, "sys") == 0)
                        g_assert_true(e->flags & MS_RDONLY);
        }
}

/* ---------------------------------------------------------------- the LXC policy */

/* The value words of every "KEY = a b c" line of the snippet. */
static GPtrArray *snippet_values(const char *key) {
        g_autofree char *path = g_build_filename(CAPFS_SOURCE_DIR, "mount-helper/lxc/capfs.conf.in", NULL);
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;
        GPtrArray *values = g_ptr_array_new_with_free_func(g_free);
        g_assert_true(g_file_get_contents(path, &text, NULL, &error));
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (char **l = lines; *l; l++) {
                g_auto(GStrv) kv = g_strsplit(*l, "=", 2);
                if (!kv[0] || !kv[1] || strcmp(g_strstrip(kv[0]), key) != 0)
                        continue;
                g_auto(GStrv) words = g_strsplit_set(g_strstrip(kv[1]), " \t", -1);
                for (char **w = words; *w; w++)
                        if (**w)
                                g_ptr_array_add(values, g_strdup(*w));
        }
        return values;
}

static void test_lxc_caps(void) {
        g_autoptr(GPtrArray) dropped = snippet_values("lxc.cap.drop");
        size_t n = 0;
        for (const char *const *c = default_cap_drop; *c; c++, n++) {
                bool found = false;
                for (guint i = 0; i < dropped->len; i++)
                        found = found || strcmp(dropped->pdata[i], *c + strlen("cap_")) == 0;
                if (!found)
                        g_error("capfs.conf.in does not drop %s, which capfs-launch drops", *c);
        }
        g_assert_cmpuint(dropped->len, ==, n);
}

static void test_lxc_seccomp(void) {
        g_autofree char *path = g_build_filename(CAPFS_SOURCE_DIR, "mount-helper/lxc/capfs.seccomp", NULL);
        g_autofree char *text = NULL;
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (const char *const *call = seccomp_refused; *call; call++) {
                g_autofree char *want = g_strdup_printf("%s errno 1", *call);
                if (!g_strv_contains((const char *const *) lines, want))
                        g_error("capfs.seccomp lacks '%s', which capfs-launch's filter refuses", want);
        }
        /* The argument rules: new user namespaces, clone3, and the two terminal ioctls. */
        static const char *const rules[] = {
                "unshare errno 1 [0,0x10000000,SCMP_CMP_MASKED_EQ,0x10000000]",
                "clone errno 1 [0,0x10000000,SCMP_CMP_MASKED_EQ,0x10000000]",
                "clone3 errno 38",
                "ioctl errno 1 [1,0x5412,SCMP_CMP_MASKED_EQ,0xffffffff]",
                "ioctl errno 1 [1,0x541c,SCMP_CMP_MASKED_EQ,0xffffffff]",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(rules); i++)
                if (!g_strv_contains((const char *const *) lines, rules[i]))
                        g_error("capfs.seccomp lacks '%s'", rules[i]);
}

/* Makes the empty file DIR/REL (and its directories). */
static void touch(const char *dir, const char *rel) {
        g_autofree char *path = g_build_filename(dir, rel, NULL);
        g_autofree char *parent = g_path_get_dirname(path);
        g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
        g_assert_true(g_file_set_contents(path, "", 0, NULL));
}

static void test_systemd_version(void) {
        g_autofree char *root = g_dir_make_tmp("capfs-test-systemd-XXXXXX", NULL);
        g_autofree char *outside = g_dir_make_tmp("capfs-test-outside-XXXXXX", NULL);
        g_autofree char *found = NULL;
        g_autofree char *link = g_build_filename(root, "lib", NULL);
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s' '%s'", root, outside);
        int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpuint(rootfs_systemd_version(fd, &found), ==, 0);
        g_assert_null(found);
        /* bookworm's place; then sid's on another architecture, and a build with a dashed version */
        touch(root, "usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so");
        g_assert_cmpuint(rootfs_systemd_version(fd, &found), ==, 252);
        g_assert_cmpstr(found, ==, "usr/lib/x86_64-linux-gnu/systemd");
        touch(root, "usr/lib/aarch64-linux-gnu/systemd/libsystemd-shared-262.so");
        touch(root, "usr/lib/systemd/libsystemd-shared-257.9-1.so");
        g_assert_cmpuint(rootfs_systemd_version(fd, &found), ==, 262);
        g_assert_cmpstr(found, ==, "usr/lib/aarch64-linux-gnu/systemd");
        /* Not a library of that name; a symlink out of the rootfs, resolved inside it: nothing. */
        touch(outside, "systemd/libsystemd-shared-999.so");
        touch(root, "usr/lib/systemd/libsystemd-shared.so");
        g_assert_cmpint(symlink(outside, link), ==, 0);
        g_assert_cmpuint(rootfs_systemd_version(fd, &found), ==, 262);
        close(fd);
        g_assert_cmpint(system(cmd), ==, 0);
}

int main(int argc, char *argv[]) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/launch/parse-size", test_parse_size);
        g_test_add_func("/launch/systemd-version", test_systemd_version);
        g_test_add_func("/launch/parse-cpus", test_parse_cpus);
        g_test_add_func("/launch/first-cpus", test_first_cpus);
        g_test_add_func("/launch/options/defaults", test_options_defaults);
        g_test_add_func("/launch/options/all", test_options_all);
        g_test_add_func("/launch/options/errors", test_options_errors);
        g_test_add_func("/launch/caps", test_caps);
        g_test_add_func("/launch/devices/whitelist", test_device_whitelist);
        g_test_add_func("/launch/devices/program", test_device_program);
        g_test_add_func("/launch/mount-table", test_mount_table);
        g_test_add_func("/launch/lxc/caps", test_lxc_caps);
        g_test_add_func("/launch/lxc/seccomp", test_lxc_seccomp);
        return g_test_run();
}
