# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The TAP helpers of tests/install/*.sh and tests/systemd/*.sh: ok, not_ok DESC [DIAG...],
# check DESC COMMAND..., assert_eq DESC WANT GOT, assert_match DESC REGEX GOT, diag TEXT...,
# bail REASON...; n counts the points, failed the failures. Failures and bail-outs also go to
# stderr: meson keeps only a TAP program's stderr in its logs.

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
        n=$((n + 1))
        failed=$((failed + 1))
        echo "not ok $n - $1"
        echo "not ok $n - $1" >&2
        shift
        local line
        for line in "$@"; do
                echo "# $line"
                echo "# $line" >&2
        done
}
check() {
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "failed: $*" "$out"; fi
}
assert_eq() {
        if [[ $3 == "$2" ]]; then ok "$1"; else not_ok "$1" "expected: '$2'" "  actual: '$3'"; fi
}
assert_match() {
        if [[ $3 =~ $2 ]]; then ok "$1"; else not_ok "$1" "expected to match: '$2'" "  actual: '$3'"; fi
}
diag() {
        local line
        while IFS= read -r line; do echo "# $line"; done <<<"$*"
}
bail() {
        echo "Bail out! $*"
        echo "Bail out! $*" >&2
        exit 1
}
not() { ! "$@"; }
# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s; fails once SECONDS have passed.
wait_until() {
        local deadline=$((SECONDS + $1))
        shift
        until "$@"; do
                ((SECONDS < deadline)) || return 1
                sleep 0.2
        done
}
