/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fairqueue.h"

/* One container's requests; exists while some wait or are being served. */
typedef struct Flow {
        uint64_t key;
        FairRequest *head, *tail;
        size_t bytes;
        unsigned running;
        bool in_ring;
        struct Flow *next_in_ring;
} Flow;

struct FairQueue {
        GHashTable *flows; /* key -> Flow */
        /* Flows that have requests waiting and may have one more served, in serving order. */
        Flow *ring_head, *ring_tail;
        Flow *connection;
        size_t per_key_bytes, total_bytes;
        unsigned per_key_running;
        size_t length, bytes;
};

/* What a queued request costs: its bytes and its bookkeeping. */
static size_t cost(const FairRequest *r) {
        return sizeof(*r) + r->len;
}

FairRequest *fair_request_new(uint64_t key, const void *data, size_t len) {
        FairRequest *r = g_malloc(sizeof(*r) + len);

        r->next = NULL;
        r->key = key;
        r->len = len;
        memcpy(r->data, data, len);
        return r;
}

void fair_request_free(FairRequest *r) {
        g_free(r);
}

static void flow_append(Flow *f, FairRequest *r) {
        r->next = NULL;
        if (f->tail)
                f->tail->next = r;
        else
                f->head = r;
        f->tail = r;
        f->bytes += cost(r);
}

static FairRequest *flow_take(Flow *f) {
        FairRequest *r = f->head;

        f->head = r->next;
        if (!f->head)
                f->tail = NULL;
        r->next = NULL;
        f->bytes -= cost(r);
        return r;
}

static void flow_free(Flow *f) {
        while (f->head)
                fair_request_free(flow_take(f));
        g_free(f);
}

/* Back of the line: every other container that can be served goes first. */
static void ring_append(FairQueue *q, Flow *f) {
        f->next_in_ring = NULL;
        f->in_ring = true;
        if (q->ring_tail)
                q->ring_tail->next_in_ring = f;
        else
                q->ring_head = f;
        q->ring_tail = f;
}

static Flow *ring_take(FairQueue *q) {
        Flow *f = q->ring_head;

        q->ring_head = f->next_in_ring;
        if (!q->ring_head)
                q->ring_tail = NULL;
        f->next_in_ring = NULL;
        f->in_ring = false;
        return f;
}

/* Puts @f where it belongs after a change: in the ring, out of it, or gone. */
static void flow_settle(FairQueue *q, Flow *f) {
        if (f->in_ring)
                return;
        if (f->head && f->running < q->per_key_running)
                ring_append(q, f);
        else if (!f->head && f->running == 0)
                g_hash_table_remove(q->flows, &f->key);
}

FairQueue *fair_queue_new(size_t per_key_bytes, size_t total_bytes, unsigned per_key_running) {
        FairQueue *q = g_new0(FairQueue, 1);

        q->flows = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) flow_free);
        q->per_key_bytes = per_key_bytes;
        q->total_bytes = total_bytes;
        q->per_key_running = MAX(per_key_running, 1);
        q->connection = g_new0(Flow, 1);
        q->connection->key = FAIR_KEY_CONNECTION;
        return q;
}

void fair_queue_free(FairQueue *q) {
        if (!q)
                return;
        g_hash_table_destroy(q->flows);
        flow_free(q->connection);
        g_free(q);
}

int fair_queue_push(FairQueue *q, FairRequest *r) {
        Flow *f;

        /* The connection's own requests are few and must never be refused (a lost FORGET leaks). */
        if (r->key == FAIR_KEY_CONNECTION) {
                flow_append(q->connection, r);
                q->length++;
                q->bytes += cost(r);
                return 0;
        }
        if (q->bytes + cost(r) > q->total_bytes)
                return -EAGAIN;
        f = g_hash_table_lookup(q->flows, &r->key);
        if ((f ? f->bytes : 0) + cost(r) > q->per_key_bytes)
                return -EAGAIN;
        if (!f) {
                f = g_new0(Flow, 1);
                f->key = r->key;
                g_hash_table_insert(q->flows, &f->key, f);
        }
        flow_append(f, r);
        q->length++;
        q->bytes += cost(r);
        flow_settle(q, f);
        return 0;
}

bool fair_queue_admit(FairQueue *q, uint64_t key) {
        Flow *f;

        if (key == FAIR_KEY_CONNECTION)
                return !q->connection->head;
        f = g_hash_table_lookup(q->flows, &key);
        if (f && (f->head || f->running >= q->per_key_running))
                return false;
        if (!f) {
                f = g_new0(Flow, 1);
                f->key = key;
                g_hash_table_insert(q->flows, &f->key, f);
        }
        f->running++;
        return true;
}

FairRequest *fair_queue_pop(FairQueue *q) {
        FairRequest *r;
        Flow *f;

        if (q->connection->head) {
                r = flow_take(q->connection);
        } else {
                if (!q->ring_head)
                        return NULL;
                f = ring_take(q);
                r = flow_take(f);
                f->running++;
                flow_settle(q, f);
        }
        q->length--;
        q->bytes -= cost(r);
        return r;
}

void fair_queue_done(FairQueue *q, uint64_t key) {
        Flow *f;

        if (key == FAIR_KEY_CONNECTION)
                return;
        f = g_hash_table_lookup(q->flows, &key);
        g_return_if_fail(f && f->running > 0);
        f->running--;
        flow_settle(q, f);
}

size_t fair_queue_length(const FairQueue *q) {
        return q->length;
}

size_t fair_queue_bytes(const FairQueue *q) {
        return q->bytes;
}

size_t fair_queue_flows(const FairQueue *q) {
        return g_hash_table_size(q->flows);
}
