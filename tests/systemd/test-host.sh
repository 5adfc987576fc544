#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/systemd/test-host.sh NEWER_DEBS: capfs as its users run it, checked against the real
# systemd. Runs as COMMAND of `tests/vm/run --systemd --deb capfs_*.deb --deb libcapfs0_*.deb`:
# a Debian machine booted with systemd as PID 1 where apt installed the packages, as a user
# would. NEWER_DEBS is a directory holding a newer build of the same packages, to upgrade to.
#
# What it checks (TAP): capfs.service enabled and active after boot, serving /var/lib/capfs, with
# systemd-analyze security's rating in the log; a container of capfs-launch started from this
# shell, in a real transient scope with Delegate=yes, booting to "running" with nothing failed,
# reading (and on hybrid hosts writing) through capfs while capfs.service is restarted,
# reloaded, SIGKILLed and upgraded with apt: no failed or wrong operation; set-property
# MemoryMax=50M inside enforced on the host's cgroup file; the host's `systemctl daemon-reload`
# moving or removing none of the container's cgroups; `systemctl stop capfs` and `start` doing
# what the README says; poweroff leaving no scope or cgroup. Then the same boot and checks for
# capfs-launch started by a systemd unit, and, with CAPFS_LXC_SUITE set, for a Debian container of
# that suite run by the host's LXC as lxc@NAME.service with the package's capfs.conf (also: capfs
# restarted under it, sysinfo answered through LXC's seccomp proxy, its own limit not writable).
# The containers are Debian CAPFS_E2E_SUITE (default bookworm) and CAPFS_LXC_SUITE from
# tests/e2e/lib/rootfs.sh's cache, which the host fills before the VM starts.
set -uo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
# shellcheck source=tests/install/tap.sh
source "$top/tests/install/tap.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$top/tests/e2e/lib/rootfs.sh"
# shellcheck source=tests/e2e/lib/isolators.sh
source "$top/tests/e2e/lib/isolators.sh"

NEWER=$(readlink -f "${1:-/nonexistent}")
SUITE=${CAPFS_E2E_SUITE:-bookworm}
# Under TCG a container's boot takes about a minute; the lane's watchdog is the VM's --timeout.
TIMEOUT=${CAPFS_HOST_TIMEOUT:-300}
MEMORY_LIMIT=536870912

[[ $(cat /proc/1/comm) == systemd ]] || bail "PID 1 is not systemd: run this in tests/vm/run --systemd"
[[ -d $NEWER ]] && compgen -G "$NEWER/capfs_*.deb" >/dev/null ||
        bail "usage: $0 NEWER_DEBS (a directory with capfs_*.deb and libcapfs0_*.deb)"
ROOTFS=$(capfs_rootfs "$SUITE") || bail "no cached $SUITE rootfs: run tests/e2e/lib/rootfs.sh $SUITE on the host first"
if [[ $(findmnt -n -o FSTYPE -M /sys/fs/cgroup) == cgroup2 ]]; then
        layout=v2
        memory_root=/sys/fs/cgroup
        limit_knob=memory.max
else
        layout=hybrid
        memory_root=/sys/fs/cgroup/memory
        limit_knob=memory.limit_in_bytes
fi
# shellcheck disable=SC1091 # the guest's
diag "$(. /etc/os-release && echo "$PRETTY_NAME"), $(systemctl --version | head -n 1), cgroup $layout," \
        "capfs $(dpkg-query -W -f '${Version}' capfs), container: Debian $SUITE"

WORK=$(mktemp -d /var/tmp/capfs-host.XXXXXX)
pids_to_end=()
mounts=()
units_to_stop=()
lxc_to_remove=()
cleanup() {
        local pid i name
        for name in "${lxc_to_remove[@]}"; do
                timeout 60 lxc-stop -n "$name" -k >/dev/null 2>&1
                rm -rf --one-file-system "/var/lib/lxc/$name"
        done
        for name in "${units_to_stop[@]}"; do timeout 60 systemctl stop "$name" 2>/dev/null; done
        for pid in "${pids_to_end[@]}"; do kill -KILL "$pid" 2>/dev/null; done
        for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null; done
        rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- the service

check "capfs.service is enabled" systemctl is-enabled --quiet capfs.service
check "capfs.service is active after boot" systemctl is-active --quiet capfs.service
assert_eq "/var/lib/capfs is capfs's FUSE mount" fuse.capfs "$(findmnt -n -o FSTYPE -M /var/lib/capfs)"
check "the host reads /var/lib/capfs/proc/meminfo" grep -q '^MemTotal:' /var/lib/capfs/proc/meminfo
# The unit's CapabilityBoundingSet= on every capfs process (the supervisor and its worker): the
# capabilities capfs needs, none of those it does not (CAP_SYS_MODULE, 16, stands for them).
bounding_sets=$(for pid in $(systemctl show -p ControlGroup --value capfs.service | xargs -I{} cat /sys/fs/cgroup{}/cgroup.procs /sys/fs/cgroup/systemd{}/cgroup.procs 2>/dev/null); do
        awk '$1 == "CapBnd:" { print $2 }' "/proc/$pid/status"
done | sort -u)
cap_set() { (((0x$bounding_sets >> $1) & 1)); }
if [[ $bounding_sets =~ ^[0-9a-f]{16}$ ]] && cap_set 21 && cap_set 19 && ! cap_set 16; then
        ok "capfs's processes run with the unit's bounding set ($bounding_sets: CAP_SYS_ADMIN, not CAP_SYS_MODULE)"
else
        not_ok "capfs's processes run with the unit's bounding set" "their CapBnd: $bounding_sets"
fi
out=$(systemd-analyze security --no-pager capfs.service 2>&1)
diag "systemd-analyze security capfs.service:" "$out"
assert_match "systemd-analyze security rates capfs.service" \
        "Overall exposure level for capfs.service: [0-9.]+" "$(grep -o 'Overall exposure level for capfs.service: [0-9.]*' <<<"$out")"

# ---------------------------------------------------------------- a container from this shell

# launch NAME ROOT [capfs-launch options...]: capfs-launch with the container's limits, in the
# background; its output goes to WORK/NAME.log.
launch() {
        local name=$1 root=$2
        shift 2
        capfs-launch --rootfs "$root" --name "$name" --memory 512M --cpus 1 --pids 256 "$@" \
                </dev/null >"$WORK/$name.log" 2>&1 &
        launcher_pid=$!
        pids_to_end+=("$launcher_pid")
}
# overlay NAME [LOWER]: a writable overlay of LOWER (default: the cached rootfs) on a tmpfs, at
# $overlay_root (not printed: its mounts must be recorded in this shell for the clean-up).
overlay() {
        local dir=$WORK/$1 lower=${2:-$ROOTFS}
        mkdir -p "$dir/rw" "$dir/root"
        mount -t tmpfs -o size=256M "capfs-host-$1" "$dir/rw" || return 1
        mounts+=("$dir/rw")
        mkdir -p "$dir/rw/upper" "$dir/rw/work"
        mount -t overlay "capfs-host-$1" -o "lowerdir=$lower,upperdir=$dir/rw/upper,workdir=$dir/rw/work" "$dir/root" ||
                return 1
        mounts+=("$dir/root")
        overlay_root=$dir/root
}

NAME=host-$$
UNIT=capfs-$NAME.scope
overlay "$NAME" || bail "cannot make an overlay of $ROOTFS"
ROOT=$overlay_root
mkdir -p "$WORK/share" "$ROOT/share"
launch "$NAME" "$ROOT" --bind "$WORK/share:/share"
wait_until "$TIMEOUT" systemctl is-active --quiet "$UNIT" ||
        bail "no active $UNIT; capfs-launch: $(tail -n 20 "$WORK/$NAME.log")"
assert_eq "capfs-launch runs in a transient scope $UNIT with Delegate=yes" yes \
        "$(systemctl show -p Delegate --value "$UNIT")"
scope_cg=$(systemctl show -p ControlGroup --value "$UNIT")
payload=$memory_root$scope_cg/capfs/$NAME/payload
check "its cgroups are below the scope: $payload" wait_until "$TIMEOUT" test -d "$payload"

# find_init: init_pid is the container's init: the process in $payload (or its init.scope) that is
# PID 1 of its own PID namespace.
init_pid=
find_init() {
        local pid
        for pid in $(cat "$payload/cgroup.procs" "$payload/init.scope/cgroup.procs" 2>/dev/null); do
                [[ $(awk '$1 == "NSpid:" { print NF }' "/proc/$pid/status" 2>/dev/null) == 3 &&
                        $(awk '$1 == "NSpid:" { print $3 }' "/proc/$pid/status") == 1 ]] && init_pid=$pid && return 0
        done
        return 1
}
# ct COMMAND...: runs COMMAND in the container, bounded, with a clean environment, entering it
# as ct_enter says (nsenter for capfs-launch's containers, lxc-attach for LXC's).
ct_enter=()
ct() {
        timeout -k 5 "$TIMEOUT" "${ct_enter[@]}" "$@"
}
enter_with_nsenter() {
        ct_enter=(nsenter -t "$init_pid" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
}
booted() {
        state=$(ct systemctl is-system-running --wait 2>&1)
        [[ $state =~ ^(running|degraded|maintenance|stopping)$ ]]
}
# check_boot: the container boots to "running" with nothing failed and sees its limits.
check_boot() {
        local started=$SECONDS
        wait_until "$TIMEOUT" booted
        assert_eq "the container boots to 'running'" running "$state"
        diag "its boot took $((SECONDS - started)) s"
        assert_eq "no failed units in it" "" "$(ct systemctl --failed --no-legend --plain 2>&1)"
        assert_eq "free -m in it shows 512 MiB" 512 "$(ct free -m | awk '$1 == "Mem:" { print $2 }')"
        # Through the container's systemd: nsenter enters no cgroup, and the CPUs a process may
        # use follow its cgroup's cpuset.
        assert_eq "nproc in it shows 1 CPU" 1 "$(ct systemd-run --quiet --wait --pipe --collect -- nproc)"
}
# procs_below DIR: every process in DIR and the cgroups below it, with its cgroup.
procs_below() {
        local f
        find "$1" -name cgroup.procs | sort | while read -r f; do
                sed "s|^|${f#"$1"} |" "$f"
        done | tr '\n' ' '
}

wait_until "$TIMEOUT" find_init || bail "no init in $payload; capfs-launch: $(tail -n 20 "$WORK/$NAME.log")"
enter_with_nsenter
check_boot

# ---------------------------------------------------------------- I/O across restarts

# In the container: reads of capfs's views (and on hybrid hosts a write and read back of a knob
# in capfs's cgroup view) until /share/stop appears. Each operation counts in ops, each failed
# one in errors, each answer not the container's in wrong; the first failure is kept.
io_loop='
ops=0 errors=0 wrong=0 first=none knob=/sys/fs/cgroup/memory/capfs-io
[ "$1" = hybrid ] && mkdir -p $knob
fail() { errors=$((errors + 1)); [ "$first" = none ] && first="$*"; }
while [ ! -e /share/stop ]; do
        if m=$(cat /proc/meminfo 2>&1); then
                case $m in *"MemTotal:         524288 kB"*) ;; *) wrong=$((wrong + 1)) ;; esac
        else
                fail "meminfo: $m"
        fi
        u=$(cat /proc/uptime 2>&1) || fail "uptime: $u"
        n=$(cat /sys/devices/system/cpu/online 2>&1) || fail "cpu/online: $n"
        ops=$((ops + 3))
        if [ "$1" = hybrid ]; then
                v=$((ops % 64 + 64))M
                if w=$( { echo $v >$knob/memory.limit_in_bytes; } 2>&1); then
                        [ "$(cat $knob/memory.limit_in_bytes)" = $(( ${v%M} * 1048576 )) ] || wrong=$((wrong + 1))
                else
                        fail "knob write: $w"
                fi
                ops=$((ops + 2))
        fi
        echo $ops >/share/io.count.tmp && mv /share/io.count.tmp /share/io.count
done
[ "$1" = hybrid ] && rmdir $knob
echo "ops=$ops errors=$errors wrong=$wrong first=$first" >/share/io.result
'
# Not through ct: the loop outlives ct's bound; /share/stop ends it.
nsenter -t "$init_pid" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        bash -c "$io_loop" io "$layout" >"$WORK/io.log" 2>&1 &
io_pid=$!
pids_to_end+=("$io_pid")
io_count() { cat "$WORK/share/io.count" 2>/dev/null || echo 0; }
io_count_reached() { (($(io_count) >= $1)); }
# progressed: the loop has done 30 more operations since now.
progressed() {
        wait_until "$TIMEOUT" io_count_reached $(($(io_count) + 30))
}
if progressed; then
        ok "the container's I/O loop runs"
else
        not_ok "the container's I/O loop runs" "count: $(io_count); its output: $(cat "$WORK/io.log")" \
                "/share: $(ls -l "$WORK/share")"
fi
main_pid() { systemctl show -p MainPID --value capfs.service; }

# The mount the containers hold: every step below keeps this one (the fd store), never a new one.
mount_id=$(findmnt -n -o ID -M /var/lib/capfs)
same_mount() { [[ $(findmnt -n -o ID,FSTYPE -M /var/lib/capfs) =~ ^$mount_id\ +fuse\.capfs$ ]]; }
check "systemctl restart capfs" systemctl restart capfs.service
check "... its I/O goes on" progressed
check "... on the same FUSE mount (ID $mount_id), kept in the fd store" same_mount
check "systemctl reload capfs" systemctl reload capfs.service
check "... its I/O goes on" progressed
check "... on the same FUSE mount" same_mount
before=$(main_pid)
kill -KILL "$before"
restarted() { [[ $(main_pid) != "$before" && $(main_pid) != 0 ]] && systemctl is-active --quiet capfs.service; }
check "kill -9 of capfs: Restart= brings it back" wait_until "$TIMEOUT" restarted
check "... its I/O goes on" progressed
check "... on the same FUSE mount" same_mount
newer_version=$(dpkg-deb -f "$(compgen -G "$NEWER/capfs_*.deb" | head -n 1)" Version)
before=$(main_pid)
out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$NEWER"/*.deb 2>&1)
check "apt upgrades capfs to $newer_version" test "$(dpkg-query -W -f '${Version}' capfs)" = "$newer_version"
[[ $(dpkg-query -W -f '${Version}' capfs) == "$newer_version" ]] || diag "apt-get said:" "$(tail -n 20 <<<"$out")"
assert_eq "... which reloads capfs in place (the same main process)" "$before" "$(main_pid)"
check "... its I/O goes on" progressed
check "... on the same FUSE mount" same_mount
: >"$WORK/share/stop"
wait "$io_pid"
result=$(cat "$WORK/share/io.result" 2>/dev/null)
diag "the container's I/O: $result"
assert_match "no failed or wrong operation in the container across all four" \
        '^ops=[0-9]+ errors=0 wrong=0 first=none$' "$result"

# ---------------------------------------------------------------- isolators and the host's systemd

check_isolators "$payload" "$limit_knob"

procs_before=$(procs_below "$payload")
check "systemctl daemon-reload on the host" systemctl daemon-reload
check "... leaves the launcher in $UNIT" grep -q "$UNIT" "/proc/$launcher_pid/cgroup"
assert_eq "... leaves the container's limit" "$MEMORY_LIMIT" "$(cat "$payload/$limit_knob" 2>&1)"
assert_eq "... and the limit set inside" 52428800 "$(cat "$payload/system.slice/dbus.service/$limit_knob" 2>&1)"
assert_eq "... and every process of the container where it was" "$procs_before" "$(procs_below "$payload")"
check "... and the container still answers" ct systemctl is-system-running

# ---------------------------------------------------------------- stop and start

# The README: a stop empties the fd store, so the mount is disconnected (containers get
# ENOTCONN until they are restarted); the next start mounts afresh.
check "systemctl stop capfs" systemctl stop capfs.service
out=$(ct cat /proc/meminfo 2>&1)
assert_match "... the container's views are disconnected (ENOTCONN)" "Transport endpoint is not connected" "$out"
check "systemctl start capfs" systemctl start capfs.service
check "... serves /var/lib/capfs afresh" grep -q '^MemTotal:' /var/lib/capfs/proc/meminfo

# ---------------------------------------------------------------- poweroff

ct systemctl poweroff >/dev/null 2>&1
check "poweroff in the container ends capfs-launch" wait_until "$TIMEOUT" not kill -0 "$launcher_pid"
gone() { ! systemctl is-active --quiet "$UNIT" && [[ ! -d $memory_root$scope_cg ]]; }
check "... and leaves neither $UNIT nor its cgroup" wait_until "$TIMEOUT" gone

# ---------------------------------------------------------------- from a systemd unit

# The same boot, capfs-launch started by a transient service as a host's own unit would.
NAME2=unit-$$
UNIT2=capfs-$NAME2.scope
overlay "$NAME2" || bail "cannot make an overlay of $ROOTFS"
units_to_stop+=("capfs-test-$NAME2.service")
check "systemd-run starts capfs-launch as capfs-test-$NAME2.service" \
        systemd-run --quiet --unit "capfs-test-$NAME2" --collect -- capfs-launch --rootfs "$overlay_root" \
        --name "$NAME2" --memory 512M --cpus 1 --pids 256
check "capfs-launch started by a unit gets its own scope $UNIT2" wait_until "$TIMEOUT" systemctl is-active --quiet "$UNIT2"
assert_eq "... with Delegate=yes" yes "$(systemctl show -p Delegate --value "$UNIT2")"
scope_cg=$(systemctl show -p ControlGroup --value "$UNIT2")
payload=$memory_root$scope_cg/capfs/$NAME2/payload
unit_log() { journalctl -q -o cat -u "capfs-test-$NAME2.service" | tail -n 20; }
wait_until "$TIMEOUT" find_init || bail "no init in $payload; capfs-test-$NAME2.service: $(unit_log)"
enter_with_nsenter
check_boot
assert_eq "its limit is on the host's $payload/$limit_knob" "$MEMORY_LIMIT" "$(cat "$payload/$limit_knob" 2>&1)"
check_isolators "$payload" "$limit_knob"
ct systemctl poweroff >/dev/null 2>&1
unit2_gone() {
        ! systemctl is-active --quiet "capfs-test-$NAME2.service" && ! systemctl is-active --quiet "$UNIT2" &&
                [[ ! -d $memory_root$scope_cg ]]
}
if wait_until "$TIMEOUT" unit2_gone; then
        ok "poweroff ends the unit and leaves neither $UNIT2 nor its cgroup"
else
        not_ok "poweroff ends the unit and leaves neither $UNIT2 nor its cgroup" "$(unit_log)"
fi

# ---------------------------------------------------------------- Debian's LXC with capfs.conf

# A Debian CAPFS_LXC_SUITE container of the host's LXC, started as LXC's users start theirs
# (lxc@NAME.service, the container in /var/lib/lxc), configured with the package's capfs.conf
# and the limits of the containers above.
if [[ -n ${CAPFS_LXC_SUITE:-} ]]; then
        LXC_ROOTFS=$(capfs_rootfs "$CAPFS_LXC_SUITE") ||
                bail "no cached $CAPFS_LXC_SUITE rootfs: run tests/e2e/lib/rootfs.sh $CAPFS_LXC_SUITE on the host first"
        CT=capfs-lxc-$$
        LXC_UNIT=lxc@$CT.service
        overlay "$CT" "$LXC_ROOTFS" || bail "cannot make an overlay of $LXC_ROOTFS"
        mkdir -p "/var/lib/lxc/$CT"
        lxc_to_remove+=("$CT")
        units_to_stop+=("$LXC_UNIT")
        if [[ $layout == v2 ]]; then
                lxc_limits="lxc.cgroup2.memory.max = $MEMORY_LIMIT
lxc.cgroup2.cpuset.cpus = 0
lxc.cgroup2.cpu.max = 100000 100000
lxc.cgroup2.pids.max = 256"
        else
                lxc_limits="lxc.cgroup.memory.limit_in_bytes = $MEMORY_LIMIT
lxc.cgroup.cpuset.cpus = 0
lxc.cgroup.cpu.cfs_period_us = 100000
lxc.cgroup.cpu.cfs_quota_us = 100000
lxc.cgroup.pids.max = 256"
        fi
        # No AppArmor in this machine (LXC's default profile needs its parser), no network.
        cat >"/var/lib/lxc/$CT/config" <<EOF_CONFIG
lxc.uts.name = capfs-$CAPFS_LXC_SUITE
lxc.rootfs.path = dir:$overlay_root
lxc.include = /usr/share/lxc/config/common.conf
lxc.include = /usr/share/capfs/lxc/capfs.conf
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.signal.halt = SIGRTMIN+3
lxc.log.file = /var/lib/lxc/$CT/lxc.log
lxc.log.level = INFO
$lxc_limits
EOF_CONFIG
        lxc_log() { tail -n 20 "/var/lib/lxc/$CT/lxc.log" 2>&1; journalctl -q -o cat -u "$LXC_UNIT" | tail -n 20; }
        check "systemctl start $LXC_UNIT" systemctl start "$LXC_UNIT"
        lxc_running() { [[ $(lxc-info -n "$CT" -s -H 2>/dev/null) == RUNNING ]]; }
        wait_until "$TIMEOUT" lxc_running || bail "the LXC container $CT does not run: $(lxc_log)"
        assert_eq "... with Delegate=yes" yes "$(systemctl show -p Delegate --value "$LXC_UNIT")"
        init_pid=$(lxc-info -n "$CT" -p -H)
        # The host's path of the container's cgroup, from its init's: LXC's lxc.payload.NAME.
        if [[ $layout == v2 ]]; then
                cg=$(awk -F: '$1 == 0 { print $3 }' "/proc/$init_pid/cgroup")
        else
                cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$init_pid/cgroup")
        fi
        payload=$memory_root${cg%%"/lxc.payload.$CT"*}/lxc.payload.$CT
        diag "the container's cgroup: $payload ($LXC_UNIT: $(systemctl show -p ControlGroup --value "$LXC_UNIT"))"
        ct_enter=(lxc-attach -n "$CT" --clear-env -v PATH=/usr/sbin:/usr/bin:/sbin:/bin -v LANG=C.UTF-8 --)
        check_boot
        [[ $state == running ]] || diag "LXC:" "$(lxc_log)"
        for f in /proc/meminfo /proc/cpuinfo /proc/stat /proc/uptime /sys/devices/system/cpu; do
                assert_eq "$f in it comes from capfs" fuse.capfs "$(ct findmnt -n -o FSTYPE -M "$f" | tail -n 1)"
        done
        assert_eq "getconf _PHYS_PAGES (sysinfo, answered by capfs through LXC's proxy) shows 512 MiB" \
                $((MEMORY_LIMIT / $(getconf PAGESIZE))) "$(ct getconf _PHYS_PAGES)"
        assert_eq "its limit is on the host's $payload/$limit_knob" "$MEMORY_LIMIT" "$(cat "$payload/$limit_knob" 2>&1)"
        check_isolators "$payload" "$limit_knob"
        if [[ $layout == v2 ]]; then
                own_limit=/sys/fs/cgroup/memory.max
        else
                own_limit=/sys/fs/cgroup/memory/memory.limit_in_bytes
        fi
        # tee, not the shell's echo: the kernel refuses the write(), and dash reports any failed
        # write of echo as "I/O error".
        out=$(ct sh -c "echo max | tee $own_limit" 2>&1)
        assert_match "writing its own $own_limit fails" "(Permission denied|Operation not permitted|Read-only)" "$out"
        assert_eq "... and its limit is unchanged on the host" "$MEMORY_LIMIT" "$(cat "$payload/$limit_knob" 2>&1)"

        mount_id=$(findmnt -n -o ID -M /var/lib/capfs)
        check "systemctl restart capfs with the container running" systemctl restart capfs.service
        check "... on the same FUSE mount" same_mount
        assert_eq "... its views answer across it (free -m)" 512 "$(ct free -m | awk '$1 == "Mem:" { print $2 }')"
        procs_before=$(procs_below "$payload")
        check "systemctl daemon-reload on the host" systemctl daemon-reload
        assert_eq "... leaves the container's limit" "$MEMORY_LIMIT" "$(cat "$payload/$limit_knob" 2>&1)"
        assert_eq "... and the limit set inside" 52428800 "$(cat "$payload/system.slice/dbus.service/$limit_knob" 2>&1)"
        assert_eq "... and every process of the container where it was" "$procs_before" "$(procs_below "$payload")"

        ct systemctl poweroff >/dev/null 2>&1
        lxc_gone() {
                ! systemctl is-active --quiet "$LXC_UNIT" &&
                        [[ -z $(find /sys/fs/cgroup -mindepth 1 -type d -name "*$CT*" 2>/dev/null) ]]
        }
        if wait_until "$TIMEOUT" lxc_gone; then
                ok "poweroff ends $LXC_UNIT and leaves no cgroup of the container"
        else
                not_ok "poweroff ends $LXC_UNIT and leaves no cgroup of the container" \
                        "left: $(find /sys/fs/cgroup -mindepth 1 -type d -name "*$CT*")" "$(lxc_log)"
        fi
fi

echo "1..$n"
((failed == 0))
