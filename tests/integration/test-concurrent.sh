#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Three containers with different limits and a host caller read meminfo at the same time, several
# readers each: every read gets its own container's value, and none fails.
source "$(dirname "$0")/lib.sh"
setup

READS=200  # per container
STREAMS=4  # parallel readers per container

# reader EXPECTED_KB STREAMS READS: STREAMS parallel loops sharing READS reads; prints the totals.
# The first loop reads with cat (a new process, a new caller pid each time), the others with
# bash's own read, which costs no fork and reads the file in several chunks.
reader() {
        local expected=$1 streams=$2 reads=$3 deadline=$((SECONDS + 50)) s
        {
                for ((s = 0; s < streams; s++)); do
                        read_loop "$expected" $((reads / streams)) "$deadline" "$s" &
                done
                wait
        } | awk '{ g += $1; w += $2; e += $3 } END { printf "good=%d\nwrong=%d\nerr=%d\n", g, w, e }'
}

# read_loop EXPECTED_KB COUNT DEADLINE STREAM: prints "good wrong failed".
read_loop() {
        local expected=$1 count=$2 deadline=$3 stream=$4 good=0 wrong=0 err=0 i v fd
        for ((i = 0; i < count && SECONDS < deadline; i++)); do
                v=
                if ((stream == 0)); then
                        # The x keeps the trailing newline from the command substitution.
                        v=$(cat "$MNT/proc/meminfo" && echo x) && v=${v%x} || v=
                elif exec {fd}<"$MNT/proc/meminfo"; then
                        IFS= read -r -d '' -u "$fd" v
                        exec {fd}<&-
                fi
                if [[ "$v" != *MemTotal:* || "$v" != *$'\n' ]]; then
                        err=$((err + 1))
                elif [[ "$v" =~ MemTotal:\ +([0-9]+)\ kB ]] && [[ ${BASH_REMATCH[1]} == "$expected" ]]; then
                        good=$((good + 1))
                else
                        wrong=$((wrong + 1))
                        ((wrong <= 3)) && echo "wrong: $(grep MemTotal <<<"$v")" >&2
                fi
        done
        echo "$good $wrong $err"
}

export CT_FUNCS=read_loop
declare -A limits=([c128]=134217728 [c192]=201326592 [c256]=268435456)
for ct in "${!limits[@]}"; do
        cg_create "$ct"
        cg_limit_memory "$ct" "${limits[$ct]}"
done
cg_create host

host_kb=$(meminfo_field /proc/meminfo MemTotal)
declare -A expected=([c128]=131072 [c192]=196608 [c256]=262144 [host]=$host_kb)
declare -A jobs=()
for ct in c128 c192 c256; do
        run_in_ct "$ct" reader "${expected[$ct]}" "$STREAMS" "$READS" >"$WORKDIR/$ct.out" 2>"$WORKDIR/$ct.err" &
        jobs[$ct]=$!
done
# The host's pid namespace, in an unlimited cgroup of ours, at the same time.
run_in_cg host reader "$host_kb" "$STREAMS" "$READS" >"$WORKDIR/host.out" 2>"$WORKDIR/host.err" &
jobs[host]=$!

# Every job ends by itself within ~60 s (the readers' deadline, run_in_c[tg]'s timeout).
for ct in c128 c192 c256 host; do
        wait "${jobs[$ct]}"
done

for ct in c128 c192 c256 host; do
        out=$(cat "$WORKDIR/$ct.out")
        [[ -s "$WORKDIR/$ct.err" ]] && diag "$ct: $(head -n 5 "$WORKDIR/$ct.err")"
        assert_eq "$ct: $READS reads of MemTotal ${expected[$ct]} kB" "$READS" "$(get good <<<"$out")"
        assert_eq "$ct: no read with another container's value" 0 "$(get wrong <<<"$out")"
        assert_eq "$ct: no failed read" 0 "$(get err <<<"$out")"
done

finish
