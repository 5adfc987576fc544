/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A container's recently rendered files, kept for host->render_cache_usec (the daemon allows
 * at most CAPFS_RENDER_CACHE_USEC_MAX). A render reads a dozen kernel files; a container that reads
 * the same file again within that time (a monitoring loop, many processes starting at once,
 * 64 readers) gets the same text instead, so its numbers are at most that old. Writes through
 * the cgroup view forget the writer's texts: what a container changes itself it sees at once.
 */
#include "internal.h"

/* Bigger renders (cpuinfo of a large host) are not kept: memory grows with containers. */
#define RENDER_CACHE_TEXT_MAX (32 * 1024)

typedef struct CachedText {
        gint64 rendered_at; /* g_get_monotonic_time() */
        GString *text;
} CachedText;

struct CapfsRenderCache {
        GMutex lock;
        GHashTable *texts; /* node path -> CachedText */
};

static void cached_text_free(CachedText *t) {
        g_string_free(t->text, TRUE);
        g_free(t);
}

static void render_cache_clear(CapfsRenderCache *cache) {
        g_mutex_clear(&cache->lock);
        g_hash_table_unref(cache->texts);
}

CapfsRenderCache *capfs_render_cache_new(void) {
        CapfsRenderCache *cache = g_atomic_rc_box_new0(CapfsRenderCache);

        g_mutex_init(&cache->lock);
        cache->texts =
                g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) cached_text_free);
        return cache;
}

CapfsRenderCache *capfs_render_cache_ref(CapfsRenderCache *cache) {
        return cache ? g_atomic_rc_box_acquire(cache) : NULL;
}

void capfs_render_cache_unref(CapfsRenderCache *cache) {
        if (cache)
                g_atomic_rc_box_release_full(cache, (GDestroyNotify) render_cache_clear);
}

static bool cache_enabled(const CapfsHost *host, const CapfsContainer *ct) {
        return ct && ct->render_cache && host->render_cache_usec > 0;
}

bool capfs_render_cache_get(const CapfsHost *host, const CapfsContainer *ct, const char *path,
                            GString *out) {
        CachedText *t;
        bool found = false;

        if (!cache_enabled(host, ct))
                return false;
        g_mutex_lock(&ct->render_cache->lock);
        t = g_hash_table_lookup(ct->render_cache->texts, path);
        if (t && g_get_monotonic_time() - t->rendered_at < (gint64) host->render_cache_usec) {
                g_string_truncate(out, 0);
                g_string_append_len(out, t->text->str, (gssize) t->text->len);
                found = true;
        }
        g_mutex_unlock(&ct->render_cache->lock);
        return found;
}

/* @rendered_at: when the render began, so a text is never thought younger than its oldest number. */
void capfs_render_cache_put(const CapfsHost *host, const CapfsContainer *ct, const char *path,
                            const GString *text, gint64 rendered_at) {
        CachedText *t;

        if (!cache_enabled(host, ct) || text->len > RENDER_CACHE_TEXT_MAX)
                return;
        g_mutex_lock(&ct->render_cache->lock);
        t = g_hash_table_lookup(ct->render_cache->texts, path);
        if (!t) {
                t = g_new0(CachedText, 1);
                t->text = g_string_sized_new(text->len);
                g_hash_table_insert(ct->render_cache->texts, g_strdup(path), t);
        }
        /* Two threads rendering at once: the younger text stays. */
        if (rendered_at >= t->rendered_at) {
                t->rendered_at = rendered_at;
                g_string_truncate(t->text, 0);
                g_string_append_len(t->text, text->str, (gssize) text->len);
        }
        g_mutex_unlock(&ct->render_cache->lock);
}

void capfs_render_cache_forget(const CapfsContainer *ct) {
        if (!ct || !ct->render_cache)
                return;
        g_mutex_lock(&ct->render_cache->lock);
        g_hash_table_remove_all(ct->render_cache->texts);
        g_mutex_unlock(&ct->render_cache->lock);
}

void capfs_render_cache_prune(CapfsRenderCache *cache, gint64 older_than) {
        GHashTableIter iter;
        CachedText *t;

        g_mutex_lock(&cache->lock);
        g_hash_table_iter_init(&iter, cache->texts);
        while (g_hash_table_iter_next(&iter, NULL, (gpointer *) &t))
                if (t->rendered_at < older_than)
                        g_hash_table_iter_remove(&iter);
        g_mutex_unlock(&cache->lock);
}
