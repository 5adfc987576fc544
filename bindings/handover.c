/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "handover.h"

#define HANDOVER_MAGIC UINT64_C(0x31766f4673666163) /* "capfsOv1" */
/* Bumped whenever the layout below changes: a worker refuses a state it cannot read. */
#define HANDOVER_LAYOUT 2
#define HEADER_SIZE (16 * 1024)
/*
 * Two regions, so that a compaction is written beside the journal it replaces and takes
 * over with one store. The memfd is sparse: only what was written takes memory.
 */
#define REGION_SIZE ((uint64_t) 256 * 1024 * 1024)
/* The loadavg history, twice: the sampler writes one while the other stays whole. */
#define LOADAVG_SLOT_SIZE ((uint64_t) 8 * 1024 * 1024)
#define STATE_SIZE (HEADER_SIZE + 2 * REGION_SIZE + 2 * LOADAVG_SLOT_SIZE)
/* Compact when the journal is this many times the size of the live nodes (plus a floor). */
#define COMPACT_FACTOR 4
#define COMPACT_FLOOR (1024 * 1024)
/* Stands for "the kernel holds some references, we do not know how many": never forgotten. */
#define UNKNOWN_LOOKUPS (UINT64_C(1) << 40)

typedef enum {
        RECORD_ADDED = 1, /* a node was created; its count is not journaled */
        RECORD_REMOVED = 2,
        RECORD_NODE = 3, /* a live node and its count, written by a compaction */
} RecordKind;

typedef struct Record {
        uint32_t size; /* of the whole record, a multiple of 8 */
        uint32_t kind;
        uint64_t ino;
        uint64_t nlookup;
        char path[];
} Record;

typedef struct Header {
        uint64_t magic;
        uint32_t layout;
        uint32_t generation;
        _Atomic uint32_t init_recorded;
        uint32_t init_request_len;
        uint32_t init_reply_len;
        uint8_t init_request[HANDOVER_INIT_MAX];
        uint8_t init_reply[HANDOVER_INIT_MAX];
        _Atomic uint32_t slots_claimed;
        _Atomic uint64_t inflight[HANDOVER_SLOTS];
        _Atomic uint32_t journal_active;
        /* Set by a worker that stopped cleanly: the counts of RECORD_NODE are exact. */
        _Atomic uint32_t journal_sealed;
        _Atomic uint64_t journal_used[2];
        _Atomic uint64_t next_ino;
        /* Which loadavg slot is whole, + 1 (0: none yet), and how long each is. */
        _Atomic uint32_t loadavg_active;
        uint64_t loadavg_len[2];
} Header;

G_STATIC_ASSERT(sizeof(Header) <= HEADER_SIZE);

struct Handover {
        int fd;
        Header *header;
        uint8_t *regions[2];
        uint8_t *loadavg[2];

        GMutex journal_lock;
        bool compacting;
        bool journal_full;
        uint64_t live_bytes; /* what a compaction would write */
        NodeTable *nodes;
        /* Where a compaction writes its snapshot. */
        int snapshot_region;
        uint64_t snapshot_used;
        bool snapshot_failed;
};

static size_t record_size(const char *path) {
        return (offsetof(Record, path) + strlen(path) + 1 + 7) & ~(size_t) 7;
}

static Handover *handover_map(int fd, bool fresh, GError **error) {
        g_autoptr(Handover) h = g_new0(Handover, 1);
        void *map;

        h->fd = fd;
        g_mutex_init(&h->journal_lock);
        map = mmap(NULL, STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot map the hand-over state (fd %d): %s", fd, g_strerror(errno));
                return NULL;
        }
        h->header = map;
        h->regions[0] = (uint8_t *) map + HEADER_SIZE;
        h->regions[1] = h->regions[0] + REGION_SIZE;
        h->loadavg[0] = h->regions[1] + REGION_SIZE;
        h->loadavg[1] = h->loadavg[0] + LOADAVG_SLOT_SIZE;
        if (fresh) {
                h->header->magic = HANDOVER_MAGIC;
                h->header->layout = HANDOVER_LAYOUT;
                atomic_store(&h->header->next_ino, CAPFS_ROOT_INO + 1);
        } else if (h->header->magic != HANDOVER_MAGIC || h->header->layout != HANDOVER_LAYOUT) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "the hand-over state was written by an incompatible capfs (layout %u, this "
                            "one reads %u); restart capfs to remount with this version",
                            h->header->layout, HANDOVER_LAYOUT);
                return NULL;
        }
        return g_steal_pointer(&h);
}

Handover *handover_create(GError **error) {
        int fd = memfd_create("capfs-handover", MFD_CLOEXEC);
        Handover *h;

        if (fd < 0 || ftruncate(fd, (off_t) STATE_SIZE) < 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "cannot create the hand-over state (memfd of %" G_GUINT64_FORMAT " MiB): %s",
                            STATE_SIZE >> 20, g_strerror(errno));
                if (fd >= 0)
                        close(fd);
                return NULL;
        }
        h = handover_map(fd, true, error);
        if (!h)
                close(fd);
        return h;
}

Handover *handover_open(int fd, GError **error) {
        struct stat st;

        if (fstat(fd, &st) < 0 || (uint64_t) st.st_size < STATE_SIZE) {
                g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                            "fd %d is not a capfs hand-over state (size %jd)", fd,
                            (intmax_t) (fstat(fd, &st) < 0 ? -1 : st.st_size));
                return NULL;
        }
        return handover_map(fd, false, error);
}

void handover_free(Handover *h) {
        if (!h)
                return;
        if (h->nodes)
                node_table_observe(h->nodes, NULL, NULL);
        if (h->header)
                munmap(h->header, STATE_SIZE);
        if (h->fd >= 0)
                close(h->fd);
        g_mutex_clear(&h->journal_lock);
        g_free(h);
}

int handover_fd(const Handover *h) {
        return h->fd;
}

uint32_t handover_generation(const Handover *h) {
        return h->header->generation;
}

uint32_t handover_next_generation(Handover *h) {
        /* 0 never: a file handle tagged 0 could be mistaken for an untagged one. */
        do
                h->header->generation++;
        while ((h->header->generation & 0xffff) == 0);
        return h->header->generation;
}

/* ---------------------------------------------------------------- FUSE_INIT */

bool handover_init_recorded(const Handover *h) {
        return atomic_load(&h->header->init_recorded) != 0;
}

void handover_record_init(Handover *h, const void *request, size_t request_len, const void *reply,
                          size_t reply_len) {
        g_return_if_fail(request_len <= HANDOVER_INIT_MAX && reply_len <= HANDOVER_INIT_MAX);
        memcpy(h->header->init_request, request, request_len);
        h->header->init_request_len = (uint32_t) request_len;
        memcpy(h->header->init_reply, reply, reply_len);
        h->header->init_reply_len = (uint32_t) reply_len;
        atomic_store(&h->header->init_recorded, 1);
}

const void *handover_init_request(const Handover *h, size_t *len) {
        *len = h->header->init_request_len;
        return h->header->init_request;
}

const void *handover_init_reply(const Handover *h, size_t *len) {
        *len = h->header->init_reply_len;
        return h->header->init_reply;
}

/* ---------------------------------------------------------------- requests in flight */

int handover_claim_slot(Handover *h) {
        uint32_t slot = atomic_fetch_add(&h->header->slots_claimed, 1);

        return slot < HANDOVER_SLOTS ? (int) slot : -1;
}

void handover_slot_set(Handover *h, int slot, uint64_t unique) {
        if (slot >= 0)
                atomic_store_explicit(&h->header->inflight[slot], unique, memory_order_relaxed);
}

void handover_slot_clear(Handover *h, int slot, uint64_t unique) {
        if (slot >= 0 && atomic_load_explicit(&h->header->inflight[slot], memory_order_relaxed) == unique)
                atomic_store_explicit(&h->header->inflight[slot], 0, memory_order_relaxed);
}

size_t handover_take_inflight(Handover *h, uint64_t *uniques) {
        size_t n = 0;

        for (size_t i = 0; i < HANDOVER_SLOTS; i++) {
                uint64_t unique = atomic_exchange(&h->header->inflight[i], 0);

                if (unique)
                        uniques[n++] = unique;
        }
        atomic_store(&h->header->slots_claimed, 0);
        return n;
}

/* ---------------------------------------------------------------- the node journal */

/* Appends to @region at *@used; false when it is full. */
static bool put_record(uint8_t *region, uint64_t *used, RecordKind kind, uint64_t ino, const char *path,
                       uint64_t nlookup) {
        size_t size = record_size(path);
        Record *rec = (Record *) (region + *used);

        if (*used + size > REGION_SIZE)
                return false;
        rec->kind = kind;
        rec->ino = ino;
        rec->nlookup = nlookup;
        strcpy(rec->path, path);
        rec->size = (uint32_t) size;
        *used += size;
        return true;
}

static void journal_append(Handover *h, RecordKind kind, uint64_t ino, const char *path) {
        g_autoptr(GMutexLocker) G_GNUC_UNUSED locker = g_mutex_locker_new(&h->journal_lock);
        uint32_t active = atomic_load(&h->header->journal_active);
        uint64_t used = atomic_load(&h->header->journal_used[active]);

        if (h->journal_full)
                return;
        if (!put_record(h->regions[active], &used, kind, ino, path, 0)) {
                h->journal_full = true;
                g_warning("the inode journal is full (%" G_GUINT64_FORMAT " MiB); a worker that takes over "
                          "after a crash will answer ESTALE for inodes made from now on",
                          REGION_SIZE >> 20);
                return;
        }
        /* Published after the bytes: a worker killed half-way leaves a journal that ends before. */
        atomic_store_explicit(&h->header->journal_used[active], used, memory_order_release);
        if (kind == RECORD_ADDED) {
                h->live_bytes += record_size(path);
                if (ino + 1 > atomic_load(&h->header->next_ino))
                        atomic_store(&h->header->next_ino, ino + 1);
        } else
                h->live_bytes -= MIN(h->live_bytes, record_size(path));
}

static void node_added(void *data, uint64_t ino, const char *path) {
        journal_append(data, RECORD_ADDED, ino, path);
}

static void node_removed(void *data, uint64_t ino, const char *path) {
        journal_append(data, RECORD_REMOVED, ino, path);
}

static const NodeTableObserver journal_observer = {
        .added = node_added,
        .removed = node_removed,
};

void handover_journal_attach(Handover *h, NodeTable *nodes) {
        /* From the first change on, the counts of the last sealed snapshot are stale. */
        atomic_store(&h->header->journal_sealed, 0);
        h->nodes = nodes;
        node_table_observe(nodes, &journal_observer, h);
}

void handover_journal_restore(Handover *h, NodeTable *nodes) {
        uint32_t active = atomic_load(&h->header->journal_active);
        uint64_t used = atomic_load_explicit(&h->header->journal_used[active], memory_order_acquire);
        uint64_t next_ino = atomic_load(&h->header->next_ino);
        bool exact = atomic_load(&h->header->journal_sealed) != 0;
        const uint8_t *region = h->regions[active];
        size_t nodes_before = node_table_size(nodes);

        for (uint64_t off = 0; off + offsetof(Record, path) < used;) {
                const Record *rec = (const Record *) (region + off);

                if (rec->size < record_size("") || off + rec->size > used ||
                    !memchr(rec->path, '\0', rec->size - offsetof(Record, path))) {
                        g_warning("the inode journal is damaged at byte %" G_GUINT64_FORMAT
                                  "; inodes journaled after it answer ESTALE",
                                  off);
                        break;
                }
                switch (rec->kind) {
                case RECORD_ADDED:
                        node_table_restore(nodes, rec->ino, rec->path, UNKNOWN_LOOKUPS, next_ino);
                        break;
                case RECORD_NODE:
                        node_table_restore(nodes, rec->ino, rec->path,
                                           exact ? rec->nlookup : UNKNOWN_LOOKUPS, next_ino);
                        break;
                case RECORD_REMOVED:
                        node_table_remove(nodes, rec->ino);
                        break;
                default:
                        break;
                }
                off += rec->size;
        }
        h->live_bytes = used;
        g_debug("restored %zu inodes from the journal (%" G_GUINT64_FORMAT " bytes, counts %s)",
                node_table_size(nodes) - nodes_before, used, exact ? "exact" : "unknown");
}

static void snapshot_node(void *data, uint64_t ino, const char *path, uint64_t nlookup) {
        Handover *h = data;

        if (ino == CAPFS_ROOT_INO || h->snapshot_failed)
                return;
        if (!put_record(h->regions[h->snapshot_region], &h->snapshot_used, RECORD_NODE, ino, path, nlookup))
                h->snapshot_failed = true;
}

bool handover_journal_compact(Handover *h, NodeTable *nodes, bool force) {
        uint32_t src, dst;
        uint64_t tail_from, tail_len;
        bool done = false;

        g_mutex_lock(&h->journal_lock);
        src = atomic_load(&h->header->journal_active);
        dst = 1 - src;
        tail_from = atomic_load(&h->header->journal_used[src]);
        if (h->compacting || (!force && tail_from < COMPACT_FACTOR * h->live_bytes + COMPACT_FLOOR)) {
                g_mutex_unlock(&h->journal_lock);
                return false;
        }
        h->compacting = true;
        h->snapshot_region = (int) dst;
        h->snapshot_used = 0;
        h->snapshot_failed = false;
        g_mutex_unlock(&h->journal_lock);

        /*
         * Nodes made or removed while the snapshot is taken still go to the old region; they
         * are copied after it, and replaying them is harmless: adding a node that exists and
         * removing one that does not change nothing.
         */
        node_table_foreach(nodes, snapshot_node, h);

        g_mutex_lock(&h->journal_lock);
        tail_len = atomic_load(&h->header->journal_used[src]) - tail_from;
        if (!h->snapshot_failed && h->snapshot_used + tail_len <= REGION_SIZE) {
                memcpy(h->regions[dst] + h->snapshot_used, h->regions[src] + tail_from, tail_len);
                atomic_store(&h->header->journal_used[dst], h->snapshot_used + tail_len);
                atomic_store_explicit(&h->header->journal_active, dst, memory_order_release);
                atomic_store(&h->header->journal_used[src], 0);
                if (fallocate(h->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                              (off_t) (HEADER_SIZE + src * REGION_SIZE), (off_t) REGION_SIZE) < 0)
                        g_debug("cannot release the old journal's memory: %s", g_strerror(errno));
                h->live_bytes = h->snapshot_used;
                h->journal_full = false;
                done = true;
        } else
                g_warning("cannot compact the inode journal: %" G_GUINT64_FORMAT " bytes of live inodes",
                          h->snapshot_used);
        h->compacting = false;
        g_mutex_unlock(&h->journal_lock);
        return done;
}

void handover_journal_seal(Handover *h, NodeTable *nodes) {
        if (handover_journal_compact(h, nodes, true))
                atomic_store(&h->header->journal_sealed, 1);
}

size_t handover_journal_bytes(const Handover *h) {
        uint32_t active = atomic_load(&h->header->journal_active);

        return (size_t) atomic_load(&h->header->journal_used[active]);
}

bool handover_store_loadavg(Handover *h, const char *text, size_t len) {
        uint32_t active = atomic_load(&h->header->loadavg_active);
        /* The slot that is not the whole one: a worker killed while writing it leaves the other. */
        int slot = active == 1 ? 1 : 0;

        if (len > LOADAVG_SLOT_SIZE)
                return false;
        memcpy(h->loadavg[slot], text, len);
        h->header->loadavg_len[slot] = len;
        atomic_store(&h->header->loadavg_active, (uint32_t) slot + 1);
        return true;
}

char *handover_load_loadavg(const Handover *h, size_t *len) {
        uint32_t active = atomic_load(&h->header->loadavg_active);
        int slot = (int) active - 1;

        if (active == 0 || active > 2 || h->header->loadavg_len[slot] > LOADAVG_SLOT_SIZE)
                return NULL;
        *len = (size_t) h->header->loadavg_len[slot];
        return g_strndup((const char *) h->loadavg[slot], *len);
}
