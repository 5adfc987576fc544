/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-launch: runs a container whose root has no CAP_SYS_ADMIN, with systemd as init, on top
 * of capfs. The steps, in the order of docs/design.md ("The launcher"): cgroups (outer with the
 * limits, inner as the container's root) -> namespaces -> mounts of everything systemd would
 * mount itself -> cgroups inside (real name=systemd and cgroup2, capfs's view for the v1
 * controllers) -> capfs bind mounts -> pivot_root -> capability bounding set and seccomp ->
 * exec init. The launcher stays in the foreground, relays the console and removes the cgroups
 * when init is gone. launch.h lists the modules.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "rootfs.h"
#include "seccomp-wire.h"

/* ---------------------------------------------------------------- the child: becomes init */

/*
 * What the child tells the launcher over their socket: its seccomp listener (err 0, the fd
 * attached) once the filter is loaded, then nothing (EOF) when exec closed the socket, or one
 * message {errno, text} naming the step that failed (as crun's sync socket does).
 */
typedef struct {
        int32_t err;
        char message[1020];
} ChildReport;

typedef struct {
        Launch *launch;
        int sync_fd; /* reads the go-ahead, writes a ChildReport on failure */
        GArray *drop;
} ChildArgs;

static void child_report(int fd, int r, const GError *error) {
        ChildReport report = {.err = -r};
        g_strlcpy(report.message, error ? error->message : g_strerror(-r), sizeof(report.message));
        (void) !write(fd, &report, sizeof(report));
}

/* The listener goes to the launcher, which answers for the container's whole life (sysinfo.c). */
static int child_pass_listener(int sync_fd, int listener, GError **error) {
        ChildReport report = {.err = 0};
        struct iovec iov = {.iov_base = &report, .iov_len = sizeof(report)};
        ssize_t n = wire_send(sync_fd, &iov, 1, &listener, 1, 0);

        close(listener);
        if (n != (ssize_t) sizeof(report))
                return launch_fail(error, n < 0 ? (int) n : -EPIPE,
                                   "pass the seccomp listener to the launcher");
        return 0;
}

static int setup_loopback(GError **error) {
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return launch_fail(error, -errno, "socket for lo");
        struct ifreq ifr = {0};
        g_strlcpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name));
        int r = ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ? -errno : 0;
        if (r == 0) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                r = ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
        }
        close(fd);
        return r < 0 ? launch_fail(error, r, "bring up lo") : 0;
}

/* By default the rootfs's own name, which its init would set itself if it could. */
static int set_hostname(Launch *l, GError **error) {
        g_autofree char *from_rootfs = NULL;
        const char *hostname = l->opt.hostname;
        if (!hostname) {
                int root_fd = open(l->opt.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (root_fd >= 0 && rootfs_read_file(root_fd, "etc/hostname", &from_rootfs) == 0 &&
                    *g_strstrip(from_rootfs))
                        hostname = from_rootfs;
                if (root_fd >= 0)
                        close(root_fd);
        }
        if (!hostname)
                hostname = l->opt.name;
        if (sethostname(hostname, strlen(hostname)) < 0)
                return launch_fail(error, -errno, "set the hostname %s", hostname);
        return 0;
}

static int child_setup(ChildArgs *a, GError **error) {
        Launch *l = a->launch;
        char go;
        int r;

        /* Wait until the launcher has put us into the container's cgroups. */
        if (read(a->sync_fd, &go, 1) != 1)
                return launch_fail(error, -EPIPE, "wait for the launcher");
        if (unshare(CLONE_NEWCGROUP) < 0)
                return launch_fail(error, -errno, "unshare the cgroup namespace");
        if ((r = mounts_setup(l, error)) < 0)
                return r;
        if (l->opt.network == NETWORK_NONE && (r = setup_loopback(error)) < 0)
                return r;
        if ((r = set_hostname(l, error)) < 0 || (r = mounts_enter_root(l->opt.rootfs, error)) < 0)
                return r;
        /* The console: a session of its own with the pty as controlling terminal. */
        if (setsid() < 0)
                return launch_fail(error, -errno, "setsid");
        int tty = open("/dev/console", O_RDWR | O_CLOEXEC);
        if (tty < 0 || ioctl(tty, TIOCSCTTY, 0) < 0)
                return launch_fail(error, -errno, "open /dev/console as the controlling terminal");
        /* Sets the floor of the OOM score: without CAP_SYS_RESOURCE nothing inside can go below. */
        g_autofree char *adj = NULL;
        if (g_file_get_contents("/proc/self/oom_score_adj", &adj, NULL, NULL))
                (void) g_file_set_contents("/proc/self/oom_score_adj", g_strstrip(adj), -1, NULL);
        int listener = -1;
        if ((r = caps_drop_bounding_set(a->drop, error)) < 0 ||
            (r = seccomp_load_filter(!l->opt.no_capfs, &listener, error)) < 0 ||
            (listener >= 0 && (r = child_pass_listener(a->sync_fd, listener, error)) < 0) ||
            (r = caps_drop_from_process(a->drop, error)) < 0)
                return r;
        if (dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0)
                return launch_fail(error, -errno, "attach the console");
        return 0;
}

static int child_main(void *data) {
        ChildArgs *a = data;
        Launch *l = a->launch;
        g_autoptr(GError) error = NULL;
        int r = child_setup(a, &error);
        if (r < 0) {
                child_report(a->sync_fd, r, error);
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
        r = launch_fail(&error, -errno, "exec %s in %s", l->opt.argv[0], l->opt.rootfs);
        child_report(a->sync_fd, r, error);
        _exit(127);
}

/* One message of the child; a listener it passes goes to l->sysinfo. */
static ssize_t read_report(Launch *l, int sync_fd, ChildReport *report) {
        int fds[WIRE_FDS_MAX];
        size_t nfds;
        ssize_t n;

        while ((n = wire_recv(sync_fd, report, sizeof(*report), fds, &nfds, 0)) == -EINTR)
                ;
        for (size_t i = 0; i < nfds; i++) {
                if (i == 0 && l->sysinfo.listener < 0)
                        l->sysinfo.listener = fds[i];
                else
                        close(fds[i]);
        }
        return n;
}

/* Lets the child go, then waits for its report: 0 when exec closed the socket. */
static int run_child(Launch *l, int sync_fd, GError **error) {
        ChildReport report;
        if (write(sync_fd, "g", 1) != 1)
                return launch_fail(error, -errno, "start the container's init");
        ssize_t n;
        while ((n = read_report(l, sync_fd, &report)) == (ssize_t) sizeof(report) && report.err == 0 &&
               l->sysinfo.listener >= 0)
                ; /* the listener; the verdict follows */
        if (n == 0)
                return 0;
        if (n != (ssize_t) sizeof(report))
                return launch_fail(error, n < 0 ? -errno : -EPIPE, "lost the container's init (pid %d)",
                                   (int) l->child);
        report.message[sizeof(report.message) - 1] = '\0';
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(report.err),
                    "setting up the container failed: %s", report.message);
        return report.err > 0 ? -report.err : -EIO;
}

/* ---------------------------------------------------------------- the launcher */

static int launch(Launch *l, GArray *drop, GError **error) {
        int slave = -1, sync[2] = {-1, -1}, sigfd = -1, r;
        g_autofree char *stack = NULL;
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if ((r = cgroups_create(l, error)) < 0 || (r = slave = console_open(l, error)) < 0)
                goto out;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
                r = launch_fail(error, -errno, "socketpair");
                goto out;
        }
        ChildArgs args = {.launch = l, .sync_fd = sync[1], .drop = drop};
        int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
        if (l->opt.network == NETWORK_NONE)
                flags |= CLONE_NEWNET;
        size_t stack_size = 1 << 20;
        stack = g_malloc(stack_size);
        l->child = clone(child_main, stack + stack_size, flags, &args);
        if (l->child < 0) {
                r = launch_fail(error, -errno, "cannot create the container's namespaces");
                goto out;
        }
        close(sync[1]);
        sync[1] = -1;
        close(slave);
        slave = -1;
        if ((r = cgroups_join(l, l->child, error)) < 0 || (r = run_child(l, sync[0], error)) < 0) {
                kill(l->child, SIGKILL);
                waitpid(l->child, NULL, 0);
                goto out;
        }
        l->sysinfo.init_pid = l->child;
        sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
        r = console_supervise(l, sigfd);
out:
        if (sigfd >= 0)
                close(sigfd);
        if (slave >= 0)
                close(slave);
        if (sync[0] >= 0)
                close(sync[0]);
        if (sync[1] >= 0)
                close(sync[1]);
        return r;
}

int main(int argc, char **argv) {
        Launch l = {.pty_master = -1, .sysinfo = {.listener = -1, .conn = -1}};
        g_autoptr(GError) error = NULL;
        g_autoptr(GArray) drop = g_array_new(FALSE, FALSE, sizeof(cap_value_t));
        int r, rc = 1;

        r = options_parse(&l.opt, argc, argv, &error);
        if (r > 0)
                return 0;
        if (r < 0) {
                g_printerr("capfs-launch: %s (see --help)\n", error->message);
                options_clear(&l.opt);
                return 2;
        }
        if (geteuid() != 0) {
                g_printerr("capfs-launch: needs root (namespaces, mounts, cgroups); run it with sudo\n");
                options_clear(&l.opt);
                return 1;
        }
        if (!l.opt.no_capfs)
                sysinfo_relay_init(&l.sysinfo, l.opt.capfs);
        if ((l.opt.no_capfs || capfs_check_mounted(l.opt.capfs, &error) == 0) &&
            caps_to_drop(&l.opt, drop, &error) == 0 && scope_enter(&l, &error) == 0 &&
            cgroups_discover(&l, &error) == 0 && init_check_cgroups(&l, &error) == 0) {
                g_autofree char *uuid = g_uuid_string_random();
                g_strlcpy(l.uuid, uuid, sizeof(l.uuid));
                /* From here on, what was made is undone on the way out. */
                r = launch(&l, drop, &error);
                rc = r < 0 ? 1 : r;
                cgroups_remove(&l);
        }
        if (error)
                g_printerr("capfs-launch: %s\n", error->message);
        sysinfo_relay_clear(&l.sysinfo);
        if (l.pty_master >= 0)
                close(l.pty_master);
        if (l.hierarchies)
                g_ptr_array_unref(l.hierarchies);
        options_clear(&l.opt);
        return rc;
}
