/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fixture.h"

char *fixture_path(const char *rel) {
        return g_build_filename(CAPFS_TEST_DATA, rel, NULL);
}

static CapfsHost *open_host(const char *root, CapfsCpuView cpu_view) {
        g_autoptr(GError) error = NULL;
        CapfsHost *host = capfs_host_open(root, cpu_view, &error);

        g_assert_no_error(error);
        g_assert_nonnull(host);
        return host;
}

CapfsHost *fixture_host(const char *layout, CapfsCpuView cpu_view) {
        g_autofree char *root = fixture_path(layout);
        return open_host(root, cpu_view);
}

CapfsHost *fixture_host_at(const char *root) {
        return open_host(root, CAPFS_CPU_VIEW_QUOTA);
}

CapfsContainer *fixture_container(CapfsHost *host, pid_t caller) {
        CapfsContainer *ct = NULL;
        int r = capfs_container_resolve(host, caller, &ct);

        g_assert_cmpint(r, ==, 0);
        g_assert_nonnull(ct);
        return ct;
}

void fixture_assert_render(CapfsHost *host, pid_t caller, const char *path, const char *expected) {
        g_autoptr(CapfsContainer) ct = fixture_container(host, caller);
        g_autoptr(GString) out = g_string_new(NULL);
        g_autoptr(GError) error = NULL;
        g_autofree char *expected_path = NULL;
        g_autofree char *want = NULL;
        gsize want_len;
        int r;

        expected_path = g_build_filename(CAPFS_TEST_DATA, "expected", expected, NULL);
        r = capfs_node_read(host, ct, path, out);
        g_assert_cmpint(r, ==, 0);

        if (g_strcmp0(g_getenv("CAPFS_UPDATE_EXPECTED"), "1") == 0) {
                g_autofree char *dir = g_path_get_dirname(expected_path);
                g_mkdir_with_parents(dir, 0755);
                g_file_set_contents(expected_path, out->str, out->len, &error);
                g_assert_no_error(error);
                return;
        }
        g_file_get_contents(expected_path, &want, &want_len, &error);
        g_assert_no_error(error);
        if (want_len != out->len || memcmp(want, out->str, want_len) != 0)
                g_test_message("%s for pid %d differs from %s; got:\n%s", path, (int) caller, expected_path,
                               out->str);
        g_assert_cmpstr(out->str, ==, want);
}
