#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A limit set only on an ancestor cgroup is the container's limit; the lowest one wins.
source "$(dirname "$0")/lib.sh"
setup

cg_create parent/child
cg_limit_memory parent 402653184 # 384 MiB; child: no limit of its own

probe() {
        echo "pid=$$"
        echo "memtotal=$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
}

out=$(run_in_ct parent/child probe)
diag "$out"
assert_eq "the probe is pid 1 of a new pid namespace" 1 "$(get pid <<<"$out")"
assert_eq "limit on the parent only: MemTotal 393216 kB" 393216 "$(get memtotal <<<"$out")"

out=$(run_in_cg parent/child probe)
assert_eq "same from the host pid namespace" 393216 "$(get memtotal <<<"$out")"

# A lower limit deeper down wins over the parent's...
cg_create parent/child/grandchild
cg_limit_memory parent/child/grandchild 201326592 # 192 MiB
out=$(run_in_ct parent/child/grandchild probe)
assert_eq "lower limit on the cgroup itself wins: MemTotal 196608 kB" 196608 "$(get memtotal <<<"$out")"

# ...and a higher one does not lift the parent's.
cg_limit_memory parent/child 1073741824 # 1 GiB
if on_v2; then
        # parent/child hands controllers to grandchild now, so it may not hold processes
        # (cgroup2's no-internal-processes rule): the probe runs in an unlimited leaf below it.
        cg_create parent/child/leaf
        out=$(run_in_ct parent/child/leaf probe)
else
        out=$(run_in_ct parent/child probe)
fi
assert_eq "higher limit below a lower one: MemTotal stays 393216 kB" 393216 "$(get memtotal <<<"$out")"

# Every limit on the parent (256 MiB, cpuset 0, quota 50000/100000, 64 pids), the container's
# processes in a child without limits of its own: the child sees the parent's limits everywhere.
# (v1 cpuset: the parent's CPUs are set before the child copies them.)
cg_create outer
cg_limit_memory outer 268435456
cg_set cpuset outer cpuset.cpus 0
on_v2 && cg_set cpuset outer cpuset.mems "$(cat "${CG_TOP[unified]}/cpuset.mems.effective")"
cg_limit_cpu outer 50000 100000
cg_set pids outer pids.max 64
cg_create outer/payload
probe_all() {
        echo "memtotal=$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
        echo "memfree=$(meminfo_field "$MNT/proc/meminfo" MemFree)"
        echo "processors=$(count_matching '^processor[[:space:]]*:' "$MNT/proc/cpuinfo")"
        echo "online=$(rd "$MNT/sys/devices/system/cpu/online")"
        echo "stat_cpus=$(count_matching '^cpu[0-9]+ ' "$MNT/proc/stat")"
}
out=$(run_in_ct outer/payload probe_all)
diag "$out"
assert_eq "limits on the parent: MemTotal 262144 kB" 262144 "$(get memtotal <<<"$out")"
memfree=$(get memfree <<<"$out")
check "limits on the parent: 0 < MemFree < MemTotal (got '$memfree')" \
        test "${memfree:-0}" -gt 0 -a "${memfree:-0}" -lt 262144
assert_eq "limits on the parent: 1 processor" 1 "$(get processors <<<"$out")"
assert_eq "limits on the parent: online is 0" 0 "$(get online <<<"$out")"
assert_eq "limits on the parent: one cpuN line in stat" 1 "$(get stat_cpus <<<"$out")"

if on_v2; then
        # A parent that hands down cpu and pids but not memory or io (a payload cgroup only
        # delegated what it manages itself): the child has no memory files at all, and the
        # kernel charges its memory to the parent, whose limit and usage are the container's.
        cg_create bare/payload
        cg_limit_memory bare 268435456
        cg_set memory bare cgroup.subtree_control "-memory -io"
        out=$(run_in_ct bare/payload probe_all)
        diag "$out"
        assert_eq "v2, child without the memory controller: MemTotal is the parent's 262144 kB" 262144 \
                "$(get memtotal <<<"$out")"
        memfree=$(get memfree <<<"$out")
        check "v2, child without the memory controller: 0 < MemFree < MemTotal (got '$memfree')" \
                test "${memfree:-0}" -gt 0 -a "${memfree:-0}" -lt 262144
fi

finish
