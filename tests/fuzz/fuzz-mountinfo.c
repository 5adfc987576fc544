/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * capfs_parse_mountinfo(): /proc/PID/mountinfo. What parses is written back the way the kernel
 * writes it (paths escaped as \ooo) and must parse to the same mounts again.
 */
#include "fuzz.h"
#include "parse/parse.h"

/* The kernel's escaping of a path field: space, tab, newline and backslash as \ooo. */
static void append_escaped(GString *out, const char *field) {
        for (const char *p = field; *p; p++) {
                if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
                        g_string_append_printf(out, "\\%03o", (unsigned char) *p);
                else
                        g_string_append_c(out, *p);
        }
}

static void append_mount(GString *out, const CapfsMountinfo *m) {
        g_string_append_printf(out, "%d %d %u:%u ", m->id, m->parent, m->major, m->minor);
        append_escaped(out, m->root);
        g_string_append_c(out, ' ');
        append_escaped(out, m->mountpoint);
        g_string_append_printf(out, " %s - %s ", m->options, m->fstype);
        append_escaped(out, m->source);
        g_string_append_printf(out, " %s\n", m->super_options);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        g_autoptr(GPtrArray) mounts = NULL, again = NULL;
        g_autoptr(GString) text = g_string_new(NULL);
        int r;

        r = capfs_parse_mountinfo((const char *) data, size, &mounts);
        if (r < 0) {
                FUZZ_CHECK_ERRNO(r);
                FUZZ_CHECK(mounts == NULL);
                return 0;
        }
        for (guint i = 0; i < mounts->len; i++) {
                const CapfsMountinfo *m = mounts->pdata[i];
                /* Fields the parser cuts at spaces hold none; the unescaped ones may. */
                FUZZ_CHECK(m->options[0] && !strpbrk(m->options, " \n"));
                FUZZ_CHECK(m->fstype[0] && !strpbrk(m->fstype, " \n"));
                FUZZ_CHECK(m->super_options[0] && !strpbrk(m->super_options, " \n"));
                FUZZ_CHECK(m->root[0] && m->mountpoint[0] && m->source[0]);
                FUZZ_CHECK(m->id >= 0 && m->parent >= 0);
                append_mount(text, m);
        }

        FUZZ_CHECK(capfs_parse_mountinfo(text->str, text->len, &again) == 0);
        FUZZ_CHECK(again->len == mounts->len);
        for (guint i = 0; i < mounts->len; i++) {
                const CapfsMountinfo *a = mounts->pdata[i], *b = again->pdata[i];
                FUZZ_CHECK(a->id == b->id && a->parent == b->parent && a->major == b->major &&
                           a->minor == b->minor);
                FUZZ_CHECK(strcmp(a->root, b->root) == 0 && strcmp(a->mountpoint, b->mountpoint) == 0);
                FUZZ_CHECK(strcmp(a->options, b->options) == 0 && strcmp(a->fstype, b->fstype) == 0);
                FUZZ_CHECK(strcmp(a->source, b->source) == 0 &&
                           strcmp(a->super_options, b->super_options) == 0);
        }
        return 0;
}
