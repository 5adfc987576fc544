#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Callers in the host's pid namespace get their own cgroup's view: the host's values in the
# machine's cgroups, the limits of a limited cgroup once inside it.
source "$(dirname "$0")/lib.sh"
setup

host_memtotal=$(meminfo_field /proc/meminfo MemTotal)
host_processors=$(grep -cE '^processor[[:space:]]*:' /proc/cpuinfo)
host_online=$(cat /sys/devices/system/cpu/online)
host_stat_cpus=$(grep -cE '^cpu[0-9]+ ' /proc/stat)

# The lowest memory limit on the cgroup this test runs in and its ancestors, in kB.
memory_dir=${CG_TOP[$(cg_hier memory)]%/*}
cpu_dir=${CG_TOP[$(cg_hier cpu)]%/*}
cpuset_dir=${CG_TOP[$(cg_hier cpuset)]%/*}
own_limit_kb=$host_memtotal
dir=$memory_dir
if on_v2; then
        # The root cgroup has none of these knobs: no limit, no quota.
        memory_knob=memory.max
        own_quota=$(cut -d' ' -f1 "$cpu_dir/cpu.max" 2>/dev/null)
        [[ "${own_quota:-max}" == max ]] && own_quota=-1
        own_cpus=$(cat "$cpuset_dir/cpuset.cpus.effective")
else
        memory_knob=memory.limit_in_bytes
        own_quota=$(cat "$cpu_dir/cpu.cfs_quota_us")
        own_cpus=$(cat "$cpuset_dir/cpuset.effective_cpus")
fi
while [[ -f "$dir/$memory_knob" ]]; do
        limit=$(cat "$dir/$memory_knob")
        if [[ "$limit" != max ]]; then
                limit=$((limit / 1024))
                ((limit < own_limit_kb)) && own_limit_kb=$limit
        fi
        dir=${dir%/*}
done

memtotal=$(meminfo_field "$MNT/proc/meminfo" MemTotal)
if ((own_limit_kb < host_memtotal)); then
        skip "host caller: MemTotal is the host's" "this test's own cgroup is limited to $own_limit_kb kB"
else
        assert_eq "host caller: MemTotal is the host's" "$host_memtotal" "$memtotal"
fi
if [[ "$own_quota" != -1 || "$own_cpus" != "$host_online" ]]; then
        skip "host caller: as many processors as the host" "own cgroup has quota $own_quota, cpus $own_cpus"
        skip "host caller: online is the host's" "own cgroup has quota $own_quota, cpus $own_cpus"
        skip "host caller: as many cpuN lines in stat as the host" "own cgroup is limited"
else
        assert_eq "host caller: as many processors as the host" "$host_processors" \
                "$(count_matching '^processor[[:space:]]*:' "$MNT/proc/cpuinfo")"
        assert_eq "host caller: online is the host's" "$host_online" "$(rd "$MNT/sys/devices/system/cpu/online")"
        assert_eq "host caller: as many cpuN lines in stat as the host" "$host_stat_cpus" \
                "$(count_matching '^cpu[0-9]+ ' "$MNT/proc/stat")"
fi
# Bracketed by the host's uptime before and after the read, however long the read takes.
host_before=$(cut -d' ' -f1 /proc/uptime)
uptime=$(rd "$MNT/proc/uptime")
host_after=$(cut -d' ' -f1 /proc/uptime)
check "host caller: uptime (${uptime%% *}) between the host's before ($host_before) and after ($host_after) the read" \
        awk -v a="${uptime%% *}" -v lo="$host_before" -v hi="$host_after" 'BEGIN { exit !(a >= lo - 0.01 && a <= hi + 0.01) }'

# The same reads from inside a limited cgroup, still in the host's pid namespace.
cg_create lim
cg_limit_memory lim 268435456
cg_set cpuset lim cpuset.cpus 0
cg_limit_cpu lim 50000 100000

probe() {
        echo "memtotal=$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
        echo "processors=$(count_matching '^processor[[:space:]]*:' "$MNT/proc/cpuinfo")"
        echo "online=$(rd "$MNT/sys/devices/system/cpu/online")"
}
out=$(run_in_cg lim probe)
diag "$out"
assert_eq "host pid namespace, limited cgroup: MemTotal 262144" 262144 "$(get memtotal <<<"$out")"
assert_eq "host pid namespace, limited cgroup: 1 processor" 1 "$(get processors <<<"$out")"
assert_eq "host pid namespace, limited cgroup: online 0" 0 "$(get online <<<"$out")"

# And a host caller reading right after is still served the host's view (no caching per file).
if ((own_limit_kb >= host_memtotal)); then
        assert_eq "host caller after a limited one: MemTotal is the host's again" "$host_memtotal" \
                "$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
fi

finish
