/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit log of the cgroup view: every write, mkdir, rmdir and process move, with
 * who asked, what and how it ended, so that an operator can answer "who changed this
 * limit". Each container has a token bucket, so that one container cannot flood the
 * daemon's log; the lines it loses are counted and reported by its next line.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Bytes of a written value shown; the rest is cut, as a value longer than this is no knob's. */
#define VALUE_SHOWN 64
/* A bucket is full again after BURST/RATE seconds; one idle this long is forgotten first. */
#define IDLE_USEC ((int64_t) (CAPFS_AUDIT_BURST / CAPFS_AUDIT_RATE + 1) * G_USEC_PER_SEC)

typedef struct Bucket {
        double tokens;
        int64_t updated_usec;
        uint64_t dropped;
} Bucket;

/* A pthread mutex, not a GMutex: GLib's futex-based one is invisible to ThreadSanitizer. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *buckets; /* "INIT_PID:START_TICKS" -> Bucket */

static void forget_idle(int64_t now_usec) {
        GHashTableIter iter;
        gpointer value;

        g_hash_table_iter_init(&iter, buckets);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
                const Bucket *b = value;

                if (b->dropped == 0 && now_usec - b->updated_usec >= IDLE_USEC)
                        g_hash_table_iter_remove(&iter);
        }
        /*
         * Still full: more than CAPFS_AUDIT_TRACKED_MAX containers all logging right now.
         * Starting everyone afresh costs at most one burst each; holding on would mean
         * unbounded memory.
         */
        if (g_hash_table_size(buckets) >= CAPFS_AUDIT_TRACKED_MAX)
                g_hash_table_remove_all(buckets);
}

/* Whether a line may go out now; *@dropped says how many were lost before it. */
static bool take_token_locked(const char *container, int64_t now_usec, uint64_t *dropped) {
        Bucket *b;

        if (!buckets)
                buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        b = g_hash_table_lookup(buckets, container);
        if (!b) {
                if (g_hash_table_size(buckets) >= CAPFS_AUDIT_TRACKED_MAX)
                        forget_idle(now_usec);
                b = g_new0(Bucket, 1);
                b->tokens = CAPFS_AUDIT_BURST;
                b->updated_usec = now_usec;
                g_hash_table_insert(buckets, g_strdup(container), b);
        }
        if (now_usec > b->updated_usec) {
                b->tokens += (double) (now_usec - b->updated_usec) * CAPFS_AUDIT_RATE / G_USEC_PER_SEC;
                b->tokens = MIN(b->tokens, (double) CAPFS_AUDIT_BURST);
                b->updated_usec = now_usec;
        }
        if (b->tokens < 1.0) {
                b->dropped++;
                return false;
        }
        b->tokens -= 1.0;
        *dropped = b->dropped;
        b->dropped = 0;
        return true;
}

static bool take_token(const CapfsContainer *ct, int64_t now_usec, uint64_t *dropped) {
        g_autofree char *key =
                g_strdup_printf("%d:%" G_GUINT64_FORMAT, (int) ct->init_pid, ct->init_start_ticks);
        bool taken;

        pthread_mutex_lock(&lock);
        taken = take_token_locked(key, now_usec, dropped);
        pthread_mutex_unlock(&lock);
        return taken;
}

/* A written value as one quoted, printable token: the log is read by people and parsed by scripts. */
static void append_value(GString *out, const char *value, size_t len) {
        g_string_append_c(out, '"');
        for (size_t i = 0; i < MIN(len, (size_t) VALUE_SHOWN); i++) {
                unsigned char c = (unsigned char) value[i];

                if (c == '"' || c == '\\')
                        g_string_append_printf(out, "\\%c", c);
                else if (c == '\n')
                        g_string_append(out, "\\n");
                else if (c < 0x20 || c >= 0x7f)
                        g_string_append_printf(out, "\\x%02x", c);
                else
                        g_string_append_c(out, (char) c);
        }
        g_string_append_c(out, '"');
        if (len > VALUE_SHOWN)
                g_string_append_printf(out, "... (%zu bytes)", len);
}

static const char *result_name(int result) {
        const char *name;

        if (result >= 0)
                return "ok";
        name = strerrorname_np(-result);
        return name ? name : "unknown error";
}

/* "memory:/ct1/a" on v1, "/ct1/a" where the hierarchy has no name (pure v2). */
static void append_place(GString *out, const char *hierarchy, const char *path) {
        if (hierarchy && *hierarchy)
                g_string_append_printf(out, "%s:", hierarchy);
        g_string_append(out, path ? path : "?");
}

void capfs_audit_at(const CapfsContainer *ct, const CapfsAuditEvent *ev, int64_t now_usec) {
        g_autoptr(GString) line = NULL;
        uint64_t dropped = 0;

        if (!take_token(ct, now_usec, &dropped))
                return;

        line = g_string_new(NULL);
        g_string_append_printf(line, "cgroup view: container %d (", (int) ct->init_pid);
        append_place(line, ev->hierarchy, ev->root);
        g_string_append_printf(line, "), caller %d: ", (int) ct->caller_pid);
        switch (ev->op) {
        case CAPFS_AUDIT_WRITE:
                g_string_append(line, "write ");
                append_place(line, ev->hierarchy, ev->path);
                g_string_append_c(line, ' ');
                if (ev->value)
                        append_value(line, ev->value, ev->value_len);
                else
                        g_string_append(line, "(open for writing)");
                break;
        case CAPFS_AUDIT_MKDIR:
                g_string_append(line, "mkdir ");
                append_place(line, ev->hierarchy, ev->path);
                break;
        case CAPFS_AUDIT_RMDIR:
                g_string_append(line, "rmdir ");
                append_place(line, ev->hierarchy, ev->path);
                break;
        case CAPFS_AUDIT_MOVE:
                if (ev->id < 0) {
                        /* Not a pid at all: what was written, so that the refusal can be understood. */
                        g_string_append(line, "move ");
                        append_value(line, ev->value, ev->value_len);
                } else
                        g_string_append_printf(line, "move pid %d", (int) ev->id);
                if (ev->host_id > 0)
                        g_string_append_printf(line, " (host %d)", (int) ev->host_id);
                g_string_append(line, " to ");
                append_place(line, ev->hierarchy, ev->path);
                break;
        }
        g_string_append_printf(line, ": %s", result_name(ev->result));
        if (dropped > 0)
                g_string_append_printf(
                        line, " [%" G_GUINT64_FORMAT " earlier lines of this container dropped]", dropped);
        g_info("%s", line->str);
}

void capfs_audit(const CapfsContainer *ct, const CapfsAuditEvent *ev) {
        capfs_audit_at(ct, ev, g_get_monotonic_time());
}

void capfs_audit_reset(void) {
        pthread_mutex_lock(&lock);
        g_clear_pointer(&buckets, g_hash_table_unref);
        pthread_mutex_unlock(&lock);
}
