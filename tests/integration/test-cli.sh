#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The capfs command line: --help, --version, and errors that end in one line naming the path and
# exit 1, quickly, never a hang or a half-mounted tree; signals unmount cleanly; the pidfile.
source "$(dirname "$0")/lib.sh"
setup

# expect_error DESCRIPTION WORD COMMAND...: capfs must exit 1 (not hang) with a single line on
# stderr, nothing on stdout, and the line must contain WORD (the path at fault).
expect_error() {
        local desc=$1 word=$2 start rc lines
        shift 2
        start=$SECONDS
        timeout "$EVENT_TIMEOUT" "$@" >"$WORKDIR/out" 2>"$WORKDIR/err"
        rc=$?
        lines=$(wc -l <"$WORKDIR/err")
        if ((rc == 124)); then
                not_ok "$desc" "hung (killed after ${EVENT_TIMEOUT}s): $*"
        elif ((rc != 1)); then
                not_ok "$desc" "exit status $rc, expected 1: $*" "$(cat "$WORKDIR/err")"
        elif ((SECONDS - start > 5)); then
                not_ok "$desc" "took $((SECONDS - start)) s"
        elif ((lines != 1)) || [[ -s "$WORKDIR/out" ]]; then
                not_ok "$desc" "expected one line on stderr and nothing on stdout, got:" \
                        "$(cat "$WORKDIR/out" "$WORKDIR/err")"
        elif ! grep -qF -- "$word" "$WORKDIR/err"; then
                not_ok "$desc" "the message does not name $word: $(cat "$WORKDIR/err")"
        else
                ok "$desc"
                diag "$(cat "$WORKDIR/err")"
        fi
}

# ---- help and version
out=$(timeout "$EVENT_TIMEOUT" "$CAPFS" --help 2>&1)
assert_eq "--help exits 0" 0 $?
assert_match "--help shows the usage" 'MOUNTPOINT' "$out"
for opt in --foreground --debug --pidfile --cpu-view; do
        assert_match "--help documents $opt" "$opt" "$out"
done
usage=$(grep -A1 '^Usage:' <<<"$out" | tail -n 1)
assert_eq "--help's usage line names MOUNTPOINT once" 1 "$(grep -o 'MOUNTPOINT' <<<"$usage" | wc -l)"
out=$(timeout "$EVENT_TIMEOUT" "$CAPFS" --version 2>&1)
assert_eq "--version exits 0" 0 $?
assert_match "--version prints the version" '^capfs [0-9]+\.[0-9]+\.[0-9]+' "$out"

# ---- errors
expect_error "unknown option: exit 1" "--bogus" "$CAPFS" --bogus "$WORKDIR"
expect_error "--cpu-view=bogus: exit 1" "bogus" "$CAPFS" -f --cpu-view=bogus "$WORKDIR"
expect_error "two mountpoints: exit 1" "MOUNTPOINT" "$CAPFS" -f "$WORKDIR" "$WORKDIR"
expect_error "missing mountpoint: exit 1, names it" "$WORKDIR/missing" "$CAPFS" -f "$WORKDIR/missing"
expect_error "missing mountpoint without -f: exit 1, names it" "$WORKDIR/missing" "$CAPFS" "$WORKDIR/missing"
touch "$WORKDIR/file"
expect_error "mountpoint is a file: exit 1, names it" "$WORKDIR/file" "$CAPFS" -f "$WORKDIR/file"
expect_error "second instance on the same mountpoint: exit 1, names it" "$MNT" "$CAPFS" -f "$MNT"
expect_error "second instance without -f: exit 1, names it" "$MNT" "$CAPFS" "$MNT"
ln -s "$MNT" "$WORKDIR/link"
expect_error "second instance through a symlink: exit 1" "$MNT" "$CAPFS" -f "$WORKDIR/link"
check "the first instance still serves after those attempts" meminfo_field "$MNT/proc/meminfo" MemTotal
check "the first instance is still mounted once" \
        test "$(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo | wc -l)" -eq 1

mkdir "$WORKDIR/nofuse"
# A private mount namespace whose /dev has no fuse node.
expect_error "no /dev/fuse: exit 1, names /dev/fuse" "/dev/fuse" \
        unshare --mount sh -c 'mount -t tmpfs none /dev && exec "$@"' sh "$CAPFS" -f "$WORKDIR/nofuse"
check "no /dev/fuse: nothing mounted" not fuse_mounted_at "$WORKDIR/nofuse"

# A daemon that died without unmounting leaves a mount that answers ENOTCONN.
mkdir "$WORKDIR/dead"
if start_capfs "$WORKDIR/dead"; then
        pid=$CAPFS_PID
        kill -KILL "$pid"
        wait_until "$EVENT_TIMEOUT" pid_gone "$pid"
        wait "$pid" 2>/dev/null
        _daemon_reaped[$pid]=killed
        expect_error "mount left by a killed daemon: exit 1, names it" "$WORKDIR/dead" "$CAPFS" -f "$WORKDIR/dead"
        timeout 5 umount -l "$WORKDIR/dead"
else
        not_ok "start capfs on $WORKDIR/dead"
fi

# ---- signals and the pidfile
for sig in TERM INT; do
        m="$WORKDIR/sig$sig"
        mkdir "$m"
        if ! start_capfs "$m" --pidfile "$WORKDIR/pid$sig"; then
                not_ok "capfs -f --pidfile mounts $m"
                continue
        fi
        pid=$CAPFS_PID
        assert_eq "--pidfile holds the daemon's pid" "$pid" "$(cat "$WORKDIR/pid$sig" 2>/dev/null)"
        kill "-$sig" "$pid"
        if wait_until "$EVENT_TIMEOUT" pid_gone "$pid"; then
                wait "$pid"
                rc=$?
                _daemon_reaped[$pid]=$rc
                assert_eq "SIG$sig: capfs exits 0" 0 "$rc"
        else
                stop_capfs "$pid" KILL
                not_ok "SIG$sig: capfs exits within ${EVENT_TIMEOUT}s"
        fi
        check "SIG$sig: $m is unmounted" not fuse_mounted_at "$m"
        check "SIG$sig: the pidfile is removed" test ! -e "$WORKDIR/pid$sig"
done

# ---- -d: debug messages, in the foreground
m="$WORKDIR/debug"
mkdir "$m"
if start_capfs "$m" -d; then
        pid=$CAPFS_PID
        check "-d: serves" meminfo_field "$m/proc/meminfo" MemTotal
        check "-d: stays in the foreground (the process we started serves)" not pid_gone "$pid"
        stop_capfs "$pid"
        assert_eq "-d: exits 0 on SIGTERM" 0 "$STOP_STATUS"
        check "-d: unmounted" not fuse_mounted_at "$m"
else
        not_ok "-d: mounts $m"
fi

# ---- without -f: the command returns once mounted, the daemon stays behind
m="$WORKDIR/daemon"
mkdir "$m"
timeout "$EVENT_TIMEOUT" "$CAPFS" --pidfile "$WORKDIR/pid-daemon" "$m" >"$WORKDIR/daemon.log" 2>&1
assert_eq "without -f: capfs returns 0 once mounted" 0 $?
pid=$(cat "$WORKDIR/pid-daemon" 2>/dev/null)
if [[ "$pid" =~ ^[0-9]+$ ]] && ! pid_gone "$pid"; then
        ok "without -f: the pidfile names a running daemon"
        check "without -f: mounted" fuse_mounted_at "$m"
        check "without -f: serves" meminfo_field "$m/proc/meminfo" MemTotal
        kill -TERM "$pid"
        if wait_until "$EVENT_TIMEOUT" pid_gone "$pid"; then
                ok "without -f: the daemon exits on SIGTERM"
        else
                kill -KILL "$pid"
                not_ok "without -f: the daemon exits on SIGTERM"
        fi
        check "without -f: unmounted after SIGTERM" not fuse_mounted_at "$m"
else
        not_ok "without -f: the pidfile names a running daemon" "pidfile: '$pid'; output: $(cat "$WORKDIR/daemon.log")"
fi
fuse_mounted_at "$m" && { timeout 5 fusermount3 -u -z "$m" || timeout 5 umount -l "$m"; }

finish
