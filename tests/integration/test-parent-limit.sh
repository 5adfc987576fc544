#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A limit set only on an ancestor cgroup is the container's limit; the lowest one wins.
source "$(dirname "$0")/lib.sh"
setup

cg_create parent/child
cg_set memory parent memory.limit_in_bytes 402653184 # 384 MiB; child: no limit of its own

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
cg_set memory parent/child/grandchild memory.limit_in_bytes 201326592 # 192 MiB
out=$(run_in_ct parent/child/grandchild probe)
assert_eq "lower limit on the cgroup itself wins: MemTotal 196608 kB" 196608 "$(get memtotal <<<"$out")"

# ...and a higher one does not lift the parent's.
cg_set memory parent/child memory.limit_in_bytes 1073741824 # 1 GiB
out=$(run_in_ct parent/child probe)
assert_eq "higher limit below a lower one: MemTotal stays 393216 kB" 393216 "$(get memtotal <<<"$out")"

finish
