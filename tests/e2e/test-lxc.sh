#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-lxc.sh CAPFS CAPFS_MOUNT_HOOK PROBE: boots a Debian rootfs (tests/e2e/lib/rootfs.sh; CAPFS_E2E_SUITE,
# default bookworm) with Debian's LXC and capfs's LXC snippet (mount-helper/lxc/capfs.conf.in,
# which drops CAP_SYS_ADMIN and installs the mount hook), against a capfs daemon of our own, and
# checks from inside that systemd boots with nothing failed, that free, nproc and the cgroup
# isolators show and enforce the container's limits, and that the container cannot undo them.
#
# Nothing global is touched: the container lives in a private lxcpath in the scratch directory,
# runs on an overlay of the cached rootfs (which stays pristine), and LXC puts its cgroups below
# ours (lxc.cgroup.relative, started from a capfs-test-* cgroup). The EXIT trap stops the
# container, then lib.sh removes the daemon, the cgroups and the scratch directory.
set -u

# A cold boot takes seconds, but a loaded CI machine may need minutes; lib.sh's watchdog stops
# the test (with its cleanup) after this.
export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-300}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"
# shellcheck source=tests/e2e/lib/isolators.sh
source "$here/lib/isolators.sh"

SUITE=${CAPFS_E2E_SUITE:-bookworm}
# The hook as built (installed beside capfs.conf, which names it by its installed path).
HOOK=$(readlink -f "${2:-/nonexistent}")
# tests/escape/probe.c, bind-mounted into the container for the seccomp checks.
PROBE=$(readlink -f "${3:-/nonexistent}")
LXC_DIR=$(cd "$here/../../mount-helper/lxc" && pwd)
CT_NAME=capfs-test-$$
MEMORY_LIMIT=536870912
# Commands run in the container, its start and its shutdown are bounded by lib.sh's EVENT_TIMEOUT;
# a boot by 3 minutes, or EVENT_TIMEOUT where the watchdog is raised.
BOOT_TIMEOUT=$((EVENT_TIMEOUT > 180 ? EVENT_TIMEOUT : 180))

# Capability numbers (linux/capability.h) of the names the snippet may drop.
declare -A CAP_NUMBER=(
        [dac_read_search]=2 [net_admin]=12 [sys_module]=16 [sys_rawio]=17 [sys_admin]=21
        [sys_boot]=22 [sys_resource]=24 [sys_time]=25 [mac_override]=32 [mac_admin]=33 [syslog]=34
        [perfmon]=38 [bpf]=39
)

# ---------------------------------------------------------------- preconditions

((EUID == 0)) || skip_all "needs root (LXC containers, FUSE allow_other, cgroups)"
[[ -x $HOOK && -x $PROBE ]] || bail "usage: $0 CAPFS CAPFS_MOUNT_HOOK PROBE (got '$HOOK' '$PROBE')"
for tool in lxc-start lxc-attach lxc-stop lxc-wait lxc-info; do
        command -v "$tool" >/dev/null ||
                skip_all "$tool not found: install Debian's lxc package (apt-get install --no-install-recommends lxc)"
done
on_v2 && skip_all "this LXC lane covers cgroup v1 and hybrid hosts (on pure cgroup2 the hook leaves LXC's" \
        "own cgroup2 mount; tests/systemd/test-host.sh boots LXC containers there, with the real systemd)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        skip_all "no overlay file system (the container runs on an overlay of the cached rootfs)"
# Before the watchdog starts: a cold build takes about a minute. A failed build is a failure,
# not a skip: the e2e suite needs the Debian mirror.
ROOTFS=$(capfs_rootfs "$SUITE") ||
        bail "cannot build the Debian $SUITE rootfs: tests/e2e/lib/rootfs.sh $SUITE failed (its error is above)"

setup
cg_create lxc
CT_DIR=$WORKDIR/ct
LXCPATH=$WORKDIR/lxcpath
mkdir -p "$CT_DIR/upper" "$LXCPATH"

# ---------------------------------------------------------------- the container

ct_state() {
        lxc-info -P "$LXCPATH" -n "$CT_NAME" -s 2>/dev/null | awk '$1 == "State:" { print $2 }'
}

_ct_stop() {
        local status=$? state
        state=$(ct_state)
        if [[ -n $state && $state != STOPPED ]]; then
                timeout "$EVENT_TIMEOUT" lxc-stop -P "$LXCPATH" -n "$CT_NAME" -k >/dev/null 2>&1
        fi
        return "$status"
}
# lib.sh's teardown reads the exit status first thing; _ct_stop hands it on.
trap '_ct_stop; _teardown' EXIT

# The snippet as installed, pointing at this checkout; the hook line is replaced to reach our
# scratch mountpoint instead of /var/lib/capfs.
sed -e "s|@CAPFS_LXC_DIR@|$LXC_DIR|g" -e "s|@CAPFS_MOUNT_HOOK@|$HOOK|g" -e "s|@CAPFS_SECCOMP_SOCKET@|$("$CAPFS" --print-seccomp-socket "$MNT")|g" \
        "$LXC_DIR/capfs.conf.in" >"$WORKDIR/capfs.conf"
# One CPU both ways: nproc counts the CPUs of its affinity mask, which follows the cpuset; capfs's
# cpuinfo and sysfs views follow the cpuset and the CFS quota.
first_cpu=$(cut -d, -f1 <"$(cg_host cpuset lxc)/cpuset.cpus")
first_cpu=${first_cpu%%-*}
cat >"$WORKDIR/config" <<EOF
# As in the rootfs's /etc/hostname: systemd, lacking CAP_SYS_ADMIN, cannot change it.
lxc.uts.name = capfs-$SUITE
lxc.rootfs.path = overlay:$ROOTFS:$CT_DIR/upper
lxc.include = /usr/share/lxc/config/common.conf
lxc.include = $WORKDIR/capfs.conf
lxc.hook.mount =
lxc.hook.mount = $HOOK --capfs $MNT
lxc.mount.entry = $PROBE capfs-probe none bind,ro,create=file 0 0
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.signal.halt = SIGRTMIN+3
lxc.console.logfile = $WORKDIR/console.log
lxc.cgroup.relative = 1
lxc.cgroup.memory.limit_in_bytes = $MEMORY_LIMIT
lxc.cgroup.cpuset.cpus = $first_cpu
lxc.cgroup.cpu.cfs_period_us = 100000
lxc.cgroup.cpu.cfs_quota_us = 100000
lxc.cgroup.pids.max = 256
EOF

# ct COMMAND...: runs COMMAND in the container (bounded), with a clean environment.
ct() {
        timeout -k 5 "$EVENT_TIMEOUT" lxc-attach -P "$LXCPATH" -n "$CT_NAME" --clear-env \
                -v PATH=/usr/sbin:/usr/bin:/sbin:/bin -v LANG=C.UTF-8 -- "$@"
}

ct_logs() {
        diag "--- lxc log (tail):" "$(tail -n 25 "$WORKDIR/lxc.log" 2>/dev/null)"
        diag "--- console (tail):" "$(tail -n 25 "$WORKDIR/console.log" 2>/dev/null)"
}

# LXC makes lxc.monitor.NAME and lxc.payload.NAME below the cgroup lxc-start runs in.
if ! (cg_join lxc && exec timeout "$EVENT_TIMEOUT" lxc-start -P "$LXCPATH" -n "$CT_NAME" -f "$WORKDIR/config" -d \
        -l DEBUG -o "$WORKDIR/lxc.log"); then
        ct_logs
        bail "lxc-start of the $SUITE rootfs failed"
fi
ok "lxc-start starts the container ($SUITE, CAP_SYS_ADMIN dropped)"

PAYLOAD_MEMORY=$(cg_host memory lxc)/lxc.payload.$CT_NAME
PAYLOAD_FREEZER=$(cg_host freezer lxc)/lxc.payload.$CT_NAME
[[ -d $PAYLOAD_MEMORY ]] || bail "LXC did not create its cgroup below ours: no $PAYLOAD_MEMORY"

# is-system-running --wait needs systemd's bus, which appears a moment after init starts.
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
wait_for_boot
assert_eq "systemd boots to 'running'" running "$state"
failed=$(ct systemctl --failed --no-legend --plain 2>&1)
assert_eq "no failed units" "" "$failed"
[[ $state == running && -z $failed ]] || ct_logs

# ---------------------------------------------------------------- capabilities

capbnd=$(ct awk '$1 == "CapBnd:" { print $2 }' /proc/1/status)
if [[ ! $capbnd =~ ^[0-9a-f]{16}$ ]]; then
        not_ok "read init's bounding set" "got '$capbnd'"
else
        kept=
        for cap in $(sed -n 's/^lxc\.cap\.drop *= *//p' "$WORKDIR/capfs.conf"); do
                [[ -n ${CAP_NUMBER[$cap]:-} ]] || bail "the snippet drops $cap, which this test does not know"
                ((0x$capbnd >> CAP_NUMBER[$cap] & 1)) && kept+=" $cap"
        done
        assert_eq "init's bounding set ($capbnd) lacks every capability the snippet drops" "" "$kept"
        assert_eq "init's bounding set lacks CAP_SYS_ADMIN" 0 $((0x$capbnd >> 21 & 1))
fi

# ---------------------------------------------------------------- the cgroup budget
# On a hybrid host LXC 5.0 leaves the snippet's lxc.cgroup2.cgroup.max.* unset (it applies
# lxc.cgroup2 keys on pure cgroup2 hosts only), so here capfs's own numbers (1000, 16) hold in the
# view: a 17th level below the container's root is refused with EAGAIN.
deep=/sys/fs/cgroup/memory/capfs-budget
for i in $(seq 2 16); do deep+=/d$i; done
out=$(ct sh -c "mkdir -p $deep && echo made-16; mkdir $deep/d17 2>&1; d=$deep
        while [ \"\$d\" != /sys/fs/cgroup/memory ]; do rmdir \"\$d\"; d=\$(dirname \"\$d\"); done" 2>&1)
assert_match "16 levels of cgroups below its root through the view, a 17th refused with EAGAIN" \
        "^made-16 .*Resource temporarily unavailable" "$(tr '\n' ' ' <<<"$out")"

# ---------------------------------------------------------------- the capfs views

for f in /proc/meminfo /proc/cpuinfo /proc/stat /proc/uptime /proc/loadavg /proc/diskstats /proc/swaps \
        /sys/devices/system/cpu /sys/fs/cgroup/memory /sys/fs/cgroup/cpu /sys/fs/cgroup/pids; do
        assert_eq "$f comes from capfs" fuse.capfs "$(ct findmnt -n -o FSTYPE -M "$f" | tail -n 1)"
done
assert_eq "systemd's own hierarchy stays a real cgroup mount" cgroup \
        "$(ct findmnt -n -o FSTYPE -M /sys/fs/cgroup/systemd)"
assert_eq "free -m shows the 512 MiB limit" 512 "$(ct free -m | awk '$1 == "Mem:" { print $2 }')"
# sysinfo(2) through LXC's seccomp proxy, answered by capfs: glibc's _PHYS_PAGES comes from it.
assert_eq "getconf _PHYS_PAGES (sysinfo) shows the 512 MiB limit" $((MEMORY_LIMIT / $(getconf PAGESIZE))) \
        "$(ct getconf _PHYS_PAGES)"
assert_eq "nproc shows 1 CPU" 1 "$(ct nproc)"
assert_eq "nproc --all (sysfs) shows 1 CPU" 1 "$(ct nproc --all)"
assert_eq "/proc/cpuinfo lists 1 CPU" 1 "$(ct grep -c '^processor' /proc/cpuinfo)"

# ---------------------------------------------------------------- isolators

check_isolators "$PAYLOAD_MEMORY" memory.limit_in_bytes

# ---------------------------------------------------------------- what the container cannot do

probe() {
        local out
        out=$(ct sh -c "$1" 2>&1) && {
                echo "SUCCEEDED: $out"
                return
        }
        echo "FAILED: $out"
}
assert_match "umount of /proc/meminfo fails" '^FAILED' "$(probe 'umount /proc/meminfo')"
assert_match "remount,rw of the read-only /proc/meminfo fails" '^FAILED' \
        "$(probe 'mount -o remount,bind,rw /proc/meminfo')"
assert_match "umount of the capfs memory hierarchy fails" '^FAILED' "$(probe 'umount /sys/fs/cgroup/memory')"
assert_match "mounting cgroupfs fails" '^FAILED' \
        "$(probe 'mkdir -p /run/cg && mount -t cgroup -o memory cgroup /run/cg')"
assert_eq "init runs under a seccomp filter" 2 "$(ct awk '$1 == "Seccomp:" { print $2 }' /proc/1/status)"
# Each call capfs.seccomp refuses outright: EPERM inside (ENOSYS only where this machine refuses
# it to everyone, as an unprivileged process on the host shows).
refused=$(awk '$2 == "errno" && $3 == 1 && NF == 3 { print $1 }' "$LXC_DIR/capfs.seccomp")
# shellcheck disable=SC2016 # expanded in the container
out=$(ct sh -c 'for c in "$@"; do /capfs-probe syscall "$c"; done' sh $refused 2>&1)
for call in $refused; do
        want="^blocked EPERM $call:"
        baseline=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$PROBE" syscall "$call" | awk '{ print $2 }')
        [[ $baseline == ENOSYS ]] && want="^blocked (EPERM|ENOSYS) $call:"
        assert_match "seccomp refuses $call inside: EPERM" "$want" "$(grep -E "^[a-zA-Z]+ [A-Z0-9?]* ${call}[: ]" <<<"$out")"
done
assert_match "creating a user namespace fails (unshare)" '^FAILED' "$(probe 'unshare --user true')"
# clone and clone3 by number (x86_64's) from perl, which every Debian rootfs has: CLONE_NEWUSER
# | SIGCHLD, no new stack, so that a clone the filter let through would return like fork.
if [[ $(uname -m) == x86_64 ]]; then
        # Numbers, not strings: perl passes a string argument as a pointer to it.
        clone_probe='my @a = map { $_ + 0 } @ARGV; my $r = syscall($a[0], @a[1 .. $#a]);
                exit 0 if $r == 0; print $r < 0 ? "errno=" . ($! + 0) : "pid=$r"'
        assert_eq "creating a user namespace fails (clone: EPERM)" errno=1 \
                "$(ct perl -e "$clone_probe" 56 $((0x10000011)) 0 0 0 0)"
        assert_eq "clone3 reports ENOSYS (its flags are out of a filter's reach)" errno=38 \
                "$(ct perl -e "$clone_probe" 435 0 0)"
fi
assert_match "writing its own top memory limit fails" '^FAILED.*(Permission denied|Operation not permitted)' \
        "$(probe 'echo 4294967296 >/sys/fs/cgroup/memory/memory.limit_in_bytes')"
assert_eq "its top memory limit is unchanged on the host" "$MEMORY_LIMIT" \
        "$(cat "$PAYLOAD_MEMORY/memory.limit_in_bytes")"
assert_match "freezing its own top cgroup fails" '^FAILED' \
        "$(probe 'echo FROZEN >/sys/fs/cgroup/freezer/freezer.state')"
assert_eq "its top cgroup is not frozen on the host" THAWED "$(cat "$PAYLOAD_FREEZER/freezer.state")"

# ---------------------------------------------------------------- shutdown

ct systemctl poweroff >/dev/null 2>&1
if timeout "$((EVENT_TIMEOUT + 10))" lxc-wait -P "$LXCPATH" -n "$CT_NAME" -s STOPPED -t "$EVENT_TIMEOUT"; then
        ok "systemctl poweroff stops the container"
else
        not_ok "systemctl poweroff stops the container" "state: $(ct_state)"
        ct_logs
fi
left=$(find "$(cg_host memory lxc)" "$(cg_host cpu lxc)" -mindepth 1 -type d -name "lxc.payload.*" 2>/dev/null)
assert_eq "LXC removed the container's cgroups" "" "$left"
# ---------------------------------------------------------------- without capfs

# The hook refuses to start a container when capfs is not mounted where it looks, and says so.
mkdir "$WORKDIR/no-capfs"
sed "s|--capfs $MNT|--capfs $WORKDIR/no-capfs|" "$WORKDIR/config" >"$WORKDIR/config-no-capfs"
if (cg_join lxc && exec timeout "$EVENT_TIMEOUT" lxc-start -P "$LXCPATH" -n "$CT_NAME" -f "$WORKDIR/config-no-capfs" -d \
        -l DEBUG -o "$WORKDIR/lxc-no-capfs.log") >/dev/null 2>&1; then
        not_ok "lxc-start refuses to start the container when capfs is not mounted" "it started"
        timeout "$EVENT_TIMEOUT" lxc-stop -P "$LXCPATH" -n "$CT_NAME" -k >/dev/null 2>&1
else
        ok "lxc-start refuses to start the container when capfs is not mounted"
fi
assert_match "the LXC log names the missing capfs mount" "capfs is not mounted at $WORKDIR/no-capfs" \
        "$(grep -m1 -o "capfs is not mounted at [^ ,;]*" "$WORKDIR/lxc-no-capfs.log")"
out=$(LXC_ROOTFS_MOUNT=$CT_DIR/upper LXC_NAME=$CT_NAME "$HOOK" --optional \
        --capfs "$WORKDIR/no-capfs" "$CT_NAME" lxc mount 2>&1)
assert_match "with --optional the hook lets it start, with a warning" \
        "^capfs-mount-hook: warning: capfs is not mounted.*\(exit status 0\)$" \
        "$out (exit status $?)"
finish
