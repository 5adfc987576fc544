/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What one capfs worker leaves to the next on the same FUSE connection, in a memfd the
 * supervisor holds for the connection's whole life (and hands to systemd's fd store):
 *   - the FUSE_INIT request and our reply, replayed into the next worker's libfuse session,
 *     which would otherwise refuse every request of a connection it did not see start;
 *   - the request each worker thread is serving, so that requests a dead worker can no
 *     longer answer are answered (failed) instead of hanging where the kernel cannot resend;
 *   - a journal of the inode numbers the kernel was given (path, and lookup count when
 *     known): a bind-mounted /proc/meminfo keeps its inode for the container's whole life;
 *   - the containers' load averages as of the last sampler pass, so that proc/loadavg goes on
 *     from them rather than from 0.
 * A worker writes it while it runs; the next one reads it only once the previous one is gone.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "nodes.h"

#define HANDOVER_SLOTS 128
#define HANDOVER_INIT_MAX 512

typedef struct Handover Handover;

/* A new state for a new connection (a fresh memfd), or the one in @fd (inherited). */
Handover *handover_create(GError **error);
Handover *handover_open(int fd, GError **error);
void handover_free(Handover *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Handover, handover_free)
int handover_fd(const Handover *h);

/* The generation of the worker that runs now; the supervisor counts up before each start. */
uint32_t handover_generation(const Handover *h);
uint32_t handover_next_generation(Handover *h);

/* ---- FUSE_INIT */
bool handover_init_recorded(const Handover *h);
/* Both halves, the request as the kernel sent it and the reply as we wrote it. */
void handover_record_init(Handover *h, const void *request, size_t request_len, const void *reply,
                          size_t reply_len);
const void *handover_init_request(const Handover *h, size_t *len);
const void *handover_init_reply(const Handover *h, size_t *len);

/* ---- requests in flight: one slot per worker thread */
int handover_claim_slot(Handover *h);
void handover_slot_set(Handover *h, int slot, uint64_t unique);
void handover_slot_clear(Handover *h, int slot, uint64_t unique);
/* The uniques a dead worker left in its slots (0 ends the list; at most HANDOVER_SLOTS). */
size_t handover_take_inflight(Handover *h, uint64_t *uniques);

/* ---- the node journal */
/* Journals every node @nodes creates or removes from now on. */
void handover_journal_attach(Handover *h, NodeTable *nodes);
/* Re-creates in @nodes what the journal holds. Counts are exact only after a clean hand-over. */
void handover_journal_restore(Handover *h, NodeTable *nodes);
/* Rewrites the journal as the live nodes alone when it has grown well past them (or @force). */
bool handover_journal_compact(Handover *h, NodeTable *nodes, bool force);
/* Called by a worker that no longer serves: the journal now holds exact lookup counts. */
void handover_journal_seal(Handover *h, NodeTable *nodes);
size_t handover_journal_bytes(const Handover *h);

/* ---- the loadavg history (capfs_loadavg_export()'s text) */
/* false when it does not fit (8 MiB: tens of thousands of containers). */
bool handover_store_loadavg(Handover *h, const char *text, size_t len);
/* A copy of the last text stored, NULL when none. */
char *handover_load_loadavg(const Handover *h, size_t *len);
