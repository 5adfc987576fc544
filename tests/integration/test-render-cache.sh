#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The render cache's bound (--render-cache-ms): a container's reader loops over proc/meminfo while
# the host changes the container's memory limit; every read that began later than the bound after
# the change shows the new limit, and with --render-cache-ms=0 every read that began after it
# does. The cgroup view's contents are never kept: a value a container writes through it reads back at
# once. Entries below by-pidns/N (the container's own view, which the kernel may keep) follow the
# same bound. Out-of-range values of the option are refused, naming it.
source "$(dirname "$0")/lib.sh"
setup

# The container's processes live in ct/init.scope, which capfs counts as its root ct (as systemd
# does it): on cgroup2 a cgroup whose children have controllers holds no processes.
cg_create ct/init.scope
cg_create ct/child
cg_limit_memory ct 268435456
if on_v2; then MEM_MAX=memory.max; else MEM_MAX=memory.limit_in_bytes; fi
export MEM_MAX

# reader MNT LOG STOP: "START_US MEMTOTAL" per read of MNT/proc/meminfo into LOG (the start by
# the realtime clock, which host and container share) until the file STOP exists.
reader() {
        local start total
        while [[ ! -e $3 ]]; do
                start=${EPOCHREALTIME/./}
                total=$(meminfo_field "$1/proc/meminfo" MemTotal) || total=error
                echo "$start $total" >>"$2"
        done
}

# reads_after LOG US: how many reads began after US.
reads_after() {
        awk -v t="$2" '$1 > t { n++ } END { print n + 0 }' "$1" 2>/dev/null || echo 0
}

reads_at_least() {
        (($(reads_after "$2" "${3:-0}") >= $1))
}

# wait_reads N LOG PID [US]: until LOG has N reads after US, or the reader PID has ended (then
# without waiting out EVENT_TIMEOUT); fails unless the reads are there.
wait_reads() {
        wait_until "$EVENT_TIMEOUT" eval "reads_at_least $1 $2 ${4:-0} || ! kill -0 $3 2>/dev/null"
        reads_at_least "$1" "$2" "${4:-0}"
}

# A run of the reader in the container across one change of its limit on the host, made
# once it has read a few times; the limit is set back at the end. Sets CHANGED (µs).
change_under_reader() {
        local mnt=$1 log=$2 stop=$3
        run_in_ct ct/init.scope reader "$mnt" "$log" "$stop" &
        local pid=$!
        wait_reads 20 "$log" "$pid" || bail "the reader in the container did not read $mnt/proc/meminfo"
        cg_limit_memory ct 134217728
        CHANGED=${EPOCHREALTIME/./}
        # Enough reads after the bound to mean something; EVENT_TIMEOUT only if it hangs.
        wait_reads 20 "$log" "$pid" $((CHANGED + 50000)) || bail "the reader stopped reading after the change"
        touch "$stop"
        wait "$pid"
        cg_limit_memory ct 268435456
}

# check_bound NAME LOG CHANGED_US BOUND_US
check_bound() {
        local name=$1 log=$2 changed=$3 bound=$4 stale before errors
        errors=$(awk '$2 == "error"' "$log" | wc -l)
        before=$(awk -v t="$changed" '$1 <= t && $2 == 262144' "$log" | wc -l)
        stale=$(awk -v t=$((changed + bound)) '$1 > t && $2 != 131072' "$log")
        assert_eq "$name: no failed read" 0 "$errors"
        check "$name: the reads before the change saw 256 MiB ($before of them)" test "$before" -ge 20
        assert_eq "$name: every read begun over $((bound / 1000)) ms after the change sees 128 MiB" "" "$stale"
        diag "$name: $(wc -l <"$log") reads, $(reads_after "$log" "$changed") after the change, of which" \
                "$(awk -v t="$changed" '$1 > t && $2 == 262144' "$log" | wc -l) still showed 256 MiB"
}

# ---------------------------------------------------------------- the bound, at its maximum
MNT50=$WORKDIR/mnt-50 && mkdir "$MNT50"
start_capfs "$MNT50" --render-cache-ms=50 || bail "capfs --render-cache-ms=50 did not mount"
change_under_reader "$MNT50" "$WORKDIR/reads-50" "$WORKDIR/stop-50"
check_bound "--render-cache-ms=50" "$WORKDIR/reads-50" "$CHANGED" 50000

# ---------------------------------------------------------------- and off
MNT0=$WORKDIR/mnt-0 && mkdir "$MNT0"
start_capfs "$MNT0" --render-cache-ms=0 || bail "capfs --render-cache-ms=0 did not mount"
change_under_reader "$MNT0" "$WORKDIR/reads-0" "$WORKDIR/stop-0"
check_bound "--render-cache-ms=0" "$WORKDIR/reads-0" "$CHANGED" 0

# ---------------------------------------------------------------- the view reads back at once
# A container writes its child's limit through the view and reads it back in the same breath,
# several values in a row, with the render cache at its maximum.
write_read_back() {
        local knob=$1 value got
        for value in 104857600 52428800 209715200 73400320; do
                echo "$value" >"$knob" || {
                        echo "write $value failed"
                        continue
                }
                got=$(rd "$knob")
                echo "$value=$got"
        done
}
view=$(cg_view memory ct/child)
out=$(run_in_ct ct/init.scope write_read_back "$MNT50${view#"$MNT"}/$MEM_MAX")
diag "$out"
assert_eq "each value written through the view reads back at once" \
        "104857600=104857600 52428800=52428800 209715200=209715200 73400320=73400320" "$(echo $out)"
assert_eq "and is the host's" 73400320 "$(cat "$(cg_host memory ct/child)/$MEM_MAX")"

# ---------------------------------------------------------------- by-pidns: entries kept, bounded
# The container's own by-pidns/N/cgroup, whose entries the kernel keeps for the same bound: a
# cgroup the host removes is gone for every look that began later than the bound after it.
cg_create ct/gone
# watcher MNT VIEW_REL LOG STOP: "START_US yes|no" per stat of the cgroup, until STOP exists.
watcher() {
        local dir start
        dir=$1/by-pidns/$(stat -L -c %i /proc/self/ns/pid)/cgroup/$2
        while [[ ! -e $4 ]]; do
                start=${EPOCHREALTIME/./}
                if [[ -d $dir ]]; then echo "$start yes"; else echo "$start no"; fi >>"$3"
        done
}
view=$(cg_view memory ct/gone)
log=$WORKDIR/looks stop=$WORKDIR/stop-looks
run_in_ct ct/init.scope watcher "$MNT50" "${view#"$MNT/cgroup/"}" "$log" "$stop" &
watcher_pid=$!
wait_reads 20 "$log" "$watcher_pid" || bail "the watcher in the container did not look"
rmdir "$(cg_host memory ct/gone)" || bail "cannot remove $(cg_host memory ct/gone)"
CHANGED=${EPOCHREALTIME/./}
# The kernel counts an entry's time from the reply it came in, in clock ticks (4 ms at HZ=250):
# a reply made just before the removal may arrive just after it. 20 ms of slack for both.
wait_reads 20 "$log" "$watcher_pid" $((CHANGED + 70000)) || bail "the watcher stopped looking"
touch "$stop"
wait "$watcher_pid"
check "by-pidns: the container saw its cgroup before ($(awk '$2 == "yes"' "$log" | wc -l) looks)" \
        test "$(awk -v t="$CHANGED" '$1 <= t && $2 == "yes"' "$log" | wc -l)" -ge 20
assert_eq "by-pidns: every look begun over 50 ms (+20 ms of ticks) after the host removed it finds it gone" "" \
        "$(awk -v t=$((CHANGED + 70000)) '$1 > t && $2 != "no"' "$log")"
diag "by-pidns: $(awk -v t="$CHANGED" '$1 > t && $2 == "yes"' "$log" | wc -l) looks after the removal still found it"

# ---------------------------------------------------------------- the option's range
for bad in 51 -1 abc; do
        msg=$("$CAPFS" --foreground --render-cache-ms="$bad" "$WORKDIR/never" 2>&1)
        rc=$?
        check "--render-cache-ms=$bad is refused (exit $rc)" test "$rc" -ne 0
        assert_match "--render-cache-ms=$bad: the message names the option" 'render-cache-ms' "$msg"
done
check "nothing was mounted for them" not fuse_mounted_at "$WORKDIR/never"

finish
