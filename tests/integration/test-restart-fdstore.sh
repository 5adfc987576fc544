#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# capfs as a systemd service keeps its mount across `systemctl restart` and a crash of the whole
# daemon: it hands the FUSE connection and its hand-over state to the fd store (FDSTORE=1), and
# takes them back when started again. systemd is played by fake-fdstore.py (PID 1 here may not be
# systemd): it keeps the fds and restarts capfs with LISTEN_FDS, as systemd does.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"
require_host
cg_init
command -v python3 >/dev/null || skip_all "python3 not installed (it plays systemd's fd store)"

LIMIT=268435456 # 256 MiB
LIMIT_KB=262144
cg_create ct1
cg_limit_memory ct1 "$LIMIT"
# The service manager and capfs run in a cgroup of ours: whatever a failed run leaves is killed.
cg_create service

SD=$WORKDIR/sd
mkdir "$SD"
FDSTORE_PY=$(cd "$(dirname "$0")" && pwd)/fake-fdstore.py
export FDSTORE_PY
service_manager() {
        exec python3 "$FDSTORE_PY" "$@"
}
CT_FUNCS=service_manager run_in_cg service service_manager "$SD" "$CAPFS" --foreground "$MNT" \
        >"$WORKDIR/capfs-mnt.log" 2>&1 &
manager=$!

sd() {
        echo "$1" >"$SD/cmd"
}
service_pid() {
        cat "$SD/pid" 2>/dev/null
}
# ready_after PID: a READY=1 came from a service started after PID.
ready_from_new() {
        local ready
        ready=$(cat "$SD/ready" 2>/dev/null)
        [[ -n "$ready" && "$ready" != "$1" && "$ready" == "$(service_pid)" ]]
}
stored() {
        grep -c "^notify: FDSTORE=1 FDNAME=$1 +1 fd" "$SD/log"
}
# A read, not a stat of the root: the kernel answers that from its attribute cache, also once the
# connection is gone (a wait for it then took the whole EVENT_TIMEOUT now and then).
mount_disconnected() {
        local err
        err=$(LC_ALL=C timeout "$IO_TIMEOUT" head -c 1 "$MNT/proc/uptime" 2>&1 >/dev/null)
        [[ $err == *"Transport endpoint is not connected"* ]]
}
quit_manager() {
        sd quit
        wait "$manager"
}

wait_until "$EVENT_TIMEOUT" test -e "$SD/ready" || bail "capfs under the fake service manager never said READY=1"
check "mounted" fuse_mounted_at "$MNT"
mount_before=$(mount_id "$MNT")
assert_eq "the FUSE connection is in the fd store" 1 "$(stored capfs-fuse)"
assert_eq "the hand-over state is in the fd store" 1 "$(stored capfs-state)"
assert_eq "the status file says fd_store=yes" yes "$(status "$MNT" fd_store)"
assert_eq "the seccomp proxy's socket is in the fd store" 1 "$(stored capfs-seccomp)"
SECCOMP_SOCKET=$("$CAPFS" --print-seccomp-socket "$MNT")
socket_before=$(stat -c %i "$SECCOMP_SOCKET" 2>&1)

start_reader a ct1 "$MNT/proc/meminfo" "$LIMIT_KB"
wait_reader a || bail "the container's reader never read $MNT/proc/meminfo"

# ---- systemctl restart: SIGTERM, then a new start with the stored fds
first=$(service_pid)
kill -TERM "$first"
sd restart
wait_until "$EVENT_TIMEOUT" ready_from_new "$first"
assert_eq "SIGTERM with an fd store: capfs exits 0" 0 "$(cat "$SD/exit")"
assert_eq "restart: the same mount" "$mount_before" "$(mount_id "$MNT")"
check "restart: the new capfs took the connection from the store" \
        grep -q "started $(service_pid) with capfs-fuse,capfs-state" "$SD/log"
check "restart: served" "$CAPFS" --check "$MNT"
check "restart: the new capfs took the seccomp socket from the store" \
        grep -q "started $(service_pid) with capfs-fuse,capfs-state,capfs-seccomp" "$SD/log"
assert_eq "restart: the same seccomp socket (holders never saw it gone)" "$socket_before" \
        "$(stat -c %i "$SECCOMP_SOCKET" 2>&1)"

# ---- the whole daemon killed (supervisor and worker): Restart=on-failure with the stored fds
second=$(service_pid)
worker=$(worker_of "$MNT")
kill -KILL "$second"
sd restart
wait_until "$EVENT_TIMEOUT" ready_from_new "$second"
check "crash: the worker died with its supervisor" wait_until "$EVENT_TIMEOUT" pid_gone "$worker"
assert_eq "crash: the same mount" "$mount_before" "$(mount_id "$MNT")"
check "crash: served" "$CAPFS" --check "$MNT"

# ---- --upgrade (ExecReload=) keeps the fd store
third=$(service_pid)
out=$(timeout 120 "$CAPFS" --upgrade "$MNT" 2>&1)
assert_eq "reload under the service manager: capfs --upgrade exits 0" 0 $?
assert_eq "reload: the same main pid" "$third" "$(status "$MNT" supervisor)"
assert_eq "reload: still fd_store=yes" yes "$(status "$MNT" fd_store)"

sleep 0.5
stop_reader a
allow_eintr=false
kernel_lacks_resend "$WORKDIR/capfs-mnt.log" && allow_eintr=true
assert_reader_clean a "container reading through a restart, a crash and a reload" "$allow_eintr"
diag "reads: $(reader_result a good), longest pause: $(reader_result a maxgap) ms"

# ---- systemctl stop: the store is emptied; the next start replaces the disconnected mount
kill -TERM "$third"
sd stop
wait_until "$EVENT_TIMEOUT" mount_disconnected
out=$("$CAPFS" --check "$MNT")
assert_eq "stop: --check exits 1" 1 $?
assert_match "stop: the mount is disconnected" "disconnected" "$out"
sd start
wait_until "$EVENT_TIMEOUT" ready_from_new "$third"
check "start after stop: served again" "$CAPFS" --check "$MNT"
assert_eq "start after stop: one mount, not two" 1 "$(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo | wc -l)"

# ---- the end: stop, and remove the disconnected mount ourselves (as nothing starts capfs again)
last=$(service_pid)
kill -TERM "$last"
sd stop
quit_manager
assert_eq "the service manager's capfs exited 0" 0 "$(cat "$SD/exit")"
timeout 5 umount -l "$MNT"
remove_status_file "$MNT"

finish
