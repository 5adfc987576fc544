/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parts of an OCI container that capfs-oci-hook acts on: the runtime's state (runtime-spec
 * "state", the JSON a hook reads on stdin) and the bundle's config.json, and what the hook makes
 * of them. Parsing and deciding are kept apart from mounting so the unit tests can feed them JSON.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
        char *id;
        char *bundle;
        /* The rootfs as the hook sees it: config.json's root.path, made absolute below bundle. */
        char *root;
        /* The container's annotations (the state's; config.json's when the state has none). */
        GHashTable *annotations;
        /* process.args and process.env of config.json (NULL-terminated; empty when absent). */
        char **args;
        char **env;
        /* linux.resources.cpu: the CFS quota and period (0 when unset) and the cpuset ("" when
         * unset). */
        int64_t cpu_quota;
        uint64_t cpu_period;
        char *cpuset_cpus;
} OciContainer;

void oci_container_free(OciContainer *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OciContainer, oci_container_free)

/* Parses the state JSON (at most 1 MiB), then reads BUNDLE/config.json (the bundle is the
 * runtime's own directory, on the host). The errors name what is missing or malformed. */
OciContainer *oci_container_load(const char *state_json, gsize length, GError **error);

/* The same from the state and config.json texts, for the tests. */
OciContainer *oci_container_parse(const char *state_json, gsize state_length, const char *config_json,
                                  gsize config_length, GError **error);

typedef struct {
        /* io.capfs.enabled=false: the hook was run (a runtime-wide hook), but not for this one. */
        bool skip;
        /* io.capfs.optional=true: start without capfs when capfs is not mounted. */
        bool optional;
        /* The cgroup view over the v1 controller hierarchies: for a container that runs systemd
         * (its command is systemd or an init, or podman's systemd mode set container_uuid), or
         * io.capfs.cgroup=view; never with io.capfs.cgroup=none. */
        bool cgroup_view;
        /* Narrow the container's cpuset to this many CPUs (0: leave it): ceil(quota/period) of a
         * container with a CPU quota and no cpuset of its own, unless io.capfs.cpuset=keep. nproc
         * and the thread pools sized from the affinity mask follow the cpuset, not the quota. */
        unsigned cpuset_count;
} OciPlan;

/* The directory of the cpuset cgroup (the v1 cpuset hierarchy, else cgroup2) that SELF_CGROUP
 * (a /proc/self/cgroup) names, below a mount of it in MOUNTINFO (a /proc/self/mountinfo; both
 * read in the same cgroup namespace) that no later mount hides, one below /sys/fs/cgroup
 * first; NULL when no mount holds it. *V2 says which it is. */
char *oci_cpuset_dir(const char *self_cgroup, const char *mountinfo, bool *v2);

/* What the hook does for C; an annotation with a value it does not know is an error. */
bool oci_plan(const OciContainer *c, OciPlan *plan, GError **error);
