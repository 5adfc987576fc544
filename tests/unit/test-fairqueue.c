/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The worker's queue of read requests: one FIFO per container, served round-robin, bounded. */
#include <errno.h>
#include <string.h>

#include "fairqueue.h"

static int push(FairQueue *q, uint64_t key, const char *text) {
        FairRequest *r = fair_request_new(key, text, strlen(text) + 1);
        int ret = fair_queue_push(q, r);

        if (ret < 0)
                fair_request_free(r);
        return ret;
}

/* The text of the next request, served at once; "" when there is none to serve. */
static char *pop(FairQueue *q) {
        g_autoptr(FairRequest) r = fair_queue_pop(q);

        if (!r)
                return g_strdup("");
        fair_queue_done(q, r->key);
        return g_strdup((const char *) r->data);
}

/* The text of the next request, which stays in service until fair_queue_done(). */
static char *take(FairQueue *q) {
        g_autoptr(FairRequest) r = fair_queue_pop(q);

        return g_strdup(r ? (const char *) r->data : "");
}

static void assert_order(FairQueue *q, const char *const *expected) {
        for (; *expected; expected++) {
                g_autofree char *got = pop(q);
                g_assert_cmpstr(got, ==, *expected);
        }
        g_assert_null(fair_queue_pop(q));
        g_assert_cmpuint(fair_queue_length(q), ==, 0);
        g_assert_cmpuint(fair_queue_bytes(q), ==, 0);
        g_assert_cmpuint(fair_queue_flows(q), ==, 0);
}

static void test_one_container_is_fifo(void) {
        g_autoptr(FairQueue) q = fair_queue_new(1 << 20, 1 << 24, 4);
        const char *const order[] = {"a1", "a2", "a3", NULL};

        push(q, 7, "a1");
        push(q, 7, "a2");
        push(q, 7, "a3");
        g_assert_cmpuint(fair_queue_length(q), ==, 3);
        g_assert_cmpuint(fair_queue_flows(q), ==, 1);
        assert_order(q, order);
}

/* A container with a thousand requests waiting delays a late one of another by one request. */
static void test_round_robin(void) {
        g_autoptr(FairQueue) q = fair_queue_new(1 << 20, 1 << 24, 4);
        g_autofree char *first = NULL, *second = NULL;

        for (int i = 0; i < 1000; i++) {
                g_autofree char *text = g_strdup_printf("noisy%d", i);
                g_assert_cmpint(push(q, 1, text), ==, 0);
        }
        first = pop(q);
        g_assert_cmpstr(first, ==, "noisy0");
        push(q, 2, "quiet0");
        push(q, 2, "quiet1");
        second = pop(q);
        g_assert_cmpstr(second, ==, "noisy1");
        {
                g_autofree char *quiet = pop(q);
                g_assert_cmpstr(quiet, ==, "quiet0");
        }
        {
                g_autofree char *noisy = pop(q);
                g_assert_cmpstr(noisy, ==, "noisy2");
        }
        {
                g_autofree char *quiet = pop(q);
                g_assert_cmpstr(quiet, ==, "quiet1");
        }
        /* The quiet container's flow is gone once empty; the noisy one keeps going. */
        g_assert_cmpuint(fair_queue_flows(q), ==, 1);
        g_assert_cmpuint(fair_queue_length(q), ==, 997);
}

static void test_three_containers_interleave(void) {
        g_autoptr(FairQueue) q = fair_queue_new(1 << 20, 1 << 24, 4);
        const char *const order[] = {"a1", "b1", "c1", "a2", "b2", "a3", NULL};

        push(q, 1, "a1");
        push(q, 1, "a2");
        push(q, 1, "a3");
        push(q, 2, "b1");
        push(q, 2, "b2");
        push(q, 3, "c1");
        assert_order(q, order);
}

/* FORGET, INTERRUPT and the like jump every container's queue and are never refused. */
static void test_connection_first_and_unbounded(void) {
        g_autoptr(FairQueue) q = fair_queue_new(64, 128, 4);
        const char *const order[] = {"forget1", "forget2", "forget3", "a1", NULL};

        g_assert_cmpint(push(q, 1, "a1"), ==, 0);
        g_assert_cmpint(push(q, FAIR_KEY_CONNECTION, "forget1"), ==, 0);
        g_assert_cmpint(push(q, FAIR_KEY_CONNECTION, "forget2"), ==, 0);
        g_assert_cmpint(push(q, FAIR_KEY_CONNECTION, "forget3"), ==, 0);
        assert_order(q, order);
}

static void test_per_container_bound(void) {
        size_t one = sizeof(FairRequest) + strlen("xx") + 1;
        g_autoptr(FairQueue) q = fair_queue_new(3 * one, 100 * one, 4);
        g_autofree char *got = NULL;

        g_assert_cmpint(push(q, 1, "a1"), ==, 0);
        g_assert_cmpint(push(q, 1, "a2"), ==, 0);
        g_assert_cmpint(push(q, 1, "a3"), ==, 0);
        g_assert_cmpint(push(q, 1, "a4"), ==, -EAGAIN);
        /* Another container is not affected by the full one. */
        g_assert_cmpint(push(q, 2, "b1"), ==, 0);
        /* Room again once one was served. */
        got = pop(q);
        g_assert_cmpstr(got, ==, "a1");
        g_assert_cmpint(push(q, 1, "a4"), ==, 0);
        g_assert_cmpint(push(q, 1, "a5"), ==, -EAGAIN);
        g_assert_cmpuint(fair_queue_bytes(q), ==, 4 * one);
}

static void test_total_bound(void) {
        size_t one = sizeof(FairRequest) + strlen("xx") + 1;
        g_autoptr(FairQueue) q = fair_queue_new(10 * one, 3 * one, 4);

        g_assert_cmpint(push(q, 1, "a1"), ==, 0);
        g_assert_cmpint(push(q, 2, "b1"), ==, 0);
        g_assert_cmpint(push(q, 3, "c1"), ==, 0);
        g_assert_cmpint(push(q, 4, "d1"), ==, -EAGAIN);
        g_assert_cmpuint(fair_queue_flows(q), ==, 3);
}

/* A single request larger than a container may queue is refused, not queued forever. */
static void test_request_over_bound(void) {
        g_autoptr(FairQueue) q = fair_queue_new(16, 1 << 20, 4);

        g_assert_cmpint(push(q, 1, "a request longer than sixteen bytes"), ==, -EAGAIN);
        g_assert_cmpuint(fair_queue_flows(q), ==, 0);
        g_assert_cmpuint(fair_queue_length(q), ==, 0);
}

/*
 * A container with its share of requests in service waits for one to finish, however many it
 * has queued; the others are served meanwhile.
 */
static void test_running_bound(void) {
        g_autoptr(FairQueue) q = fair_queue_new(1 << 20, 1 << 24, 2);
        const char *const expected[] = {"a1", "b1", "a2", "", NULL};
        g_autofree char *after_done = NULL, *b2 = NULL;

        push(q, 1, "a1");
        push(q, 1, "a2");
        push(q, 1, "a3");
        push(q, 1, "a4");
        push(q, 2, "b1");
        for (const char *const *e = expected; *e; e++) {
                g_autofree char *got = take(q);
                g_assert_cmpstr(got, ==, *e);
        }
        g_assert_cmpuint(fair_queue_length(q), ==, 2);
        /* b is idle but still in service: its next request is served at once. */
        push(q, 2, "b2");
        b2 = take(q);
        g_assert_cmpstr(b2, ==, "b2");
        fair_queue_done(q, 1);
        after_done = take(q);
        g_assert_cmpstr(after_done, ==, "a3");
        fair_queue_done(q, 1);
        fair_queue_done(q, 1);
        fair_queue_done(q, 2);
        fair_queue_done(q, 2);
        {
                g_autofree char *last = pop(q);
                g_assert_cmpstr(last, ==, "a4");
        }
        g_assert_null(fair_queue_pop(q));
        g_assert_cmpuint(fair_queue_flows(q), ==, 0);
}

/* Freeing a queue with requests in it frees them (ASan/LSan see to the rest). */
/* A request read by a thread is served by it at once while its container is under its share. */
static void test_admit(void) {
        g_autoptr(FairQueue) q = fair_queue_new(1 << 20, 1 << 24, 2);
        g_autofree char *next = NULL, *after = NULL;

        g_assert_true(fair_queue_admit(q, 7));
        g_assert_true(fair_queue_admit(q, 7));
        /* Two in service: the third waits, and so does every later one, behind it. */
        g_assert_false(fair_queue_admit(q, 7));
        g_assert_cmpint(push(q, 7, "7a"), ==, 0);
        g_assert_null(fair_queue_pop(q));
        /* Another container is not held back. */
        g_assert_true(fair_queue_admit(q, 8));
        fair_queue_done(q, 8);

        fair_queue_done(q, 7);
        /* What waits goes before anything read later. */
        g_assert_false(fair_queue_admit(q, 7));
        g_assert_cmpint(push(q, 7, "7b"), ==, 0);
        next = take(q);
        g_assert_cmpstr(next, ==, "7a");
        g_assert_null(fair_queue_pop(q));
        fair_queue_done(q, 7);
        after = pop(q);
        g_assert_cmpstr(after, ==, "7b");
        fair_queue_done(q, 7);
        g_assert_cmpuint(fair_queue_flows(q), ==, 0);

        /* The connection's requests always go. */
        g_assert_true(fair_queue_admit(q, FAIR_KEY_CONNECTION));
        g_assert_true(fair_queue_admit(q, FAIR_KEY_CONNECTION));
}

static void test_free_with_requests(void) {
        FairQueue *q = fair_queue_new(1 << 20, 1 << 24, 4);
        g_autofree char *served = NULL;

        push(q, 1, "a1");
        push(q, 1, "a2");
        served = take(q); /* in service when the queue goes */
        push(q, 2, "b1");
        push(q, FAIR_KEY_CONNECTION, "forget");
        fair_queue_free(q);
}

int main(int argc, char **argv) {
        g_test_init(&argc, &argv, NULL);
        g_test_add_func("/fairqueue/fifo", test_one_container_is_fifo);
        g_test_add_func("/fairqueue/round-robin", test_round_robin);
        g_test_add_func("/fairqueue/interleave", test_three_containers_interleave);
        g_test_add_func("/fairqueue/connection-first", test_connection_first_and_unbounded);
        g_test_add_func("/fairqueue/per-container-bound", test_per_container_bound);
        g_test_add_func("/fairqueue/total-bound", test_total_bound);
        g_test_add_func("/fairqueue/request-over-bound", test_request_over_bound);
        g_test_add_func("/fairqueue/running-bound", test_running_bound);
        g_test_add_func("/fairqueue/admit", test_admit);
        g_test_add_func("/fairqueue/free-with-requests", test_free_with_requests);
        return g_test_run();
}
