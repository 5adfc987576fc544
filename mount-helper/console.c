/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's console: a pty whose other end the launcher relays to its own terminal. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "launch.h"

int console_supervise(Launch *l, int sigfd) {
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
                struct pollfd fds[4] = {{l->pty_master, POLLIN, 0},
                                        {sigfd, POLLIN, 0},
                                        {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                                        {l->sysinfo.listener, POLLIN, 0}};
                if (poll(fds, 4, -1) < 0 && errno != EINTR)
                        break;
                /* Hung up: no task of the container is left under the filter. */
                if ((fds[3].revents & (POLLHUP | POLLERR)) && !(fds[3].revents & POLLIN)) {
                        close(l->sysinfo.listener);
                        l->sysinfo.listener = -1;
                }
                if (fds[3].revents & POLLIN) {
                        int r = sysinfo_relay_handle(&l->sysinfo);
                        if (r < 0)
                                g_printerr("capfs-launch: the container's seccomp listener failed (%s)\n",
                                           g_strerror(-r));
                }
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

int console_open(Launch *l, GError **error) {
        int slave;
        struct winsize ws;
        bool have_size = ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0;
        if (openpty(&l->pty_master, &slave, l->pty_slave, NULL, have_size ? &ws : NULL) < 0)
                return launch_fail(error, -errno, "cannot open a pty for the container's console");
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
