/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-bench: the measuring half of bench/run. It times what a reader of /proc does (open, read
 * to the end, close) and prints machine-readable lines that bench/run turns into its table.
 *
 *   capfs-bench latency PATH ITERATIONS        -> "latency PATH median_ns p99_ns ITERATIONS errors"
 *   capfs-bench write PATH VALUE ITERATIONS    -> the same, for open+write+close
 *   capfs-bench throughput PATH SECONDS        -> "throughput PATH reads errors seconds"
 *   capfs-bench sysinfo ITERATIONS             -> "sysinfo - median_ns p99_ns ITERATIONS errors totalram"
 *   capfs-bench first PATH                     -> "first PATH ns errors": one read, nothing warmed (the
 *                                                first read of a new container)
 *   capfs-bench now                            -> CLOCK_MONOTONIC in microseconds, the clock of systemd's
 *                                                *TimestampMonotonic properties (boot times)
 *   capfs-bench now                            -> CLOCK_MONOTONIC in microseconds, the clock of systemd's
 *                                                *TimestampMonotonic properties (boot times)
 *
 * Each iteration is timed on its own (CLOCK_MONOTONIC), so the median and the 99th percentile come
 * from the full distribution, not from an average.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* One open + read to EOF + close: what `cat` and every runtime's /proc parser does. */
static int read_once(const char *path) {
        static char buf[65536];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                ;
        int err = n < 0 ? -errno : 0;
        close(fd);
        return err;
}

static int write_once(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, value, strlen(value));
        int err = n < 0 ? -errno : 0;
        close(fd);
        return err;
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static int latency(const char *path, const char *value, long iterations) {
        uint64_t *samples = calloc((size_t) iterations, sizeof(*samples));
        long errors = 0;
        int first_error = 0;
        if (!samples)
                return 1;
        /* Warm the caches (and the daemon's) as a long-running reader would have them. */
        for (int i = 0; i < 20; i++)
                value ? write_once(path, value) : read_once(path);
        for (long i = 0; i < iterations; i++) {
                uint64_t start = now_ns();
                int r = value ? write_once(path, value) : read_once(path);
                samples[i] = now_ns() - start;
                if (r < 0 && !errors++)
                        first_error = -r;
        }
        qsort(samples, (size_t) iterations, sizeof(*samples), compare_u64);
        printf("%s %s %lu %lu %ld %ld\n", value ? "write" : "latency", path,
               (unsigned long) samples[iterations / 2], (unsigned long) samples[iterations * 99 / 100],
               iterations, errors);
        if (errors)
                fprintf(stderr, "capfs-bench: %ld of %ld operations on %s failed, the first with %s\n",
                        errors, iterations, path, strerror(first_error));
        free(samples);
        return 0;
}

static int throughput(const char *path, double seconds) {
        uint64_t end = now_ns() + (uint64_t) (seconds * 1e9);
        long reads = 0, errors = 0;
        while (now_ns() < end) {
                if (read_once(path) < 0)
                        errors++;
                reads++;
        }
        printf("throughput %s %ld %ld %.3f\n", path, reads, errors, seconds);
        return 0;
}

static int first_read(const char *path) {
        uint64_t start = now_ns();
        int r = read_once(path);
        uint64_t ns = now_ns() - start;

        printf("first %s %lu %d\n", path, (unsigned long) ns, r < 0);
        if (r < 0)
                fprintf(stderr, "capfs-bench: the first read of %s failed: %s\n", path, strerror(-r));
        return 0;
}

/* sysinfo(2), as glibc's sysconf(_SC_PHYS_PAGES) and busybox call it; totalram says who answered. */
static int sysinfo_latency(long iterations) {
        uint64_t *samples = calloc((size_t) iterations, sizeof(*samples));
        struct sysinfo si = {0};
        long errors = 0;
        if (!samples)
                return 1;
        for (int i = 0; i < 20; i++)
                (void) sysinfo(&si);
        for (long i = 0; i < iterations; i++) {
                uint64_t start = now_ns();
                int r = sysinfo(&si);
                samples[i] = now_ns() - start;
                if (r < 0)
                        errors++;
        }
        qsort(samples, (size_t) iterations, sizeof(*samples), compare_u64);
        printf("sysinfo - %lu %lu %ld %ld %llu\n", (unsigned long) samples[iterations / 2],
               (unsigned long) samples[iterations * 99 / 100], iterations, errors,
               (unsigned long long) si.totalram * si.mem_unit);
        free(samples);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "latency") == 0 && atol(argv[3]) > 0)
                return latency(argv[2], NULL, atol(argv[3]));
        if (argc == 5 && strcmp(argv[1], "write") == 0 && atol(argv[4]) > 0)
                return latency(argv[2], argv[3], atol(argv[4]));
        if (argc == 4 && strcmp(argv[1], "throughput") == 0 && atof(argv[3]) > 0)
                return throughput(argv[2], atof(argv[3]));
        if (argc == 3 && strcmp(argv[1], "sysinfo") == 0 && atol(argv[2]) > 0)
                return sysinfo_latency(atol(argv[2]));
        if (argc == 3 && strcmp(argv[1], "first") == 0)
                return first_read(argv[2]);
        if (argc == 2 && strcmp(argv[1], "now") == 0) {
                printf("%llu\n", (unsigned long long) (now_ns() / 1000));
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "now") == 0) {
                printf("%llu\n", (unsigned long long) (now_ns() / 1000));
                return 0;
        }
        fprintf(stderr,
                "usage: %s latency PATH ITERATIONS | write PATH VALUE ITERATIONS | throughput PATH "
                "SECONDS | sysinfo ITERATIONS | first PATH | now\n",
                argv[0]);
        return 2;
}
