#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-nspawn.sh CAPFS: the README's systemd-nspawn lines (Debian's systemd-container)
# on an overlay of the cached Debian rootfs, with our capfs bound at /var/lib/capfs in a mount
# namespace of the test's own (the path the README names). This machine's PID 1 is not systemd,
# so instead of the README's --property= limits nspawn runs with --register=no --keep-unit in a
# cgroup of the test's with the same limits (512 MiB, a quota of 1 CPU, cpuset 0). The
# container's free, nproc, getconf _NPROCESSORS_ONLN and /proc/uptime must show them.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-300}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"

README=$here/../../README.md
SUITE=bookworm

((EUID == 0)) || skip_all "needs root (systemd-nspawn, FUSE allow_other, cgroups)"
command -v systemd-nspawn >/dev/null ||
        skip_all "systemd-nspawn not found: install Debian's systemd-container (apt-get install --no-install-recommends systemd-container)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip_all "no overlay file system"
on_v2 && skip_all "the limits here are v1 cgroup files (on pure cgroup2 hosts nspawn takes them from --property=)"
ROOTFS=$(capfs_rootfs "$SUITE") ||
        bail "cannot build the Debian $SUITE rootfs: tests/e2e/lib/rootfs.sh $SUITE failed"

# The README's recipe: the sh block after "With systemd-nspawn", its --property= lines left out.
RECIPE=$(awk '
        index($0, "With systemd-nspawn") == 1 { found = 1; next }
        found && /^```sh$/ { inside = 1; next }
        inside && /^```$/ { exit }
        inside { print }' "$README")
[[ $RECIPE == systemd-nspawn* ]] || bail "no systemd-nspawn recipe in the README (an sh block after \"With systemd-nspawn\")"
RECIPE=$(grep -v -- '--property=' <<<"$RECIPE")

setup
cg_create nspawn
cg_limit_memory nspawn 536870912
cg_limit_cpu nspawn 100000 100000
first_cpu=$(cut -d, -f1 <"$(cg_host cpuset nspawn)/cpuset.cpus")
echo "${first_cpu%%-*}" >"$(cg_host cpuset nspawn)/cpuset.cpus" || bail "cannot narrow the cpuset of nspawn"

mkdir -p "$WORKDIR/rw" "$WORKDIR/root"
mount -t tmpfs -o size=512M capfs-test-nspawn "$WORKDIR/rw" || bail "cannot mount a tmpfs"
mkdir "$WORKDIR/rw/upper" "$WORKDIR/rw/work"
mount -t overlay capfs-test-nspawn -o "lowerdir=$ROOTFS,upperdir=$WORKDIR/rw/upper,workdir=$WORKDIR/rw/work" \
        "$WORKDIR/root" || bail "cannot make an overlay of $ROOTFS"
_unmount() {
        local status=$?
        umount "$WORKDIR/root" "$WORKDIR/rw" 2>/dev/null
        $made_mountpoint && rmdir /var/lib/capfs 2>/dev/null
        return "$status"
}
made_mountpoint=false
if [[ ! -e /var/lib/capfs ]]; then
        mkdir /var/lib/capfs && made_mountpoint=true
fi
trap '_unmount; _teardown' EXIT

started=$SECONDS
# shellcheck disable=SC2016 # expanded by the namespace's shell
out=$( (cg_join nspawn && exec unshare -m --propagation private sh -c 'mount --bind "$1" /var/lib/capfs || exit 1
        export ROOTFS=$2
        exec timeout "$3" bash -c "$4"' sh "$MNT" "$WORKDIR/root" "$EVENT_TIMEOUT" \
        "${RECIPE/systemd-nspawn/systemd-nspawn --quiet --pipe --register=no --keep-unit}") 2>&1)
rc=$?
out=$(tr -d '\r' <<<"$out")
assert_eq "the README's systemd-nspawn recipe runs (exit status)" 0 "$rc"
assert_eq "free -m shows 512 MiB" 512 "$(awk '$1 == "Mem:" { print $2 }' <<<"$out")"
assert_eq "nproc shows 1 and getconf _NPROCESSORS_ONLN (capfs's sysfs) 1" "1 1 " "$(grep -xE '[0-9]+' <<<"$out" | tr '\n' ' ')"
uptime=$(grep -oE '^[0-9]+\.[0-9]+ [0-9]+\.[0-9]+$' <<<"$out" | cut -d. -f1)
if [[ $uptime =~ ^[0-9]+$ ]] && ((uptime <= SECONDS - started + 1)); then
        ok "/proc/uptime is the container's ($uptime s)"
else
        not_ok "/proc/uptime is the container's" "got '$uptime'" "$out"
fi

finish
