/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/meminfo: the host's file, line for line and in its order, with the container's
 * numbers where the cgroup accounts for them. A container without any limit below the
 * host's gets the host's file untouched.
 *
 * Lines the cgroup has no counter for, and what they show:
 *  - host-wide usage that cannot be attributed (NFS_Unstable, Bounce, WritebackTmp,
 *    ShmemPmdMapped, FilePmdMapped, and on v1 Zswap, Zswapped, KernelStack, PageTables,
 *    SecPageTables, Percpu, VmallocUsed, ShmemHugePages, FileHugePages, KReclaimable,
 *    SReclaimable): 0. The host's figure inside a 256 MiB container would be read as the
 *    container's, and SReclaimable even feeds free(1)'s buff/cache.
 *  - the host's configuration and the rules the container lives under: kept. VmallocTotal
 *    and VmallocChunk (address space), HugePages_* and Hugepagesize (the hugetlb pool is
 *    global, and on v1 governed by its own controller), DirectMap* (how the kernel maps
 *    RAM), CommitLimit and Committed_AS (overcommit is enforced host-wide, against these
 *    very numbers), HardwareCorrupted, CmaTotal/CmaFree, Balloon, Unaccepted.
 *  - anything this file does not know (a newer kernel's line): kept as the kernel wrote it.
 */
#include <stdio.h>
#include <string.h>

#include "../internal.h"
#include "../parse/parse.h"

typedef struct MeminfoLine {
        const char *key;
        uint64_t kb;
} MeminfoLine;

/* The kernel pads "Key:" to 16 columns and the number to 8 ("%8llu"), then " kB". */
static void append_kb_line(GString *out, const char *key, size_t key_len, uint64_t kb) {
        char value[32];
        int len = snprintf(value, sizeof(value), "%8" G_GUINT64_FORMAT " kB\n", kb);

        g_string_append_len(out, key, (gssize) key_len);
        g_string_append_c(out, ':');
        for (size_t column = key_len + 1; column < 16; column++)
                g_string_append_c(out, ' ');
        g_string_append_len(out, value, len);
}

/*
 * Sums of lines are made of the rounded lines: v2's slab counters are byte-exact, and Slab
 * must still be SReclaimable + SUnreclaim to the kB, as in the kernel's own file.
 */
static uint64_t to_kb(uint64_t bytes) {
        return bytes / 1024;
}

static const MeminfoLine *find_line(const MeminfoLine *lines, size_t n, const char *key, size_t key_len) {
        for (size_t i = 0; i < n; i++)
                if (strncmp(lines[i].key, key, key_len) == 0 && lines[i].key[key_len] == '\0')
                        return &lines[i];
        return NULL;
}

int capfs_render_proc_meminfo(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        g_autoptr(GString) host_text = g_string_new(NULL);
        CapfsMemory m;
        int r;

        r = capfs_container_memory_read(host, ct, host_text, &m);
        if (r < 0)
                return r;
        if (!m.limited) {
                g_string_append_len(out, host_text->str, host_text->len);
                return 0;
        }

        /* Totals are summed in kB, as the kernel sums pages (see to_kb()). */
        const MeminfoLine lines[] = {
                {"MemTotal", to_kb(m.total)},
                {"MemFree", to_kb(m.free)},
                {"MemAvailable", to_kb(m.available)},
                /* memcg has no buffer counter; buffer pages are in its page cache, i.e. Cached. */
                {"Buffers", 0},
                {"Cached", to_kb(m.cached)},
                {"SwapCached", to_kb(m.swap_cached)},
                {"Active", to_kb(m.active_anon) + to_kb(m.active_file)},
                {"Inactive", to_kb(m.inactive_anon) + to_kb(m.inactive_file)},
                {"Active(anon)", to_kb(m.active_anon)},
                {"Inactive(anon)", to_kb(m.inactive_anon)},
                {"Active(file)", to_kb(m.active_file)},
                {"Inactive(file)", to_kb(m.inactive_file)},
                {"Unevictable", to_kb(m.unevictable)},
                {"Mlocked", to_kb(m.mlocked)},
                {"SwapTotal", to_kb(m.swap_total)},
                {"SwapFree", to_kb(m.swap_free)},
                {"Zswap", to_kb(m.zswap)},
                {"Zswapped", to_kb(m.zswapped)},
                {"Dirty", to_kb(m.dirty)},
                {"Writeback", to_kb(m.writeback)},
                {"AnonPages", to_kb(m.anon)},
                {"Mapped", to_kb(m.mapped)},
                {"Shmem", to_kb(m.shmem)},
                {"KReclaimable", to_kb(m.slab_reclaimable)},
                {"Slab", to_kb(m.slab_reclaimable) + to_kb(m.slab_unreclaimable)},
                {"SReclaimable", to_kb(m.slab_reclaimable)},
                {"SUnreclaim", to_kb(m.slab_unreclaimable)},
                {"KernelStack", to_kb(m.kernel_stack)},
                {"PageTables", to_kb(m.page_tables)},
                {"SecPageTables", to_kb(m.sec_page_tables)},
                {"NFS_Unstable", 0},
                {"Bounce", 0},
                {"WritebackTmp", 0},
                {"VmallocUsed", to_kb(m.vmalloc)},
                {"Percpu", to_kb(m.percpu)},
                {"AnonHugePages", to_kb(m.anon_thp)},
                {"ShmemHugePages", to_kb(m.shmem_thp)},
                {"ShmemPmdMapped", 0},
                {"FileHugePages", to_kb(m.file_thp)},
                {"FilePmdMapped", 0},
        };

        for (const char *line = host_text->str, *end = host_text->str + host_text->len; line < end;) {
                const char *eol = memchr(line, '\n', end - line);
                size_t len = eol ? (size_t) (eol - line) + 1 : (size_t) (end - line);
                const char *colon = memchr(line, ':', len);
                const MeminfoLine *mine =
                        colon ? find_line(lines, G_N_ELEMENTS(lines), line, colon - line) : NULL;

                if (mine)
                        append_kb_line(out, line, colon - line, mine->kb);
                else
                        g_string_append_len(out, line, len);
                line += len;
        }
        return 0;
}
