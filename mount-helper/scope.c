/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

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

static int start_scope(const char *unit, pid_t launcher, GError **error) {
        g_autoptr(GError) local = NULL;
        g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &local);
        if (!bus)
                return launch_invalid(
                        error,
                        "cannot reach systemd on the system bus to create %s: %s; start dbus, or use "
                        "--scope=no to make the cgroups in cgroupfs directly",
                        unit, local->message);
        ScopeJob j = {0};
        guint sub = g_dbus_connection_signal_subscribe(bus, SYSTEMD_BUS_NAME, SYSTEMD_MANAGER, "JobRemoved",
                                                       SYSTEMD_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                                       on_job_removed, &j, NULL);
        /* systemd sends its job signals only while some client is subscribed. */
        GVariant *subscribed =
                g_dbus_connection_call_sync(bus, SYSTEMD_BUS_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                            "Subscribe", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        if (subscribed)
                g_variant_unref(subscribed);
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
                return launch_invalid(
                        error,
                        "systemd refused to create %s: %s; --scope=no makes the cgroups in cgroupfs "
                        "directly",
                        unit, local->message);
        }
        g_variant_get(reply, "(o)", &j.job);
        guint timeout = g_timeout_add_seconds(SCOPE_TIMEOUT_SEC, on_scope_timeout, &j);
        while (!j.result && !j.timed_out)
                g_main_context_iteration(NULL, TRUE);
        if (!j.timed_out)
                g_source_remove(timeout);
        g_dbus_connection_signal_unsubscribe(bus, sub);
        int r = j.result && strcmp(j.result, "done") == 0
                        ? 0
                        : launch_invalid(error,
                                         "systemd did not start %s (job %s: %s); see journalctl -u %s", unit,
                                         j.job, j.result ? j.result : "no answer within 30 s", unit);
        g_free(j.job);
        g_free(j.result);
        return r;
}

/*
 * Moves the launcher into capfs-NAME.scope when systemd runs the host (or --scope=yes). On cgroup2
 * a cgroup that hands controllers down may hold no processes: the launcher then moves on into the
 * scope's leaf "supervisor", and the scope becomes the parent of capfs/NAME.
 */
int scope_enter(Launch *l, GError **error) {
        Options *o = &l->opt;
        bool want = o->scope == SCOPE_YES || (o->scope == SCOPE_AUTO && !o->cgroup_parent &&
                                              access("/run/systemd/system", F_OK) == 0);
        if (!want)
                return 0;
        g_autofree char *unit = g_strdup_printf("capfs-%s.scope", o->name);
        /*
         * GDBus talks from a thread of its own, which would stay: it would take the signals the
         * launcher waits for with a signalfd, and a clone() beside it may inherit a held lock. A
         * child process asks for the scope (with the launcher's pid in it) and tells how it went.
         */
        pid_t launcher = getpid();
        int report[2];
        if (pipe2(report, O_CLOEXEC) < 0)
                return launch_fail(error, -errno, "pipe for the D-Bus helper");
        pid_t helper = fork();
        if (helper < 0) {
                int r = launch_fail(error, -errno, "fork the D-Bus helper");
                close(report[0]);
                close(report[1]);
                return r;
        }
        if (helper == 0) {
                GError *failure = NULL;
                close(report[0]);
                if (start_scope(unit, launcher, &failure) == 0)
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
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return launch_invalid(error, "%s",
                                      message->len ? message->str : "the D-Bus helper process failed");
        if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) != 0)
                return 0;
        g_autofree char *self = NULL;
        if (!g_file_get_contents("/proc/self/cgroup", &self, NULL, error))
                return -EIO;
        const char *line = strstr(self, "0::");
        if (!line)
                return launch_invalid(error, "/proc/self/cgroup has no cgroup2 line after entering %s",
                                      unit);
        g_autofree char *scope = g_strndup(line + 3, strcspn(line + 3, "\n"));
        g_autofree char *leaf = g_strdup_printf("%s%s/supervisor", CGROUP_ROOT, scope);
        g_autofree char *procs = g_build_filename(leaf, "cgroup.procs", NULL);
        g_autofree char *pid = g_strdup_printf("%d", (int) getpid());
        if (mkdir(leaf, 0755) < 0 && errno != EEXIST)
                return launch_fail(error, -errno, "cannot create cgroup %s", leaf);
        int r = write_knob(procs, pid, error);
        if (r < 0)
                return r;
        g_free(o->cgroup_parent);
        o->cgroup_parent = g_steal_pointer(&scope);
        return 0;
}
