/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mount-helper/oci.c: the container's state (on the hook's stdin) and config.json as podman and
 * runc write them (trimmed to what matters, plus the noise around it), and the hook's plan.
 */
#include <string.h>

#include "oci.h"

static const char state_podman[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"id\":\"4f1c0d2e9a7b\",\"status\":\"created\",\"pid\":4242,"
        "\"bundle\":\"/var/lib/containers/storage/overlay-containers/4f1c0d2e9a7b/userdata\","
        "\"annotations\":{\"io.capfs.enabled\":\"true\",\"io.container.manager\":\"libpod\"}}";

static const char config_podman[] =
        "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
        "\"args\":[\"/sbin/init\"],\"env\":[\"PATH=/usr/sbin:/usr/bin\",\"container=podman\","
        "\"container_uuid=4f1c0d2e9a7b4f1c0d2e9a7b4f1c0d2e\"],\"cwd\":\"/\"},"
        "\"root\":{\"path\":\"/var/lib/containers/storage/overlay/abc/merged\"},"
        "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
        "\"annotations\":{\"io.capfs.enabled\":\"true\",\"org.opencontainers.image.stopSignal\":\"37\"},"
        "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"}]}}";

static OciContainer *parse(const char *state, const char *config, GError **error) {
        return oci_container_parse(state, strlen(state), config, strlen(config), error);
}

static void test_podman(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(OciContainer) c = parse(state_podman, config_podman, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(c->id, ==, "4f1c0d2e9a7b");
        g_assert_cmpstr(c->root, ==, "/var/lib/containers/storage/overlay/abc/merged");
        g_assert_cmpstr(g_hash_table_lookup(c->annotations, "io.container.manager"), ==, "libpod");
        g_assert_cmpstr(g_hash_table_lookup(c->annotations, "org.opencontainers.image.stopSignal"), ==,
                        "37");
        g_assert_cmpstr(c->args[0], ==, "/sbin/init");
        g_assert_null(c->args[1]);
        g_assert_cmpuint(g_strv_length(c->env), ==, 3);
        OciPlan plan;
        g_assert_true(oci_plan(c, &plan, &error));
        g_assert_false(plan.skip);
        g_assert_false(plan.optional);
        g_assert_true(plan.cgroup_view);
}

/* runc's own bundles: a root.path relative to the bundle, no annotations, no process.env. */
static void test_relative_root(void) {
        g_autoptr(GError) error = NULL;
        g_autoptr(OciContainer) c =
                parse("{\"id\":\"x\",\"pid\":7,\"bundle\":\"/srv/bundle\"}",
                      "{\"root\":{\"path\":\"rootfs\"},\"process\":{\"args\":[\"sh\"]}}", &error);
        g_assert_no_error(error);
        g_assert_cmpstr(c->root, ==, "/srv/bundle/rootfs");
        g_assert_cmpuint(g_hash_table_size(c->annotations), ==, 0);
        g_assert_null(c->env[0]);
        OciPlan plan;
        g_assert_true(oci_plan(c, &plan, &error));
        g_assert_false(plan.cgroup_view);
}

/* Which commands count as systemd, and the annotations that override the guess. */
static void test_plan(void) {
        static const struct {
                const char *args;
                const char *annotations;
                bool skip, optional, cgroup_view;
        } cases[] = {
                {"\"/lib/systemd/systemd\"", "", false, false, true},
                {"\"/usr/local/sbin/init\"", "", false, false, true},
                {"\"/usr/bin/python3\",\"/sbin/init\"", "", false, false, false},
                {"\"/sbin/init\"", "\"io.capfs.cgroup\":\"none\"", false, false, false},
                {"\"sh\"", "\"io.capfs.cgroup\":\"view\"", false, false, true},
                {"\"sh\"", "\"io.capfs.optional\":\"true\"", false, true, false},
                {"\"sh\"", "\"io.capfs.enabled\":\"false\"", true, false, false},
                {"", "", false, false, false},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *config = g_strdup_printf(
                        "{\"root\":{\"path\":\"/r\"},\"process\":{\"args\":[%s]},\"annotations\":{%s}}",
                        cases[i].args, cases[i].annotations);
                g_autoptr(OciContainer) c =
                        parse("{\"id\":\"x\",\"pid\":7,\"bundle\":\"/b\"}", config, &error);
                g_assert_no_error(error);
                OciPlan plan;
                g_assert_true(oci_plan(c, &plan, &error));
                g_assert_cmpint(plan.skip, ==, cases[i].skip);
                g_assert_cmpint(plan.optional, ==, cases[i].optional);
                g_assert_cmpint(plan.cgroup_view, ==, cases[i].cgroup_view);
        }
}

static void test_bad_annotations(void) {
        static const char *const annotations[] = {
                "\"io.capfs.enabled\":\"yes\"",
                "\"io.capfs.optional\":\"1\"",
                "\"io.capfs.cgroup\":\"rw\"",
        };
        for (size_t i = 0; i < G_N_ELEMENTS(annotations); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *config =
                        g_strdup_printf("{\"root\":{\"path\":\"/r\"},\"annotations\":{%s}}", annotations[i]);
                g_autoptr(OciContainer) c =
                        parse("{\"id\":\"x1\",\"pid\":7,\"bundle\":\"/b\"}", config, &error);
                g_assert_no_error(error);
                OciPlan plan;
                g_assert_false(oci_plan(c, &plan, &error));
                g_assert_nonnull(strstr(error->message, "container x1"));
        }
}

static void test_malformed(void) {
        static const struct {
                const char *state, *config, *message;
        } cases[] = {
                {"", "{}", "not a JSON object"},
                {"{\"id\":", "{}", "not valid JSON"},
                {"[1]", "{}", "not a JSON object"},
                {"{\"id\":\"x\",\"bundle\":\"relative\"}", "{}", "absolute \"bundle\""},
                {"{\"bundle\":\"/b\"}", "{}", "lacks \"id\""},
                {"{\"id\":\"x\",\"bundle\":\"/b\"}", "{\"root\":{}}", "/b/config.json has no root.path"},
                {"{\"id\":\"x\",\"bundle\":\"/b\"}", "{\"root\":", "/b/config.json is not valid JSON"},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(OciContainer) c = parse(cases[i].state, cases[i].config, &error);
                g_assert_null(c);
                g_assert_nonnull(error);
                if (!strstr(error->message, cases[i].message))
                        g_error("case %zu: '%s' lacks '%s'", i, error->message, cases[i].message);
        }
}

/* The CPUs of a container with a quota and no cpuset of its own; not otherwise. */
static void test_cpuset_plan(void) {
        static const struct {
                const char *cpu, *annotations;
                unsigned count;
        } cases[] = {
                {"\"quota\":100000,\"period\":100000", "", 1},
                {"\"quota\":150000,\"period\":100000", "", 2},
                {"\"quota\":50000", "", 1}, /* the kernel's 100 ms period */
                {"\"quota\":-1,\"period\":100000", "", 0},
                {"\"quota\":100000,\"period\":100000,\"cpus\":\"1\"", "", 0},
                {"\"quota\":100000,\"period\":100000", "\"io.capfs.cpuset\":\"keep\"", 0},
                {"\"quota\":200000,\"period\":100000", "\"io.capfs.cpuset\":\"quota\"", 2},
                {"\"shares\":1024", "", 0},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autofree char *config = g_strdup_printf(
                        "{\"root\":{\"path\":\"/r\"},\"linux\":{\"resources\":{\"cpu\":{%s}}},"
                        "\"annotations\":{%s}}",
                        cases[i].cpu, cases[i].annotations);
                g_autoptr(OciContainer) c =
                        parse("{\"id\":\"x\",\"pid\":7,\"bundle\":\"/b\"}", config, &error);
                g_assert_no_error(error);
                OciPlan plan;
                g_assert_true(oci_plan(c, &plan, &error));
                if (plan.cpuset_count != cases[i].count)
                        g_error("case %zu (%s): %u CPUs, expected %u", i, cases[i].cpu, plan.cpuset_count,
                                cases[i].count);
        }
        g_autoptr(GError) error = NULL;
        g_autoptr(OciContainer) c =
                parse("{\"id\":\"x\",\"bundle\":\"/b\"}",
                      "{\"root\":{\"path\":\"/r\"},\"annotations\":{\"io.capfs.cpuset\":\"0\"}}", &error);
        OciPlan plan;
        g_assert_false(oci_plan(c, &plan, &error));
        g_assert_nonnull(strstr(error->message, "io.capfs.cpuset=0"));
}

/* The container's cpuset cgroup below the mounts that show it, on this machine's layouts. */
static void test_cpuset_dir(void) {
        static const char hybrid_cgroup[] =
                "9:name=systemd:/x\n3:cpuset:/capfs-test-1/libpod_parent/libpod-ab\n"
                "1:cpu,cpuacct:/y\n0::/z\n";
        static const char hybrid_mounts[] =
                "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
                "31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
                "35 30 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
                "36 30 0:32 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        bool v2 = true;
        g_autofree char *dir = oci_cpuset_dir(hybrid_cgroup, hybrid_mounts, &v2);
        g_assert_cmpstr(dir, ==, "/sys/fs/cgroup/cpuset/capfs-test-1/libpod_parent/libpod-ab");
        g_assert_false(v2);

        /* A mount of part of the tree (a cgroup namespace's, a test's private one) strips its root;
         * one not holding the cgroup does not count. */
        static const char part_mounts[] =
                "40 30 0:31 /capfs-test-2 /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
                "41 30 0:31 /capfs-test-1 /mnt/cpuset rw - cgroup cgroup rw,cpuset\n";
        g_autofree char *part = oci_cpuset_dir(hybrid_cgroup, part_mounts, &v2);
        g_assert_cmpstr(part, ==, "/mnt/cpuset/libpod_parent/libpod-ab");

        /* A tmpfs over /sys/fs/cgroup hides the mounts made before it; the container's own
         * cgroup mounted in its rootfs is the last resort. */
        static const char stacked_mounts[] =
                "35 30 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
                "50 30 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                "51 50 0:31 /capfs-test-1 /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n"
                "60 59 0:31 /capfs-test-1/libpod_parent/libpod-ab /r/sys/fs/cgroup/cpuset ro - cgroup "
                "cgroup rw,cpuset\n";
        g_autofree char *stacked = oci_cpuset_dir(hybrid_cgroup, stacked_mounts, &v2);
        g_assert_cmpstr(stacked, ==, "/sys/fs/cgroup/cpuset/libpod_parent/libpod-ab");
        static const char own_mounts[] = "60 59 0:31 /capfs-test-1/libpod_parent/libpod-ab "
                                         "/r/sys/fs/cgroup/cpuset ro - cgroup cgroup rw,cpuset\n";
        g_autofree char *own = oci_cpuset_dir(hybrid_cgroup, own_mounts, &v2);
        g_assert_cmpstr(own, ==, "/r/sys/fs/cgroup/cpuset");

        static const char v2_cgroup[] = "0::/machine.slice/libpod-cd.scope/container\n";
        static const char v2_mounts[] = "25 22 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        g_autofree char *unified = oci_cpuset_dir(v2_cgroup, v2_mounts, &v2);
        g_assert_cmpstr(unified, ==, "/sys/fs/cgroup/machine.slice/libpod-cd.scope/container");
        g_assert_true(v2);

        g_assert_null(oci_cpuset_dir(v2_cgroup, hybrid_mounts + strlen(hybrid_mounts) - 1, &v2));
        g_assert_null(oci_cpuset_dir("garbage", v2_mounts, &v2));
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/oci/podman", test_podman);
        g_test_add_func("/oci/relative-root", test_relative_root);
        g_test_add_func("/oci/plan", test_plan);
        g_test_add_func("/oci/bad-annotations", test_bad_annotations);
        g_test_add_func("/oci/malformed", test_malformed);
        g_test_add_func("/oci/cpuset-plan", test_cpuset_plan);
        g_test_add_func("/oci/cpuset-dir", test_cpuset_dir);
        return g_test_run();
}
