#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The serving worker is killed with SIGKILL again and again while a container reads in a loop:
# the supervisor keeps the FUSE connection and starts another worker, the container's reads keep
# succeeding after a short pause and never see ENOTCONN, requests in flight are resent, files
# and directories opened before a crash keep working, and the mount is the same mount throughout.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"
setup

KILLS=6
LIMIT=268435456 # 256 MiB
LIMIT_KB=262144

cg_create ct1
cg_limit_memory ct1 "$LIMIT"
supervisor=$CAPFS_PID
mount_before=$(mount_id "$MNT")
log="$WORKDIR/capfs-$(basename "$MNT").log" # as start_capfs names it

check "capfs --check: served" "$CAPFS" --check "$MNT"
assert_match "capfs --check names the supervisor and the worker" \
        "served \\(supervisor pid $supervisor, worker pid [0-9]+" "$("$CAPFS" --check "$MNT")"

# Held open across the crashes, from the host: a file mid-read and a directory.
exec {held_file}<"$MNT/proc/meminfo"
IFS= read -r -u "$held_file" first_line
exec {held_dir}<"$MNT/proc"

start_reader a ct1 "$MNT/proc/meminfo" "$LIMIT_KB"
wait_reader a || bail "the container's reader never read $MNT/proc/meminfo"

workers=("$(worker_of "$MNT")")
for ((i = 1; i <= KILLS; i++)); do
        sleep 1.2
        if kill_worker "$MNT"; then
                workers+=("$(worker_of "$MNT")")
        else
                not_ok "kill $i: another worker serves within ${EVENT_TIMEOUT}s" "status: $(tr '\n' ' ' <"$(status_file "$MNT")")"
        fi
done
sleep 1
stop_reader a

assert_eq "every SIGKILL was followed by a new worker" $((KILLS + 1)) "$(printf '%s\n' "${workers[@]}" | sort -u | wc -l)"
check "the supervisor is still running" not pid_gone "$supervisor"
assert_eq "the mount is the same mount" "$mount_before" "$(mount_id "$MNT")"
allow_eintr=false
kernel_lacks_resend "$log" && allow_eintr=true
assert_reader_clean a "container reading through $KILLS worker crashes" "$allow_eintr"
diag "reads: $(reader_result a good), longest pause between two reads: $(reader_result a maxgap) ms"
diag "requests in flight at the kills: $(grep -c 'in flight in the dead worker' "$log") of $KILLS kills hit some" \
        "($(grep -o '[0-9]* request(s) were in flight' "$log" | awk '{ n += $1 } END { print n + 0 }') requests)"

# The file opened before: the rest of it, read at its offset through a handle a dead worker made.
IFS= read -r -u "$held_file" second_line
assert_match "a file opened before the crashes: reads on at its offset" '^MemTotal:' "$first_line"
assert_match "a file opened before the crashes: the next line follows" '^MemFree:' "$second_line"
exec {held_file}<&-
entries=$(ls "/proc/self/fd/$held_dir/" 2>&1 | sort | tr '\n' ' ')
assert_match "a directory opened before the crashes: lists its entries" '(^| )meminfo ' "$entries"
exec {held_dir}<&-

# Lookups the kernel made before the crashes (inodes it keeps) still resolve.
check "a path looked up before the crashes: stat works" stat "$MNT/proc/meminfo"
check "a path looked up before the crashes: reads" meminfo_field "$MNT/proc/meminfo" MemTotal
after=$(run_in_ct ct1 meminfo_field "$MNT/proc/meminfo" MemTotal)
assert_eq "a container's read after the crashes: its own limit" "$LIMIT_KB" "$after"

# SIGKILL while the worker is stopped with requests waiting for it: they are served after.
old=$(serving_worker "$MNT") || bail "no worker serves $MNT"
kill -STOP "$old"
timeout "$IO_TIMEOUT" cat "$MNT/proc/uptime" >"$WORKDIR/waiting.out" 2>&1 &
waiting=$!
# The read must be in the kernel's queue before the kill.
wait_until "$EVENT_TIMEOUT" child_waits_on_fuse "$waiting" || diag "the read never reached the stopped worker's queue"
kill -KILL "$old"
wait_until "$EVENT_TIMEOUT" new_worker_serves "$MNT" "$old"
wait "$waiting"
assert_eq "a read waiting on a stopped worker that is then killed: succeeds" 0 $?
assert_match "a read waiting on a stopped worker that is then killed: its content" '^[0-9]+\.[0-9]+ ' \
        "$(cat "$WORKDIR/waiting.out")"

check "capfs --check after the crashes: served" "$CAPFS" --check "$MNT"

# The load averages go on across a crash: a container with two busy tasks has a rising load; the
# next worker starts from the last one's, not from 0 (which one pass would only bring to 0.16).
# loadavg_watch: init of the container; two spinners, and its loadavg every 0.2 s into a file.
loadavg_watch() {
        local out=$1 stop=$2 line
        (while :; do :; done) &
        (while :; do :; done) &
        while [[ ! -e "$stop" ]]; do
                IFS= read -r line <"$MNT/proc/loadavg" && echo "$line" >>"$out"
                sleep 0.2
        done
}
first_avg() {
        tail -n 1 "$WORKDIR/loadavg" 2>/dev/null | cut -d' ' -f1
}
at_least() {
        awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'
}
loadavg_rose() {
        at_least "$(first_avg)" 0.30
}
# loadavg_lines_beyond N: the watcher has written more than N lines (it reads again and again).
loadavg_lines_beyond() {
        (($(wc -l <"$WORKDIR/loadavg") > $1))
}
cg_create busy
CT_FUNCS=loadavg_watch run_in_ct busy loadavg_watch "$WORKDIR/loadavg" "$WORKDIR/loadavg.stop" &
watcher=$!
if wait_until "$EVENT_TIMEOUT" loadavg_rose; then
        before=$(first_avg)
        kill_worker "$MNT"
        lines=$(wc -l <"$WORKDIR/loadavg")
        wait_until "$EVENT_TIMEOUT" loadavg_lines_beyond $((lines + 2))
        after=$(first_avg)
        check "loadavg across a crash: goes on from $before (read $after), not from 0" at_least "$after" "$before"
else
        not_ok "a container with two busy tasks: its loadavg rises to 0.30 within ${EVENT_TIMEOUT}s" \
                "last read: $(tail -n 1 "$WORKDIR/loadavg" 2>/dev/null)"
fi
: >"$WORKDIR/loadavg.stop"
wait "$watcher"

# A dead daemon (supervisor killed: its worker goes with it) leaves a disconnected mount; --check
# says so and exits 1.
mkdir "$WORKDIR/dead"
if start_capfs "$WORKDIR/dead"; then
        pid=$CAPFS_PID
        dead_worker=$(worker_of "$WORKDIR/dead")
        kill -KILL "$pid"
        wait_until "$EVENT_TIMEOUT" pid_gone "$pid"
        wait "$pid" 2>/dev/null
        _daemon_reaped[$pid]=killed
        check "a killed supervisor takes its worker with it" wait_until "$EVENT_TIMEOUT" pid_gone "$dead_worker"
        out=$("$CAPFS" --check "$WORKDIR/dead")
        assert_eq "capfs --check on a dead mount: exit 1" 1 $?
        assert_match "capfs --check on a dead mount: says disconnected" "disconnected" "$out"
        timeout 5 umount -l "$WORKDIR/dead"
        remove_status_file "$WORKDIR/dead"
else
        not_ok "start capfs on $WORKDIR/dead"
fi
out=$("$CAPFS" --check "$WORKDIR/dead")
assert_eq "capfs --check on a directory nothing is mounted on: exit 1" 1 $?
assert_match "capfs --check on a directory nothing is mounted on: says so" "not mounted" "$out"

finish
