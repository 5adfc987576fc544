#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/escape/test-planted.sh CAPFS CAPFS_LAUNCH CAPFS_MOUNT_HOOK [CAPFS_OCI_HOOK]: paths a container's root
# plants in its rootfs for the next start, on both cgroup layouts (the host lane and the v2 VM).
# capfs-launch and the LXC and OCI hooks run as the host's root on that tree before pivot_root; they
# must resolve every path inside the rootfs, as the container will once it is its "/".
#
# Each launcher case plants one thing in a fresh overlay of the cached Debian rootfs, pointing
# into HOSTSIDE (host directories outside every rootfs), starts a container on it and asserts from
# the host that nothing appeared there, and from inside that the launcher's mount is where the
# container itself finds the path. The hooks are run as LXC and OCI runtimes run them, in a
# private mount namespace with the runtime's proc and sysfs mounts made by hand where the runtime
# resolves them (the OCI hook given the state on stdin and a bundle's config.json).
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-300}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/../e2e/lib/rootfs.sh"

LAUNCH=${2:-}
HOOK=$(readlink -f "${3:-/nonexistent}")
OCI_HOOK=$(readlink -f "${4:-/nonexistent}")
SUITE=${CAPFS_E2E_SUITE:-bookworm}

((EUID == 0)) || skip_all "needs root (containers, FUSE allow_other, cgroups)"
[[ -x $LAUNCH && -x $HOOK ]] || bail "usage: $0 CAPFS CAPFS_LAUNCH CAPFS_MOUNT_HOOK (got '$LAUNCH' '$HOOK')"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        skip_all "no overlay file system (containers run on an overlay of the cached rootfs)"
ROOTFS=$(capfs_rootfs "$SUITE") ||
        bail "cannot build the Debian $SUITE rootfs: tests/e2e/lib/rootfs.sh $SUITE failed (its error is above)"

setup
# The container's cgroups go below "launch" (lib.sh).
launcher_cgroups

# Not below /tmp, which the launcher covers with a tmpfs in the container: a symlink into it would
# land under that.
HOSTSIDE=$(mktemp -d /var/tmp/capfs-test-hostside.XXXXXX) || bail "cannot create a directory in /var/tmp"
mkdir -p "$HOSTSIDE"/{dir,dir2,run,dev,proc,sys,cgroup}
# The overlays' writable layers go to a tmpfs: an overlay's upper layer cannot be on another
# overlay (the VM lane's root file system is one). lib.sh's teardown removes nothing that is
# still mounted: the overlays and the tmpfs go first.
planted_roots=()
unmount_roots() {
        local r
        for r in "${planted_roots[@]}"; do
                [[ -n $r ]] && umount "$r" 2>/dev/null
        done
        umount "$WORKDIR/rw" 2>/dev/null
        rm -rf --one-file-system "$HOSTSIDE"
}
trap 'unmount_roots; _teardown' EXIT
mkdir "$WORKDIR/rw"
mount -t tmpfs -o size=256M capfs-planted-rw "$WORKDIR/rw" || bail "cannot mount a tmpfs on $WORKDIR/rw"

# ---------------------------------------------------------------- capfs-launch

# planted_case NAME SETUP DESCRIPTION EXPECTED_OUTPUT_REGEX [LAUNCHER OPTIONS...] -- SCRIPT
# SETUP runs on the host with the fresh rootfs as $1.
planted_case() {
        local name=$1 setup=$2 desc=$3 want=$4 root out status before appeared
        shift 4
        local -a extra=()
        while (($#)) && [[ $1 != -- ]]; do
                extra+=("$1")
                shift
        done
        shift
        root=$WORKDIR/planted-$name/root
        mkdir -p "$WORKDIR/planted-$name/root" "$WORKDIR/rw/$name"/{upper,work}
        if ! mount -t overlay "capfs-planted-$name" \
                -o "lowerdir=$ROOTFS,upperdir=$WORKDIR/rw/$name/upper,workdir=$WORKDIR/rw/$name/work" "$root"; then
                not_ok "$desc" "cannot mount an overlay on $root"
                return
        fi
        planted_roots+=("$root")
        "$setup" "$root"
        before=$(find "$HOSTSIDE" | sort)
        (
                cg_join "$LAUNCH_CG" || exit 125
                exec timeout -k 5 "$EVENT_TIMEOUT" "$LAUNCH" --rootfs "$root" --name "planted-$name" --capfs "$MNT" \
                        --network=none "${LAUNCH_ARGS[@]}" "${extra[@]}" -- /bin/sh -c "$1" </dev/null
        ) >"$WORKDIR/out.planted-$name" 2>&1
        status=$?
        out=$(tr '\r\n' '  ' <"$WORKDIR/out.planted-$name")
        appeared=$(comm -13 <(echo "$before") <(find "$HOSTSIDE" | sort))
        if [[ -n $appeared ]]; then
                not_ok "$desc" "made on the host, outside the rootfs:" "$appeared"
        elif ((status != 0)) || ! [[ $out =~ $want ]]; then
                not_ok "$desc" "exit status $status, expected /$want/ in: $out"
        else
                ok "$desc"
        fi
        umount "$root" && planted_roots=("${planted_roots[@]/$root/}")
}

plant_bind_parent() { ln -s "$HOSTSIDE/dir" "$1/data"; }
planted_case bind-parent plant_bind_parent \
        "a --bind target below a symlink to a host directory: bound inside the rootfs, nothing on the host" \
        'bound-inside' --bind /etc:/data/etc:ro -- 'test -f /data/etc/hostname && echo bound-inside'

plant_bind_file() { ln -s "$HOSTSIDE/file" "$1/datafile"; }
planted_case bind-file plant_bind_file \
        "a --bind file target that is a dangling symlink to a host path: no file made on the host" \
        "same-as-host:$(cat /etc/hostname)" --bind /etc/hostname:/datafile:ro -- 'echo "same-as-host:$(cat /datafile)"'

plant_bind_dotdot() { ln -s "../../../../../../../../../..$HOSTSIDE/dir2" "$1/dotdot"; }
planted_case bind-dotdot plant_bind_dotdot \
        "a --bind target below a symlink of '..'s up to a host directory: '..' stops at the rootfs" \
        'bound-inside' --bind /etc:/dotdot/etc:ro -- 'test -f /dotdot/etc/hostname && echo bound-inside'

plant_run() { rm -rf "${1:?}/run" && ln -s "$HOSTSIDE/run" "$1/run"; }
planted_case run plant_run "/run a symlink to a host directory: its tmpfs and run/systemd/container land inside" \
        'fs=tmpfs container=capfs' -- 'echo "fs=$(stat -f -c %T /run/) container=$(cat /run/systemd/container)"'

plant_dev() { rm -rf "${1:?}/dev" && ln -s "$HOSTSIDE/dev" "$1/dev"; }
planted_case dev plant_dev "/dev a symlink to a host directory: its tmpfs and device nodes land inside" \
        'fs=tmpfs null=c' -- 'echo "fs=$(stat -f -c %T /dev/) null=$(stat -c %F /dev/null | cut -c1)"'

plant_proc() { rm -rf "${1:?}/proc" && ln -s "$HOSTSIDE/proc" "$1/proc"; }
planted_case proc plant_proc "/proc a symlink to a host directory: proc and capfs's files land inside" \
        'fs=proc meminfo=fuse' -- 'echo "fs=$(stat -f -c %T /proc/) meminfo=$(stat -f -c %T /proc/meminfo | cut -c1-4)"'

plant_sys() { rm -rf "${1:?}/sys" && ln -s "$HOSTSIDE/sys" "$1/sys"; }
planted_case sys plant_sys "/sys a symlink to a host directory: sysfs and /sys/fs/cgroup land inside" \
        'fs=sysfs cgroup=(tmpfs|cgroup2)' -- 'echo "fs=$(stat -f -c %T /sys/) cgroup=$(stat -f -c %T /sys/fs/cgroup/)"'

# /sys/fs/cgroup of the rootfs lies below the sysfs the launcher mounts, so a symlink there is
# covered; tried all the same.
plant_cgroup() { mkdir -p "$1/sys/fs" && ln -s "$HOSTSIDE/cgroup" "$1/sys/fs/cgroup"; }
planted_case cgroup plant_cgroup "/sys/fs/cgroup a symlink to a host directory: covered by sysfs, nothing on the host" \
        'cgroup=(tmpfs|cgroup2)' -- 'echo "cgroup=$(stat -f -c %T /sys/fs/cgroup/)"'

# The launcher reads etc/hostname: a FIFO there would block it for ever.
plant_fifo() { rm -f "$1/etc/hostname" && mkfifo "$1/etc/hostname"; }
planted_case hostname-fifo plant_fifo "etc/hostname a FIFO: the launcher does not block on it" \
        'started' -- 'echo started'


# ---------------------------------------------------------------- the LXC mount hook

# A rootfs whose /proc is a symlink to a host directory: LXC mounts proc where it resolves the
# path inside the rootfs, and the hook must put capfs's files over that proc, not over anything
# at the host's path of the same name.
mkdir -p "$HOSTSIDE/hookproc" "$WORKDIR/hookroot"
ln -s "$HOSTSIDE/hookproc" "$WORKDIR/hookroot/proc"
# shellcheck disable=SC2016 # expanded by the namespace's shell
out=$(timeout "$EVENT_TIMEOUT" unshare --mount --propagation private sh -c '
        root=$1 hostside=$2 capfs=$3 hook=$4
        mkdir -p "$root$hostside/hookproc" "$root/sys" && mount -t proc proc "$root$hostside/hookproc" &&
                mount -t sysfs sysfs "$root/sys" || exit 1
        LXC_ROOTFS_MOUNT=$root LXC_NAME=planted "$hook" --capfs "$capfs" --no-cgroup planted lxc mount || exit 1
        echo "inside=$(stat -f -c %t "$root$hostside/hookproc/meminfo")"
        echo "host=$(ls -A "$hostside/hookproc" | wc -l)"' sh "$WORKDIR/hookroot" "$HOSTSIDE" "$MNT" "$HOOK" 2>&1)
assert_eq "hook: a rootfs whose /proc is a symlink to a host directory: capfs's meminfo lands inside" \
        65735546 "$(get inside <<<"$out")"
assert_eq "hook: ... and the host directory stays empty (in the hook's namespace too)" 0 "$(get host <<<"$out")"
assert_eq "hook: ... and on the host" "" "$(ls -A "$HOSTSIDE/hookproc")"
[[ $out == *inside=* ]] || diag "$out"

# The OCI hook (createContainer: the same point as LXC's mount hook) on the same planted rootfs,
# given the runtime's state on stdin and a bundle's config.json naming the rootfs.
if [[ -x $OCI_HOOK ]]; then
        mkdir -p "$HOSTSIDE/ociproc" "$WORKDIR/ociroot" "$WORKDIR/bundle"
        ln -s "$HOSTSIDE/ociproc" "$WORKDIR/ociroot/proc"
        printf '{"root": {"path": "%s"}, "process": {"args": ["/bin/sh"]}}' "$WORKDIR/ociroot" >"$WORKDIR/bundle/config.json"
        # shellcheck disable=SC2016 # expanded by the namespace's shell
        out=$(timeout "$EVENT_TIMEOUT" unshare --mount --propagation private sh -c '
                root=$1 hostside=$2 capfs=$3 hook=$4 bundle=$5
                mkdir -p "$root$hostside/ociproc" "$root/sys" && mount -t proc proc "$root$hostside/ociproc" &&
                        mount -t sysfs sysfs "$root/sys" || exit 1
                printf "{\"id\": \"planted\", \"pid\": 1, \"bundle\": \"%s\", \"status\": \"creating\"}" "$bundle" |
                        "$hook" --capfs "$capfs" || exit 1
                echo "inside=$(stat -f -c %t "$root$hostside/ociproc/meminfo")"
                echo "host=$(ls -A "$hostside/ociproc" | wc -l)"' sh "$WORKDIR/ociroot" "$HOSTSIDE" "$MNT" "$OCI_HOOK" \
                "$WORKDIR/bundle" 2>&1)
        assert_eq "OCI hook: a rootfs whose /proc is a symlink to a host directory: capfs's meminfo lands inside" \
                65735546 "$(get inside <<<"$out")"
        assert_eq "OCI hook: ... and the host directory stays empty (in the hook's namespace too)" 0 "$(get host <<<"$out")"
        assert_eq "OCI hook: ... and on the host" "" "$(ls -A "$HOSTSIDE/ociproc")"
        [[ $out == *inside=* ]] || diag "$out"
fi

left=$(find "$(cg_host memory launch)" -mindepth 1 -type d 2>/dev/null)
assert_eq "every container's cgroups are removed" "" "$left"
finish
