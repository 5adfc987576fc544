#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-scope.sh CAPFS CAPFS_LAUNCH FAKE_SYSTEMD: on a host run by systemd, capfs-launch
# asks systemd over D-Bus for a transient scope capfs-NAME.scope with itself in it and
# Delegate=yes, and makes the container's cgroups below it. This host's PID 1 is not systemd, so
# a private bus carries tests/e2e/fake-systemd.c, which does what systemd does for such a scope
# (a cgroup per hierarchy, the PIDs moved in); capfs-launch runs with --scope=yes against it.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-240}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"

LAUNCH=${2:-}
FAKE=${3:-}
SUITE=${CAPFS_E2E_SUITE:-bookworm}
NAME=scope-$$
UNIT=capfs-$NAME.scope

((EUID == 0)) || skip_all "needs root (containers, FUSE allow_other, cgroups)"
[[ -x $LAUNCH && -x $FAKE ]] || bail "usage: $0 CAPFS CAPFS_LAUNCH FAKE_SYSTEMD"
command -v dbus-daemon >/dev/null || skip_all "no dbus-daemon (Debian package dbus-daemon)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip_all "no overlay file system"
ROOTFS=$(capfs_rootfs "$SUITE") || bail "cannot build the Debian $SUITE rootfs (tests/e2e/lib/rootfs.sh)"

setup
# "system" plays systemd's part of the tree: the scope is made below it in every hierarchy.
cg_create system
bases=()
for key in "${!CG_TOP[@]}"; do
        bases+=("${CG_TOP[$key]}/system")
done
ROOT=$WORKDIR/root
mkdir -p "$WORKDIR/rw" "$ROOT"
mount -t tmpfs -o size=256M capfs-scope-rw "$WORKDIR/rw" || bail "cannot mount a tmpfs on $WORKDIR/rw"
mkdir -p "$WORKDIR/rw/upper" "$WORKDIR/rw/work"
mount -t overlay capfs-scope -o "lowerdir=$ROOTFS,upperdir=$WORKDIR/rw/upper,workdir=$WORKDIR/rw/work" "$ROOT" ||
        bail "cannot mount an overlay of $ROOTFS on $ROOT"

bus_pid='' fake_pid=''
_stop_bus() {
        local status=$?
        [[ -n $fake_pid ]] && kill "$fake_pid" 2>/dev/null
        [[ -n $bus_pid ]] && kill "$bus_pid" 2>/dev/null
        umount "$ROOT" "$WORKDIR/rw" 2>/dev/null
        return "$status"
}
trap '_stop_bus; _teardown' EXIT

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORKDIR/bus
dbus-daemon --session --nofork --address="$DBUS_SYSTEM_BUS_ADDRESS" >"$WORKDIR/bus.log" 2>&1 &
bus_pid=$!
wait_until "$EVENT_TIMEOUT" test -S "$WORKDIR/bus" || bail "dbus-daemon did not start: $(cat "$WORKDIR/bus.log")"
coproc FAKE_OUT { "$FAKE" "$WORKDIR/calls.log" "${bases[@]}" 2>&1; }
fake_pid=$FAKE_OUT_PID
read -r -t "$EVENT_TIMEOUT" line <&"${FAKE_OUT[0]}"
[[ ${line:-} == ready ]] || bail "the fake systemd did not start: ${line:-nothing}"

# The container runs a command that shows where it is and stays until the host has looked
# (WORKDIR/share/looked, seen inside as /share/looked).
mkdir -p "$WORKDIR/share" "$ROOT/share"
"$LAUNCH" --scope=yes --rootfs "$ROOT" --name "$NAME" --capfs "$MNT" --memory 256M --pids 64 \
        --bind "$WORKDIR/share:/share" -- \
        /bin/sh -c 'cat /proc/self/cgroup; while [ ! -e /share/looked ]; do sleep 0.1; done' \
        >"$WORKDIR/console.log" 2>&1 &
launcher_pid=$!

SCOPE_MEMORY=$(cg_host memory system)/$UNIT
OUTER=$SCOPE_MEMORY/capfs/$NAME
wait_until "$EVENT_TIMEOUT" test -d "$OUTER/payload" ||
        bail "no $OUTER/payload; launcher: $(cat "$WORKDIR/console.log"); calls: $(cat "$WORKDIR/calls.log" 2>&1)"
assert_eq "systemd was asked for $UNIT with the launcher in it and Delegate=yes" \
        "StartTransientUnit $UNIT fail Delegate=true PIDs=$launcher_pid CollectMode=inactive-or-failed" \
        "$(cat "$WORKDIR/calls.log")"
if on_v2; then
        LIMIT=$OUTER/payload/memory.max
        # cgroup2: the scope hands controllers down, so the launcher waits in its leaf.
        assert_eq "the launcher moved on into $UNIT/supervisor" "0::$(cg_rel memory system)/$UNIT/supervisor" \
                "$(cat "/proc/$launcher_pid/cgroup")"
else
        LIMIT=$OUTER/payload/memory.limit_in_bytes
        assert_eq "the launcher is in $UNIT" "$(cg_rel memory system)/$UNIT" \
                "$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$launcher_pid/cgroup")"
fi
assert_eq "the container's limits are on its root, capfs/$NAME/payload below the scope" 268435456 "$(cat "$LIMIT" 2>&1)"

: >"$WORKDIR/share/looked"
wait "$launcher_pid"
assert_eq "the launcher exits with the command's status (0)" 0 "$?"
check "the container ran in its own cgroup root (0::/)" grep -q $'^0::/\r\\?$' "$WORKDIR/console.log"
check "capfs/$NAME is gone from the scope when the container ends" not test -d "$OUTER"

# Without a bus to ask, --scope=yes refuses and says what to do.
out=$(DBUS_SYSTEM_BUS_ADDRESS=unix:path=$WORKDIR/no-bus "$LAUNCH" --scope=yes --rootfs "$ROOT" --name "$NAME-2" \
        --capfs "$MNT" -- /bin/true 2>&1)
assert_eq "without systemd's bus --scope=yes fails (exit 1)" 1 "$?"
assert_match "and says what is wrong and what to do" "cannot reach systemd on the system bus.*--scope=no" "$out"
finish
