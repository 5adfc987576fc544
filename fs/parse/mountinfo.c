/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/PID/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE
 * SUPER_OPTIONS", one mount per line, fields separated by one space. The kernel escapes space,
 * tab, newline and backslash inside paths as \ooo, so a field never holds a space.
 */
#include "parse.h"
#include "scan.h"

static bool is_octal(char c) {
        return c >= '0' && c <= '7';
}

char *capfs_unescape_mountinfo(const char *field, size_t len) {
        GString *out = g_string_sized_new(len);

        for (size_t i = 0; i < len; i++) {
                if (field[i] == '\\' && len - i > 3 && is_octal(field[i + 1]) && is_octal(field[i + 2]) &&
                    is_octal(field[i + 3])) {
                        unsigned value = (unsigned) (field[i + 1] - '0') * 64 +
                                         (unsigned) (field[i + 2] - '0') * 8 +
                                         (unsigned) (field[i + 3] - '0');
                        /* \000 would cut the string; above \377 is no byte. Both stay as written. */
                        if (value != 0 && value <= 0xff) {
                                g_string_append_c(out, (char) value);
                                i += 3;
                                continue;
                        }
                }
                g_string_append_c(out, field[i]);
        }
        return g_string_free(out, FALSE);
}

static void mountinfo_free(gpointer p) {
        CapfsMountinfo *m = p;

        g_free(m->root);
        g_free(m->mountpoint);
        g_free(m->options);
        g_free(m->fstype);
        g_free(m->source);
        g_free(m->super_options);
        g_free(m);
}

/* The next space-separated field of LINE, into FIELD; false at the end of the line. */
static bool next_field(CapfsScan *line, CapfsScan *field) {
        if (capfs_scan_eof(line))
                return false;
        const char *space = memchr(line->pos, ' ', capfs_scan_len(line));
        field->pos = line->pos;
        field->end = space ? space : line->end;
        line->pos = space ? space + 1 : line->end;
        return field->pos < field->end;
}

static int parse_int_field(CapfsScan *field, int *ret) {
        uint64_t v;
        int r = capfs_scan_u64(field, &v);

        if (r < 0)
                return r;
        if (!capfs_scan_eof(field) || v > INT32_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

static int parse_line(CapfsScan *line, CapfsMountinfo *m) {
        CapfsScan id, parent, dev, root, mountpoint, options, sep, fstype, source, super;
        uint64_t major, minor;
        int r;

        if (!next_field(line, &id) || !next_field(line, &parent) || !next_field(line, &dev) ||
            !next_field(line, &root) || !next_field(line, &mountpoint) || !next_field(line, &options))
                return -EINVAL;
        if ((r = parse_int_field(&id, &m->id)) < 0 || (r = parse_int_field(&parent, &m->parent)) < 0)
                return r;
        if ((r = capfs_scan_u64(&dev, &major)) < 0 || !capfs_scan_char(&dev, ':') ||
            (r = capfs_scan_u64(&dev, &minor)) < 0 || !capfs_scan_eof(&dev) || major > UINT32_MAX ||
            minor > UINT32_MAX)
                return r < 0 ? r : -EINVAL;
        m->major = (unsigned) major;
        m->minor = (unsigned) minor;
        /* Optional fields ("shared:1", "master:2") until a lone "-". */
        do
                if (!next_field(line, &sep))
                        return -EINVAL;
        while (!capfs_scan_equals(&sep, "-"));
        if (!next_field(line, &fstype) || !next_field(line, &source) || !next_field(line, &super) ||
            !capfs_scan_eof(line))
                return -EINVAL;
        m->root = capfs_unescape_mountinfo(root.pos, capfs_scan_len(&root));
        m->mountpoint = capfs_unescape_mountinfo(mountpoint.pos, capfs_scan_len(&mountpoint));
        m->options = g_strndup(options.pos, capfs_scan_len(&options));
        m->fstype = g_strndup(fstype.pos, capfs_scan_len(&fstype));
        m->source = capfs_unescape_mountinfo(source.pos, capfs_scan_len(&source));
        m->super_options = g_strndup(super.pos, capfs_scan_len(&super));
        return 0;
}

int capfs_parse_mountinfo(const char *buf, size_t len, GPtrArray **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func(mountinfo_free);

        while (capfs_scan_line(&s, &line)) {
                if (capfs_scan_eof(&line))
                        continue;
                /* Fields become C strings: a NUL would cut one short without a word. */
                if (capfs_scan_has_nul(&line))
                        return -EINVAL;
                CapfsMountinfo *m = g_new0(CapfsMountinfo, 1);
                int r = parse_line(&line, m);
                if (r < 0) {
                        mountinfo_free(m);
                        return r;
                }
                g_ptr_array_add(mounts, m);
        }
        *ret = g_steal_pointer(&mounts);
        return 0;
}
