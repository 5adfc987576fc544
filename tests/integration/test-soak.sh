#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Soak: several containers read meminfo and write a cgroup knob through capfs (and read it back)
# without pause, while every few seconds the serving worker is killed with SIGKILL or replaced
# with SIGUSR1. No read or write may fail (ENOTCONN above all), no value may be wrong, the
# supervisor's fds and memory stay flat, every worker looks like the first, and capfs shuts down
# cleanly at the end.
#
# CI runs it for SOAK_SECONDS=40 with 6 containers; the long run (see README, "Operations"):
#   SOAK_SECONDS=600 SOAK_CONTAINERS=20 tests/integration/test-soak.sh build/bindings/capfs
SOAK_SECONDS=${SOAK_SECONDS:-40}
SOAK_CONTAINERS=${SOAK_CONTAINERS:-6}
# Alternately a SIGKILL of the worker and a SIGUSR1 reload, this many seconds apart.
SOAK_EVERY=${SOAK_EVERY:-3}
# The containers live for the whole run: lib.sh bounds them by half the watchdog's time.
if ((${CAPFS_TEST_WATCHDOG:-120} < 2 * SOAK_SECONDS + 120)); then
        export CAPFS_TEST_WATCHDOG=$((2 * SOAK_SECONDS + 120))
fi
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"
setup

# The knob each container writes, in a cgroup of its own below its root: on cgroup2 one that
# needs no controller (a container's processes sit in its root, which then may not hand any down).
if on_v2; then
        KNOB=cgroup.max.descendants CTRL=unified
else
        KNOB=memory.limit_in_bytes CTRL=memory
fi

# ct_writer KNOB STOPFILE ERRLOG: writes a new value to KNOB and reads it back, with bash's own
# redirections (no fork), until STOPFILE exists; prints good=, wrong=, err=.
ct_writer() {
        local knob=$1 stop=$2 errlog=$3 good=0 wrong=0 err=0 k=0 v got
        while [[ ! -e "$stop" ]]; do
                k=$((k + 1))
                if [[ "$knob" == */memory.limit_in_bytes ]]; then
                        v=$(((64 + k % 64) * 1048576))
                else
                        v=$((1 + k % 1000))
                fi
                if ! { printf '%s\n' "$v" >"$knob"; } 2>>"$errlog"; then
                        err=$((err + 1))
                        ((err > 1000)) && break
                        continue
                fi
                got=
                if ! { IFS= read -r got <"$knob"; } 2>>"$errlog"; then
                        err=$((err + 1))
                        ((err > 1000)) && break
                elif [[ "$got" == "$v" ]]; then
                        good=$((good + 1))
                else
                        wrong=$((wrong + 1))
                        ((wrong <= 3)) && echo "wrong: wrote $v to $knob, read back '$got'" >>"$errlog"
                fi
        done
        printf 'good=%d\nwrong=%d\nerr=%d\nnew=0\nmaxgap=0\n' "$good" "$wrong" "$err"
}

start_writer() {
        local name=$1 cg=$2 knob=$3
        rm -f "$WORKDIR/stop-$name"
        : >"$WORKDIR/errors-$name"
        CT_FUNCS="ct_writer" run_in_ct "$cg" ct_writer "$knob" "$WORKDIR/stop-$name" "$WORKDIR/errors-$name" \
                >"$WORKDIR/reader-$name" 2>&1 &
        remember_job "$name"
}

fd_count() {
        find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}
# fd_classes PID: "all kernel containers" from one listing of the worker's fds, so that the three
# agree (a held file pruned between two listings would otherwise count as a leak). A worker
# remembers each container it served with the container init's /proc/PID/cgroup open, and keeps
# the kernel files it renders from open (fs/held.c): procfs files that are no process's, and cgroup
# files (counted with the hierarchy directories every worker opens).
fd_classes() {
        find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null | awk '
                { all++ }
                /^\/proc\/[0-9]+\/cgroup$/ { containers++; next }
                /^\/proc\/[^0-9]/ || /^\/sys\// { kernel++ }
                END { printf "%d %d %d\n", all, kernel, containers }'
}
# worker_fd_counts PID: "all kernel containers" fds of a worker that is serving MNT throughout
# (serving_worker named it): of 5 listings 100 ms apart, the one with the fewest fds that are
# neither held kernel files nor containers. The loadavg sampler opens /proc and /proc/PID/stat
# files for a moment every few seconds; what leaks stays open in every listing. Fails, saying why,
# when the worker ends or stops being the one serving meanwhile: its count would mean nothing.
worker_fd_counts() {
        local pid=$1 counts all kernel containers best='' least=''
        for _ in 1 2 3 4 5; do
                if [[ ! -d /proc/$pid/fd ]] || pid_gone "$pid"; then
                        echo "worker $pid ended while its fds were counted" >&2
                        return 1
                fi
                counts=$(fd_classes "$pid")
                read -r all kernel containers <<<"$counts"
                if [[ -z $least ]] || ((all - kernel - containers < least)); then
                        least=$((all - kernel - containers)) best=$counts
                fi
                sleep 0.1
        done
        if [[ "$(worker_of "$MNT")" != "$pid" ]]; then
                echo "worker $pid was replaced (by $(worker_of "$MNT")) while its fds were counted" >&2
                return 1
        fi
        echo "$best"
}
# What a worker's fds point to, for the log when the counts differ.
fd_targets() {
        find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -printf '%l\n' 2>/dev/null | sort | uniq -c
}
rss_kb() {
        awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"
}

supervisor=$CAPFS_PID
mount_before=$(mount_id "$MNT")
# Counted while nothing is being served: a request in progress holds fds of its own.
first_worker=$(serving_worker "$MNT") || bail "no worker serves $MNT at the start"
first_counts=$(worker_fd_counts "$first_worker") || bail "the first worker's fds could not be counted"
read -r worker_fds_first worker_kernel_fds_first _ <<<"$first_counts"
worker_fd_targets_first=$(fd_targets "$first_worker")
names=()
for ((i = 0; i < SOAK_CONTAINERS; i++)); do
        limit=$(((128 + 16 * i) * 1048576))
        cg_create "ct$i"
        # Made by hand: cg_create would hand controllers down to it on cgroup2, and ct$i, holding
        # the container's processes, may not do that.
        mkdir "$(cg_host "$CTRL" "ct$i")/knob" || bail "cannot create $(cg_host "$CTRL" "ct$i")/knob"
        cg_limit_memory "ct$i" "$limit"
        start_reader "r$i" "ct$i" "$MNT/proc/meminfo" $((limit / 1024))
        start_writer "w$i" "ct$i" "$(cg_view "$CTRL" "ct$i/knob")/$KNOB"
        names+=("r$i" "w$i")
done
for ((i = 0; i < SOAK_CONTAINERS; i++)); do
        wait_reader "r$i" || bail "container ct$i never read $MNT/proc/meminfo"
done

sup_fds_before=$(fd_count "$supervisor")
sup_rss_before=$(rss_kb "$supervisor")

kills=0 reloads=0 failed_replacements=0 worker_rss=()
end=$((SECONDS + SOAK_SECONDS))
while ((SECONDS < end)); do
        sleep "$SOAK_EVERY"
        # A worker known to serve: "kill -KILL 0" would end this whole process group.
        if ! old=$(serving_worker "$MNT"); then
                failed_replacements=$((failed_replacements + 1))
                continue
        fi
        worker_rss+=("$(rss_kb "$old")")
        if (((kills + reloads) % 2 == 0)); then
                kill -KILL "$old" && kills=$((kills + 1))
        else
                kill -USR1 "$supervisor" && reloads=$((reloads + 1))
        fi
        wait_until "$EVENT_TIMEOUT" new_worker_serves "$MNT" "$old" || failed_replacements=$((failed_replacements + 1))
done
sleep 1
for name in "${names[@]}"; do
        stop_reader "$name"
done
# The last worker may still be starting after the last replacement: counted once it serves, and
# counted again if it was replaced in the middle of a count.
last_counts=
for _ in 1 2 3; do
        last_worker=$(serving_worker "$MNT") || break
        last_counts=$(worker_fd_counts "$last_worker") && break
done
if [[ -n "$last_counts" ]]; then
        read -r last_all last_kernel worker_container_fds <<<"$last_counts"
        worker_held_fds=$((last_kernel - worker_kernel_fds_first))
        worker_fds_last=$((last_all - worker_container_fds - worker_held_fds))
else
        not_ok "the last worker serves and its fds can be counted" "see the messages above"
        worker_container_fds=none worker_held_fds=none worker_fds_last=none
fi
sup_fds_after=$(fd_count "$supervisor")
sup_rss_after=$(rss_kb "$supervisor")

diag "$SOAK_SECONDS s, $SOAK_CONTAINERS containers: $kills SIGKILLs, $reloads reloads"
diag "supervisor: fds $sup_fds_before -> $sup_fds_after, RSS $sup_rss_before -> $sup_rss_after kB;" \
        "workers: fds $worker_fds_first (first) / $worker_fds_last (last, and $worker_container_fds of containers, $worker_held_fds kernel files held), RSS before each replacement: ${worker_rss[*]} kB"
assert_eq "every worker was replaced within ${EVENT_TIMEOUT}s" 0 "$failed_replacements"
check "the supervisor is still running" not pid_gone "$supervisor"
assert_eq "the mount is the same mount" "$mount_before" "$(mount_id "$MNT")"
allow_eintr=false
kernel_lacks_resend "$WORKDIR/capfs-$(basename "$MNT").log" && allow_eintr=true
total_reads=0 total_writes=0
for ((i = 0; i < SOAK_CONTAINERS; i++)); do
        assert_reader_clean "r$i" "ct$i reading meminfo" "$allow_eintr"
        assert_reader_clean "w$i" "ct$i writing $KNOB" "$allow_eintr"
        good=$(reader_result "r$i" good)
        total_reads=$((total_reads + ${good:-0}))
        good=$(reader_result "w$i" good)
        total_writes=$((total_writes + ${good:-0}))
done
diag "reads: $total_reads, writes read back: $total_writes"
assert_eq "the supervisor's fds: as many at the end as at the start" "$sup_fds_before" "$sup_fds_after"
assert_eq "the last worker has as many fds as the first, besides those of the containers it knows and the files it holds" \
        "$worker_fds_first" "$worker_fds_last"
if [[ $worker_fds_first != "$worker_fds_last" ]]; then
        diag "the first worker's fds:" "$worker_fd_targets_first"
        diag "the last worker's fds:" "$(fd_targets "$last_worker")"
fi
# Each reader and writer has a pid namespace of its own: one container each.
check "the last worker holds at most one file per container ($worker_container_fds)" \
        test "$worker_container_fds" -le $((2 * SOAK_CONTAINERS))
# meminfo reads /proc/meminfo for all, and per container memory.stat, the usage counters and
# (cgroup2) the limits of each level: a few per container, never one per read.
check "the last worker holds a bounded number of kernel files ($worker_held_fds)" \
        test "$worker_held_fds" -le $((16 * SOAK_CONTAINERS + 8))
# A leak in the supervisor grows with every replacement: a few hundred kB of slack is noise.
growth=$((sup_rss_after - sup_rss_before))
assert_lt "the supervisor's RSS grew by less than 1 MiB" 1024 $((growth > 0 ? growth : 0))
check "capfs --check: served" "$CAPFS" --check "$MNT"
finish
