/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers of kernel text. Each takes a buffer and its length (not NUL-terminated input
 * is fine), never reads past it, and returns 0 or a negative errno (-EINVAL on malformed
 * text). Each has a fuzz target in tests/fuzz/.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* "0-3,8,10-11\n" -> bitmap of CPUs (GArray of guint, ascending, no duplicates). "" and "\n" are empty sets. */
int capfs_parse_cpuset(const char *buf, size_t len, GArray **ret);
/* Formats an ascending CPU array as "0-3,8". */
void capfs_format_cpuset(const guint *cpus, size_t n, GString *out);

/* A limit knob: "max", "-1" -> CAPFS_NO_LIMIT (UINT64_MAX); "12345\n" -> 12345. */
int capfs_parse_limit(const char *buf, size_t len, uint64_t *ret);

/* cgroup2 cpu.max: "max 100000" or "50000 100000". quota is UINT64_MAX for "max". */
int capfs_parse_cpu_max(const char *buf, size_t len, uint64_t *quota, uint64_t *period);

/*
 * "key value" lines (memory.stat, cpu.stat, cpuacct.stat, /proc/meminfo's "Key:   123 kB"):
 * returns key -> uint64 (stored as guint64*) table; a trailing ":" on keys is dropped and a
 * " kB" unit is kept as written (the caller knows the file's unit). Unparsable lines are skipped.
 */
int capfs_parse_keyed_u64(const char *buf, size_t len, GHashTable **ret);
/* Looks up @key in such a table; false when absent. */
bool capfs_keyed_get(GHashTable *table, const char *key, uint64_t *ret);

/*
 * /proc/PID/cgroup: "ID:controllers:/path" lines. Returns controller name -> path; a line
 * with several controllers ("4:cpu,cpuacct:/x") yields one entry each, "name=systemd" keeps its
 * name, and the cgroup2 line ("0::/x") has the key "".
 */
int capfs_parse_proc_cgroup(const char *buf, size_t len, GHashTable **ret);

/* /proc/PID/status: the innermost pid of the NSpid line (the pid in its own namespace). */
int capfs_parse_status_nspid(const char *buf, size_t len, pid_t *innermost, unsigned *levels);

/* /proc/PID/stat: field 4 (ppid), field 3 (state) and field 22 (starttime), past the "(comm)" that may hold anything. */
int capfs_parse_pid_stat(const char *buf, size_t len, char *state, pid_t *ppid, uint64_t *starttime);

/*
 * Nested keyed lines, "MAJ:MIN key=value key=value" (io.stat) and the v1 blkio form
 * "MAJ:MIN Op value" (blkio.throttle.io_service_bytes). Both fill a table
 * "MAJ:MIN" -> (key -> guint64*); the v1 "Total" lines are dropped.
 */
int capfs_parse_io_stat(const char *buf, size_t len, GHashTable **ret);
int capfs_parse_blkio(const char *buf, size_t len, GHashTable **ret);

/* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" lines are used verbatim; only checked. */

/* /proc/uptime: "123.45 678.90". Values in hundredths of a second. */
int capfs_parse_uptime(const char *buf, size_t len, uint64_t *uptime_cs, uint64_t *idle_cs);

G_END_DECLS
