/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-escape-probe: one escape or abuse attempt per invocation, run as root inside a container
 * started by capfs-launch (tests/escape/test-escape.sh). It is linked statically so that it runs in
 * any rootfs it is bind-mounted into.
 *
 * Each attempt prints one line and exits:
 *   "blocked <ERRNO-NAME> <detail>"  exit 0  the kernel (or a filter) refused the attempt;
 *   "contained <detail>"             exit 0  the attempt ran but reached nothing outside;
 *   "accepted <detail>"              exit 0  a plain operation (a write, a mkdir) succeeded: whether
 *                                            that is allowed is for the test to judge;
 *   "ESCAPED <detail>"               exit 1  the attempt succeeded: a security failure;
 *   "error <detail>"                 exit 2  the probe itself could not run the attempt.
 * The test asserts the exact errno name, because "blocked" by the wrong mechanism (ENOENT where a
 * capability check was expected) can mean the protection it meant to test is missing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ESCAPED_EXIT 1
#define ERROR_EXIT 2

static int report(const char *verdict, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int report(const char *verdict, const char *fmt, ...) {
        va_list ap;

        printf("%s ", verdict);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
        if (strcmp(verdict, "ESCAPED") == 0)
                return ESCAPED_EXIT;
        if (strcmp(verdict, "error") == 0)
                return ERROR_EXIT;
        return 0;
}

static int blocked(int err, const char *what) {
        return report("blocked", "%s %s: %s", strerrorname_np(err) ?: "E?", what, strerror(err));
}

/* The outcome of one system call that must fail: its errno, or ESCAPED when it succeeded. */
static int expect_failure(long rc, const char *what) {
        if (rc < 0)
                return blocked(errno, what);
        return report("ESCAPED", "%s succeeded", what);
}

/* mount-remount PATH: make a read-only mount writable again, both as a remount of the mount and
 * of a bind mount (the flag sets differ). The first refusal is the answer; both are tried because
 * either succeeding is an escape. */
static int attempt_remount(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: mount-remount PATH");
        if (mount(NULL, argv[0], NULL, MS_REMOUNT | MS_BIND, NULL) == 0)
                return report("ESCAPED", "remount,bind,rw of %s succeeded", argv[0]);
        int bind_errno = errno;
        if (mount(NULL, argv[0], NULL, MS_REMOUNT, NULL) == 0)
                return report("ESCAPED", "remount,rw of %s succeeded", argv[0]);
        return blocked(bind_errno, argv[0]);
}

/* write PATH VALUE: open for writing and write VALUE (no newline added). */
static int attempt_write(int argc, char **argv) {
        if (argc < 2)
                return report("error", "usage: write PATH VALUE");
        int fd = open(argv[0], O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return blocked(errno, argv[0]);
        ssize_t n = write(fd, argv[1], strlen(argv[1]));
        int err = errno;
        close(fd);
        if (n < 0)
                return blocked(err, argv[0]);
        return report("accepted", "wrote %zd bytes to %s", n, argv[0]);
}

/* The operations a container may try on the cgroup view itself; each either fails with the
 * errno the test expects or is "accepted". */
static int outcome(int rc, const char *what) {
        if (rc < 0)
                return blocked(errno, what);
        return report("accepted", "%s", what);
}

static int attempt_mkdir(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: mkdir PATH");
        return outcome(mkdir(argv[0], 0755), argv[0]);
}

static int attempt_rmdir(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: rmdir PATH");
        return outcome(rmdir(argv[0]), argv[0]);
}

static int attempt_symlink(int argc, char **argv) {
        if (argc < 2)
                return report("error", "usage: symlink TARGET PATH");
        return outcome(symlink(argv[0], argv[1]), argv[1]);
}

static int attempt_link(int argc, char **argv) {
        if (argc < 2)
                return report("error", "usage: link OLD NEW");
        return outcome(link(argv[0], argv[1]), argv[1]);
}

static int attempt_rename(int argc, char **argv) {
        if (argc < 2)
                return report("error", "usage: rename OLD NEW");
        return outcome(rename(argv[0], argv[1]), argv[0]);
}

static int attempt_create(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: create PATH");
        int fd = open(argv[0], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0)
                close(fd);
        return outcome(fd, argv[0]);
}

static int attempt_mknod(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: mknod PATH");
        return outcome(mknod(argv[0], S_IFIFO | 0600, 0), argv[0]);
}

static int attempt_umount(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: umount PATH");
        if (umount2(argv[0], MNT_DETACH) == 0)
                return report("ESCAPED", "unmounted %s", argv[0]);
        return blocked(errno, argv[0]);
}

/* cover PATH: mount a tmpfs over PATH (hiding a capfs view). */
static int attempt_cover(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: cover PATH");
        if (mount("capfs-probe", argv[0], "tmpfs", 0, NULL) == 0)
                return report("ESCAPED", "mounted over %s", argv[0]);
        int err = errno;
        if (mount("/", argv[0], NULL, MS_BIND, NULL) == 0)
                return report("ESCAPED", "bind-mounted over %s", argv[0]);
        return blocked(err, argv[0]);
}

/* truncate PATH */
static int attempt_truncate(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: truncate PATH");
        return expect_failure(truncate(argv[0], 0), argv[0]);
}

/* chmod PATH */
static int attempt_chmod(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: chmod PATH");
        return expect_failure(chmod(argv[0], 0666), argv[0]);
}

/* mknod-open b|c MAJOR MINOR [DIR]: create a device node in a scratch directory and open it.
 * Creating the node may be allowed (CAP_MKNOD); opening it must not be. */
static int attempt_mknod_open(int argc, char **argv) {
        if (argc < 3 || (argv[0][0] != 'b' && argv[0][0] != 'c'))
                return report("error", "usage: mknod-open b|c MAJOR MINOR [DIR]");
        /* By default in /dev: a nodev mount (/tmp) would refuse the open before the devices
         * cgroup is asked, and that cgroup is what this attempt is about. */
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/capfs-probe-XXXXXX", argc > 3 ? argv[3] : "/dev");
        if (!mkdtemp(dir))
                return report("error", "mkdtemp %s: %s", dir, strerror(errno));
        char node[PATH_MAX + 8];
        snprintf(node, sizeof(node), "%s/node", dir);
        mode_t type = argv[0][0] == 'b' ? S_IFBLK : S_IFCHR;
        dev_t dev = makedev(strtoul(argv[1], NULL, 10), strtoul(argv[2], NULL, 10));
        int rc;
        if (mknod(node, type | 0600, dev) < 0) {
                rc = blocked(errno, "mknod");
        } else {
                int fd = open(node, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        rc = blocked(errno, "open of the new node");
                } else {
                        close(fd);
                        rc = report("ESCAPED", "opened device %s:%s", argv[1], argv[2]);
                }
                unlink(node);
        }
        rmdir(dir);
        return rc;
}

/* open-device PATH: open an existing device node for reading. */
static int attempt_open(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: open PATH");
        int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return blocked(errno, argv[0]);
        close(fd);
        return report("ESCAPED", "opened %s", argv[0]);
}

static int attempt_init_module(int argc, char **argv) {
        /* The capability check comes before the module is parsed, so an empty image answers. */
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        long rc = syscall(SYS_finit_module, fd, "", 0);
        int err = errno;
        close(fd);
        errno = err;
        if (rc < 0 && errno != EPERM) {
                /* Not refused for lack of privilege: check the other entry point too. */
                if (syscall(SYS_init_module, "", (unsigned long) 0, "") < 0 && errno == EPERM)
                        return blocked(EPERM, "init_module");
                errno = err;
        }
        return expect_failure(rc, "finit_module");
}

static int attempt_iopl(int argc, char **argv) {
        if (iopl(3) == 0)
                return report("ESCAPED", "iopl(3) succeeded");
        int err = errno;
        if (ioperm(0x80, 1, 1) == 0)
                return report("ESCAPED", "ioperm(0x80) succeeded");
        return blocked(err, "iopl");
}

/* open-by-handle: the "shocker" attack: build a handle for a file and open it through a
 * directory fd, which skips path-based containment. */
static int attempt_open_by_handle(int argc, char **argv) {
        struct {
                struct file_handle fh;
                unsigned char bytes[MAX_HANDLE_SZ];
        } handle = {.fh.handle_bytes = MAX_HANDLE_SZ};
        int mount_id;

        if (name_to_handle_at(AT_FDCWD, "/", &handle.fh, &mount_id, 0) < 0) {
                /* Still try the opening with a forged handle: that is the dangerous call. */
                memset(&handle, 0, sizeof(handle));
                handle.fh.handle_bytes = 8;
                handle.fh.handle_type = 1;
        }
        int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = open_by_handle_at(root, &handle.fh, O_RDONLY);
        int err = errno;
        close(root);
        if (fd >= 0) {
                close(fd);
                return report("ESCAPED", "open_by_handle_at succeeded");
        }
        return blocked(err, "open_by_handle_at");
}

static int attempt_kexec(int argc, char **argv) {
        long rc = syscall(SYS_kexec_load, 0UL, 0UL, NULL, (unsigned long) KEXEC_ARCH_DEFAULT);
        if (rc == 0)
                return report("ESCAPED", "kexec_load succeeded");
        int err = errno;
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        rc = syscall(SYS_kexec_file_load, fd, fd, 1UL, "", 0UL);
        close(fd);
        if (rc == 0)
                return report("ESCAPED", "kexec_file_load succeeded");
        return blocked(err, "kexec_load");
}

/* bpf: load the smallest socket filter ("return 0"), which unprivileged_bpf_disabled=0 would
 * allow to anyone; the container must not have bpf() at all. */
static int attempt_bpf(int argc, char **argv) {
        struct bpf_insn prog[] = {
                {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
                {.code = BPF_JMP | BPF_EXIT},
        };
        union bpf_attr attr = {
                .prog_type = BPF_PROG_TYPE_SOCKET_FILTER,
                .insns = (uintptr_t) prog,
                .insn_cnt = 2,
                .license = (uintptr_t) "GPL",
        };
        long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
        if (fd >= 0) {
                close((int) fd);
                return report("ESCAPED", "bpf(BPF_PROG_LOAD) succeeded");
        }
        return blocked(errno, "bpf(BPF_PROG_LOAD)");
}

/* perf: a software counter on the caller itself, the least privileged event there is. */
static int attempt_perf(int argc, char **argv) {
        struct perf_event_attr attr = {
                .type = PERF_TYPE_SOFTWARE,
                .size = sizeof(attr),
                .config = PERF_COUNT_SW_TASK_CLOCK,
                .disabled = 1,
                .exclude_kernel = 1,
        };
        long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL);
        if (fd >= 0) {
                close((int) fd);
                return report("ESCAPED", "perf_event_open succeeded");
        }
        return blocked(errno, "perf_event_open");
}

/* keyctl: uid 0 in the container is uid 0 on the host (no user namespace), so its user keyring
 * is the host root's. Every key management call must be refused. */
static int attempt_keyctl(int argc, char **argv) {
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
        if (id >= 0)
                return report("ESCAPED", "keyctl reached the user keyring (id %ld)", id);
        int err = errno;
        if (syscall(SYS_add_key, "user", "capfs-probe", "x", 1, KEY_SPEC_USER_KEYRING) >= 0)
                return report("ESCAPED", "add_key to the user keyring succeeded");
        if (syscall(SYS_request_key, "user", "capfs-probe", NULL, 0) >= 0)
                return report("ESCAPED", "request_key succeeded");
        return blocked(err, "keyctl(KEYCTL_GET_KEYRING_ID)");
}

/* unshare-user: a new user namespace would give a full capability set over new namespaces, in
 * which cgroupfs or cgroup2 could be mounted and written. Tried with unshare() and with clone(). */
static int attempt_unshare_user(int argc, char **argv) {
        if (unshare(CLONE_NEWUSER) == 0)
                return report("ESCAPED", "unshare(CLONE_NEWUSER) succeeded");
        int err = errno;
        long pid = syscall(SYS_clone, (unsigned long) (CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0UL);
        if (pid == 0)
                _exit(0);
        if (pid > 0) {
                waitpid((pid_t) pid, NULL, 0);
                return report("ESCAPED", "clone(CLONE_NEWUSER) succeeded");
        }
        return blocked(err, "unshare(CLONE_NEWUSER)");
}

/* setns PATH: join the namespace a /proc/PID/ns/ file names. */
static int attempt_setns(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: setns PATH");
        int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return blocked(errno, argv[0]);
        int rc = setns(fd, 0);
        int err = errno;
        close(fd);
        if (rc == 0)
                return report("ESCAPED", "setns(%s) succeeded", argv[0]);
        return blocked(err, argv[0]);
}

/* Whether NAME in directory DIRFD is the host's marker file (same device and inode). */
static bool is_marker(int dirfd, const char *name, dev_t dev, ino_t ino) {
        struct stat st;

        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* Walks ".." up from DIRFD (consumed) as far as it goes, looking for the marker at each level. */
static bool walk_up_finds_marker(int dirfd, const char *name, dev_t dev, ino_t ino) {
        for (int level = 0; level < 256 && dirfd >= 0; level++) {
                if (is_marker(dirfd, name, dev, ino)) {
                        close(dirfd);
                        return true;
                }
                int up = openat(dirfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                close(dirfd);
                dirfd = up;
        }
        if (dirfd >= 0)
                close(dirfd);
        return false;
}

/* The same walk with chdir(".."), which a chroot escape relies on. */
static bool walk_up_cwd_finds_marker(const char *name, dev_t dev, ino_t ino) {
        for (int level = 0; level < 256; level++) {
                if (is_marker(AT_FDCWD, name, dev, ino))
                        return true;
                if (chdir("..") < 0)
                        return false;
        }
        return false;
}

static int parse_marker(char **argv, dev_t *dev, ino_t *ino) {
        unsigned int major_nr, minor_nr;
        unsigned long long inode;

        if (sscanf(argv[1], "%u:%u", &major_nr, &minor_nr) != 2 || sscanf(argv[2], "%llu", &inode) != 1)
                return -EINVAL;
        *dev = makedev(major_nr, minor_nr);
        *ino = (ino_t) inode;
        return 0;
}

/* chroot-escape NAME MAJOR:MINOR INODE: the classic chroot breakouts, looking for a marker file
 * the host created just outside the container's root (NAME, with its device and inode as the host
 * sees them). First chroot into a subdirectory while the cwd stays outside it and walk up; then
 * the same with a directory fd kept from before the chroot. */
static int attempt_chroot_escape(int argc, char **argv) {
        dev_t dev;
        ino_t ino;

        if (argc < 3 || parse_marker(argv, &dev, &ino) < 0)
                return report("error", "usage: chroot-escape NAME MAJOR:MINOR INODE");
        int kept = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char dir[] = "/tmp/capfs-chroot-XXXXXX";
        if (kept < 0 || !mkdtemp(dir))
                return report("error", "scratch directory: %s", strerror(errno));

        pid_t pid = fork();
        if (pid == 0) {
                if (chroot(dir) < 0)
                        _exit(10 + errno % 100);
                /* The cwd is still outside the new root: ".." from it is not clamped. */
                if (walk_up_cwd_finds_marker(argv[0], dev, ino))
                        _exit(1);
                /* The same from a directory fd kept from before the chroot, then chroot there. */
                if (fchdir(kept) == 0 && (walk_up_cwd_finds_marker(argv[0], dev, ino) ||
                                          (chroot(".") == 0 && walk_up_cwd_finds_marker(argv[0], dev, ino))))
                        _exit(1);
                _exit(walk_up_finds_marker(dup(kept), argv[0], dev, ino) ? 1 : 0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        rmdir(dir);
        close(kept);
        if (!WIFEXITED(status))
                return report("error", "chroot child died (status %d)", status);
        if (WEXITSTATUS(status) == 1)
                return report("ESCAPED", "the host marker %s is reachable after chroot", argv[0]);
        if (WEXITSTATUS(status) >= 10)
                return blocked(WEXITSTATUS(status) - 10, "chroot");
        return report("contained", "no way up from the container's root after chroot");
}

/* Checks one /proc/PID/{cwd,root,fd/N} link: whether it is a directory from which ".." leads to
 * the host's marker. Returns 1 if so, 0 if not, -1 if it is no directory (or gone). */
static int handle_leads_to_marker(const char *link, const char *name, dev_t dev, ino_t ino) {
        int fd = open(link, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        return walk_up_finds_marker(fd, name, dev, ino) ? 1 : 0;
}

/* scan-handles NAME MAJOR:MINOR INODE: every directory a process of the container holds (cwd,
 * root, open directory fds), walked up with "..": none may lead to the host's marker. A handle
 * leaked by the launcher would show here. */
static int attempt_scan_handles(int argc, char **argv) {
        dev_t dev;
        ino_t ino;
        char link[PATH_MAX];
        int scanned = 0, found = 0;

        if (argc < 3 || parse_marker(argv, &dev, &ino) < 0)
                return report("error", "usage: scan-handles NAME MAJOR:MINOR INODE");
        DIR *proc = opendir("/proc");
        if (!proc)
                return report("error", "cannot list /proc: %s", strerror(errno));
        for (struct dirent *pid; !found && (pid = readdir(proc));) {
                if (pid->d_name[0] < '1' || pid->d_name[0] > '9')
                        continue;
                static const char *const fixed[] = {"cwd", "root"};
                for (size_t i = 0; !found && i < 2; i++) {
                        snprintf(link, sizeof(link), "/proc/%s/%s", pid->d_name, fixed[i]);
                        int r = handle_leads_to_marker(link, argv[0], dev, ino);
                        scanned += r >= 0;
                        found = r == 1;
                }
                char fd_dir[PATH_MAX];
                snprintf(fd_dir, sizeof(fd_dir), "/proc/%s/fd", pid->d_name);
                DIR *fds = found ? NULL : opendir(fd_dir);
                for (struct dirent *fd; !found && fds && (fd = readdir(fds));) {
                        if (fd->d_name[0] == '.')
                                continue;
                        snprintf(link, sizeof(link), "/proc/%s/fd/%s", pid->d_name, fd->d_name);
                        int r = handle_leads_to_marker(link, argv[0], dev, ino);
                        scanned += r >= 0;
                        found = r == 1;
                }
                if (fds)
                        closedir(fds);
        }
        closedir(proc);
        if (found) {
                char target[PATH_MAX] = "";
                ssize_t n = readlink(link, target, sizeof(target) - 1);
                target[n > 0 ? n : 0] = '\0';
                return report("ESCAPED", "%s (-> %s) leads to the host marker", link, target);
        }
        if (scanned == 0)
                return report("error", "no directory handle could be opened under /proc");
        return report("contained", "%d directory handles, none leads outside", scanned);
}

/* ptrace PID: attach to, and read the memory of, a process (a host pid from the test). */
static int attempt_ptrace(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: ptrace PID");
        pid_t pid = (pid_t) strtol(argv[0], NULL, 10);
        char buf[16];
        struct iovec local = {buf, sizeof(buf)}, remote = {(void *) 0x400000, sizeof(buf)};
        if (syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, pid, NULL, NULL) == 0)
                return report("ESCAPED", "ptrace attached to %d", pid);
        int err = errno;
        if (process_vm_readv(pid, &local, 1, &remote, 1, 0) >= 0)
                return report("ESCAPED", "process_vm_readv of %d succeeded", pid);
        if (errno != err && errno != EFAULT && errno != ESRCH)
                err = errno;
        return blocked(err, "ptrace/process_vm_readv");
}

/* tiocsti PATH: push a character into the input queue of a terminal. */
static int attempt_tiocsti(int argc, char **argv) {
        const char *tty = argc > 0 ? argv[0] : "/dev/console";
        int fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return blocked(errno, tty);
        char c = '\n';
        int rc = ioctl(fd, TIOCSTI, &c);
        int err = errno;
        close(fd);
        if (rc == 0)
                return report("ESCAPED", "TIOCSTI on %s succeeded", tty);
        return blocked(err, tty);
}

static int attempt_settime(int argc, char **argv) {
        struct timespec now;

        clock_gettime(CLOCK_REALTIME, &now);
        return expect_failure(clock_settime(CLOCK_REALTIME, &now), "clock_settime");
}

static int attempt_dmesg_clear(int argc, char **argv) {
        return expect_failure(klogctl(5 /* SYSLOG_ACTION_CLEAR */, NULL, 0), "syslog(CLEAR)");
}

/* oom-score-adj VALUE: lower the caller's OOM score below the floor the launcher set. */
static int attempt_oom_score_adj(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: oom-score-adj VALUE");
        char *args[] = {"/proc/self/oom_score_adj", argv[0]};
        return attempt_write(2, args);
}

struct flood {
        const char *path;
        int opens;
        int failures;
        int first_errno;
};

static void *flood_thread(void *data) {
        struct flood *flood = data;

        for (int i = 0; i < flood->opens; i++) {
                int fd = open(flood->path, O_RDONLY | O_CLOEXEC);
                char buf[4096];
                if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
                        if (!flood->failures++)
                                flood->first_errno = errno;
                }
                if (fd >= 0)
                        close(fd);
        }
        return NULL;
}

/* open-flood PATH TOTAL THREADS: TOTAL open+read+close of PATH spread over THREADS threads. A
 * denial-of-service attempt on the daemon; the test checks that the daemon still answers others. */
static int attempt_open_flood(int argc, char **argv) {
        if (argc < 3)
                return report("error", "usage: open-flood PATH TOTAL THREADS");
        int total = atoi(argv[1]), nthreads = atoi(argv[2]);
        if (total <= 0 || nthreads <= 0 || nthreads > 1024)
                return report("error", "bad TOTAL or THREADS");
        struct flood *floods = calloc((size_t) nthreads, sizeof(*floods));
        pthread_t *threads = calloc((size_t) nthreads, sizeof(*threads));
        if (!floods || !threads)
                return report("error", "out of memory");
        int started = 0;
        for (int i = 0; i < nthreads; i++) {
                floods[i] = (struct flood){argv[0], total / nthreads + (i < total % nthreads), 0, 0};
                if (pthread_create(&threads[i], NULL, flood_thread, &floods[i]) != 0)
                        break;
                started++;
        }
        int failures = 0, first_errno = 0;
        for (int i = 0; i < started; i++) {
                pthread_join(threads[i], NULL);
                failures += floods[i].failures;
                if (!first_errno)
                        first_errno = floods[i].first_errno;
        }
        free(floods);
        free(threads);
        /* Not an escape either way: the point is what the daemon does meanwhile. */
        return report("contained", "%d threads, %d opens, %d failed%s%s", started, total, failures,
                      failures ? " first: " : "", failures ? strerrorname_np(first_errno) ?: "E?" : "");
}

/* pread PATH OFFSET SIZE: a read at an odd offset or of an odd size must not hurt the daemon. */
static int attempt_pread(int argc, char **argv) {
        if (argc < 3)
                return report("error", "usage: pread PATH OFFSET SIZE");
        int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return blocked(errno, argv[0]);
        size_t size = strtoul(argv[2], NULL, 10);
        char *buf = malloc(size + 1);
        ssize_t n = pread(fd, buf, size, (off_t) strtoll(argv[1], NULL, 0));
        int err = errno;
        free(buf);
        close(fd);
        if (n < 0)
                return blocked(err, argv[0]);
        return report("contained", "read %zd bytes", n);
}

/*
 * syscall NAME: one of the calls the launcher's seccomp filter (and capfs.seccomp for LXC) refuses,
 * made with every argument 1: an address nothing is mapped at, an invalid flag set. The filter
 * answers EPERM before the kernel looks at them; without it, the kernel answers such arguments
 * with another errno (EFAULT, EINVAL, EBADF) and does nothing (acct(NULL) would stop the host's
 * process accounting; acct(1) only faults).
 */
static const struct {
        const char *name;
        long nr;
} refused_calls[] = {
        {"open_by_handle_at", SYS_open_by_handle_at},
        {"kexec_load", SYS_kexec_load},
        {"kexec_file_load", SYS_kexec_file_load},
        {"bpf", SYS_bpf},
        {"perf_event_open", SYS_perf_event_open},
        {"keyctl", SYS_keyctl},
        {"add_key", SYS_add_key},
        {"request_key", SYS_request_key},
        {"userfaultfd", SYS_userfaultfd},
        {"fsopen", SYS_fsopen},
        {"fsmount", SYS_fsmount},
        {"fspick", SYS_fspick},
        {"open_tree", SYS_open_tree},
        {"move_mount", SYS_move_mount},
        {"mount_setattr", SYS_mount_setattr},
        {"quotactl", SYS_quotactl},
        {"acct", SYS_acct},
        {"lookup_dcookie", SYS_lookup_dcookie},
        {"swapon", SYS_swapon},
        {"swapoff", SYS_swapoff},
        /* Refused by capfs.seccomp too (as by LXC's common.seccomp); the launcher drops
         * CAP_SYS_MODULE instead. */
        {"init_module", SYS_init_module},
        {"finit_module", SYS_finit_module},
        {"delete_module", SYS_delete_module},
};

static int attempt_syscall(int argc, char **argv) {
        if (argc < 1)
                return report("error", "usage: syscall NAME");
        for (size_t i = 0; i < sizeof(refused_calls) / sizeof(refused_calls[0]); i++) {
                if (strcmp(refused_calls[i].name, argv[0]) != 0)
                        continue;
                long rc = syscall(refused_calls[i].nr, 1L, 1L, 1L, 1L, 1L, 1L);
                if (rc > 2)
                        close((int) rc); /* a file descriptor */
                return expect_failure(rc, argv[0]);
        }
        return report("error", "syscall %s: not one this probe knows", argv[0]);
}

static const struct attempt {
        const char *name;
        int (*run)(int argc, char **argv);
} attempts[] = {
        {"syscall", attempt_syscall},
        {"mount-remount", attempt_remount},
        {"write", attempt_write},
        {"truncate", attempt_truncate},
        {"mkdir", attempt_mkdir},
        {"rmdir", attempt_rmdir},
        {"symlink", attempt_symlink},
        {"link", attempt_link},
        {"rename", attempt_rename},
        {"create", attempt_create},
        {"mknod", attempt_mknod},
        {"umount", attempt_umount},
        {"cover", attempt_cover},
        {"chmod", attempt_chmod},
        {"mknod-open", attempt_mknod_open},
        {"open", attempt_open},
        {"init-module", attempt_init_module},
        {"iopl", attempt_iopl},
        {"open-by-handle", attempt_open_by_handle},
        {"kexec", attempt_kexec},
        {"bpf", attempt_bpf},
        {"perf", attempt_perf},
        {"keyctl", attempt_keyctl},
        {"unshare-user", attempt_unshare_user},
        {"setns", attempt_setns},
        {"chroot-escape", attempt_chroot_escape},
        {"scan-handles", attempt_scan_handles},
        {"ptrace", attempt_ptrace},
        {"tiocsti", attempt_tiocsti},
        {"settime", attempt_settime},
        {"dmesg-clear", attempt_dmesg_clear},
        {"oom-score-adj", attempt_oom_score_adj},
        {"open-flood", attempt_open_flood},
        {"pread", attempt_pread},
};

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s ATTEMPT [ARGS...]\nattempts:", argv[0]);
                for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
                        fprintf(stderr, " %s", attempts[i].name);
                fputc('\n', stderr);
                return ERROR_EXIT;
        }
        for (size_t i = 0; i < sizeof(attempts) / sizeof(attempts[0]); i++)
                if (strcmp(argv[1], attempts[i].name) == 0)
                        return attempts[i].run(argc - 2, argv + 2);
        fprintf(stderr, "%s: unknown attempt '%s'; run it without arguments for the list\n", argv[0],
                argv[1]);
        return ERROR_EXIT;
}
