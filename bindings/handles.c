/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "handles.h"

#define TAG_SHIFT 48
#define POINTER_MASK ((UINT64_C(1) << TAG_SHIFT) - 1)

typedef struct Handle {
        void *data;
        GDestroyNotify free;
} Handle;

static uint64_t tag;
static GMutex lock;
static GHashTable *handles; /* fh (uint64_t *) -> Handle */

void handles_set_generation(uint32_t generation) {
        tag = (uint64_t) (generation & 0xffff) << TAG_SHIFT;
}

static void handle_free(Handle *h) {
        h->free(h->data);
        g_free(h);
}

static void insert(uint64_t fh, void *data, GDestroyNotify free) {
        Handle *h = g_new(Handle, 1);

        h->data = data;
        h->free = free;
        if (!handles)
                handles = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                (GDestroyNotify) handle_free);
        g_hash_table_insert(handles, g_memdup2(&fh, sizeof(fh)), h);
}

uint64_t handle_register(void *data, GDestroyNotify free) {
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = g_mutex_locker_new(&lock);
        uintptr_t p = (uintptr_t) data;
        uint64_t fh;

        /* User-space pointers fit in 47 bits on x86-64 and (with 48-bit VAs) arm64. */
        g_assert((p >> TAG_SHIFT) == 0);
        fh = (uint64_t) p | tag;
        insert(fh, data, free);
        return fh;
}

void *handle_lookup(uint64_t fh) {
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = NULL;
        Handle *h;

        /* Our own: the number is the pointer, no lookup on the hot path. */
        if ((fh & ~POINTER_MASK) == tag)
                return (void *) (uintptr_t) (fh & POINTER_MASK);
        locker = g_mutex_locker_new(&lock);
        h = handles ? g_hash_table_lookup(handles, &fh) : NULL;
        return h ? h->data : NULL;
}

void *handle_adopt(uint64_t fh, void *data, GDestroyNotify free) {
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = g_mutex_locker_new(&lock);
        Handle *h = handles ? g_hash_table_lookup(handles, &fh) : NULL;

        if (h) {
                free(data);
                return h->data;
        }
        insert(fh, data, free);
        return data;
}

void *handle_unregister(uint64_t fh) {
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = g_mutex_locker_new(&lock);
        gpointer key, value;
        void *data;

        if (!handles || !g_hash_table_steal_extended(handles, &fh, &key, &value))
                return NULL;
        data = ((Handle *) value)->data;
        g_free(key);
        g_free(value);
        return data;
}

void handles_clear(void) {
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = g_mutex_locker_new(&lock);

        g_clear_pointer(&handles, g_hash_table_unref);
}
