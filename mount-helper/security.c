/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the container may never do: the capabilities dropped from its bounding set, and the system
 * calls its seccomp filter refuses. The LXC snippet (lxc/capfs.conf.in) and profile
 * (lxc/capfs.seccomp) carry the same policy; tests/unit/test-launch.c fails when they drift apart.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>

#include "launch.h"

/* Each reaches the host; README.md says how. */
const char *const default_cap_drop[] = {
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

/* System calls a container never needs and that attack the host's kernel or its root: key
 * management (root's keyrings are the host's), kernel replacement and modules' neighbours, bpf
 * and perf (kernel attack surface), open_by_handle_at (opens files by inode, around the mount
 * tree), userfaultfd (stalls the kernel at will), the new mount API (mounts around the old
 * API's checks), quotas, process accounting and swap. */
const char *const seccomp_refused[] = {
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
        NULL,
};

static int cap_by_name(const char *option, const char *given, cap_value_t *ret, GError **error) {
        g_autofree char *name =
                g_str_has_prefix(given, "cap_") ? g_strdup(given) : g_strconcat("cap_", given, NULL);
        if (cap_from_name(name, ret) < 0)
                return launch_invalid(error, "%s: unknown capability '%s' (names as in capabilities(7))",
                                      option, given);
        return 0;
}

int caps_to_drop(const Options *o, GArray *drop, GError **error) {
        int r;

        if (o->cap_keep) {
                g_auto(GStrv) keep = g_strsplit(o->cap_keep, ",", -1);
                g_autoptr(GArray) kept = g_array_new(FALSE, FALSE, sizeof(cap_value_t));
                for (char **k = keep; *k && **k; k++) {
                        cap_value_t v;
                        if ((r = cap_by_name("--cap-keep", *k, &v, error)) < 0)
                                return r;
                        g_array_append_val(kept, v);
                }
                for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
                        bool keep_it = false;
                        for (guint i = 0; i < kept->len; i++)
                                keep_it = keep_it || g_array_index(kept, cap_value_t, i) == c;
                        if (!keep_it)
                                g_array_append_val(drop, c);
                }
                return 0;
        }
        g_auto(GStrv) names =
                o->cap_drop ? g_strsplit(o->cap_drop, ",", -1) : g_strdupv((char **) default_cap_drop);
        for (char **n = names; *n && **n; n++) {
                cap_value_t v;
                if ((r = cap_by_name("--cap-drop", *n, &v, error)) < 0)
                        return r;
                g_array_append_val(drop, v);
        }
        return 0;
}

int caps_drop_bounding_set(GArray *drop, GError **error) {
        for (guint i = 0; i < drop->len; i++) {
                cap_value_t c = g_array_index(drop, cap_value_t, i);
                if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) < 0)
                        return launch_fail(error, -errno, "drop capability %s from the bounding set",
                                           cap_to_name(c));
        }
        return 0;
}

int caps_drop_from_process(GArray *drop, GError **error) {
        cap_t caps = cap_get_proc();
        if (!caps)
                return launch_fail(error, -errno, "read the capability sets");
        for (guint i = 0; i < drop->len; i++) {
                cap_value_t c = g_array_index(drop, cap_value_t, i);
                if (!CAP_IS_SUPPORTED(c))
                        continue;
                cap_set_flag(caps, CAP_EFFECTIVE, 1, &c, CAP_CLEAR);
                cap_set_flag(caps, CAP_PERMITTED, 1, &c, CAP_CLEAR);
                cap_set_flag(caps, CAP_INHERITABLE, 1, &c, CAP_CLEAR);
        }
        int r = cap_set_proc(caps) < 0 ? -errno : 0;
        cap_free(caps);
        if (r < 0)
                return launch_fail(error, r, "set the capability sets");
        if (cap_reset_ambient() < 0)
                return launch_fail(error, -errno, "clear the ambient capabilities");
        return 0;
}

int seccomp_load_filter(bool notify_sysinfo, int *ret_listener, GError **error) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r = 0;

        *ret_listener = -1;
        /* Level 5: the kernel and libseccomp both know user notification. */
        if (notify_sysinfo && seccomp_api_get() < 5) {
                g_printerr("capfs-launch: this kernel or libseccomp cannot pass sysinfo() to a listener: "
                           "inside, sysinfo() shows the host's numbers\n");
                notify_sysinfo = false;
        }
        if (!ctx)
                return launch_fail(error, -ENOMEM, "seccomp_init");
        /* Also refuse them to 32-bit programs. */
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X86);
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X32);
        for (size_t i = 0; r == 0 && seccomp_refused[i]; i++) {
                int nr = seccomp_syscall_resolve_name(seccomp_refused[i]);
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
        /* The container's numbers for sysinfo(2) come from capfs (sysinfo.c). */
        if (r == 0 && notify_sysinfo)
                r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sysinfo), 0);
        /* Not no_new_privs: setuid programs (su, sudo) must keep working inside. The filter is
         * loaded while CAP_SYS_ADMIN is still effective, which the kernel requires without it. */
        if (r == 0)
                r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r == 0)
                r = seccomp_load(ctx);
        if (r == 0 && notify_sysinfo) {
                /* Our own copy: whether seccomp_release() closes libseccomp's differs between versions. */
                int fd = seccomp_notify_fd(ctx);
                *ret_listener = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : fd;
                if (*ret_listener < 0)
                        r = fd < 0 ? fd : -errno;
        }
        seccomp_release(ctx);
        if (r < 0)
                return launch_fail(error, r, "load the seccomp filter");
        return 0;
}
