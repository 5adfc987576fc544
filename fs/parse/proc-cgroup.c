/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/cgroup: "ID:controller,controller:/path", one line per hierarchy. */
#include "parse.h"
#include "scan.h"

static int add_controllers(GHashTable *table, const CapfsScan *controllers, const CapfsScan *path) {
        CapfsScan rest = *controllers;

        /* cgroup2's "0::/path" lists no controllers; it gets the key "". */
        if (capfs_scan_eof(&rest)) {
                g_hash_table_replace(table, g_strdup(""), g_strndup(path->pos, capfs_scan_len(path)));
                return 0;
        }
        for (;;) {
                const char *comma = memchr(rest.pos, ',', capfs_scan_len(&rest));
                const char *name_end = comma ? comma : rest.end;

                if (name_end == rest.pos)
                        return -EINVAL;
                g_hash_table_replace(table, g_strndup(rest.pos, (size_t) (name_end - rest.pos)),
                                     g_strndup(path->pos, capfs_scan_len(path)));
                if (!comma)
                        return 0;
                rest.pos = comma + 1;
        }
}

int capfs_parse_proc_cgroup(const char *buf, size_t len, GHashTable **ret) {
        CapfsScan s = capfs_scan_init(buf, len), line;
        g_autoptr(GHashTable) table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        int r;

        while (capfs_scan_line(&s, &line)) {
                CapfsScan controllers, path;
                const char *colon;
                uint64_t hierarchy_id;

                if (capfs_scan_eof(&line))
                        continue;
                /* Keys and paths become C strings: a NUL would cut one short without a word. */
                if (capfs_scan_has_nul(&line))
                        return -EINVAL;
                r = capfs_scan_u64(&line, &hierarchy_id);
                if (r < 0)
                        return r;
                if (!capfs_scan_char(&line, ':'))
                        return -EINVAL;
                /* The path may hold ':' itself, so only the first one ends the controllers. */
                colon = memchr(line.pos, ':', capfs_scan_len(&line));
                if (!colon)
                        return -EINVAL;
                controllers = (CapfsScan){line.pos, colon};
                path = (CapfsScan){colon + 1, line.end};
                if (capfs_scan_eof(&path) || *path.pos != '/')
                        return -EINVAL;
                r = add_controllers(table, &controllers, &path);
                if (r < 0)
                        return r;
        }

        *ret = g_steal_pointer(&table);
        return 0;
}
