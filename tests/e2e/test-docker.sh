#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-docker.sh CAPFS: the README's lines for Docker and containerd, run word for word
# against Debian's docker.io and containerd. The test starts its own daemons (dockerd with
# --bridge=none --iptables=false, its own data root and socket; containerd with its own root,
# state and socket), each in a mount and cgroup namespace of its own (tests/e2e/lib/cgroup-root.sh:
# the test's capfs-test-* cgroups are the tops of their trees) where our capfs is bound at
# /var/lib/capfs, the path the README names. Docker gets the cached Debian bookworm rootfs as the
# image debian:12 (docker import); containerd runs it with ctr run --rootfs. Each container's
# free, nproc and /proc/uptime must show its limits.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-600}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"

README=$here/../../README.md
SUITE=bookworm
DAEMON_TIMEOUT=$((EVENT_TIMEOUT > 120 ? EVENT_TIMEOUT : 120))

((EUID == 0)) || skip_all "needs root (dockerd, containerd, FUSE allow_other, cgroups)"
for tool in dockerd docker containerd ctr unshare; do
        command -v "$tool" >/dev/null ||
                skip_all "$tool not found: install Debian's docker.io and containerd (apt-get install --no-install-recommends docker.io containerd)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip_all "no overlay file system"
ROOTFS=$(capfs_rootfs "$SUITE") ||
        bail "cannot build the Debian $SUITE rootfs: tests/e2e/lib/rootfs.sh $SUITE failed"

# The README's recipes: the sh block after the line LINE.
readme_block() {
        awk -v start="$1" '
                index($0, start) == 1 { found = 1; next }
                found && /^```sh$/ { inside = 1; next }
                inside && /^```$/ { exit }
                inside { print }' "$README"
}
DOCKER_RECIPE=$(readme_block "With Docker")
CONTAINERD_RECIPE=$(readme_block "With containerd")
[[ $DOCKER_RECIPE == docker\ run* ]] || bail "no Docker recipe in the README (an sh block after \"With Docker\")"
[[ $CONTAINERD_RECIPE == *ctr\ run* ]] || bail "no containerd recipe in the README (an sh block after \"With containerd\")"

setup
cg_create daemons

# /var/lib/capfs exists on the host only as the daemons' mountpoint (ours is bound there in their
# namespaces); made here if missing, removed again.
made_mountpoint=false
if [[ ! -e /var/lib/capfs ]]; then
        mkdir /var/lib/capfs && made_mountpoint=true
fi
daemon_pids=()
_daemons_stop() {
        local status=$? pid
        for pid in "${daemon_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
        for pid in "${daemon_pids[@]}"; do
                wait_until "$EVENT_TIMEOUT" pid_gone "$pid" || kill -KILL "$pid" 2>/dev/null
        done
        $made_mountpoint && rmdir /var/lib/capfs 2>/dev/null
        return "$status"
}
trap '_daemons_stop; _teardown' EXIT

# in_daemon_ns LOG COMMAND...: COMMAND in the background in its own mount and cgroup namespaces,
# below our daemons cgroup, with our capfs at /var/lib/capfs (and, for containerd, the overlay
# its container runs on: ctr run --rootfs takes a path in containerd's namespace).
in_daemon_ns() {
        local log=$1
        shift
        # shellcheck disable=SC2016 # expanded by the namespace's shell
        (cg_join daemons && exec unshare -m --propagation private --cgroup -- "$here/lib/cgroup-root.sh" \
                sh -c 'mount --bind "$1" /var/lib/capfs || exit 1
                        mkdir -p "$2/rw" "$2/root" && mount -t tmpfs tmpfs "$2/rw" && mkdir "$2/rw/u" "$2/rw/w" &&
                                mount -t overlay overlay -o "lowerdir=$3,upperdir=$2/rw/u,workdir=$2/rw/w" "$2/root" || exit 1
                        shift 3
                        exec "$@"' sh "$MNT" "$WORKDIR/ctr-rootfs" "$ROOTFS" "$@") >"$log" 2>&1 &
        daemon_pids+=($!)
}

# check_output LABEL OUTPUT STARTED AFFINITY: the recipe's free -m, nproc, getconf _NPROCESSORS_ONLN and
# /proc/uptime, for a 512 MiB, 1-CPU container; AFFINITY is what nproc must say (1 with a
# cpuset, the host's count without).
check_output() {
        local label=$1 out=$2 started=$3 affinity=$4 counts uptime
        assert_eq "$label: free -m shows 512 MiB" 512 "$(awk '$1 == "Mem:" { print $2 }' <<<"$out")"
        counts=$(grep -xE '[0-9]+' <<<"$out" | tr '\n' ' ')
        assert_eq "$label: nproc shows $affinity and getconf _NPROCESSORS_ONLN (capfs's sysfs) 1" "$affinity 1 " "$counts"
        uptime=$(grep -oE '^[0-9]+\.[0-9]+ [0-9]+\.[0-9]+$' <<<"$out" | cut -d. -f1)
        if [[ $uptime =~ ^[0-9]+$ ]] && ((uptime <= SECONDS - started + 1)); then
                ok "$label: /proc/uptime is the container's ($uptime s)"
        else
                not_ok "$label: /proc/uptime is the container's" "got '$uptime'; the run took $((SECONDS - started)) s" "$out"
        fi
}

# ---------------------------------------------------------------- Docker

export DOCKER_HOST=unix://$WORKDIR/docker.sock
in_daemon_ns "$WORKDIR/dockerd.log" dockerd --host "$DOCKER_HOST" --data-root "$WORKDIR/docker" \
        --exec-root "$WORKDIR/docker-exec" --pidfile "$WORKDIR/docker.pid" --bridge=none --iptables=false \
        --ip6tables=false --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
        --default-ulimit nofile=1024:1024 --default-ulimit nproc=1024:1024
if wait_until "$DAEMON_TIMEOUT" docker version >/dev/null 2>&1; then
        ok "dockerd (our own data root and socket) answers"
        if out=$(tar -C "$ROOTFS" -c . | docker import - debian:12 2>&1); then
                ok "the cached Debian $SUITE rootfs imported as debian:12"
                started=$SECONDS
                out=$(timeout "$DAEMON_TIMEOUT" bash -c "$DOCKER_RECIPE" 2>&1)
                assert_eq "the README's Docker recipe runs" 0 "$?"
                check_output Docker "$out" "$started" 1
        else
                not_ok "the cached Debian $SUITE rootfs imported as debian:12" "$out"
        fi
else
        not_ok "dockerd (our own data root and socket) answers" "$(tail -n 20 "$WORKDIR/dockerd.log")"
fi
unset DOCKER_HOST

# ---------------------------------------------------------------- containerd

export CONTAINERD_ADDRESS=$WORKDIR/containerd.sock
in_daemon_ns "$WORKDIR/containerd.log" containerd --address "$CONTAINERD_ADDRESS" --root "$WORKDIR/containerd" \
        --state "$WORKDIR/containerd-state" --config /dev/null
if wait_until "$DAEMON_TIMEOUT" ctr version >/dev/null 2>&1; then
        ok "containerd (our own root, state and socket) answers"
        started=$SECONDS
        out=$(ROOTFS=$WORKDIR/ctr-rootfs/root timeout "$DAEMON_TIMEOUT" bash -c "$CONTAINERD_RECIPE" 2>&1)
        assert_eq "the README's containerd recipe runs" 0 "$?"
        check_output containerd "$out" "$started" "$(nproc)"
else
        not_ok "containerd (our own root, state and socket) answers" "$(tail -n 20 "$WORKDIR/containerd.log")"
fi

finish
