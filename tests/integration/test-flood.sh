#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A bad neighbour: one container keeps thousands of reads waiting in capfs at once. Another
# container's reads must still be answered, correctly and without errors, while it lasts; the
# daemon's memory stays bounded and it serves normally afterwards. The quiet container's
# latencies are reported (diag), not asserted: timing belongs to bench/, not to tests.
source "$(dirname "$0")/lib.sh"
FLOOD=${CAPFS_TEST_FLOOD:-$(dirname "$CAPFS")/../tests/integration/capfs-test-flood}
setup
source "$(dirname "$0")/restart-lib.sh"
[[ -x "$FLOOD" ]] || bail "capfs-test-flood not built (looked for $FLOOD)"

THREADS=${CAPFS_FLOOD_THREADS:-10000}
QUIET_SECONDS=4
QUIET_KB=131072

cg_create noisy
cg_limit_memory noisy 1073741824
cg_create quiet
cg_limit_memory quiet $((QUIET_KB * 1024))

flood() {
        "$FLOOD" flood "$@"
}
quiet() {
        "$FLOOD" quiet "$@"
}
export FLOOD
export CT_FUNCS="flood quiet"

worker=$(serving_worker "$MNT") || bail "no worker serves $MNT"
diag "capfs serves with $(grep -oE 'per-container request queues|requests in arrival order' \
        "$WORKDIR/capfs-$(basename "$MNT").log" | head -n 1)"
rss_kb() {
        awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}
rss_before=$(rss_kb "$worker")

alone=$(run_in_ct quiet quiet "$MNT/proc/meminfo" 2)
diag "quiet container alone: $(tr '\n' ' ' <<<"$alone")"

# The flood lasts until the quiet container is done; it says when all its threads run.
run_in_ct noisy flood "$MNT/proc/meminfo" "$THREADS" "$WORKDIR/flood.stop" "$CT_TIMEOUT" >"$WORKDIR/flood.out" 2>&1 &
flooder=$!
flood_started() {
        grep -q '^started=' "$WORKDIR/flood.out" || pid_gone "$flooder"
}
wait_until "$EVENT_TIMEOUT" flood_started
check "the flood runs (all its threads started) before the quiet container reads" \
        grep -qx "started=$THREADS" "$WORKDIR/flood.out"
during=$(run_in_ct quiet quiet "$MNT/proc/meminfo" "$QUIET_SECONDS")
rss_during=$(rss_kb "$worker")
check "the flood was still on when the quiet container finished" not pid_gone "$flooder"
: >"$WORKDIR/flood.stop"
wait "$flooder"
flood_out=$(cat "$WORKDIR/flood.out")
diag "flooding container: $(tr '\n' ' ' <<<"$flood_out")"
diag "quiet container during the flood: $(tr '\n' ' ' <<<"$during")"
diag "worker RSS: ${rss_before} kB before, ${rss_during} kB during the flood"

assert_eq "the flood ran all its threads to the end" "$THREADS" "$(grep -o 'threads=[0-9]*' <<<"$flood_out" | cut -d= -f2)"
assert_match "the quiet container was answered during the flood" 'reads=[1-9]' "$during"
assert_match "the quiet container: no failed read during the flood" 'errors=0 ' "$during"
assert_eq "the quiet container's reads show its own limit" "$QUIET_KB" \
        "$(run_in_ct quiet meminfo_field "$MNT/proc/meminfo" MemTotal)"
check "the same worker serves after the flood" test "$(worker_of "$MNT")" = "$worker"
finish
