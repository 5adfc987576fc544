#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A limited container (256 MiB, cpuset 0, CFS quota 50000/100000, 64 pids) in its own pid namespace sees
# its limits in every file capfs serves, and through bind mounts in `free`, `nproc` and `getconf`.
source "$(dirname "$0")/lib.sh"
setup

cg_create ct
cg_limit_memory ct 268435456
cg_set cpuset ct cpuset.cpus 0
# v1 made every level's cpuset.mems the parent's already; on v2 an empty one would mean the same.
on_v2 && cg_set cpuset ct cpuset.mems "$(cat "${CG_TOP[unified]}/cpuset.mems.effective")"
cg_limit_cpu ct 50000 100000
cg_set pids ct pids.max 64

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

host_before=$(cut -d' ' -f1 /proc/uptime)
out=$(run_in_ct ct probe)
host_after=$(cut -d' ' -f1 /proc/uptime)
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
# The probe's age, not the host's: at most the time the whole run took (by the host's clock).
assert_lt "uptime: at most the $host_before..$host_after s the container ran" \
        "$(awk -v a="$host_after" -v b="$host_before" 'BEGIN { print a - b + 0.02 }')" "${uptime%% *}"
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

# v2 only: the files capfs passes on or derives from the cgroup2 knobs, compared with the knobs
# read just before and just after (every counter here only grows).
probe_v2() {
        local cg=$1 loop=$2 r
        for r in cpu io memory; do
                echo "pressure_${r}_before=$(tr '\n' '|' <"$cg/$r.pressure")"
                echo "pressure_${r}=$(rd "$MNT/proc/pressure/$r" | tr '\n' '|')"
                echo "pressure_${r}_after=$(tr '\n' '|' <"$cg/$r.pressure")"
        done
        echo "cpustat_before=$(tr '\n' ' ' <"$cg/cpu.stat")"
        echo "stat_cpu=$(timeout "$IO_TIMEOUT" awk '$1 == "cpu" { print $2, $4 }' "$MNT/proc/stat")"
        echo "cpustat_after=$(tr '\n' ' ' <"$cg/cpu.stat")"
        echo "current_before=$(cat "$cg/memory.current")"
        echo "memfree=$(meminfo_field "$MNT/proc/meminfo" MemFree)"
        echo "current_after=$(cat "$cg/memory.current")"
        [[ -n "$loop" ]] || return 0
        # Direct I/O goes to the disk as it is issued: 16 writes and 8 reads of 4 KiB.
        dd if=/dev/zero of="$loop" bs=4096 count=16 oflag=direct status=none &&
                dd if="$loop" of=/dev/null bs=4096 count=8 iflag=direct status=none && echo "dio=ok"
        echo "diskstats=$(rd "$MNT/proc/diskstats" | tr '\n' '|')"
        echo "iostat=$(tr '\n' '|' <"$cg/io.stat")"
}

# psi_total LINE_PREFIX TEXT: the total= of the "some" or "full" line of a |-joined PSI file.
psi_total() {
        tr '|' '\n' <<<"$2" | awk -v w="$1" '$1 == w { sub(/.*total=/, ""); print; exit }'
}

# cpu_stat_ticks KEY TEXT: a cpu.stat *_usec value in USER_HZ ticks, as proc/stat counts them.
cpu_stat_ticks() {
        awk -v k="$1" -v hz="$(getconf CLK_TCK)" '{ for (i = 1; i < NF; i++) if ($i == k) print int($(i + 1) * hz / 1000000) }' <<<"$2"
}

if on_v2; then
        ct_dir=${CG_TOP[unified]}/ct
        loop=
        if command -v losetup >/dev/null && truncate -s 16M "$WORKDIR/disk.img"; then
                loop=$(losetup --find --show "$WORKDIR/disk.img" 2>/dev/null) || loop=
        fi
        out=$(run_in_ct ct probe_v2 "$ct_dir" "$loop")
        [[ -n "$loop" ]] && losetup -d "$loop"
        diag "$out"
        for r in cpu io memory; do
                mine=$(get "pressure_$r" <<<"$out")
                before=$(get "pressure_${r}_before" <<<"$out")
                after=$(get "pressure_${r}_after" <<<"$out")
                assert_same "v2: proc/pressure/$r has the shape of the cgroup's $r.pressure" \
                        "$(sed 's/[0-9][0-9.]*/N/g' <<<"$before")" "$(sed 's/[0-9][0-9.]*/N/g' <<<"$mine")"
                for w in some full; do
                        t=$(psi_total "$w" "$mine")
                        check "v2: proc/pressure/$r $w total=$t is the cgroup's ($(psi_total "$w" "$before")..$(psi_total "$w" "$after"))" \
                                test -n "$t" -a "$(psi_total "$w" "$before")" -le "${t:-0}" -a "${t:-0}" -le "$(psi_total "$w" "$after")"
                done
        done
        declare -A ticks=()
        read -r 'ticks[user]' 'ticks[system]' <<<"$(get stat_cpu <<<"$out")"
        for k in user system; do
                lo=$(cpu_stat_ticks "${k}_usec" "$(get cpustat_before <<<"$out")")
                hi=$(cpu_stat_ticks "${k}_usec" "$(get cpustat_after <<<"$out")")
                t=${ticks[$k]:-}
                check "v2: proc/stat's $k ticks ($t) are cpu.stat's ${k}_usec ($lo..$hi)" \
                        test -n "$t" -a "${lo:-1}" -le "${t:-0}" -a "${t:-0}" -le "${hi:-0}"
        done
        # The probe's own processes come and go between the reads: allow 4 MiB either way.
        memfree=$(get memfree <<<"$out")
        lo=$((262144 - $(get current_after <<<"$out") / 1024 - 4096))
        hi=$((262144 - $(get current_before <<<"$out") / 1024 + 4096))
        check "v2: MemFree ($memfree) is memory.max - memory.current ($lo..$hi with 4 MiB of slack)" \
                test "${memfree:-0}" -ge "$lo" -a "${memfree:-0}" -le "$hi"
        if [[ -z "$loop" ]]; then
                skip "v2: proc/diskstats counts the container's direct I/O, from io.stat" "no loop device"
        else
                assert_eq "v2: 16 writes and 8 reads of 4 KiB with O_DIRECT" ok "$(get dio <<<"$out")"
                dev=$(cat "/sys/block/${loop#/dev/}/dev")
                # What proc/diskstats must say, from io.stat: ios, and bytes in 512-byte sectors.
                want=$(tr '|' '\n' <<<"$(get iostat <<<"$out")" | awk -v dev="$dev" '$1 == dev {
                        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                        print v["rios"], v["rbytes"] / 512, v["wios"], v["wbytes"] / 512 }')
                got=$(tr '|' '\n' <<<"$(get diskstats <<<"$out")" | awk -v name="${loop#/dev/}" '$3 == name { print $4, $6, $8, $10 }')
                assert_same "v2: proc/diskstats's ${loop#/dev/} line is io.stat's (reads, sectors, writes, sectors)" "$want" "$got"
                read -r reads _ writes _ <<<"$got"
                check "v2: ...and counts at least the probe's 8 reads and 16 writes (got ${reads:-?}, ${writes:-?})" \
                        test "${reads:-0}" -ge 8 -a "${writes:-0}" -ge 16
                assert_eq "v2: proc/diskstats shows only the disk the container used" 1 \
                        "$(tr '|' '\n' <<<"$(get diskstats <<<"$out")" | grep -c .)"
        fi
fi

# The container is its init's cgroups: a process of the container that moved to another memory
# cgroup still gets the init's view, while a host process in that other cgroup gets its limit.
cg_create other
cg_limit_memory other 402653184 # 384 MiB
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
