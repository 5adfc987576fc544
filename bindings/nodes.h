/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inode numbers for the paths of the capfs tree. The kernel holds a lookup count for each
 * inode it was given; a node lives until FORGET brings that count back to zero. Numbers
 * are never reused, so the generation can stay 0.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#define CAPFS_ROOT_INO 1

typedef struct NodeTable NodeTable;

NodeTable *node_table_new(void);
void node_table_free(NodeTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NodeTable, node_table_free)

/* The inode for @path, creating it, with one more kernel reference. */
uint64_t node_table_ref(NodeTable *table, const char *path);
/* The path of @ino (a copy), or NULL when the kernel sent an inode it had forgotten. */
char *node_table_path(NodeTable *table, uint64_t ino);
void node_table_forget(NodeTable *table, uint64_t ino, uint64_t nlookup);
/* A stable number for readdir entries the kernel has not looked up (never 0). */
uint64_t node_table_peek(NodeTable *table, const char *path);
size_t node_table_size(NodeTable *table);

/*
 * For the hand-over to the next worker (handover.c): told of each node as it is created and
 * removed, under the table's lock, so that a journal sees them in the order the kernel did.
 */
typedef struct NodeTableObserver {
        void (*added)(void *data, uint64_t ino, const char *path);
        void (*removed)(void *data, uint64_t ino, const char *path);
} NodeTableObserver;
void node_table_observe(NodeTable *table, const NodeTableObserver *observer, void *data);
/* Every node with its lookup count, under the lock: the table does not change meanwhile. */
typedef void (*NodeTableVisit)(void *data, uint64_t ino, const char *path, uint64_t nlookup);
void node_table_foreach(NodeTable *table, NodeTableVisit visit, void *data);
/*
 * A node an earlier worker gave the kernel (@nlookup 0: only raise the count of a node that
 * exists); numbers below @next_ino are never handed out again.
 */
void node_table_restore(NodeTable *table, uint64_t ino, const char *path, uint64_t nlookup,
                        uint64_t next_ino);
void node_table_remove(NodeTable *table, uint64_t ino);
