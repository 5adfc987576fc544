#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A limited container (256 MiB, cpuset 0, CFS quota 50000/100000) in its own pid namespace sees
# its limits in every file capfs serves, and through bind mounts in `free`, `nproc` and `getconf`.
source "$(dirname "$0")/lib.sh"
setup

cg_create ct
cg_set memory ct memory.limit_in_bytes 268435456
cg_set cpuset ct cpuset.cpus 0
cg_set cpu ct cpu.cfs_period_us 100000
cg_set cpu ct cpu.cfs_quota_us 50000

# Runs as pid 1 of the container's pid namespace.
probe() {
        local m=$MNT/proc s=$MNT/sys/devices/system/cpu f
        echo "pid=$$"
        echo "memtotal=$(meminfo_field "$m/meminfo" MemTotal)"
        echo "memfree=$(meminfo_field "$m/meminfo" MemFree)"
        echo "memavailable=$(meminfo_field "$m/meminfo" MemAvailable)"
        echo "processors=$(count_matching '^processor[[:space:]]*:' "$m/cpuinfo")"
        echo "processor0=$(count_matching '^processor[[:space:]]*: 0$' "$m/cpuinfo")"
        echo "online=$(rd "$s/online")"
        echo "sys_cpus=$(timeout "$IO_TIMEOUT" ls "$s" | grep -E '^cpu[0-9]+$' | tr '\n' ' ')"
        echo "stat_cpus=$(count_matching '^cpu[0-9]+ ' "$m/stat")"
        echo "stat_cpu0=$(count_matching '^cpu0 ' "$m/stat")"
        echo "stat_total=$(count_matching '^cpu ' "$m/stat")"
        echo "uptime=$(rd "$m/uptime")"
        echo "loadavg=$(rd "$m/loadavg")"
        for f in diskstats swaps slabinfo pressure/cpu pressure/io pressure/memory; do
                echo "readable_$f=$(rd "$m/$f" >/dev/null && echo yes)"
        done

        # What a container's tools see once capfs is bind-mounted over the real files.
        mount --bind "$m/meminfo" /proc/meminfo && mount --bind "$s" /sys/devices/system/cpu &&
                echo "bind=ok"
        echo "free_total=$(timeout "$IO_TIMEOUT" free -k | awk '$1 == "Mem:" { print $2 }')"
        echo "nproc=$(nproc)"
        echo "getconf=$(timeout "$IO_TIMEOUT" getconf _NPROCESSORS_ONLN)"
        echo "nproc_all=$(timeout "$IO_TIMEOUT" nproc --all)"
}

out=$(run_in_ct ct probe)
diag "$out"
assert_eq "the probe is pid 1 of a new pid namespace" 1 "$(get pid <<<"$out")"
assert_eq "meminfo: MemTotal is the 256 MiB limit" 262144 "$(get memtotal <<<"$out")"
memfree=$(get memfree <<<"$out")
memavailable=$(get memavailable <<<"$out")
check "meminfo: 0 < MemFree <= MemTotal (got '$memfree')" \
        test "${memfree:-0}" -gt 0 -a "${memfree:-0}" -le 262144
check "meminfo: 0 < MemAvailable <= MemTotal (got '$memavailable')" \
        test "${memavailable:-0}" -gt 0 -a "${memavailable:-0}" -le 262144
assert_eq "cpuinfo: exactly 1 processor" 1 "$(get processors <<<"$out")"
assert_eq "cpuinfo: it is numbered 0" 1 "$(get processor0 <<<"$out")"
assert_eq "sys/devices/system/cpu/online is 0" 0 "$(get online <<<"$out")"
assert_eq "sys/devices/system/cpu lists only cpu0" "cpu0 " "$(get sys_cpus <<<"$out")"
assert_eq "stat: exactly one cpuN line" 1 "$(get stat_cpus <<<"$out")"
assert_eq "stat: it is cpu0" 1 "$(get stat_cpu0 <<<"$out")"
assert_eq "stat: one aggregate cpu line" 1 "$(get stat_total <<<"$out")"
uptime=$(get uptime <<<"$out")
assert_match "uptime: two decimal fields" '^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2}$' "$uptime"
assert_lt "uptime: the container started less than 10 s ago" 10 "${uptime%% *}"
check "uptime: idle ($uptime) is at most uptime x 1 CPU" \
        awk -v u="${uptime%% *}" -v i="${uptime##* }" 'BEGIN { exit !(i <= u + 0.5) }'
assert_match "loadavg: five fields" '^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+/[0-9]+ [0-9]+$' \
        "$(get loadavg <<<"$out")"
for f in diskstats swaps slabinfo pressure/cpu pressure/io pressure/memory; do
        assert_eq "proc/$f is readable" yes "$(get "readable_$f" <<<"$out")"
done
assert_eq "bind-mount capfs over /proc/meminfo and /sys/devices/system/cpu" ok "$(get bind <<<"$out")"
assert_eq "free -k: total 262144" 262144 "$(get free_total <<<"$out")"
assert_eq "nproc (affinity = cpuset): 1" 1 "$(get nproc <<<"$out")"
assert_eq "getconf _NPROCESSORS_ONLN (reads online): 1" 1 "$(get getconf <<<"$out")"
diag "nproc --all (glibc's configured CPUs) says $(get nproc_all <<<"$out")"

# The container is its init's cgroups: a process of the container that moved to another memory
# cgroup still gets the init's view, while a host process in that other cgroup gets its limit.
cg_create other
cg_set memory other memory.limit_in_bytes 402653184 # 384 MiB
moved() {
        (
                echo "$BASHPID" >"$1" || exit 1
                echo "memtotal=$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
        )
}
other_procs="${CG_TOP[$(cg_hier memory)]}/other/cgroup.procs"
out=$(run_in_ct ct moved "$other_procs")
assert_eq "a container process in another memory cgroup sees its init's MemTotal" 262144 "$(get memtotal <<<"$out")"
probe_memtotal() {
        echo "memtotal=$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
}
out=$(run_in_cg other probe_memtotal)
assert_eq "a host process in that cgroup sees its 384 MiB" 393216 "$(get memtotal <<<"$out")"

finish
