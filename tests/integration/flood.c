/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs-test-flood: the noisy and the quiet neighbour of test-flood.sh.
 *
 *   capfs-test-flood flood PATH THREADS STOPFILE MAX_SECONDS
 *       THREADS threads each open+read+close PATH in a loop until STOPFILE exists (MAX_SECONDS
 *       at most); a thread per blocked request is what a container needs to keep that many
 *       requests waiting in the daemon. The threads start reading together, once all exist;
 *       "started=N" is printed (and flushed) then, so that the test knows the flood is on,
 *       however slowly the machine made them.
 *   capfs-test-flood quiet PATH SECONDS
 *       one reader doing the same, timing each read.
 *
 * Both print "reads=N errors=N first_error=NAME" and, for quiet, "median_us= p99_us= max_us=".
 * Every read must return the whole file and include "MemTotal:" or "cpu" (meminfo or stat), so
 * an empty or truncated answer counts as an error too.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Small stacks: ten thousand threads must fit in a test cgroup's memory. */
#define THREAD_STACK (64 * 1024)
#define MAX_SAMPLES (1 << 20)

static const char *path;
static uint64_t deadline_ns;
static atomic_bool stop;
/* The threads wait for each other before they read: on a slow machine (an emulated VM), threads
 * already flooding would slow the creation of the rest to a crawl. */
static pthread_mutex_t go_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;
static bool go;
static atomic_long reads, errors;
static atomic_int first_error;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* 0 or a positive errno; EBADMSG when the content is not a whole meminfo or stat. */
static int read_once(void) {
        char buf[16384];
        size_t len = 0;
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return errno;
        while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t) n;
        if (n < 0) {
                int e = errno;
                close(fd);
                return e;
        }
        close(fd);
        buf[len] = '\0';
        if (len == 0 || buf[len - 1] != '\n' || (!strstr(buf, "MemTotal:") && strncmp(buf, "cpu", 3)))
                return EBADMSG;
        return 0;
}

static void count(int e) {
        int none = 0;

        if (!e) {
                atomic_fetch_add(&reads, 1);
                return;
        }
        atomic_fetch_add(&errors, 1);
        atomic_compare_exchange_strong(&first_error, &none, e);
}

static void *flood_thread(void *unused) {
        (void) unused;
        pthread_mutex_lock(&go_lock);
        while (!go)
                pthread_cond_wait(&go_cond, &go_lock);
        pthread_mutex_unlock(&go_lock);
        while (!atomic_load(&stop))
                count(read_once());
        return NULL;
}

static void print_counts(void) {
        int e = atomic_load(&first_error);

        printf("reads=%ld errors=%ld first_error=%s\n", atomic_load(&reads), atomic_load(&errors),
               e ? strerrorname_np(e) : "none");
}

static int flood(long threads, const char *stopfile) {
        pthread_attr_t attr;
        pthread_t *ids = calloc((size_t) threads, sizeof(*ids));
        long started = 0;

        if (!ids)
                return 1;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, THREAD_STACK);
        for (; started < threads; started++) {
                int r = pthread_create(&ids[started], &attr, flood_thread, NULL);
                if (r) {
                        fprintf(stderr, "capfs-test-flood: started only %ld of %ld threads: %s\n", started,
                                threads, strerror(r));
                        break;
                }
        }
        pthread_mutex_lock(&go_lock);
        go = true;
        pthread_cond_broadcast(&go_cond);
        pthread_mutex_unlock(&go_lock);
        printf("started=%ld\n", started);
        fflush(stdout);
        while (access(stopfile, F_OK) < 0 && now_ns() < deadline_ns)
                usleep(50 * 1000);
        atomic_store(&stop, true);
        for (long i = 0; i < started; i++)
                pthread_join(ids[i], NULL);
        pthread_attr_destroy(&attr);
        free(ids);
        printf("threads=%ld ", started);
        print_counts();
        return started == threads ? 0 : 1;
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

static int quiet(void) {
        uint64_t *samples = calloc(MAX_SAMPLES, sizeof(*samples));
        size_t n = 0;

        if (!samples)
                return 1;
        while (now_ns() < deadline_ns && n < MAX_SAMPLES) {
                uint64_t start = now_ns();
                int e = read_once();
                samples[n++] = now_ns() - start;
                count(e);
        }
        qsort(samples, n, sizeof(*samples), compare_u64);
        print_counts();
        if (n)
                printf("median_us=%lu p99_us=%lu max_us=%lu\n", (unsigned long) (samples[n / 2] / 1000),
                       (unsigned long) (samples[n * 99 / 100] / 1000),
                       (unsigned long) (samples[n - 1] / 1000));
        free(samples);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 6 && !strcmp(argv[1], "flood")) {
                path = argv[2];
                deadline_ns = now_ns() + (uint64_t) atol(argv[5]) * 1000000000u;
                return flood(atol(argv[3]), argv[4]);
        }
        if (argc == 4 && !strcmp(argv[1], "quiet")) {
                path = argv[2];
                deadline_ns = now_ns() + (uint64_t) atol(argv[3]) * 1000000000u;
                return quiet();
        }
        fprintf(stderr, "usage: %s flood PATH THREADS STOPFILE MAX_SECONDS | quiet PATH SECONDS\n", argv[0]);
        return 2;
}
