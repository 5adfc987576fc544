/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests point libcapfs at fixture trees under tests/data/ and compare exact output. */
#pragma once

#include "capfs.h"
#include "internal.h"

/* tests/data/LAYOUT, opened as a host root ("v1" or "v2"). Aborts the test on failure. */
CapfsHost *fixture_host(const char *layout, CapfsCpuView cpu_view);
/* Any directory laid out like a host root (a scratch tree built by a test). */
CapfsHost *fixture_host_at(const char *root);
CapfsContainer *fixture_container(CapfsHost *host, pid_t caller);
/* Absolute path of tests/data/REL. */
char *fixture_path(const char *rel);

/*
 * Renders @path for @caller and compares it byte for byte with tests/data/expected/EXPECTED.
 * With CAPFS_UPDATE_EXPECTED=1 in the environment it writes the file instead (review the diff!).
 */
void fixture_assert_render(CapfsHost *host, pid_t caller, const char *path, const char *expected);
