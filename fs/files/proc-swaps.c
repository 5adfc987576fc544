/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/swaps: a container with limits sees one virtual swap area holding its own swap
 * (the same SwapTotal as its proc/meminfo; "Used" is what it has swapped out itself), or
 * no area at all when it may not swap. A container without limits sees the host's file.
 */
#include <string.h>

#include "../internal.h"
#include "../parse/parse.h"

/*
 * As the kernel prints an area: the name padded to 40 columns, the type ("file\t" and
 * "partition" both end at the same tab stop; "virtual\t" does too), then sizes in kB, each
 * followed by an extra tab below 10000000 to keep the columns.
 */
static void append_virtual_area(GString *out, uint64_t size_kb, uint64_t used_kb) {
        g_string_append_printf(out, "%-40s%s\t%" G_GUINT64_FORMAT "\t%s%" G_GUINT64_FORMAT "\t%s%d\n",
                               "none", "virtual\t", size_kb, size_kb < 10000000 ? "\t" : "", used_kb,
                               used_kb < 10000000 ? "\t" : "", 0);
}

int capfs_render_proc_swaps(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        g_autoptr(GString) host_swaps = g_string_new(NULL);
        g_autoptr(GString) host_meminfo = g_string_new(NULL);
        const char *eol;
        CapfsMemory m;
        int r;

        r = capfs_held_read(host, host->proc_fd, "swaps", host_swaps);
        if (r < 0)
                return r;
        r = capfs_container_memory_read(host, ct, host_meminfo, &m);
        if (r < 0)
                return r;
        if (!m.limited) {
                g_string_append_len(out, host_swaps->str, host_swaps->len);
                return 0;
        }

        /* The running kernel's own header line, whatever its spacing. */
        eol = memchr(host_swaps->str, '\n', host_swaps->len);
        if (!g_str_has_prefix(host_swaps->str, "Filename") || !eol)
                return -EINVAL;
        g_string_append_len(out, host_swaps->str, eol - host_swaps->str + 1);

        if (m.swap_total > 0)
                append_virtual_area(out, m.swap_total / 1024, m.swap_used / 1024);
        return 0;
}
