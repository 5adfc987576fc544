#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The files are read-only whatever the caller (EACCES), unknown paths are ENOENT, and any read
# size and offset works: 1-byte reads, odd sizes, offsets in the middle, at the end and far past it.
source "$(dirname "$0")/lib.sh"
setup

P=$MNT/proc
S=$MNT/sys/devices/system/cpu

# ---- the tree
assert_eq "the mount's root holds by-pidns, cgroup, proc and sys" "by-pidns cgroup proc sys" "$(timeout "$IO_TIMEOUT" ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
listing=" $(timeout "$IO_TIMEOUT" ls "$P" | tr '\n' ' ')"
for f in meminfo cpuinfo stat uptime loadavg diskstats swaps slabinfo pressure; do
        check "proc/ lists $f" test "${listing/ $f /}" != "$listing"
done
assert_eq "proc/pressure lists cpu io memory" "cpu io memory" \
        "$(timeout "$IO_TIMEOUT" ls "$P/pressure" | tr '\n' ' ' | sed 's/ $//')"
check "sys/devices/system/cpu/online is a regular file" test -f "$S/online"
mode=$(timeout "$IO_TIMEOUT" stat -c %a "$P/meminfo")
check "proc/meminfo has no write bit (mode $mode)" test "$((8#${mode:-222} & 8#222))" -eq 0

# ---- read-only
before=$(meminfo_field "$P/meminfo" MemTotal)
assert_fails "write to proc/meminfo: EACCES" "Permission denied" sh -c 'echo 1 >"$1"' sh "$P/meminfo"
assert_fails "append to proc/meminfo: EACCES" "Permission denied" sh -c 'echo 1 >>"$1"' sh "$P/meminfo"
assert_fails "open proc/meminfo read-write: EACCES" "Permission denied" sh -c 'exec 3<>"$1"' sh "$P/meminfo"
assert_fails "truncate proc/meminfo: EACCES" "Permission denied" truncate -s 0 "$P/meminfo"
assert_fails "chmod proc/meminfo: EACCES" "Permission denied" chmod 0666 "$P/meminfo"
assert_fails "chown proc/meminfo: EACCES" "Permission denied" chown nobody "$P/meminfo"
assert_fails "touch (set times on) proc/meminfo: EACCES" "Permission denied" touch -c "$P/meminfo"
assert_fails "write to proc/cpuinfo: EACCES" "Permission denied" sh -c 'echo 1 >"$1"' sh "$P/cpuinfo"
assert_fails "write to sys/devices/system/cpu/online: EACCES" "Permission denied" \
        sh -c 'echo 0 >"$1"' sh "$S/online"
assert_fails "chmod proc/stat: EACCES" "Permission denied" chmod 0666 "$P/stat"
assert_fails "remove proc/meminfo fails" "" rm -f "$P/meminfo"
assert_fails "create proc/newfile fails" "" sh -c ': >"$1"' sh "$P/newfile"
assert_fails "mkdir proc/newdir fails" "" mkdir "$P/newdir"
check "proc/newfile and proc/newdir do not exist" test ! -e "$P/newfile" -a ! -e "$P/newdir"
assert_same "proc/meminfo is unchanged" "$before" "$(meminfo_field "$P/meminfo" MemTotal)"

# ---- unknown paths
assert_fails "proc/nonexistent: ENOENT" "No such file or directory" cat "$P/nonexistent"
assert_fails "nonexistent at the root: ENOENT" "No such file or directory" stat "$MNT/nonexistent"
assert_fails "sys/devices/system/cpu/cpu9999: ENOENT" "No such file or directory" ls "$S/cpu9999"
assert_fails "proc/pressure/nonexistent: ENOENT" "No such file or directory" cat "$P/pressure/nonexistent"
assert_fails "a path below a file (proc/meminfo/x) fails" "" cat "$P/meminfo/x"

# ---- reads of any size at any offset
# Static content compares byte for byte (cpuinfo without its "cpu MHz" lines, which a host may
# update); content that moves between two reads (meminfo, stat) compares by its keys.
static() {
        grep -v '^cpu MHz'
}
keys() {
        awk '{ print $1 }'
}
dd_read() { # dd_read FILE BLOCKSIZE [dd operands...]
        local file=$1 bs=$2
        shift 2
        timeout "$IO_TIMEOUT" dd if="$file" bs="$bs" status=none "$@"
}

# bytes_at FILE OFFSET: how many bytes one 4 KiB read at OFFSET returns, or "error".
bytes_at() {
        local n
        n=$(dd_read "$1" 4096 skip="$2" iflag=skip_bytes count=1 | wc -c) && echo "$n" || echo error
}

whole=$(rd "$P/cpuinfo" | static)
check "proc/cpuinfo is not empty" test -n "$whole"
for bs in 1 7 4096 1M; do
        assert_same "proc/cpuinfo read with bs=$bs is the whole read" "$whole" "$(dd_read "$P/cpuinfo" "$bs" | static)"
done
for f in meminfo stat; do
        whole=$(rd "$P/$f")
        check "proc/$f is not empty" test -n "$whole"
        for bs in 1 13 1M; do
                assert_same "proc/$f read with bs=$bs has the whole read's lines" "$(keys <<<"$whole")" \
                        "$(dd_read "$P/$f" "$bs" | keys)"
        done
done
assert_same "proc/meminfo read 1 byte at a time: same MemTotal" "$(meminfo_field "$P/meminfo" MemTotal)" \
        "$(dd_read "$P/meminfo" 1 | awk '$1 == "MemTotal:" { print $2 }')"
assert_match "proc/uptime read 1 byte at a time" '^[0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2}$' "$(dd_read "$P/uptime" 1)"
assert_same "online read 1 byte at a time" "$(rd "$S/online")" "$(dd_read "$S/online" 1)"

# Reads starting inside the file return its tail; at or past the end, nothing.
raw_len=$(rd "$S/online" | wc -c)
assert_eq "online: a read at its last byte returns 1 byte" 1 "$(bytes_at "$S/online" $((raw_len - 1)))"
assert_eq "online: a read at its end returns 0 bytes" 0 "$(bytes_at "$S/online" "$raw_len")"
cpuinfo=$(rd "$P/cpuinfo")
len=${#cpuinfo}
if [[ "$cpuinfo" == "$(rd "$P/cpuinfo")" ]]; then
        assert_same "cpuinfo: a read from the middle returns the rest" "$(tail -c +$((len / 2 + 1)) <<<"$cpuinfo")" \
                "$(dd_read "$P/cpuinfo" 100 skip=$((len / 2)) iflag=skip_bytes)"
else
        skip "cpuinfo: a read from the middle returns the rest" "this host's cpuinfo changes between reads"
fi
for offset in $((1 << 20)) $((1 << 40)) $((1 << 62)); do
        assert_eq "proc/meminfo: a read at offset $offset returns 0 bytes" 0 "$(bytes_at "$P/meminfo" "$offset")"
done

finish
