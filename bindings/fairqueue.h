/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The requests a worker has read from the kernel and not yet handed to a thread, one FIFO per
 * container, served round-robin: a container that keeps thousands of reads waiting delays its
 * own requests, not another container's. A container has at most a few requests being served
 * at once, so it cannot take every thread (or both cores) either. Each container's queued bytes
 * are bounded, and so are all queued bytes; a request over either bound is refused (-EAGAIN) and
 * the caller answers it with an error. Not thread-safe: the worker holds its lock around every
 * call.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Requests of the connection itself (FORGET, INTERRUPT, INIT, ...): served before any container's. */
#define FAIR_KEY_CONNECTION 0

typedef struct FairRequest {
        struct FairRequest *next;
        uint64_t key;
        size_t len;
        uint8_t data[];
} FairRequest;

typedef struct FairQueue FairQueue;

FairRequest *fair_request_new(uint64_t key, const void *data, size_t len);
void fair_request_free(FairRequest *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FairRequest, fair_request_free)

FairQueue *fair_queue_new(size_t per_key_bytes, size_t total_bytes, unsigned per_key_running);
/* Frees the queue and every request still in it. */
void fair_queue_free(FairQueue *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FairQueue, fair_queue_free)

/* Takes @r (0), or leaves it to the caller (-EAGAIN) when its container or the queue is full. */
int fair_queue_push(FairQueue *q, FairRequest *r);
/*
 * Whether a request of @key just read may be served at once rather than queued: nothing of its
 * container waits and it has fewer than per_key_running being served. Counts it as served when
 * true (fair_queue_done() ends that). The connection's requests always may.
 */
bool fair_queue_admit(FairQueue *q, uint64_t key);
/*
 * The oldest request of the connection, else of the next container in turn that has fewer than
 * per_key_running requests being served; NULL when there is none. The caller serves it and then
 * calls fair_queue_done() with its key.
 */
FairRequest *fair_queue_pop(FairQueue *q);
/* A request of @key popped earlier is answered: the container may have another one served. */
void fair_queue_done(FairQueue *q, uint64_t key);
size_t fair_queue_length(const FairQueue *q);
size_t fair_queue_bytes(const FairQueue *q);
/* Containers with requests waiting or being served. */
size_t fair_queue_flows(const FairQueue *q);
