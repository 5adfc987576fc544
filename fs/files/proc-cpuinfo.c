/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc/cpuinfo: the host's blocks for the container's CPUs, renumbered from 0.
 *
 * Most architectures print one block per CPU opening with "processor : N" (x86, arm64,
 * ppc64, riscv), some followed by a platform block (ppc64's timebase/platform, arm32's
 * Hardware/Revision). s390x opens with a summary that counts the CPUs ("# processors")
 * and lists them ("processor N: version = ..."), then has one "cpu number : N" block each.
 * Anything else is left to the host's file: a half-understood cpuinfo is worse than none.
 */
#include <string.h>

#include "../internal.h"

/* No kernel numbers CPUs this high; a larger number is not a CPU block we understand. */
#define MAX_CPU (1 << 22)

typedef struct Block {
        const char *start, *end; /* its lines, each with its newline */
        const char *sep_end; /* the blank lines after it end here */
        int cpu; /* the number it opens with; -1 for a block that is not per CPU */
        const char *number, *number_end; /* where that number is, to renumber it */
} Block;

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* "key<blanks>: value": the key with trailing blanks dropped, and where the value starts. */
static bool split_key(const char *line, const char *eol, const char **key_end, const char **value) {
        const char *colon = memchr(line, ':', (size_t) (eol - line));
        const char *k;

        if (!colon)
                return false;
        for (k = colon; k > line && is_blank(k[-1]); k--)
                ;
        *key_end = k;
        for (*value = colon + 1; *value < eol && is_blank(**value); (*value)++)
                ;
        return true;
}

static bool key_is(const char *line, const char *key_end, const char *key) {
        return (size_t) (key_end - line) == strlen(key) && memcmp(line, key, strlen(key)) == 0;
}

/* A decimal number filling [p, end) up to trailing blanks; -1 when it is not one. */
static int whole_number(const char *p, const char *end, const char **number_end) {
        uint64_t v = 0;
        const char *s = p;

        for (; s < end && g_ascii_isdigit(*s); s++) {
                v = v * 10 + (uint64_t) (*s - '0');
                if (v > MAX_CPU)
                        return -1;
        }
        if (s == p)
                return -1;
        *number_end = s;
        while (s < end && is_blank(*s))
                s++;
        return s == end ? (int) v : -1;
}

static const char *next_line(const char *p, const char *end) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        return nl ? nl + 1 : end;
}

/* The line without its newline. */
static const char *content_end(const char *line, const char *next) {
        return next > line && next[-1] == '\n' ? next - 1 : next;
}

static bool is_cpu_key(const char *line, const char *key_end) {
        return key_is(line, key_end, "processor") || key_is(line, key_end, "cpu number");
}

/*
 * Classifies a block by its first line. A per-CPU key anywhere else in a block is a
 * layout we do not know (MIPS prints "system type" before "processor").
 */
static int classify(Block *b) {
        b->cpu = -1;
        for (const char *line = b->start; line < b->end;) {
                const char *next = next_line(line, b->end), *eol = content_end(line, next);
                const char *key_end, *value, *number_end;

                if (split_key(line, eol, &key_end, &value) && is_cpu_key(line, key_end)) {
                        int cpu = whole_number(value, eol, &number_end);

                        if (line != b->start || cpu < 0)
                                return -EINVAL;
                        b->cpu = cpu;
                        b->number = value;
                        b->number_end = number_end;
                }
                line = next;
        }
        return 0;
}

static bool block_has_key(const Block *b, const char *key) {
        for (const char *line = b->start; line < b->end;) {
                const char *next = next_line(line, b->end), *key_end, *value;

                if (split_key(line, content_end(line, next), &key_end, &value) && key_is(line, key_end, key))
                        return true;
                line = next;
        }
        return false;
}

static int split_blocks(const char *text, size_t len, const char **prefix_end, GArray *blocks) {
        const char *end = text + len, *p = text;

        /* Blank lines before the first block are kept as they are. */
        while (p < end && *p == '\n')
                p++;
        *prefix_end = p;
        while (p < end) {
                Block b = {.start = p};
                int r;

                while (p < end && *p != '\n')
                        p = next_line(p, end);
                b.end = p;
                while (p < end && *p == '\n')
                        p++;
                b.sep_end = p;
                r = classify(&b);
                if (r < 0)
                        return r;
                g_array_append_val(blocks, b);
        }
        return 0;
}

static int index_of(const CapfsCpuList *cpus, int cpu) {
        for (unsigned i = 0; i < cpus->count; i++)
                if (cpus->cpu[i] == (unsigned) cpu)
                        return (int) i;
        return -1;
}

/* s390x's "processor N: version = ..." summary line: N, or -1 for any other line. */
static int summary_cpu(const char *line, const char *eol, const char **number_end) {
        const char *colon = memchr(line, ':', (size_t) (eol - line));
        size_t skip = strlen("processor ");

        if (!colon || (size_t) (colon - line) <= skip || memcmp(line, "processor ", skip) != 0)
                return -1;
        return whole_number(line + skip, colon, number_end);
}

/* s390x's summary: the count and the "processor N: ..." lines, cut and renumbered. */
static void append_header(const Block *b, const CapfsCpuList *cpus, GString *out) {
        for (const char *line = b->start; line < b->sep_end;) {
                const char *next = next_line(line, b->sep_end), *eol = content_end(line, next);
                const char *key_end, *value, *number_end;
                int cpu = line < b->end ? summary_cpu(line, eol, &number_end) : -1;

                if (cpu >= 0) {
                        int k = index_of(cpus, cpu);

                        if (k >= 0) {
                                g_string_append_printf(out, "processor %d", k);
                                g_string_append_len(out, number_end, next - number_end);
                        }
                } else if (line < b->end && split_key(line, eol, &key_end, &value) &&
                           key_is(line, key_end, "# processors")) {
                        g_string_append_len(out, line, value - line);
                        g_string_append_printf(out, "%u", cpus->count);
                        g_string_append_len(out, eol, next - eol);
                } else {
                        g_string_append_len(out, line, next - line);
                }
                line = next;
        }
}

int capfs_cpuinfo_select(const char *text, size_t len, const CapfsCpuList *cpus, GString *out) {
        g_autoptr(GArray) blocks = g_array_new(FALSE, FALSE, sizeof(Block));
        g_autoptr(GHashTable) by_cpu = g_hash_table_new(g_direct_hash, g_direct_equal);
        const char *prefix_end;
        guint first = G_MAXUINT, last = 0;
        int r;

        g_assert(cpus->count > 0);
        if (len == 0)
                return -EINVAL;
        r = split_blocks(text, len, &prefix_end, blocks);
        if (r < 0)
                return r;

        for (guint i = 0; i < blocks->len; i++) {
                Block *b = &g_array_index(blocks, Block, i);

                if (b->cpu < 0)
                        continue;
                /* Per-CPU blocks must follow each other: a foreign block between them is unknown. */
                if (first != G_MAXUINT && last != i - 1)
                        return -EINVAL;
                if (first == G_MAXUINT)
                        first = i;
                last = i;
                if (!g_hash_table_insert(by_cpu, GINT_TO_POINTER(b->cpu + 1), b))
                        return -EINVAL;
        }
        if (first == G_MAXUINT)
                return -EINVAL;
        for (guint i = 0; i < first; i++)
                if (!block_has_key(&g_array_index(blocks, Block, i), "# processors"))
                        return -EINVAL;

        g_string_truncate(out, 0);
        g_string_append_len(out, text, prefix_end - text);
        for (guint i = 0; i < first; i++)
                append_header(&g_array_index(blocks, Block, i), cpus, out);

        for (unsigned k = 0; k < cpus->count; k++) {
                const Block *b = g_hash_table_lookup(by_cpu, GINT_TO_POINTER((int) cpus->cpu[k] + 1));
                /*
                 * The blank lines after the k-th block shown are those after the k-th host
                 * block, and the last shown gets the last host block's: the file keeps the
                 * kernel's shape whether it ends in a blank line or a platform block.
                 */
                const Block *shape =
                        &g_array_index(blocks, Block, k + 1 == cpus->count ? last : MIN(first + k, last));

                if (!b)
                        return -ENOENT;
                g_string_append_len(out, b->start, b->number - b->start);
                g_string_append_printf(out, "%u", k);
                g_string_append_len(out, b->number_end, b->end - b->number_end);
                g_string_append_len(out, shape->end, shape->sep_end - shape->end);
        }

        if (last + 1 < blocks->len) {
                const Block *trailer = &g_array_index(blocks, Block, last + 1);
                g_string_append_len(out, trailer->start, text + len - trailer->start);
        }
        return 0;
}

int capfs_render_proc_cpuinfo(const CapfsHost *host, const CapfsContainer *ct, GString *out) {
        g_autofree CapfsCpuList *cpus = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        int r;

        r = capfs_container_cpus(host, ct, &cpus);
        if (r < 0)
                return r;
        r = capfs_held_read(host, host->proc_fd, "cpuinfo", text);
        if (r < 0)
                return r;
        return capfs_cpuinfo_select(text->str, text->len, cpus, out);
}
