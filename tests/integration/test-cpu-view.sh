#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The CPU count: the cpuset, cut to ceil(quota/period) in the default quota view, the cpuset
# alone with --cpu-view=cpuset; CPUs are renumbered from 0.
source "$(dirname "$0")/lib.sh"
setup

host_cpus=$(grep -cE '^processor[[:space:]]*:' /proc/cpuinfo)
((host_cpus >= 2)) || skip_all "needs at least 2 CPUs (this host has $host_cpus)"
all_cpus=$(cat /sys/devices/system/cpu/online)

mkdir "$WORKDIR/cpuset-view"
start_capfs "$WORKDIR/cpuset-view" --cpu-view=cpuset || bail "capfs --cpu-view=cpuset did not mount"
MNT_CPUSET=$WORKDIR/cpuset-view

# name cpus quota
cgroups=(
        "half 0-1 50000"       # quota 0.5 CPU over 2 CPUs
        "onehalf 0-1 150000"   # quota 1.5 CPUs -> 2
        "second 1 -1"          # only CPU 1, no quota
        "nolimit $all_cpus -1" # everything
)
for c in "${cgroups[@]}"; do
        read -r name cpus quota <<<"$c"
        cg_create "$name"
        cg_set cpuset "$name" cpuset.cpus "$cpus"
        cg_limit_cpu "$name" "$quota" 100000
done

probe() {
        local mnt
        for mnt in "$MNT" "$1"; do
                echo "processors=$(count_matching '^processor[[:space:]]*:' "$mnt/proc/cpuinfo")"
                echo "online=$(rd "$mnt/sys/devices/system/cpu/online")"
                echo "stat_cpus=$(count_matching '^cpu[0-9]+ ' "$mnt/proc/stat")"
                echo "first=$(timeout "$IO_TIMEOUT" awk -F': ' '/^processor/ { print $2; exit }' "$mnt/proc/cpuinfo")"
        done
}

# check_view NAME VIEW OUTPUT_BLOCK N
check_view() {
        local name=$1 view=$2 out=$3 n=$4 online=0
        ((n > 1)) && online="0-$((n - 1))"
        assert_eq "$name, $view view: $n processors in cpuinfo" "$n" "$(get processors <<<"$out")"
        assert_eq "$name, $view view: online is $online" "$online" "$(get online <<<"$out")"
        assert_eq "$name, $view view: $n cpuN lines in stat" "$n" "$(get stat_cpus <<<"$out")"
        assert_eq "$name, $view view: the first processor is 0" 0 "$(get first <<<"$out")"
}

# expected CPUs: quota view, cpuset view
declare -A quota_view=([half]=1 [onehalf]=2 [second]=1 [nolimit]=$host_cpus)
declare -A cpuset_view=([half]=2 [onehalf]=2 [second]=1 [nolimit]=$host_cpus)
for c in "${cgroups[@]}"; do
        read -r name _ <<<"$c"
        out=$(run_in_ct "$name" probe "$MNT_CPUSET")
        diag "$name: $(tr '\n' ' ' <<<"$out")"
        check_view "$name" quota "$(head -n 4 <<<"$out")" "${quota_view[$name]}"
        check_view "$name" cpuset "$(tail -n 4 <<<"$out")" "${cpuset_view[$name]}"
done

finish
