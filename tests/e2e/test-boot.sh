#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-boot.sh CAPFS CAPFS_LAUNCH: boots a Debian rootfs (tests/e2e/lib/rootfs.sh;
# CAPFS_E2E_SUITE, default bookworm) with capfs-launch --memory 512M --cpus 1 --pids 256 against a
# capfs daemon of our own, and checks that systemd reaches "running" with nothing failed and
# without CAP_SYS_ADMIN, that free and nproc show the limits, that systemd's isolators
# (set-property, systemd-run -p MemoryMax=) create real, enforced cgroups, that the container
# cannot undo its limits or reach outside, and that poweroff ends the launcher with status 0 and
# nothing left behind.
#
# Commands "inside" run in two ways: queries of systemd (systemctl) through nsenter into the
# container's namespaces; everything that must run exactly as the container's own root does
# (capabilities, seccomp filter, cgroups) as a transient service of the container's systemd
# (`systemd-run --pipe --wait`), which inherits init's bounding set and filter.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-300}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"
# shellcheck source=tests/e2e/lib/isolators.sh
source "$here/lib/isolators.sh"

LAUNCH=${2:-}
SUITE=${CAPFS_E2E_SUITE:-bookworm}
NAME=boot-$$
MEMORY_LIMIT=536870912
# A boot is an awaited event: 3 minutes, or EVENT_TIMEOUT where the watchdog is raised (the VM).
BOOT_TIMEOUT=$((EVENT_TIMEOUT > 180 ? EVENT_TIMEOUT : 180))

((EUID == 0)) || skip_all "needs root (containers, FUSE allow_other, cgroups)"
[[ -x $LAUNCH ]] || bail "usage: $0 CAPFS CAPFS_LAUNCH (got '$LAUNCH')"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        skip_all "no overlay file system (the container runs on an overlay of the cached rootfs)"
ROOTFS=$(capfs_rootfs "$SUITE") ||
        bail "cannot build the Debian $SUITE rootfs: tests/e2e/lib/rootfs.sh $SUITE failed (its error is above)"

setup
# The container's cgroups go below "launch" (lib.sh).
launcher_cgroups
ROOT=$WORKDIR/root
# The container's writes go to a tmpfs: an overlay's upper layer cannot be on another overlay
# (the VM lane's root file system is one).
mkdir -p "$WORKDIR/rw" "$ROOT"
mount -t tmpfs -o size=1G capfs-boot-rw "$WORKDIR/rw" || bail "cannot mount a tmpfs on $WORKDIR/rw"
mkdir -p "$WORKDIR/rw/upper" "$WORKDIR/rw/work"
mount -t overlay capfs-boot -o "lowerdir=$ROOTFS,upperdir=$WORKDIR/rw/upper,workdir=$WORKDIR/rw/work" "$ROOT" ||
        bail "cannot mount an overlay of $ROOTFS on $ROOT"

launcher_pid=
_stop_container() {
        local status=$?
        if [[ -n $launcher_pid ]] && kill -0 "$launcher_pid" 2>/dev/null; then
                kill -TERM "$launcher_pid" 2>/dev/null
                timeout "$EVENT_TIMEOUT" tail --pid="$launcher_pid" -f /dev/null
                kill -KILL "$launcher_pid" 2>/dev/null
        fi
        umount "$ROOT" 2>/dev/null
        umount "$WORKDIR/rw" 2>/dev/null
        return "$status"
}
trap '_stop_container; _teardown' EXIT

# systemd 258 and later run on cgroup2 only: on a host with v1 controllers the launcher refuses
# such a container before making anything, and says what to change (sid's systemd, here).
systemd_version=$(find "$ROOTFS/usr/lib" -maxdepth 3 -name 'libsystemd-shared-*.so' 2>/dev/null |
        sed -n 's/.*libsystemd-shared-\([0-9]*\).*/\1/p' | sort -n | tail -n 1)
if ! on_v2 && ((${systemd_version:-0} >= 258)); then
        out=$(cg_join "$LAUNCH_CG" && exec "$LAUNCH" --rootfs "$ROOT" --name "$NAME" --capfs "$MNT" \
                "${LAUNCH_ARGS[@]}" --memory 512M </dev/null 2>&1)
        assert_eq "capfs-launch refuses systemd $systemd_version on this host's v1 controllers (exit 1)" 1 "$?"
        assert_match "... naming the container's systemd and the kernel command line that fixes it" \
                "systemd $systemd_version .* runs on cgroup2 only .*'systemd.unified_cgroup_hierarchy=1'" "$out"
        check "... before making any cgroup" not test -e "$(cg_host memory launch)/capfs/$NAME"
        finish
fi

(
        cg_join "$LAUNCH_CG" || exit 125
        exec "$LAUNCH" --rootfs "$ROOT" --name "$NAME" --capfs "$MNT" "${LAUNCH_ARGS[@]}" --memory 512M --cpus 1 \
                --pids 256 </dev/null
) >"$WORKDIR/console.log" 2>&1 &
launcher_pid=$!
OUTER_MEMORY=$(cg_host memory launch)/capfs/$NAME
ROOT_MEMORY=$OUTER_MEMORY/payload
# What a layout calls the same things: on cgroup2 one tree, native in the container.
if on_v2; then
        LIMIT_KNOB=memory.max
        ROOT_FREEZER=$ROOT_MEMORY
        CT_MEMORY=/sys/fs/cgroup
        CT_PROCS=/sys/fs/cgroup/cgroup.procs
        FREEZE='echo 1 >/sys/fs/cgroup/cgroup.freeze'
else
        LIMIT_KNOB=memory.limit_in_bytes
        ROOT_FREEZER=$(cg_host freezer launch)/capfs/$NAME/payload
        CT_MEMORY=/sys/fs/cgroup/memory
        CT_PROCS=/sys/fs/cgroup/memory/cgroup.procs
        FREEZE='echo FROZEN >/sys/fs/cgroup/freezer/freezer.state'
fi
frozen() {
        if on_v2; then
                awk '$1 == "frozen" { print ($2 ? "FROZEN" : "THAWED") }' "$ROOT_FREEZER/cgroup.events"
        else
                cat "$ROOT_FREEZER/freezer.state"
        fi
}

# The container's init: the process in the container's root cgroup that is pid 1 of its own
# namespace.
init_pid=
find_init() {
        local pid
        for pid in $(cat "$ROOT_MEMORY/cgroup.procs" "$ROOT_MEMORY/init.scope/cgroup.procs" 2>/dev/null); do
                [[ $(ns_pids "$pid") =~ ^[0-9]+\ 1$ ]] && init_pid=$pid && return 0
        done
        return 1
}
wait_until "$EVENT_TIMEOUT" find_init || bail "no init in $ROOT_MEMORY; console: $(tail -n 20 "$WORKDIR/console.log")"
ok "capfs-launch starts the container ($SUITE)"

ct() {
        timeout -k 5 "$EVENT_TIMEOUT" nsenter -t "$init_pid" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# inside SCRIPT: runs SCRIPT as a service of the container's systemd: its root, as it really is.
inside() {
        ct systemd-run --quiet --wait --pipe --collect -- /bin/sh -c "$1"
}

state=
wait_for_boot() {
        local deadline=$((SECONDS + BOOT_TIMEOUT))
        while ((SECONDS < deadline)); do
                state=$(ct systemctl is-system-running --wait 2>&1)
                # Until systemd's manager listens, systemctl answers "offline" or cannot connect;
                # --wait only covers "initializing" and "starting".
                case $state in
                running | degraded | maintenance | stopping) return 0 ;;
                esac
                sleep 0.5
        done
        return 1
}
boot_started=$SECONDS
wait_for_boot
assert_eq "systemd boots to 'running'" running "$state"
diag "boot took $((SECONDS - boot_started)) s"
failed=$(ct systemctl --failed --no-legend --plain 2>&1)
assert_eq "no failed units" "" "$failed"
[[ $state == running && -z $failed ]] || diag "console:" "$(tail -n 30 "$WORKDIR/console.log")"

capbnd=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$init_pid/status")
assert_eq "init's bounding set lacks CAP_SYS_ADMIN" 0 $((0x$capbnd >> 21 & 1))
assert_eq "init runs under a seccomp filter" 2 "$(awk '$1 == "Seccomp:" { print $2 }' "/proc/$init_pid/status")"
assert_eq "a service's bounding set is init's" "$capbnd" "$(inside 'awk "\$1 == \"CapBnd:\" { print \$2 }" /proc/self/status')"

# ---------------------------------------------------------------- the views

views=(/proc/meminfo /proc/cpuinfo /proc/stat /proc/uptime /proc/loadavg /sys/devices/system/cpu)
on_v2 || views+=(/sys/fs/cgroup/memory /sys/fs/cgroup/pids)
for f in "${views[@]}"; do
        assert_eq "$f comes from capfs" fuse.capfs "$(ct findmnt -n -o FSTYPE -M "$f" | tail -n 1)"
done
if on_v2; then
        assert_eq "the container's cgroup2 is a real cgroup2 mount (nested layout)" cgroup2 \
                "$(ct findmnt -n -o FSTYPE -M /sys/fs/cgroup)"
else
        assert_eq "systemd's own hierarchy is a real cgroup mount" cgroup \
                "$(ct findmnt -n -o FSTYPE -M /sys/fs/cgroup/systemd)"
        # capfs's view of this container alone (by-pidns/N, N its pid namespace), whose entries
        # the kernel may keep; no other container finds anything there.
        pidns=$(stat -L -c %i "/proc/$init_pid/ns/pid")
        assert_eq "/sys/fs/cgroup/memory is capfs's by-pidns/$pidns/cgroup/memory" "/by-pidns/$pidns/cgroup/memory" \
                "$(awk '$5 == "/sys/fs/cgroup/memory" { print $4 }' "/proc/$init_pid/mountinfo")"
        other_sees() { ls "$1" 2>&1 && echo listed; }
        assert_match "another container finds no by-pidns/$pidns" 'No such file' \
                "$(run_in_ct launch other_sees "$MNT/by-pidns/$pidns/cgroup/memory")"
fi
assert_eq "free -m shows 512 MiB" 512 "$(inside 'free -m' | awk '$1 == "Mem:" { print $2 }')"
assert_eq "nproc shows 1" 1 "$(inside nproc)"
assert_eq "nproc --all (sysfs) shows 1" 1 "$(inside 'nproc --all')"

# ---------------------------------------------------------------- isolators

check_isolators "$ROOT_MEMORY" "$LIMIT_KNOB"

# ---------------------------------------------------------------- the cgroup budget
# The launcher's defaults, on the outer cgroup of the cgroup2 tree (one more of each for the
# container's root), where the container cannot change them: 1000 cgroups, 16 levels. A 17th level
# below the container's root is refused with EAGAIN: by the kernel on cgroup2, by capfs's view (which
# reads those numbers) on v1.
if on_v2; then
        BUDGET_CG=$OUTER_MEMORY
else
        BUDGET_CG=$(cg_host unified launch)/capfs/$NAME
fi
assert_eq "the budget on the outer cgroup2 cgroup: 1001 cgroups and 17 levels" "1001 17" \
        "$(cat "$BUDGET_CG/cgroup.max.descendants" "$BUDGET_CG/cgroup.max.depth" 2>&1 | tr '\n' ' ' | sed 's/ $//')"
deep=$CT_MEMORY/capfs-budget
for i in $(seq 2 16); do deep+=/d$i; done
out=$(inside "mkdir -p $deep && echo made-16; mkdir $deep/d17 2>&1; d=$deep
        while [ \"\$d\" != $CT_MEMORY ]; do rmdir \"\$d\"; d=\$(dirname \"\$d\"); done" 2>&1)
assert_match "16 levels of cgroups below its root are made, a 17th is refused with EAGAIN" \
        "^made-16 .*Resource temporarily unavailable" "$(tr '\n' ' ' <<<"$out")"
assert_eq "... and removed again" "" "$(find "$ROOT_MEMORY" -name 'capfs-budget' 2>/dev/null)"

# ---------------------------------------------------------------- what it cannot do

refused() { # refused DESCRIPTION SCRIPT
        local out
        if out=$(inside "$2" 2>&1); then
                not_ok "$1" "it succeeded: $out"
        else
                ok "$1"
        fi
}
refused "remount,rw of the read-only /proc/meminfo fails" 'mount -o remount,bind,rw /proc/meminfo'
refused "remount,rw of /proc/sys fails" 'mount -o remount,rw /proc/sys'
refused "umount of /proc/meminfo fails" 'umount /proc/meminfo'
# Devices: any node may be made (CAP_MKNOD stays), only the basic ones opened (the devices
# controller on v1, the launcher's BPF program on cgroup2).
out=$(inside 'mknod /dev/capfs-null c 1 3 && echo x >/dev/capfs-null && echo written' 2>&1)
assert_eq "a null node it makes itself can be written" written "$out"
out=$(inside 'mknod /dev/capfs-disk b 8 0 && echo made; head -c 1 /dev/capfs-disk >/dev/null && echo opened' 2>&1)
assert_match "a disk node it makes itself cannot be opened" "^made.*Operation not permitted" "$(echo "$out" | tr '\n' ' ')"
# The limits are on the container's own root, where runtimes read them (nsdelegate on cgroup2,
# capfs's view on v1, both keep the container from writing there).
assert_eq "its root shows its memory limit inside" "$MEMORY_LIMIT" "$(inside "cat $CT_MEMORY/$LIMIT_KNOB" 2>&1)"
refused "writing its own top memory limit fails" "echo 4294967296 >$CT_MEMORY/$LIMIT_KNOB"
assert_eq "its memory limit is unchanged on the host" "$MEMORY_LIMIT" "$(cat "$ROOT_MEMORY/$LIMIT_KNOB")"
# Every other limit at its root, each raised to none: refused, and unchanged on the host.
if on_v2; then
        root_knobs=("cpu.max:max 100000" "pids.max:max" "cpuset.cpus:0-$(($(nproc) - 1))" "memory.swap.max:max")
        root_dir() { echo "$ROOT_MEMORY"; }
else
        root_knobs=("cpu/cpu.cfs_quota_us:-1" "pids/pids.max:max" "cpuset/cpuset.cpus:0-$(($(nproc) - 1))"
                "memory/memory.memsw.limit_in_bytes:-1")
        root_dir() { cg_host "${1%%/*}" launch; }
fi
for entry in "${root_knobs[@]}"; do
        knob=${entry%%:*} value=${entry#*:}
        if on_v2; then
                inside_path=$CT_MEMORY/$knob host_path=$ROOT_MEMORY/$knob
        else
                inside_path=/sys/fs/cgroup/$knob host_path=$(root_dir "$knob")/capfs/$NAME/payload/${knob#*/}
        fi
        [[ -e $host_path ]] || continue
        before=$(cat "$host_path")
        refused "raising its own ${knob#*/} fails" "echo '$value' >$inside_path"
        assert_eq "its ${knob#*/} is unchanged on the host" "$before" "$(cat "$host_path")"
done
refused "freezing its own root fails" "$FREEZE"
assert_eq "its root is not frozen on the host" THAWED "$(frozen)"
# A process outside: the host's pids are not in its namespace, and capfs refuses moves of what
# is not in its subtree.
outsider=$(
        cg_join "$LAUNCH_CG" || exit 1
        sleep infinity >/dev/null 2>&1 &
        echo $!
)
outsider_cg=$(cat "/proc/$outsider/cgroup")
refused "moving a host process ($outsider) into its cgroups fails" "echo $outsider >$CT_PROCS"
assert_eq "the host process stays where it was" "$outsider_cg" "$(cat "/proc/$outsider/cgroup")"
kill "$outsider"

# ---------------------------------------------------------------- shutdown

ct systemctl poweroff >/dev/null 2>&1
if timeout "$EVENT_TIMEOUT" tail --pid="$launcher_pid" -f /dev/null; then
        wait "$launcher_pid"
        assert_eq "after poweroff the launcher exits 0" 0 "$?"
        launcher_pid=
else
        not_ok "after poweroff the launcher exits" "still running after ${EVENT_TIMEOUT}s"
fi
left=$(find "$(cg_host memory launch)" "$(cg_host cpu launch)" "$(cg_host pids launch)" -mindepth 1 -type d 2>/dev/null)
assert_eq "no cgroups of the container left" "" "$left"
left=$(awk -v r="$ROOT/" 'index($5, r) == 1 { print $5 }' /proc/self/mountinfo)
assert_eq "no mounts of the container left in the host's namespace" "" "$left"

# ---------------------------------------------------------------- without capfs

mkdir "$WORKDIR/no-capfs"
out=$("$LAUNCH" --rootfs "$ROOT" --name "$NAME-2" --capfs "$WORKDIR/no-capfs" "${LAUNCH_ARGS[@]}" -- /bin/true 2>&1)
assert_eq "without capfs at --capfs the launcher refuses (exit 1)" 1 "$?"
assert_match "and says where it looked and what to do" "capfs is not mounted at $WORKDIR/no-capfs.*--no-capfs" "$out"
finish
