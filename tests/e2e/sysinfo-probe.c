/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-sysinfo-probe: calls sysinfo(2) directly, as glibc's sysconf(_SC_PHYS_PAGES), busybox
 * and runtimes' fallbacks do. Built static, so it runs in any container's rootfs.
 *
 *   capfs-sysinfo-probe
 *       one line: uptime= load1= load5= load15= totalram= freeram= sharedram= bufferram=
 *       totalswap= freeswap= procs= (memory in bytes, loads in hundredths)
 *   capfs-sysinfo-probe loop STOPFILE CONTAINER_TOTALRAM HOST_TOTALRAM
 *       calls sysinfo() until STOPFILE exists, then prints
 *       calls= container= host= other= errors= first_error=
 *       counting answers by their totalram: the container's, the host's, anything else; an
 *       errno (ENOSYS from a listener that went away) is an error. Writes STOPFILE.started once
 *       it has made its first call.
 *   capfs-sysinfo-probe efault
 *       sysinfo() with a pointer to nothing: prints the errno's name (the kernel: EFAULT)
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static uint64_t bytes(unsigned long value, unsigned mem_unit) {
        return (uint64_t) value * (mem_unit ? mem_unit : 1);
}

static unsigned long hundredths(unsigned long load) {
        /* sysinfo's loads have 16 fractional bits. */
        return (unsigned long) (((uint64_t) load * 100 + (1 << 15)) >> 16);
}

static int print_once(void) {
        struct sysinfo si;

        if (sysinfo(&si) < 0) {
                printf("error=%s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
                return 1;
        }
        printf("uptime=%ld load1=%lu load5=%lu load15=%lu totalram=%" PRIu64 " freeram=%" PRIu64
               " sharedram=%" PRIu64 " bufferram=%" PRIu64 " totalswap=%" PRIu64 " freeswap=%" PRIu64
               " procs=%u\n",
               si.uptime, hundredths(si.loads[0]), hundredths(si.loads[1]), hundredths(si.loads[2]),
               bytes(si.totalram, si.mem_unit), bytes(si.freeram, si.mem_unit),
               bytes(si.sharedram, si.mem_unit), bytes(si.bufferram, si.mem_unit),
               bytes(si.totalswap, si.mem_unit), bytes(si.freeswap, si.mem_unit), (unsigned) si.procs);
        return 0;
}

static int loop(const char *stop_file, uint64_t container_total, uint64_t host_total) {
        uint64_t calls = 0, container = 0, host = 0, other = 0, errors = 0;
        const char *first_error = "none";
        char started[4096];

        snprintf(started, sizeof(started), "%s.started", stop_file);
        while (access(stop_file, F_OK) != 0) {
                struct sysinfo si;

                calls++;
                if (sysinfo(&si) < 0) {
                        if (errors++ == 0)
                                first_error = strerrorname_np(errno) ? strerrorname_np(errno) : "?";
                } else {
                        uint64_t total = bytes(si.totalram, si.mem_unit);
                        if (total == container_total)
                                container++;
                        else if (total == host_total)
                                host++;
                        else
                                other++;
                }
                if (calls == 1) {
                        int fd = open(started, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                        if (fd >= 0)
                                close(fd);
                }
        }
        printf("calls=%" PRIu64 " container=%" PRIu64 " host=%" PRIu64 " other=%" PRIu64 " errors=%" PRIu64
               " first_error=%s\n",
               calls, container, host, other, errors, first_error);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 1)
                return print_once();
        if (argc == 5 && strcmp(argv[1], "loop") == 0)
                return loop(argv[2], strtoull(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
        if (argc == 2 && strcmp(argv[1], "efault") == 0) {
                long r = syscall(SYS_sysinfo, (void *) 8);
                printf("%s\n", r == 0 ? "ok" : strerrorname_np(errno));
                return 0;
        }
        fprintf(stderr, "usage: %s [loop STOPFILE CONTAINER_TOTALRAM HOST_TOTALRAM | efault]\n", argv[0]);
        return 2;
}
