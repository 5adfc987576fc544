#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-runtimes.sh CAPFS CAPFS_LAUNCH SYSINFO_PROBE [CAPFS_MOUNT_HOOK]: real runtimes
# size themselves to a 512 MiB, 1-CPU container. A Debian rootfs with OpenJDK 17, Node.js,
# Python, busybox and procps (tests/e2e/lib/rootfs.sh SUITE runtimes) runs a script as its init,
# once with capfs-launch and once with LXC (with capfs's snippet and hook), that records what each runtime believes: the JVM's MaxHeapSize and
# availableProcessors, Node.js's os.totalmem() and os.availableParallelism(), Python's cpu_count
# and SC_PHYS_PAGES, busybox's free, getconf, uptime, top's header, the limit files at the root
# of the container's cgroups, and sysinfo(2) called directly (tests/e2e/sysinfo-probe.c). Then,
# while the probe calls sysinfo() in a loop, capfs's worker is killed, capfs is reloaded and
# upgraded: every answer must be the container's or (while nothing answers) the host's, never an
# error.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-600}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/integration/restart-lib.sh
source "$here/../integration/restart-lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"

LAUNCH=${2:-}
PROBE=$(readlink -f "${3:-/nonexistent}")
HOOK=$(readlink -f "${4:-/nonexistent}")
SUITE=${CAPFS_E2E_SUITE:-bookworm}
LXC_DIR=$(cd "$here/../../mount-helper/lxc" && pwd)
MEMORY_LIMIT=536870912
PAGE_SIZE=$(getconf PAGESIZE)
# What a container's own lines may differ by from a reading taken a moment later.
FREE_SLACK=$((64 * 1024 * 1024))

((EUID == 0)) || skip_all "needs root (containers, FUSE allow_other, cgroups)"
[[ -x $LAUNCH && -x $PROBE ]] || bail "usage: $0 CAPFS CAPFS_LAUNCH SYSINFO_PROBE [CAPFS_MOUNT_HOOK]"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        skip_all "no overlay file system (the containers run on overlays of the cached rootfs)"
# Before the watchdog starts: a cold build downloads about 150 MB.
ROOTFS=$(capfs_rootfs "$SUITE" runtimes) ||
        bail "cannot build the Debian $SUITE runtimes rootfs: tests/e2e/lib/rootfs.sh $SUITE runtimes failed"

setup
HOST_TOTAL=$(($(meminfo_field /proc/meminfo MemTotal) * 1024))

# ---------------------------------------------------------------- inside

# The container's init: every runtime's view into /share/out/NAME, then the sysinfo() loop.
write_inside_script() {
        local dir=$1
        mkdir -p "$dir/out"
        cp "$PROBE" "$dir/probe"
        cat >"$dir/inside.sh" <<EOF
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
cd /share/out || exit 1
run() { name=\$1; shift; sh -c "\$*" >"\$name" 2>&1; }
run java-maxheap 'java -XX:+PrintFlagsFinal -version 2>/dev/null | awk "\\\$2 == \\"MaxHeapSize\\" { print \\\$4 }"'
run java-probe 'java -cp /opt/capfs RuntimeProbe'
run java-settings 'java -XshowSettings:system -version'
run java-container-log 'java -Xlog:os+container=trace -version'
run node-totalmem 'node -p "require(\\"os\\").totalmem()"'
run node-parallelism 'node -p "require(\\"os\\").availableParallelism()"'
run node-constrained 'node -p "typeof process.constrainedMemory === \\"function\\" ? process.constrainedMemory() : \\"absent\\""'
run python-cpus 'python3 -c "import os; print(os.cpu_count())"'
run python-phys 'python3 -c "import os; print(os.sysconf(\\"SC_PHYS_PAGES\\") * os.sysconf(\\"SC_PAGE_SIZE\\"))"'
run busybox-free 'busybox free -b | awk "\\\$1 == \\"Mem:\\" { print \\\$2 }"'
run getconf-pages 'getconf _PHYS_PAGES'
run getconf-cpus 'getconf _NPROCESSORS_ONLN'
run uptime 'uptime'
run top 'top -bn1 | head -n 5'
for knob in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.cfs_quota_us \\
        cpu/cpu.cfs_period_us cpuset/cpuset.cpus pids/pids.max memory.max memory.swap.max cpu.max \\
        cpuset.cpus.effective pids.max; do
        [ -e /sys/fs/cgroup/\$knob ] && run "limit-\$(echo \$knob | tr / _)" "cat /sys/fs/cgroup/\$knob"
done
# The probe and the files it must agree with, read right after it.
run sysinfo '/share/probe; cat /proc/meminfo /proc/uptime /proc/loadavg'
run efault '/share/probe efault'
: >done
/share/probe loop /share/stop $MEMORY_LIMIT $HOST_TOTAL >loop 2>&1
: >loop-done
EOF
        chmod +x "$dir/inside.sh"
}

out() {
        tr '\n' ' ' <"$1/out/$2" 2>/dev/null | sed 's/ *$//'
}

# field TEXT KEY: the value of KEY=VALUE in TEXT.
field() {
        tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2; exit }'
}

meminfo_of() {
        awk -v k="$2:" '$1 == k { print $2 * 1024; exit }' "$1/out/sysinfo"
}

# check_runtimes LABEL SHARE V2: what every runtime in the container (512 MiB, 1 CPU) saw.
check_runtimes() {
        local label=$1 share=$2 v2=$3 info mem_free uptime loads
        assert_eq "$label: java MaxHeapSize is a quarter of 512 MiB" $((MEMORY_LIMIT / 4)) "$(out "$share" java-maxheap)"
        assert_match "$label: java availableProcessors() is 1" '^availableProcessors=1 ' "$(out "$share" java-probe)"
        if [[ $v2 == yes ]]; then
                # The JVM finds cgroup2 and reads the limits at its own cgroup, the container's root.
                assert_match "$label: java -XshowSettings:system reads cgroup v2 (1 CPU, 256 tasks)" \
                        'Provider: cgroupv2 .*Effective CPU Count: 1 .*CPU Quota: 100000us .*Maximum Processes Limit: 256' \
                        "$(out "$share" java-settings)"
                assert_match "$label: java reads the 512 MiB memory.max at its cgroup" \
                        'Memory Limit is: 536870912' "$(out "$share" java-container-log)"
                # OpenJDK takes a limit at or above the physical memory for none (JDK-8292083), and
                # the physical memory it sees is sysinfo()'s, the container's 512 MiB: so its report
                # may say "Unlimited" while the heap is sized from the same 512 MiB.
                diag "$label: -XshowSettings:system says: $(grep -o 'Memory Limit: [^ ]*' <<<"$(out "$share" java-settings)")"
        fi
        assert_eq "$label: node os.totalmem()" "$MEMORY_LIMIT" "$(out "$share" node-totalmem)"
        assert_eq "$label: node os.availableParallelism()" 1 "$(out "$share" node-parallelism)"
        local constrained
        constrained=$(out "$share" node-constrained)
        if [[ $constrained == absent ]]; then
                skip "$label: node process.constrainedMemory()" "this Node.js has none"
        elif [[ $v2 == yes && $constrained == undefined ]]; then
                # Debian 12's libuv (1.44) reads only cgroup v1's memory.limit_in_bytes.
                skip "$label: node process.constrainedMemory()" "this libuv reads cgroup v1 only"
        else
                assert_eq "$label: node process.constrainedMemory()" "$MEMORY_LIMIT" "$constrained"
        fi
        assert_eq "$label: python os.cpu_count()" 1 "$(out "$share" python-cpus)"
        assert_eq "$label: python SC_PHYS_PAGES * SC_PAGE_SIZE (sysinfo)" "$MEMORY_LIMIT" "$(out "$share" python-phys)"
        assert_eq "$label: busybox free (sysinfo) total" "$MEMORY_LIMIT" "$(out "$share" busybox-free)"
        assert_eq "$label: getconf _PHYS_PAGES" $((MEMORY_LIMIT / PAGE_SIZE)) "$(out "$share" getconf-pages)"
        assert_eq "$label: getconf _NPROCESSORS_ONLN" 1 "$(out "$share" getconf-cpus)"
        assert_match "$label: top's header shows 512 MiB" 'MiB Mem : +512\.0 total' "$(out "$share" top)"
        assert_match "$label: uptime shows the container's age in minutes" ' up +[0-9]+ min' "$(out "$share" uptime)"

        # The limit files at the root of the container's cgroups.
        if [[ $v2 == yes ]]; then
                assert_eq "$label: root memory.max" "$MEMORY_LIMIT" "$(out "$share" limit-memory.max)"
                assert_eq "$label: root cpu.max" "100000 100000" "$(out "$share" limit-cpu.max)"
                assert_match "$label: root cpuset.cpus.effective is one CPU" '^[0-9]+$' \
                        "$(out "$share" limit-cpuset.cpus.effective)"
                assert_eq "$label: root pids.max" 256 "$(out "$share" limit-pids.max)"
                assert_match "$label: root memory.swap.max is readable" '^(max|[0-9]+)$' \
                        "$(out "$share" limit-memory.swap.max)"
        else
                assert_eq "$label: root memory.limit_in_bytes" "$MEMORY_LIMIT" \
                        "$(out "$share" limit-memory_memory.limit_in_bytes)"
                assert_match "$label: root memory.memsw.limit_in_bytes is readable" '^[0-9]+$' \
                        "$(out "$share" limit-memory_memory.memsw.limit_in_bytes)"
                assert_eq "$label: root cpu.cfs_quota_us" 100000 "$(out "$share" limit-cpu_cpu.cfs_quota_us)"
                assert_eq "$label: root cpu.cfs_period_us" 100000 "$(out "$share" limit-cpu_cpu.cfs_period_us)"
                assert_match "$label: root cpuset.cpus is one CPU" '^[0-9]+$' "$(out "$share" limit-cpuset_cpuset.cpus)"
                assert_eq "$label: root pids.max" 256 "$(out "$share" limit-pids_pids.max)"
        fi

        # sysinfo() itself, against the files read right after it.
        info=$(head -n 1 "$share/out/sysinfo")
        assert_eq "$label: sysinfo() totalram" "$MEMORY_LIMIT" "$(field "$info" totalram)"
        mem_free=$(meminfo_of "$share" MemFree)
        local freeram
        freeram=$(field "$info" freeram)
        if [[ -n $freeram && $freeram -le $MEMORY_LIMIT && $((freeram - mem_free)) -lt $FREE_SLACK &&
                $((mem_free - freeram)) -lt $FREE_SLACK ]]; then
                ok "$label: sysinfo() freeram ($freeram) is the container's MemFree ($mem_free) give or take 64 MiB"
        else
                not_ok "$label: sysinfo() freeram is the container's MemFree" "freeram=$freeram MemFree=$mem_free"
        fi
        assert_eq "$label: sysinfo() totalswap is the container's SwapTotal" "$(meminfo_of "$share" SwapTotal)" \
                "$(field "$info" totalswap)"
        uptime=$(grep -E '^[0-9]+\.[0-9]+ [0-9]+\.[0-9]+$' "$share/out/sysinfo" | head -n 1 | cut -d. -f1)
        local si_uptime
        si_uptime=$(field "$info" uptime)
        if [[ -n $uptime && -n $si_uptime && $si_uptime -ge $uptime && $si_uptime -le $((uptime + 2)) ]]; then
                ok "$label: sysinfo() uptime ($si_uptime s) is the container's proc/uptime ($uptime s)"
        else
                not_ok "$label: sysinfo() uptime is the container's" "sysinfo $si_uptime, proc/uptime $uptime"
        fi
        local procs
        procs=$(field "$info" procs)
        if [[ -n $procs && $procs -ge 1 && $procs -lt 100 ]]; then
                ok "$label: sysinfo() procs ($procs) counts the container's tasks"
        else
                not_ok "$label: sysinfo() procs counts the container's tasks" "procs=$procs"
        fi
        loads=$(tail -n 1 "$share/out/sysinfo")
        assert_match "$label: proc/loadavg counts the container's tasks too" "/$procs |/$((procs + 1)) |/$((procs - 1)) " \
                "$loads"
        assert_eq "$label: sysinfo() with a bad pointer fails with EFAULT" EFAULT "$(out "$share" efault)"
}

# stress_capfs LABEL SHARE: while the container calls sysinfo() in a loop, capfs's worker is
# killed, capfs reloaded and upgraded; then the loop's tally.
stress_capfs() {
        local label=$1 share=$2 generation result
        wait_until "$EVENT_TIMEOUT" test -e "$share/stop.started" ||
                bail "$label: the sysinfo() loop did not start: $(cat "$share/out/loop" 2>&1)"
        check "$label: capfs's worker is killed and another serves" kill_worker "$MNT"
        generation=$(status "$MNT" generation)
        kill -USR1 "$CAPFS_PID"
        check "$label: capfs reloads (SIGUSR1)" wait_until "$EVENT_TIMEOUT" generation_past "$generation"
        generation=$(status "$MNT" generation)
        kill -USR2 "$CAPFS_PID"
        check "$label: capfs upgrades itself (SIGUSR2)" wait_until "$EVENT_TIMEOUT" generation_past "$generation"
        check "$label: a worker serves after all that" serving_worker "$MNT"
        : >"$share/stop"
        wait_until "$EVENT_TIMEOUT" test -e "$share/out/loop-done" ||
                bail "$label: the sysinfo() loop did not end: $(cat "$share/out/loop" 2>&1)"
        result=$(cat "$share/out/loop")
        diag "$label: $result"
        assert_eq "$label: no sysinfo() call failed meanwhile" 0 "$(field "$result" errors)"
        assert_eq "$label: every answer was the container's or the host's" 0 "$(field "$result" other)"
        check "$label: capfs answered for the container" test "$(field "$result" container)" -gt 0
}

generation_past() {
        local g
        g=$(status "$MNT" generation)
        [[ -n $g && $g -gt $1 ]] && serving_worker "$MNT" >/dev/null 2>&1
}

# ---------------------------------------------------------------- capfs-launch

overlay_root() {
        local name=$1
        mkdir -p "$WORKDIR/$name-rw" "$WORKDIR/$name-root"
        mount -t tmpfs -o size=1G "capfs-$name-rw" "$WORKDIR/$name-rw" || bail "cannot mount a tmpfs for $name"
        mkdir -p "$WORKDIR/$name-rw/upper" "$WORKDIR/$name-rw/work"
        mount -t overlay "capfs-$name" \
                -o "lowerdir=$ROOTFS,upperdir=$WORKDIR/$name-rw/upper,workdir=$WORKDIR/$name-rw/work" \
                "$WORKDIR/$name-root" || bail "cannot mount an overlay of $ROOTFS for $name"
        _overlays+=("$WORKDIR/$name-root" "$WORKDIR/$name-rw")
}

_overlays=()
launcher_pid='' lxc_started=''
_stop_all() {
        local status=$? m
        if [[ -n $launcher_pid ]] && kill -0 "$launcher_pid" 2>/dev/null; then
                kill -TERM "$launcher_pid" 2>/dev/null
                timeout "$EVENT_TIMEOUT" tail --pid="$launcher_pid" -f /dev/null
                kill -KILL "$launcher_pid" 2>/dev/null
        fi
        if [[ -n $lxc_started ]]; then
                timeout "$EVENT_TIMEOUT" lxc-stop -P "$WORKDIR/lxcpath" -n "$lxc_started" -k >/dev/null 2>&1
        fi
        for m in "${_overlays[@]}"; do
                umount "$m" 2>/dev/null
        done
        return "$status"
}
trap '_stop_all; _teardown' EXIT

V2=no
on_v2 && V2=yes

launcher_cgroups
overlay_root launch
SHARE=$WORKDIR/share-launch
write_inside_script "$SHARE"
(
        cg_join "$LAUNCH_CG" || exit 125
        exec "$LAUNCH" --rootfs "$WORKDIR/launch-root" --name "runtimes-$$" --capfs "$MNT" "${LAUNCH_ARGS[@]}" \
                --memory 512M --cpus 1 --pids 256 --bind "$SHARE:/share" -- /bin/sh /share/inside.sh </dev/null
) >"$WORKDIR/launch-console.log" 2>&1 &
launcher_pid=$!
if wait_until "$CT_TIMEOUT" test -e "$SHARE/out/done"; then
        ok "capfs-launch: the runtimes ran in the container"
        check_runtimes "capfs-launch" "$SHARE" "$V2"
        stress_capfs "capfs-launch" "$SHARE"
        wait "$launcher_pid"
        assert_eq "capfs-launch: the container ends with its init (status 0)" 0 "$?"
else
        not_ok "capfs-launch: the runtimes ran in the container" "$(tail -n 20 "$WORKDIR/launch-console.log")"
fi

# From the host, sysinfo() is the kernel's.
info=$("$PROBE")
assert_eq "host: sysinfo() totalram is the host's" "$HOST_TOTAL" "$(field "$info" totalram)"

# ---------------------------------------------------------------- LXC

lxc_ready() {
        local tool
        for tool in lxc-start lxc-stop lxc-info; do
                command -v "$tool" >/dev/null || return 1
        done
        [[ -x $HOOK ]]
}
if ! lxc_ready; then
        skip "LXC: the runtimes" "needs Debian's lxc and the mount hook"
else
        cg_create lxc
        overlay_root lxc
        SHARE=$WORKDIR/share-lxc
        write_inside_script "$SHARE"
        CT=capfs-rt-$$
        mkdir -p "$WORKDIR/lxcpath"
        sed -e "s|@CAPFS_LXC_DIR@|$LXC_DIR|g" -e "s|@CAPFS_MOUNT_HOOK@|$HOOK|g" -e "s|@CAPFS_SECCOMP_SOCKET@|$("$CAPFS" --print-seccomp-socket "$MNT")|g" \
                "$LXC_DIR/capfs.conf.in" >"$WORKDIR/capfs.conf"
        cpus_file=$(cg_host cpuset lxc)/cpuset.cpus
        on_v2 && cpus_file=$cpus_file.effective
        first_cpu=$(cut -d, -f1 <"$cpus_file")
        first_cpu=${first_cpu%%-*}
        # LXC applies lxc.cgroup.* keys on v1 and lxc.cgroup2.* keys on pure cgroup2, to its
        # container's root, where the runtimes look.
        if on_v2; then
                limits="lxc.cgroup2.memory.max = $MEMORY_LIMIT
lxc.cgroup2.cpuset.cpus = $first_cpu
lxc.cgroup2.cpu.max = 100000 100000
lxc.cgroup2.pids.max = 256"
        else
                limits="lxc.cgroup.memory.limit_in_bytes = $MEMORY_LIMIT
lxc.cgroup.cpuset.cpus = $first_cpu
lxc.cgroup.cpu.cfs_period_us = 100000
lxc.cgroup.cpu.cfs_quota_us = 100000
lxc.cgroup.pids.max = 256"
        fi
        cat >"$WORKDIR/lxc.config" <<EOF
lxc.uts.name = capfs-runtimes
lxc.rootfs.path = dir:$WORKDIR/lxc-root
lxc.include = /usr/share/lxc/config/common.conf
lxc.include = $WORKDIR/capfs.conf
lxc.hook.mount =
lxc.hook.mount = $HOOK --capfs $MNT
lxc.mount.entry = $SHARE share none bind,create=dir 0 0
lxc.init.cmd = /bin/sh /share/inside.sh
lxc.net.0.type = empty
lxc.apparmor.profile = unconfined
lxc.console.logfile = $WORKDIR/lxc-console.log
lxc.cgroup.relative = 1
$limits
EOF
        # lxc-start alone joins "lxc", LXC's base (lxc.cgroup.relative): on cgroup2 LXC hands the
        # controllers down from there once its monitor moved out, which needs it without processes,
        # so the bounding `timeout` stays outside.
        procs=
        for key in "${!CG_TOP[@]}"; do
                procs+=" ${CG_TOP[$key]}/lxc/cgroup.procs"
        done
        if PROCS=$procs timeout "$EVENT_TIMEOUT" sh -c 'for f in $PROCS; do echo $$ >"$f" || exit 125; done; exec "$@"' \
                sh lxc-start -P "$WORKDIR/lxcpath" -n "$CT" -f "$WORKDIR/lxc.config" -d -l DEBUG -o "$WORKDIR/lxc.log"; then
                lxc_started=$CT
        fi
        if [[ -n $lxc_started ]] && wait_until "$CT_TIMEOUT" test -e "$SHARE/out/done"; then
                ok "LXC: the runtimes ran in the container"
                check_runtimes "LXC" "$SHARE" "$V2"
                stress_capfs "LXC" "$SHARE"
        else
                not_ok "LXC: the runtimes ran in the container" \
                        "$(tail -n 25 "$WORKDIR/lxc.log" 2>&1; tail -n 10 "$WORKDIR/lxc-console.log" 2>&1)"
        fi
fi

finish
