/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-bench-sysinfo-holder --capfs DIR -- COMMAND...: runs COMMAND under a seccomp filter that
 * hands sysinfo(2) to a listener, and holds that listener as capfs-launch does, with the
 * launcher's own code (mount-helper/sysinfo.c): each call goes to capfs and back. bench/run times
 * sysinfo() through it next to the kernel's. Run it in the host's pid namespace (capfs is told the
 * caller's pid as the holder sees it) and COMMAND in a container's (unshare --pid --fork).
 */
#include <errno.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"
#include "seccomp-wire.h"

static int pass_fd(int sock, int fd) {
        char byte = 'l';
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};

        return wire_send(sock, &iov, 1, &fd, 1, 0) == 1 ? 0 : -1;
}

static int receive_fd(int sock) {
        int fds[WIRE_FDS_MAX];
        size_t nfds;
        char byte;

        if (wire_recv(sock, &byte, 1, fds, &nfds, 0) != 1 || nfds != 1) {
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
                return -1;
        }
        return fds[0];
}

static void child(int sock, char **command) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int fd;

        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sysinfo), 0) < 0 ||
            seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0 || seccomp_load(ctx) < 0 ||
            (fd = seccomp_notify_fd(ctx)) < 0 || pass_fd(sock, fd) < 0) {
                fprintf(stderr, "capfs-bench-sysinfo-holder: cannot install the filter (root needed)\n");
                _exit(125);
        }
        close(fd);
        close(sock);
        execvp(command[0], command);
        fprintf(stderr, "capfs-bench-sysinfo-holder: exec %s: %s\n", command[0], strerror(errno));
        _exit(127);
}

int main(int argc, char **argv) {
        SysinfoRelay relay;
        int pair[2], status = 0;
        pid_t pid;

        if (argc < 5 || strcmp(argv[1], "--capfs") != 0 || strcmp(argv[3], "--") != 0) {
                fprintf(stderr, "usage: %s --capfs DIR -- COMMAND...\n", argv[0]);
                return 2;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return 1;
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                close(pair[0]);
                child(pair[1], argv + 4);
        }
        close(pair[1]);
        sysinfo_relay_init(&relay, argv[2]);
        relay.listener = receive_fd(pair[0]);
        close(pair[0]);
        while (relay.listener >= 0) {
                struct pollfd pfd = {.fd = relay.listener, .events = POLLIN};
                if (poll(&pfd, 1, 200) > 0 && (pfd.revents & POLLIN))
                        (void) sysinfo_relay_handle(&relay);
                else if (pfd.revents & (POLLHUP | POLLERR))
                        break;
                if (waitpid(pid, &status, WNOHANG) == pid) {
                        pid = 0;
                        break;
                }
        }
        if (pid > 0)
                waitpid(pid, &status, 0);
        if (relay.continued)
                fprintf(stderr, "capfs-bench-sysinfo-holder: %llu of %llu calls got the host's numbers\n",
                        (unsigned long long) relay.continued,
                        (unsigned long long) (relay.continued + relay.answered));
        sysinfo_relay_clear(&relay);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
