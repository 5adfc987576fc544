/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "oci.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "parse/parse.h"

/* Larger than any state or config.json a runtime writes (podman's are a few KiB). */
#define OCI_JSON_MAX (1u << 20)

void oci_container_free(OciContainer *c) {
        if (!c)
                return;
        g_free(c->id);
        g_free(c->bundle);
        g_free(c->root);
        if (c->annotations)
                g_hash_table_unref(c->annotations);
        g_strfreev(c->args);
        g_strfreev(c->env);
        g_free(c->cpuset_cpus);
        g_free(c);
}

static JsonObject *parse_object(JsonParser *parser, const char *json, gsize length, const char *what,
                                GError **error) {
        g_autoptr(GError) local = NULL;
        if (length > OCI_JSON_MAX) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the %s is larger than %u bytes",
                            what, OCI_JSON_MAX);
                return NULL;
        }
        if (!json_parser_load_from_data(parser, json, (gssize) length, &local)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the %s is not valid JSON: %s", what,
                            local->message);
                return NULL;
        }
        JsonNode *root = json_parser_get_root(parser);
        if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the %s is not a JSON object", what);
                return NULL;
        }
        return json_node_get_object(root);
}

/* MEMBER of OBJECT when it is a string; NULL otherwise. */
static const char *string_member(JsonObject *object, const char *member) {
        JsonNode *node = object ? json_object_get_member(object, member) : NULL;
        if (!node || !JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
                return NULL;
        return json_node_get_string(node);
}

static JsonObject *object_member(JsonObject *object, const char *member) {
        JsonNode *node = object ? json_object_get_member(object, member) : NULL;
        return node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

/* The strings of the array MEMBER of OBJECT (others skipped), NULL-terminated. */
static char **string_array(JsonObject *object, const char *member) {
        JsonNode *node = object ? json_object_get_member(object, member) : NULL;
        g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
        if (node && JSON_NODE_HOLDS_ARRAY(node)) {
                JsonArray *array = json_node_get_array(node);
                for (guint i = 0; i < json_array_get_length(array); i++) {
                        JsonNode *e = json_array_get_element(array, i);
                        if (JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
                                g_strv_builder_add(builder, json_node_get_string(e));
                }
        }
        return g_strv_builder_end(builder);
}

static void add_annotations(GHashTable *into, JsonObject *annotations) {
        if (!annotations)
                return;
        g_autoptr(GList) names = json_object_get_members(annotations);
        for (GList *l = names; l; l = l->next) {
                const char *value = string_member(annotations, l->data);
                if (value)
                        g_hash_table_replace(into, g_strdup(l->data), g_strdup(value));
        }
}

/* The state's "id" and absolute "bundle", which every runtime gives its hooks. */
static bool state_names(JsonObject *state, const char **id, const char **bundle, GError **error) {
        *id = string_member(state, "id");
        *bundle = string_member(state, "bundle");
        if (*id && **id && *bundle && g_path_is_absolute(*bundle))
                return true;
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "the container state on stdin lacks \"id\" or an absolute \"bundle\": is this run as an "
                    "OCI hook?");
        return false;
}

/* The container of the parsed STATE and the text of its bundle's config.json. */
static OciContainer *container_from(JsonObject *state, const char *config_json, gsize config_length,
                                    GError **error) {
        g_autoptr(JsonParser) config_parser = json_parser_new_immutable();
        g_autoptr(OciContainer) c = g_new0(OciContainer, 1);
        const char *id, *bundle;

        if (!state_names(state, &id, &bundle, error))
                return NULL;
        c->id = g_strdup(id);
        c->bundle = g_strdup(bundle);
        g_autofree char *config_name = g_build_filename(bundle, "config.json", NULL);
        JsonObject *config = parse_object(config_parser, config_json, config_length, config_name, error);
        if (!config)
                return NULL;
        const char *root = string_member(object_member(config, "root"), "path");
        if (!root || !*root) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s has no root.path", config_name);
                return NULL;
        }
        c->root = g_path_is_absolute(root) ? g_strdup(root) : g_build_filename(bundle, root, NULL);
        c->annotations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        /* The state's annotations are the config's as the runtime saw them; either will do. */
        add_annotations(c->annotations, object_member(config, "annotations"));
        add_annotations(c->annotations, object_member(state, "annotations"));
        JsonObject *process = object_member(config, "process");
        c->args = string_array(process, "args");
        c->env = string_array(process, "env");
        JsonObject *cpu = object_member(object_member(object_member(config, "linux"), "resources"), "cpu");
        JsonNode *quota = cpu ? json_object_get_member(cpu, "quota") : NULL;
        JsonNode *period = cpu ? json_object_get_member(cpu, "period") : NULL;
        if (quota && JSON_NODE_HOLDS_VALUE(quota) && json_node_get_value_type(quota) == G_TYPE_INT64)
                c->cpu_quota = json_node_get_int(quota);
        if (period && JSON_NODE_HOLDS_VALUE(period) && json_node_get_value_type(period) == G_TYPE_INT64 &&
            json_node_get_int(period) > 0)
                c->cpu_period = (uint64_t) json_node_get_int(period);
        const char *cpus = string_member(cpu, "cpus");
        c->cpuset_cpus = g_strdup(cpus ? cpus : "");
        return g_steal_pointer(&c);
}

OciContainer *oci_container_parse(const char *state_json, gsize state_length, const char *config_json,
                                  gsize config_length, GError **error) {
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        JsonObject *state =
                parse_object(parser, state_json, state_length, "container state on stdin", error);
        return state ? container_from(state, config_json, config_length, error) : NULL;
}

OciContainer *oci_container_load(const char *state_json, gsize length, GError **error) {
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autofree char *config = NULL;
        gsize config_length = 0;
        const char *id, *bundle;

        JsonObject *state = parse_object(parser, state_json, length, "container state on stdin", error);
        if (!state || !state_names(state, &id, &bundle, error))
                return NULL;
        g_autofree char *config_name = g_build_filename(bundle, "config.json", NULL);
        if (!g_file_get_contents(config_name, &config, &config_length, error))
                return NULL;
        return container_from(state, config, config_length, error);
}

/* WORD is one of the comma-separated words of LIST. */
static bool has_word(const char *list, const char *word) {
        g_auto(GStrv) words = g_strsplit(list, ",", -1);
        return g_strv_contains((const char *const *) words, word);
}

/* Commands podman also takes for systemd (its --systemd=true), and any path ending in systemd. */
static bool runs_systemd(const OciContainer *c) {
        static const char *const inits[] = {"/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init"};
        const char *cmd = c->args[0];
        if (!cmd)
                return false;
        const char *base = strrchr(cmd, '/');
        if (g_str_equal(base ? base + 1 : cmd, "systemd"))
                return true;
        for (size_t i = 0; i < G_N_ELEMENTS(inits); i++)
                if (g_str_equal(cmd, inits[i]))
                        return true;
        /* podman's systemd mode (--systemd=always with any command) sets container_uuid. */
        for (char **e = c->env; *e; e++)
                if (g_str_has_prefix(*e, "container_uuid="))
                        return true;
        return false;
}

/* "true"/"false" of annotation NAME, DEFAULT when it is absent. */
static bool boolean_annotation(const OciContainer *c, const char *name, bool default_value, bool *value,
                               GError **error) {
        const char *text = g_hash_table_lookup(c->annotations, name);
        if (!text) {
                *value = default_value;
                return true;
        }
        if (g_str_equal(text, "true") || g_str_equal(text, "false")) {
                *value = g_str_equal(text, "true");
                return true;
        }
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "the annotation %s=%s of container %s is neither true nor false", name, text, c->id);
        return false;
}

bool oci_plan(const OciContainer *c, OciPlan *plan, GError **error) {
        bool enabled;
        *plan = (OciPlan){0};
        if (!boolean_annotation(c, "io.capfs.enabled", true, &enabled, error) ||
            !boolean_annotation(c, "io.capfs.optional", false, &plan->optional, error))
                return false;
        plan->skip = !enabled;
        const char *cgroup = g_hash_table_lookup(c->annotations, "io.capfs.cgroup");
        if (!cgroup)
                plan->cgroup_view = runs_systemd(c);
        else if (g_str_equal(cgroup, "view") || g_str_equal(cgroup, "none"))
                plan->cgroup_view = g_str_equal(cgroup, "view");
        else {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "the annotation io.capfs.cgroup=%s of container %s is neither view nor none",
                            cgroup, c->id);
                return false;
        }
        const char *cpuset = g_hash_table_lookup(c->annotations, "io.capfs.cpuset");
        if (cpuset && !g_str_equal(cpuset, "quota") && !g_str_equal(cpuset, "keep")) {
                g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                            "the annotation io.capfs.cpuset=%s of container %s is neither quota nor keep",
                            cpuset, c->id);
                return false;
        }
        /* The kernel's default period is 100 ms where the runtime names none. */
        uint64_t period = c->cpu_period ? c->cpu_period : 100000;
        if ((!cpuset || g_str_equal(cpuset, "quota")) && c->cpu_quota > 0 && !c->cpuset_cpus[0])
                plan->cpuset_count = (unsigned) MIN(((uint64_t) c->cpu_quota + period - 1) / period, 4096u);
        return true;
}

/* A later mount on MOUNTS[I]'s mountpoint or above it hides it. */
static bool hidden(GPtrArray *mounts, guint i) {
        const CapfsMountinfo *m = mounts->pdata[i];
        for (guint j = i + 1; j < mounts->len; j++) {
                const char *over = ((const CapfsMountinfo *) mounts->pdata[j])->mountpoint;
                size_t n = strlen(over);
                if (g_str_equal(over, "/") || (strncmp(m->mountpoint, over, n) == 0 &&
                                               (m->mountpoint[n] == '\0' || m->mountpoint[n] == '/')))
                        return true;
        }
        return false;
}

char *oci_cpuset_dir(const char *self_cgroup, const char *mountinfo, bool *v2) {
        g_autoptr(GHashTable) paths = NULL;
        g_autoptr(GPtrArray) mounts = NULL;
        if (capfs_parse_proc_cgroup(self_cgroup, strlen(self_cgroup), &paths) < 0 ||
            capfs_parse_mountinfo(mountinfo, strlen(mountinfo), &mounts) < 0)
                return NULL;
        const char *path = g_hash_table_lookup(paths, "cpuset");
        *v2 = !path;
        if (!path)
                path = g_hash_table_lookup(paths, "");
        if (!path)
                return NULL;
        /* The host's mounts below /sys/fs/cgroup first; then any, such as the runtime's mount of
         * the container's own cgroup in its rootfs (often read-only). */
        for (int pass = 0; pass < 2; pass++)
                for (guint i = 0; i < mounts->len; i++) {
                        const CapfsMountinfo *m = mounts->pdata[i];
                        if (*v2 ? !g_str_equal(m->fstype, "cgroup2")
                                : !g_str_equal(m->fstype, "cgroup") || !has_word(m->super_options, "cpuset"))
                                continue;
                        if (pass == 0 && !g_str_has_prefix(m->mountpoint, "/sys/fs/cgroup"))
                                continue;
                        /* The mount shows the part of the tree below its root. */
                        size_t root_length = g_str_equal(m->root, "/") ? 0 : strlen(m->root);
                        if (strncmp(path, m->root, root_length) != 0 ||
                            (path[root_length] && path[root_length] != '/') || hidden(mounts, i))
                                continue;
                        return g_strconcat(m->mountpoint, path + root_length, NULL);
                }
        return NULL;
}
