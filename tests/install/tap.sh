# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The TAP helpers of tests/install/*.sh: ok, not_ok DESC [DIAG...], check DESC COMMAND...; n counts
# the points, failed the failures.

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $1"
        shift
        local line
        for line in "$@"; do echo "# $line"; done
}
check() {
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "failed: $*" "$out"; fi
}
