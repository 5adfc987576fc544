#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Build capfs and run it in the foreground: ./scripts/run.sh [MOUNTPOINT] [CAPFS OPTIONS...]
#
# Meant for a fresh Debian 12 machine, as root: installs the build dependencies that are
# missing, builds into build/, creates MOUNTPOINT (default /var/lib/capfs) and execs capfs there,
# so Ctrl-C or SIGTERM reach the daemon itself and it unmounts cleanly.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."

BUILD_DEPS=(meson ninja-build pkg-config gcc libglib2.0-dev libfuse3-dev fuse3 libcap-dev libseccomp-dev libjson-glib-dev)

die() {
        echo "run.sh: $*" >&2
        exit 1
}

PROG=run.sh
# shellcheck source=scripts/lib/packages.sh
source "$(dirname "$(readlink -f "$0")")/lib/packages.sh"


# Set up build/ the first time, and again when it was made by another meson version or is
# half-written; otherwise ninja regenerates it by itself when a meson.build changes.
build() {
        local dir=build
        if [[ ! -f $dir/build.ninja ]]; then
                if [[ -d $dir && -n "$(ls -A "$dir")" ]]; then
                        meson setup --wipe "$dir"
                else
                        meson setup "$dir"
                fi
        elif ! meson introspect --projectinfo "$dir" >/dev/null 2>&1; then
                meson setup --reconfigure "$dir" || meson setup --wipe "$dir"
        fi
        ninja -C "$dir"
}

mountpoint=/var/lib/capfs
if [[ $# -gt 0 && $1 != -* ]]; then
        mountpoint=$1
        shift
fi
case "$mountpoint" in
/*) ;;
*) mountpoint="$PWD/$mountpoint" ;;
esac

[[ $EUID -eq 0 ]] || die "capfs mounts with allow_other and reads every process's cgroups: run as root (sudo $0)"

install_missing "${BUILD_DEPS[@]}"
build

# A dead daemon leaves an unreachable mount behind; mkdir fails on it, and capfs itself explains
# how to clear it, so let it report.
mkdir -p "$mountpoint" 2>/dev/null || true

m=$mountpoint
cat <<EOF

capfs will serve, for each container (the caller's pid namespace and cgroups):
  $m/proc/{meminfo,cpuinfo,stat,uptime,loadavg,diskstats,swaps,slabinfo}
  $m/proc/pressure/{cpu,io,memory}
  $m/sys/devices/system/cpu            (online, cpuN/ for the container's CPUs only)

Bind them into a container, e.g.:
  docker run -it --rm \\
    -v $m/proc/meminfo:/proc/meminfo:ro -v $m/proc/cpuinfo:/proc/cpuinfo:ro \\
    -v $m/proc/stat:/proc/stat:ro -v $m/proc/uptime:/proc/uptime:ro \\
    -v $m/proc/loadavg:/proc/loadavg:ro -v $m/proc/diskstats:/proc/diskstats:ro \\
    -v $m/proc/swaps:/proc/swaps:ro \\
    -v $m/sys/devices/system/cpu:/sys/devices/system/cpu:ro \\
    debian:12 sh -c 'free -m; nproc; cat /proc/uptime'
  or by hand, inside the container's mount namespace:
    mount --bind $m/proc/meminfo /proc/meminfo
    mount --bind $m/sys/devices/system/cpu /sys/devices/system/cpu

Running in the foreground; Ctrl-C or SIGTERM unmounts $m and exits.

EOF

exec ./build/bindings/capfs --foreground "$@" "$mountpoint"
