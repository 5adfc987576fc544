/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers of kernel text. Each takes a buffer and its length (not NUL-terminated input
 * is fine), never reads past it, and returns 0 or a negative errno (-EINVAL on malformed
 * text). Each has a fuzz target in tests/fuzz/. Results are stored only on success.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* Same value as in internal.h, which the parsers (and their fuzzers) do not include. */
#ifndef CAPFS_NO_LIMIT
#define CAPFS_NO_LIMIT UINT64_MAX
#endif

/*
 * capfs_parse_cpuset() fails with -ERANGE from this CPU number on: no kernel has that many,
 * and a hostile "0-4000000000" must not make it allocate gigabytes.
 */
#define CAPFS_CPUSET_LIMIT (1u << 16)

/*
 * "0-3,8,10-11\n" -> bitmap of CPUs (GArray of guint, ascending, no duplicates). "" and "\n" are empty sets.
 * Overlapping or unordered items are merged; "3-1", "1,,2" and "1 -2" are -EINVAL.
 */
int capfs_parse_cpuset(const char *buf, size_t len, GArray **ret);
/* Formats an ascending CPU array as "0-3,8", appended to @out without a newline. */
void capfs_format_cpuset(const guint *cpus, size_t n, GString *out);

/* A limit knob: "max", "-1" -> CAPFS_NO_LIMIT (UINT64_MAX); "12345\n" -> 12345. */
int capfs_parse_limit(const char *buf, size_t len, uint64_t *ret);

/* cgroup2 cpu.max: "max 100000" or "50000 100000". quota is UINT64_MAX for "max"; a 0 period is -EINVAL. */
int capfs_parse_cpu_max(const char *buf, size_t len, uint64_t *quota, uint64_t *period);

/*
 * "key value" lines (memory.stat, cpu.stat, cpuacct.stat, /proc/meminfo's "Key:   123 kB"):
 * returns a key -> uint64 table (read it with capfs_keyed_get()); a trailing ":" on keys is
 * dropped and a " kB" unit is kept as written (the caller knows the file's unit). Unparsable
 * lines are skipped.
 */
int capfs_parse_keyed_u64(const char *buf, size_t len, GHashTable **ret);
/* Looks up @key in such a table; false when absent. */
bool capfs_keyed_get(GHashTable *table, const char *key, uint64_t *ret);
/* An empty such table, and how a value goes in (@key is taken over). */
GHashTable *capfs_keyed_new(void);
void capfs_keyed_set(GHashTable *table, char *key, uint64_t value);

/*
 * /proc/PID/cgroup: "ID:controllers:/path" lines. Returns controller name -> path; a line
 * with several controllers ("4:cpu,cpuacct:/x") yields one entry each, "name=systemd" keeps its
 * name, and the cgroup2 line ("0::/x") has the key "".
 */
int capfs_parse_proc_cgroup(const char *buf, size_t len, GHashTable **ret);

/* /proc/PID/status: the innermost pid of the NSpid line (the pid in its own namespace). -ENOENT without one.
 */
int capfs_parse_status_nspid(const char *buf, size_t len, pid_t *innermost, unsigned *levels);

/* The kernel's MAX_PID_NS_LEVEL: pid namespaces nest at most this deep. */
#define CAPFS_PIDNS_LEVELS_MAX 32

/*
 * (fs/parse/ids.c, for the cgroup view.) The whole NSpid line of /proc/PID/status: a
 * GArray of pid_t, from the namespace of the /proc it was read from down to the task's
 * own. -ENOENT without an NSpid line, -ERANGE past CAPFS_PIDNS_LEVELS_MAX entries.
 */
int capfs_parse_status_nspids(const char *buf, size_t len, GArray **ret);

/*
 * A pid written to cgroup.procs, tasks or cgroup.threads: one decimal number, blanks and
 * newlines around it allowed, as the kernel takes it. A sign, leading zeros (octal to the
 * kernel), "0x", a second number or anything above INT_MAX is -EINVAL: the kernel's answer.
 */
int capfs_parse_written_pid(const char *buf, size_t len, pid_t *ret);

/*
 * /proc/PID/uid_map or gid_map ("inside outside count" lines): the outside id @id maps
 * to. -ENOENT when no line maps it, -EINVAL/-ERANGE for malformed or wrapping lines.
 */
int capfs_parse_id_map(const char *buf, size_t len, uint32_t id, uint32_t *ret);

/*
 * /proc/PID/stat and /proc/PID/task/TID/stat: the fields capfs needs, read past the "(comm)"
 * that may hold anything. num_threads counts the whole process's threads and is never 0.
 */
typedef struct CapfsPidStat {
        char state; /* field 3 */
        pid_t ppid; /* field 4 */
        unsigned num_threads; /* field 20 */
        uint64_t starttime; /* field 22, clock ticks after boot */
} CapfsPidStat;
int capfs_parse_pid_stat(const char *buf, size_t len, CapfsPidStat *ret);

/*
 * Nested keyed lines, "MAJ:MIN key=value key=value" (io.stat) and the v1 blkio form
 * "MAJ:MIN Op value" (blkio.throttle.io_service_bytes). Both fill a table
 * "MAJ:MIN" -> (key -> guint64*); the v1 "Total" lines are dropped (both "Total N" and
 * "MAJ:MIN Total N": the sum of the others). Pairs or lines that do not parse are skipped
 * (io.stat may carry "cost.vrate=100.00"), and a device appears only with at least one key.
 */
int capfs_parse_io_stat(const char *buf, size_t len, GHashTable **ret);
int capfs_parse_blkio(const char *buf, size_t len, GHashTable **ret);

/*
 * /proc/PID/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
 * SUPER_OPTIONS" lines, in the kernel's order. Returns a GPtrArray of CapfsMountinfo (freed with
 * it); root, mountpoint and source are unescaped. Any malformed line is -EINVAL.
 */
typedef struct CapfsMountinfo {
        int id, parent;
        unsigned major, minor;
        char *root, *mountpoint, *options, *fstype, *source, *super_options;
} CapfsMountinfo;
int capfs_parse_mountinfo(const char *buf, size_t len, GPtrArray **ret);
/*
 * A mountinfo field with the kernel's \ooo escapes (space, tab, newline, backslash) undone:
 * "a\040b" -> "a b". A backslash not followed by three octal digits, and \000, stay as written.
 */
char *capfs_unescape_mountinfo(const char *field, size_t len);

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" lines are used verbatim; only checked. */

/*
 * /proc/diskstats: "MAJ MIN NAME n n n ..." per device, in the kernel's order. @counters is
 * how many numbers the kernel prints after the name (11 before 4.18, 15 before 5.5, 17 now),
 * so that a view can be printed in the host kernel's own format. Any malformed line is -EINVAL.
 * Returns a GArray of CapfsDiskstatsLine that frees the names with it.
 */
typedef struct CapfsDiskstatsLine {
        unsigned major, minor;
        char *name;
        unsigned counters;
} CapfsDiskstatsLine;
int capfs_parse_diskstats(const char *buf, size_t len, GArray **ret);

/* /proc/uptime: "123.45 678.90". Values in hundredths of a second. */
int capfs_parse_uptime(const char *buf, size_t len, uint64_t *uptime_cs, uint64_t *idle_cs);

/*
 * /proc/loadavg: "0.52 0.58 0.59 2/870 12345". Loads in hundredths; the running and total
 * task counts; the last pid is checked, not returned.
 */
typedef struct CapfsLoadavgLine {
        uint64_t load_hundredths[3];
        uint64_t running, total;
} CapfsLoadavgLine;
int capfs_parse_loadavg(const char *buf, size_t len, CapfsLoadavgLine *ret);

/*
 * The "cpu" and "cpuN" lines of /proc/stat, in file order (other lines are skipped). Fields
 * the kernel did not print (older kernels print fewer) are 0; @fields says how many it did.
 */
#define CAPFS_STAT_CPU_FIELDS 10
typedef struct CapfsStatCpu {
        int cpu; /* -1 for the aggregate "cpu" line */
        unsigned fields;
        uint64_t value[CAPFS_STAT_CPU_FIELDS]; /* user nice system idle iowait irq softirq steal guest
                                                  guest_nice */
} CapfsStatCpu;
int capfs_parse_stat_cpus(const char *buf, size_t len, GArray **ret);

/* Whitespace-separated numbers (cpuacct.usage_percpu*): GArray of guint64, index = CPU. */
int capfs_parse_u64_list(const char *buf, size_t len, GArray **ret);

/*
 * cpuacct.usage_all: a "cpu user system" header, then "N USER SYS" rows in ns. Fills two
 * GArrays of guint64 indexed by CPU number (CPUs without a row are 0).
 */
int capfs_parse_cpuacct_usage_all(const char *buf, size_t len, GArray **user, GArray **system);

G_END_DECLS
