#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs every integration test by hand: tests/integration/run-all.sh [PATH/TO/capfs]
# (as root; default build/bindings/capfs). scripts/test.sh runs them through meson instead
# (`meson test -C BUILDDIR --suite integration`).
set -uo pipefail

here=$(dirname "$(readlink -f "$0")")
capfs=$(readlink -f "${1:-$here/../../build/bindings/capfs}")
[[ -x "$capfs" ]] || {
        echo "run-all.sh: no capfs binary at $capfs; build first (ninja -C build)" >&2
        exit 2
}

failed=()
for t in "$here"/test-*.sh; do
        name=$(basename "$t" .sh)
        echo "# ---- $name"
        timeout -k 10 300 "$t" "$capfs" || failed+=("$name")
done
if ((${#failed[@]})); then
        echo "# FAILED: ${failed[*]}"
        exit 1
fi
echo "# all passed"
