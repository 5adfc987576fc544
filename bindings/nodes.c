/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "nodes.h"

typedef struct Node {
        uint64_t ino;
        char *path;
        uint64_t nlookup;
} Node;

struct NodeTable {
        GRWLock lock; /* every request looks its node's path up: readers share it */
        GHashTable *by_path; /* borrowed path -> Node */
        GHashTable *by_ino; /* &Node.ino -> Node, owns the Node */
        uint64_t next_ino;
        const NodeTableObserver *observer;
        void *observer_data;
};

static void node_free(Node *node) {
        g_free(node->path);
        g_free(node);
}

NodeTable *node_table_new(void) {
        NodeTable *table = g_new0(NodeTable, 1);
        Node *root = g_new0(Node, 1);

        g_rw_lock_init(&table->lock);
        table->by_path = g_hash_table_new(g_str_hash, g_str_equal);
        table->by_ino = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) node_free);

        /* The root is never forgotten: the mount itself holds it. */
        root->ino = CAPFS_ROOT_INO;
        root->path = g_strdup("");
        root->nlookup = 1;
        g_hash_table_insert(table->by_path, root->path, root);
        g_hash_table_insert(table->by_ino, &root->ino, root);
        table->next_ino = CAPFS_ROOT_INO + 1;
        return table;
}

void node_table_free(NodeTable *table) {
        if (!table)
                return;
        g_hash_table_unref(table->by_path);
        g_hash_table_unref(table->by_ino);
        g_rw_lock_clear(&table->lock);
        g_free(table);
}

uint64_t node_table_ref(NodeTable *table, const char *path) {
        g_autoptr(GRWLockWriterLocker) G_GNUC_UNUSED locker = g_rw_lock_writer_locker_new(&table->lock);
        Node *node = g_hash_table_lookup(table->by_path, path);

        if (!node) {
                node = g_new0(Node, 1);
                node->ino = table->next_ino++;
                node->path = g_strdup(path);
                g_hash_table_insert(table->by_path, node->path, node);
                g_hash_table_insert(table->by_ino, &node->ino, node);
                if (table->observer)
                        table->observer->added(table->observer_data, node->ino, node->path);
        }
        node->nlookup++;
        return node->ino;
}

char *node_table_path(NodeTable *table, uint64_t ino) {
        g_autoptr(GRWLockReaderLocker) G_GNUC_UNUSED locker = g_rw_lock_reader_locker_new(&table->lock);
        Node *node = g_hash_table_lookup(table->by_ino, &ino);

        return node ? g_strdup(node->path) : NULL;
}

void node_table_forget(NodeTable *table, uint64_t ino, uint64_t nlookup) {
        g_autoptr(GRWLockWriterLocker) G_GNUC_UNUSED locker = g_rw_lock_writer_locker_new(&table->lock);
        Node *node = g_hash_table_lookup(table->by_ino, &ino);

        if (!node || ino == CAPFS_ROOT_INO)
                return;
        node->nlookup = nlookup >= node->nlookup ? 0 : node->nlookup - nlookup;
        if (node->nlookup > 0)
                return;
        if (table->observer)
                table->observer->removed(table->observer_data, ino, node->path);
        g_hash_table_remove(table->by_path, node->path);
        g_hash_table_remove(table->by_ino, &ino);
}

uint64_t node_table_peek(NodeTable *table, const char *path) {
        g_autoptr(GRWLockReaderLocker) G_GNUC_UNUSED locker = g_rw_lock_reader_locker_new(&table->lock);
        Node *node = g_hash_table_lookup(table->by_path, path);

        if (node)
                return node->ino;
        /* Above every number node_table_ref() hands out, so the two never meet. */
        return (UINT64_C(1) << 63) | g_str_hash(path);
}

size_t node_table_size(NodeTable *table) {
        g_autoptr(GRWLockReaderLocker) G_GNUC_UNUSED locker = g_rw_lock_reader_locker_new(&table->lock);
        return g_hash_table_size(table->by_ino);
}

void node_table_observe(NodeTable *table, const NodeTableObserver *observer, void *data) {
        g_autoptr(GRWLockWriterLocker) G_GNUC_UNUSED locker = g_rw_lock_writer_locker_new(&table->lock);

        table->observer = observer;
        table->observer_data = data;
}

void node_table_foreach(NodeTable *table, NodeTableVisit visit, void *data) {
        g_autoptr(GRWLockReaderLocker) G_GNUC_UNUSED locker = g_rw_lock_reader_locker_new(&table->lock);
        GHashTableIter iter;
        Node *node;

        g_hash_table_iter_init(&iter, table->by_ino);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *) &node))
                visit(data, node->ino, node->path, node->nlookup);
}

void node_table_restore(NodeTable *table, uint64_t ino, const char *path, uint64_t nlookup,
                        uint64_t next_ino) {
        g_autoptr(GRWLockWriterLocker) G_GNUC_UNUSED locker = g_rw_lock_writer_locker_new(&table->lock);
        Node *node = g_hash_table_lookup(table->by_ino, &ino);

        table->next_ino = MAX(table->next_ino, MAX(next_ino, ino + 1));
        if (node) {
                node->nlookup = MAX(node->nlookup, nlookup);
                return;
        }
        /* One number per path: a second one for the same path would be a corrupt journal. */
        if (ino == CAPFS_ROOT_INO || nlookup == 0 || g_hash_table_contains(table->by_path, path))
                return;
        node = g_new0(Node, 1);
        node->ino = ino;
        node->path = g_strdup(path);
        node->nlookup = nlookup;
        g_hash_table_insert(table->by_path, node->path, node);
        g_hash_table_insert(table->by_ino, &node->ino, node);
}

void node_table_remove(NodeTable *table, uint64_t ino) {
        g_autoptr(GRWLockWriterLocker) G_GNUC_UNUSED locker = g_rw_lock_writer_locker_new(&table->lock);
        Node *node = g_hash_table_lookup(table->by_ino, &ino);

        if (!node || ino == CAPFS_ROOT_INO)
                return;
        g_hash_table_remove(table->by_path, node->path);
        g_hash_table_remove(table->by_ino, &ino);
}
