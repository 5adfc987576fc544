#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# capfs-fdstore plays systemd's fd store where no systemd unit runs capfs (the Kubernetes
# DaemonSet of deploy/kubernetes): `capfs-fdstore keep DIR` outlives capfs's pod and holds its
# FUSE connection; `capfs-fdstore run DIR -- capfs ...` starts the next capfs with it. Here the
# keeper and capfs run as the DaemonSet's two containers do, as processes of ours; a file of the
# mount bound elsewhere stands for a running pod's bind mount, which must keep answering when
# capfs's pod is replaced, when capfs crashes, and when the keeper itself is replaced.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"
require_host
cg_init
FDSTORE=${CAPFS_TEST_FDSTORE:-$(dirname "$CAPFS")/capfs-fdstore}
[[ -x $FDSTORE ]] || bail "no capfs-fdstore at $FDSTORE (set CAPFS_TEST_FDSTORE)"
command -v setpriv >/dev/null || skip_all "setpriv not installed"

LIMIT=268435456 # 256 MiB
LIMIT_KB=262144
LINGER=4
cg_create ct1
cg_limit_memory ct1 "$LIMIT"
# Keeper and capfs run in a cgroup of ours: whatever a failed run leaves is killed.
cg_create service

DIR=$WORKDIR/fds
BIND=$WORKDIR/pod-meminfo
# Run by lib.sh's teardown once our processes are killed: what a failed run left mounted.
test_cleanup() {
        local m
        for m in "$BIND" "$MNT"; do
                awk -v m="$m" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo &&
                        timeout 5 umount -l "$m"
        done
        remove_status_file "$MNT"
}
KEEPER_LOG=$WORKDIR/keeper.log
export FDSTORE CAPFS MNT DIR

keeper() {
        echo $$ >"$DIR.keeper-pid"
        exec "$FDSTORE" keep --linger "$1" "$DIR"
}
capfs_pod() {
        echo $$ >"$DIR.capfs-pid"
        exec "$FDSTORE" run --wait 10 "$DIR" -- "$CAPFS" --foreground "$MNT"
}
# shellcheck disable=SC2034 # run_in_cg passes these to the shell it starts
CT_FUNCS="keeper capfs_pod"

start_keeper() {
        rm -f "$DIR.keeper-pid"
        run_in_cg service keeper "$LINGER" >>"$KEEPER_LOG" 2>&1 &
        wait_until "$EVENT_TIMEOUT" test -S "$DIR/fetch" -a -s "$DIR.keeper-pid" || bail "capfs-fdstore keep never listened"
        keeper_pid=$(cat "$DIR.keeper-pid")
        # The socket may be the last keeper's for an instant: ours has written its start line.
        wait_until "$EVENT_TIMEOUT" grep -q "^capfs-fdstore: $DIR: keeping fds" "$KEEPER_LOG" ||
                bail "capfs-fdstore keep did not start"
}
n_capfs=0
start_capfs_pod() {
        n_capfs=$((n_capfs + 1))
        rm -f "$DIR.capfs-pid"
        run_in_cg service capfs_pod >"$WORKDIR/capfs-$n_capfs.log" 2>&1 &
        wait_until "$EVENT_TIMEOUT" test -s "$DIR.capfs-pid" || bail "capfs's pod did not start"
        capfs_pid=$(cat "$DIR.capfs-pid")
        wait_until "$EVENT_TIMEOUT" served || {
                diag "capfs did not serve $MNT; its output:" "$(cat "$WORKDIR/capfs-$n_capfs.log")"
                bail "capfs under capfs-fdstore run did not serve $MNT"
        }
}
served() {
        [[ $(status "$MNT" supervisor) == "$capfs_pid" ]] && "$CAPFS" --check "$MNT" >/dev/null 2>&1
}
# stop_capfs_pod SIGNAL: what the kubelet does to a pod it replaces (TERM), or a crash (KILL).
stop_capfs_pod() {
        kill "-$1" "$capfs_pid"
        wait_until "$EVENT_TIMEOUT" pid_gone "$capfs_pid" || bail "capfs (pid $capfs_pid) did not end on SIG$1"
}
kept() {
        grep -c "^capfs-fdstore: $DIR: keeping $1\$" "$KEEPER_LOG"
}
kept_once() {
        [[ $(kept "$1") == 1 ]]
}
# The bind answers as the mount does (for us, outside any container: the host's MemTotal).
bind_answers() {
        local want got
        want=$(timeout "$IO_TIMEOUT" awk '$1 == "MemTotal:" { print $2 }' "$MNT/proc/meminfo" 2>&1)
        got=$(LC_ALL=C timeout "$IO_TIMEOUT" awk '$1 == "MemTotal:" { print $2 }' "$BIND" 2>&1)
        [[ $got =~ ^[0-9]+$ && $got == "$want" ]]
}
bind_disconnected() {
        local err
        err=$(LC_ALL=C timeout "$IO_TIMEOUT" head -c 1 "$BIND" 2>&1 >/dev/null)
        [[ $err == *"Transport endpoint is not connected"* ]]
}

# ---- refusals
out=$("$FDSTORE" run --wait 0 "$DIR" -- true 2>&1)
assert_eq "run without a keeper fails" 1 $?
assert_match "... saying which keeper to start" "start 'capfs-fdstore keep $DIR' first" "$out"
out=$("$FDSTORE" keep --linger soon "$DIR" 2>&1)
assert_eq "a bad --linger is a usage error" 2 $?

start_keeper
assert_eq "the keeper makes its directory root's alone" 700 "$(stat -c %a "$DIR")"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$FDSTORE" run --wait 0 "$DIR" -- true 2>&1)
assert_eq "another user cannot fetch the fds" 1 $?
assert_match "... (permission denied on its socket)" "Permission denied" "$out"

# ---- capfs's pod starts: it stores the connection with the keeper
start_capfs_pod
check "the first capfs mounts $MNT" fuse_mounted_at "$MNT"
mount_before=$(mount_id "$MNT")
for name in capfs-fuse capfs-state capfs-seccomp; do
        wait_until "$EVENT_TIMEOUT" kept_once $name
        assert_eq "the keeper holds $name" 1 "$(kept $name)"
done
assert_eq "capfs says fd_store=yes" yes "$(status "$MNT" fd_store)"

# A running pod's bind mount of a capfs file (what the Kubernetes pod fragment makes).
: >"$BIND"
mount --bind "$MNT/proc/meminfo" "$BIND" || bail "cannot bind $MNT/proc/meminfo to $BIND"
check "the pod's bind mount answers" bind_answers
start_reader a ct1 "$MNT/proc/meminfo" "$LIMIT_KB"
wait_reader a || bail "the container's reader never read $MNT/proc/meminfo"

# ---- capfs's pod replaced (an upgrade: the kubelet sends SIGTERM)
stop_capfs_pod TERM
check "SIGTERM: the mount stays for the next capfs" fuse_mounted_at "$MNT"
first=$capfs_pid
start_capfs_pod
check "replaced pod: the new capfs got the connection from the keeper" \
        grep -q "handed capfs-fuse:capfs-state:capfs-seccomp to pid $capfs_pid" "$KEEPER_LOG"
check "... and took it over" grep -q "taking over the FUSE connection" "$WORKDIR/capfs-$n_capfs.log"
assert_eq "replaced pod: the same mount" "$mount_before" "$(mount_id "$MNT")"
check "replaced pod: the pod's bind mount answers" bind_answers
[[ $capfs_pid != "$first" ]] || not_ok "a new capfs process" "pid $capfs_pid again"

# ---- capfs crashes (supervisor and worker killed)
worker=$(worker_of "$MNT")
stop_capfs_pod KILL
check "crash: the worker died with its supervisor" wait_until "$EVENT_TIMEOUT" pid_gone "$worker"
start_capfs_pod
assert_eq "crash: the same mount" "$mount_before" "$(mount_id "$MNT")"
check "crash: the pod's bind mount answers" bind_answers

# ---- the keeper replaced while capfs runs: capfs stores its fds with the new one
kill -TERM "$keeper_pid"
wait_until "$EVENT_TIMEOUT" pid_gone "$keeper_pid"
: >"$KEEPER_LOG"
start_keeper
check "new keeper: capfs stores its connection again" wait_until "$EVENT_TIMEOUT" kept_once capfs-fuse
check "... and its state" wait_until "$EVENT_TIMEOUT" kept_once capfs-state
check "... saying why" grep -q "is new (its keeper restarted)" "$WORKDIR/capfs-$n_capfs.log"
stop_capfs_pod TERM
start_capfs_pod
assert_eq "new keeper, replaced pod: the same mount" "$mount_before" "$(mount_id "$MNT")"
check "new keeper, replaced pod: the pod's bind mount answers" bind_answers

sleep 0.5
stop_reader a
allow_eintr=false
kernel_lacks_resend "$WORKDIR/capfs-$n_capfs.log" && allow_eintr=true
assert_reader_clean a "a container reading through two pod replacements, a crash and a new keeper" "$allow_eintr"
diag "reads: $(reader_result a good), longest pause: $(reader_result a maxgap) ms"

# ---- capfs gone for good (its DaemonSet deleted): after --linger the keeper lets go
stop_capfs_pod TERM
check "abandoned: the keeper counts down" wait_until "$EVENT_TIMEOUT" \
        grep -q "pid $capfs_pid, which holds the fds, has exited; keeping them for $LINGER s" "$KEEPER_LOG"
check "... and lets go after $LINGER s" wait_until "$EVENT_TIMEOUT" grep -q "nobody came for the fds" "$KEEPER_LOG"
check "abandoned: the pod's bind mount reads ENOTCONN (not a hang)" wait_until "$EVENT_TIMEOUT" bind_disconnected
start_capfs_pod
check "a capfs started afterwards gets nothing" grep -q "starting .* nothing kept yet" "$WORKDIR/capfs-$n_capfs.log"
check "... detaches the disconnected mount and mounts afresh" \
        grep -q "detached the disconnected mount" "$WORKDIR/capfs-$n_capfs.log"
assert_eq "... one mount, not two" 1 "$(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo | wc -l)"
umount "$BIND"

# ---- the keeper gone when capfs stops: nobody would hold the connection, so capfs unmounts
kill -TERM "$keeper_pid"
wait_until "$EVENT_TIMEOUT" pid_gone "$keeper_pid"
stop_capfs_pod TERM
check "no keeper: SIGTERM unmounts" not fuse_mounted_at "$MNT"
check "... saying why" grep -q "the fd store at $DIR/notify is gone; unmounting" "$WORKDIR/capfs-$n_capfs.log"

left=$(sanitizer_reports "$WORKDIR"/capfs-*.log "$KEEPER_LOG")
assert_eq "no sanitizer reports from capfs" "" "$left"
finish
