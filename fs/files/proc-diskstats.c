/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/diskstats: the host's lines for the devices the container did I/O on, with the
 * container's own counts from its cgroup (cgroup2 io.stat, v1 blkio.*). Counters the
 * cgroup does not keep (in flight, busy time, and on most kernels merges and times) are 0.
 */
#include <inttypes.h>
#include <stdio.h>

#include "../internal.h"
#include "../parse/parse.h"

enum { OP_READ, OP_WRITE, OP_DISCARD, _OP_MAX };

typedef struct DeviceIo {
        uint64_t ios[_OP_MAX];
        uint64_t bytes[_OP_MAX];
        uint64_t merges[_OP_MAX];
        uint64_t nsecs[_OP_MAX]; /* from queueing to completion, as the kernel's per-op times */
} DeviceIo;

/* The 17 counters of a 6.x diskstats line; older kernels print a prefix of them. */
#define DISKSTATS_COUNTERS 17

/* "MAJ:MIN" -> DeviceIo*, created on first use. */
static DeviceIo *device_io(GHashTable *devices, const char *device) {
        DeviceIo *io = g_hash_table_lookup(devices, device);

        if (!io) {
                io = g_new0(DeviceIo, 1);
                g_hash_table_insert(devices, g_strdup(device), io);
        }
        return io;
}

static uint64_t stat_of(GHashTable *stats, const char *key) {
        uint64_t value = 0;

        (void) capfs_keyed_get(stats, key, &value);
        return value;
}

/* @io_stat: the text of the io.stat the container's I/O is charged to. */
static int collect_v2(const GString *io_stat, GHashTable *devices) {
        static const char *const ios_key[_OP_MAX] = {"rios", "wios", "dios"};
        static const char *const bytes_key[_OP_MAX] = {"rbytes", "wbytes", "dbytes"};
        g_autoptr(GHashTable) table = NULL;
        GHashTableIter iter;
        gpointer key, value;
        int r;

        r = capfs_parse_io_stat(io_stat->str, io_stat->len, &table);
        if (r < 0)
                return r;

        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                DeviceIo *io = device_io(devices, key);

                for (unsigned op = 0; op < _OP_MAX; op++) {
                        io->ios[op] = stat_of(value, ios_key[op]);
                        io->bytes[op] = stat_of(value, bytes_key[op]);
                }
        }
        return 0;
}

/* The first of @knobs the blkio cgroup @cgpath has, parsed; -ENOENT when it has none. */
static int read_blkio(const CapfsHost *host, const char *cgpath, const char *const *knobs,
                      GHashTable **ret) {
        g_autoptr(GString) buf = g_string_new(NULL);
        int r = -ENOENT;

        for (; *knobs; knobs++) {
                r = capfs_cgroup_read_path(host, CAPFS_CTRL_BLKIO, cgpath, *knobs, buf);
                if (r >= 0)
                        return capfs_parse_blkio(buf->str, buf->len, ret);
        }
        return r;
}

typedef enum { FIELD_IOS, FIELD_BYTES, FIELD_MERGES, FIELD_NSECS } Field;

/* Adds a v1 table's "Read"/"Write"/"Discard" values of every device to @field. */
static void add_blkio(GHashTable *devices, GHashTable *table, Field field) {
        static const char *const op_key[_OP_MAX] = {"Read", "Write", "Discard"};
        GHashTableIter iter;
        gpointer key, value;

        g_hash_table_iter_init(&iter, table);
        while (g_hash_table_iter_next(&iter, &key, &value)) {
                DeviceIo *io = device_io(devices, key);

                for (unsigned op = 0; op < _OP_MAX; op++) {
                        uint64_t v = stat_of(value, op_key[op]);

                        switch (field) {
                        case FIELD_IOS:
                                io->ios[op] += v;
                                break;
                        case FIELD_BYTES:
                                io->bytes[op] += v;
                                break;
                        case FIELD_MERGES:
                                io->merges[op] += v;
                                break;
                        case FIELD_NSECS:
                                io->nsecs[op] += v;
                                break;
                        }
                }
        }
}

/*
 * The throttle layer counts only the disks it is set up on, and recent kernels (seen on
 * 6.18) set it up on a disk when some cgroup first limits that disk. All zeros even at
 * the root then mean "not counted", not "no I/O": nothing true can be shown.
 */
static int check_blkio_counted(const CapfsHost *host) {
        static const char *const knobs[] = {"blkio.throttle.io_serviced_recursive",
                                            "blkio.throttle.io_serviced", NULL};
        static const char *const op_key[_OP_MAX] = {"Read", "Write", "Discard"};
        g_autoptr(GHashTable) root = NULL;
        GHashTableIter iter;
        gpointer key, value;
        int r;

        r = read_blkio(host, "/", knobs, &root);
        if (r < 0)
                return r;
        g_hash_table_iter_init(&iter, root);
        while (g_hash_table_iter_next(&iter, &key, &value))
                for (unsigned op = 0; op < _OP_MAX; op++)
                        if (stat_of(value, op_key[op]) > 0)
                                return 0;
        return -ENODATA;
}

static int collect_v1(const CapfsHost *host, const CapfsContainer *ct, GHashTable *devices) {
        /*
         * The throttle layer counts every bio of every cgroup, whatever the I/O scheduler;
         * "_recursive" includes the container's descendants (kernels without it: its own).
         */
        static const char *const bytes_knobs[] = {"blkio.throttle.io_service_bytes_recursive",
                                                  "blkio.throttle.io_service_bytes", NULL};
        static const char *const ios_knobs[] = {"blkio.throttle.io_serviced_recursive",
                                                "blkio.throttle.io_serviced", NULL};
        /* Only CFQ (before 5.0) and BFQ with CONFIG_BFQ_CGROUP_DEBUG keep these: optional. */
        static const char *const service_knobs[] = {"blkio.bfq.io_service_time_recursive",
                                                    "blkio.io_service_time_recursive", NULL};
        static const char *const wait_knobs[] = {"blkio.bfq.io_wait_time_recursive",
                                                 "blkio.io_wait_time_recursive", NULL};
        static const char *const merged_knobs[] = {"blkio.bfq.io_merged_recursive",
                                                   "blkio.io_merged_recursive", NULL};
        const char *cgpath = ct->cgroup[CAPFS_CTRL_BLKIO];
        g_autoptr(GHashTable) bytes = NULL, ios = NULL, service = NULL, wait = NULL, merged = NULL;
        int r;

        r = read_blkio(host, cgpath, bytes_knobs, &bytes);
        if (r < 0)
                return r;
        r = read_blkio(host, cgpath, ios_knobs, &ios);
        if (r < 0)
                return r;
        r = check_blkio_counted(host);
        if (r < 0)
                return r;
        add_blkio(devices, bytes, FIELD_BYTES);
        add_blkio(devices, ios, FIELD_IOS);

        /* The kernel's per-op time runs from queueing to completion: wait plus service. */
        if (read_blkio(host, cgpath, service_knobs, &service) >= 0)
                add_blkio(devices, service, FIELD_NSECS);
        if (read_blkio(host, cgpath, wait_knobs, &wait) >= 0)
                add_blkio(devices, wait, FIELD_NSECS);
        if (read_blkio(host, cgpath, merged_knobs, &merged) >= 0)
                add_blkio(devices, merged, FIELD_MERGES);
        return 0;
}

static bool did_io(const DeviceIo *io) {
        for (unsigned op = 0; op < _OP_MAX; op++)
                if (io->ios[op] > 0 || io->bytes[op] > 0)
                        return true;
        return false;
}

/* The kernel prints times in ms as a 32-bit unsigned int, wrapping. */
static uint64_t msecs(uint64_t nsecs) {
        return (uint32_t) (nsecs / 1000000);
}

static void append_line(GString *out, const CapfsDiskstatsLine *line, const DeviceIo *io) {
        const uint64_t counters[DISKSTATS_COUNTERS] = {
                io->ios[OP_READ],
                io->merges[OP_READ],
                io->bytes[OP_READ] / 512,
                msecs(io->nsecs[OP_READ]),
                io->ios[OP_WRITE],
                io->merges[OP_WRITE],
                io->bytes[OP_WRITE] / 512,
                msecs(io->nsecs[OP_WRITE]),
                0, /* in flight */
                0, /* busy time */
                /* Weighted time: the sum of the per-op times, as the kernel computes it. */
                msecs(io->nsecs[OP_READ] + io->nsecs[OP_WRITE] + io->nsecs[OP_DISCARD]),
                io->ios[OP_DISCARD],
                io->merges[OP_DISCARD],
                io->bytes[OP_DISCARD] / 512,
                msecs(io->nsecs[OP_DISCARD]),
                0, /* flushes: no cgroup counts them */
                0,
        };

        g_string_append_printf(out, "%4u %7u %s", line->major, line->minor, line->name);
        /* As many counters as the host's kernel prints, so tools that know it parse ours. */
        for (unsigned i = 0; i < line->counters; i++)
                g_string_append_printf(out, " %" PRIu64, i < DISKSTATS_COUNTERS ? counters[i] : 0);
        g_string_append_c(out, '\n');
}

int capfs_render_proc_diskstats(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        CapfsController ctrl = capfs_host_is_v2(host) ? CAPFS_CTRL_UNIFIED : CAPFS_CTRL_BLKIO;
        const char *cgpath = ct->cgroup[ctrl];
        g_autofree char *charged_path = NULL;
        g_autoptr(GHashTable) devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_autoptr(GString) host_file = g_string_new(NULL);
        g_autoptr(GString) io_stat = g_string_new(NULL);
        g_autoptr(GArray) lines = NULL;
        int r;

        if (!cgpath)
                return -ENOENT;
        /*
         * On v2 the I/O of a cgroup whose parent does not enable the io controller is
         * charged to the nearest ancestor that has it (it has no io.stat of its own).
         */
        if (capfs_host_is_v2(host) && !g_str_equal(cgpath, "/")) {
                r = capfs_cgroup_accounting_path(host, ct, ctrl, "io.stat", &charged_path, io_stat);
                if (r < 0)
                        return r;
                cgpath = charged_path;
        }
        /* The root cgroup's I/O is the whole host's. */
        if (g_str_equal(cgpath, "/"))
                return capfs_held_read(host, host->proc_fd, "diskstats", out);

        r = capfs_host_is_v2(host) ? collect_v2(io_stat, devices) : collect_v1(host, ct, devices);
        if (r < 0)
                return r;
        r = capfs_held_read(host, host->proc_fd, "diskstats", host_file);
        if (r < 0)
                return r;
        r = capfs_parse_diskstats(host_file->str, host_file->len, &lines);
        if (r < 0)
                return r;

        g_string_truncate(out, 0);
        for (guint i = 0; i < lines->len; i++) {
                const CapfsDiskstatsLine *line = &g_array_index(lines, CapfsDiskstatsLine, i);
                char device[32];
                const DeviceIo *io;

                snprintf(device, sizeof(device), "%u:%u", line->major, line->minor);
                io = g_hash_table_lookup(devices, device);
                if (io && did_io(io))
                        append_line(out, line, io);
        }
        return 0;
}
