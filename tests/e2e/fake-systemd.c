/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-test-fake-systemd LOG BASE...: the part of systemd's D-Bus API that capfs-launch uses to
 * get a transient scope (org.freedesktop.systemd1.Manager: Subscribe, StartTransientUnit and the
 * JobRemoved signal), on the bus of DBUS_SYSTEM_BUS_ADDRESS, for hosts whose PID 1 is not
 * systemd. A scope is made as systemd makes one with Delegate=yes: a cgroup UNIT below each BASE
 * (one per hierarchy), with the PIDs moved into it. Each call is appended to LOG as one line:
 *
 *   StartTransientUnit UNIT MODE Delegate=BOOL PIDs=PID,... CollectMode=VALUE
 */
#include <errno.h>
#include <gio/gio.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char introspection[] =
        "<node><interface name='org.freedesktop.systemd1.Manager'>"
        "<method name='Subscribe'/>"
        "<method name='StartTransientUnit'><arg type='s' direction='in'/><arg type='s' direction='in'/>"
        "<arg type='a(sv)' direction='in'/><arg type='a(sa(sv))' direction='in'/>"
        "<arg type='o' direction='out'/></method>"
        "<signal name='JobRemoved'><arg type='u'/><arg type='o'/><arg type='s'/><arg type='s'/></signal>"
        "</interface></node>";

static const char *log_path;
static char **bases;
static guint32 next_job = 1;

/* cpuset v1 takes no task into a cgroup whose cpus and mems are empty; systemd fills them in too. */
static void inherit_cpuset(const char *base, const char *dir) {
        static const char *const knobs[] = {"cpuset.cpus", "cpuset.mems"};

        for (size_t i = 0; i < G_N_ELEMENTS(knobs); i++) {
                g_autofree char *from = g_build_filename(base, knobs[i], NULL);
                g_autofree char *to = g_build_filename(dir, knobs[i], NULL);
                g_autofree char *value = NULL;
                FILE *f;

                if (!g_file_get_contents(from, &value, NULL, NULL))
                        continue;
                f = fopen(to, "w");
                if (f) {
                        fputs(g_strstrip(value), f);
                        fclose(f);
                }
        }
}

/* cgroup2: a delegated unit gets every controller its slice has, as systemd hands them down. */
static void delegate_controllers(const char *base) {
        g_autofree char *available = g_build_filename(base, "cgroup.controllers", NULL);
        g_autofree char *subtree = g_build_filename(base, "cgroup.subtree_control", NULL);
        g_autofree char *list = NULL;
        g_auto(GStrv) names = NULL;

        if (!g_file_get_contents(available, &list, NULL, NULL))
                return;
        names = g_strsplit_set(g_strstrip(list), " ", -1);
        for (char **name = names; *name && **name; name++) {
                FILE *f = fopen(subtree, "w");
                if (f) {
                        fprintf(f, "+%s", *name);
                        fclose(f);
                }
        }
}

static bool make_scope(const char *unit, GVariant *pids, GError **error) {
        gsize n;
        const guint32 *pid = g_variant_get_fixed_array(pids, &n, sizeof(guint32));

        for (char **base = bases; *base; base++) {
                g_autofree char *dir = g_build_filename(*base, unit, NULL);
                g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);

                delegate_controllers(*base);
                if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "mkdir %s: %s", dir,
                                    g_strerror(errno));
                        return false;
                }
                inherit_cpuset(*base, dir);
                for (gsize i = 0; i < n; i++) {
                        g_autofree char *text = g_strdup_printf("%u", pid[i]);
                        /* One write(2) into the file itself: cgroupfs takes no temporary and rename. */
                        FILE *f = fopen(procs, "w");
                        bool written = f && fputs(text, f) >= 0;

                        if (f && fclose(f) != 0)
                                written = false;
                        if (!written) {
                                g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                                            "cannot move %u into %s: %s", pid[i], procs, g_strerror(errno));
                                return false;
                        }
                }
        }
        return true;
}

static void start_transient_unit(GDBusConnection *bus, GVariant *params, GDBusMethodInvocation *call) {
        g_autoptr(GVariant) props = NULL, aux = NULL, pids = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(GString) line = g_string_new("StartTransientUnit");
        g_autofree char *job = NULL, *collect = NULL;
        const char *unit, *mode;
        gboolean delegate = FALSE;
        GVariantIter iter;
        const char *name;
        GVariant *value;
        FILE *log;

        g_variant_get(params, "(&s&s@a(sv)@a(sa(sv)))", &unit, &mode, &props, &aux);
        g_variant_iter_init(&iter, props);
        while (g_variant_iter_next(&iter, "(&sv)", &name, &value)) {
                if (g_str_equal(name, "Delegate") && g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
                        delegate = g_variant_get_boolean(value);
                else if (g_str_equal(name, "PIDs") && g_variant_is_of_type(value, G_VARIANT_TYPE("au")))
                        pids = g_variant_ref(value);
                else if (g_str_equal(name, "CollectMode") &&
                         g_variant_is_of_type(value, G_VARIANT_TYPE_STRING))
                        collect = g_variant_dup_string(value, NULL);
                g_variant_unref(value);
        }
        g_string_append_printf(line, " %s %s Delegate=%s PIDs=", unit, mode, delegate ? "true" : "false");
        if (pids) {
                gsize n;
                const guint32 *pid = g_variant_get_fixed_array(pids, &n, sizeof(guint32));
                for (gsize i = 0; i < n; i++)
                        g_string_append_printf(line, "%s%u", i ? "," : "", pid[i]);
        }
        g_string_append_printf(line, " CollectMode=%s\n", collect ? collect : "");
        log = fopen(log_path, "a");
        if (log) {
                fputs(line->str, log);
                fclose(log);
        }

        if (!g_str_has_suffix(unit, ".scope") || !pids) {
                g_dbus_method_invocation_return_dbus_error(call, "org.freedesktop.DBus.Error.InvalidArgs",
                                                           "a scope needs a .scope name and PIDs");
                return;
        }
        if (!make_scope(unit, pids, &error)) {
                g_dbus_method_invocation_return_dbus_error(call, "org.freedesktop.systemd1.UnitExists",
                                                           error->message);
                return;
        }
        job = g_strdup_printf("/org/freedesktop/systemd1/job/%u", next_job);
        g_dbus_method_invocation_return_value(call, g_variant_new("(o)", job));
        g_dbus_connection_emit_signal(bus, NULL, "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "JobRemoved",
                                      g_variant_new("(uoss)", next_job, job, unit, "done"), NULL);
        next_job++;
}

static void on_call(GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                    const char *method, GVariant *params, GDBusMethodInvocation *call, gpointer data) {
        if (g_str_equal(method, "Subscribe"))
                g_dbus_method_invocation_return_value(call, NULL);
        else
                start_transient_unit(bus, params, call);
}

static void on_name(GDBusConnection *bus, const char *name, gpointer data) {
        /* The test waits for this line before it starts the launcher. */
        printf("ready\n");
        fflush(stdout);
}

static void on_name_lost(GDBusConnection *bus, const char *name, gpointer data) {
        g_printerr("capfs-test-fake-systemd: cannot own %s on the bus\n", name);
        g_main_loop_quit(data);
}

int main(int argc, char **argv) {
        static const GDBusInterfaceVTable vtable = {.method_call = on_call};
        g_autoptr(GDBusNodeInfo) info = NULL;
        g_autoptr(GDBusConnection) bus = NULL;
        g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
        g_autoptr(GError) error = NULL;

        if (argc < 3) {
                g_printerr("usage: %s LOG BASE...\n", argv[0]);
                return 2;
        }
        log_path = argv[1];
        bases = argv + 2;
        info = g_dbus_node_info_new_for_xml(introspection, &error);
        bus = info ? g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error) : NULL;
        if (!bus || !g_dbus_connection_register_object(bus, "/org/freedesktop/systemd1", info->interfaces[0],
                                                       &vtable, NULL, NULL, &error)) {
                g_printerr("capfs-test-fake-systemd: %s\n", error->message);
                return 1;
        }
        g_bus_own_name_on_connection(bus, "org.freedesktop.systemd1", G_BUS_NAME_OWNER_FLAGS_NONE, on_name,
                                     on_name_lost, loop, NULL);
        g_main_loop_run(loop);
        return 1;
}
