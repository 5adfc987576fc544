#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Many processes of one container use the cgroup view (MOUNT/cgroup, issue 4) at the same time,
# each in its own part of the container's subtree: mkdir, write a limit and read it back, move a
# process in (memory and the unified tree), read the pids back, move it out, rmdir; readers list
# the root and read its cgroup.procs meanwhile, and so does a host caller. No operation fails,
# every value read back is the one written, the daemon survives and nothing is left over.
#
# On v1/hybrid each move goes to the memory and to the unified tree. On pure cgroup2 (one tree)
# the container first moves its init into init.scope and enables the memory controller in its
# root's cgroup.subtree_control (a cgroup handing controllers down holds no processes), each
# worker enables it in its own w<i> too, and processes go back to init.scope, not to the root.
source "$(dirname "$0")/lib.sh"
setup
ct_delegate

WORKERS=8
ITERATIONS=40 # per worker, at most
SECONDS_FOR_WORK=20
export WORKERS ITERATIONS
export CT_FUNCS="put worker reader rmdir_retry"

timeout "$IO_TIMEOUT" ls "$MNT/cgroup" >/dev/null || bail "no cgroup view at $MNT/cgroup"

if on_v2; then
        MEM_MAX=memory.max CG_LINE='^0::' INIT_AT=/init.scope
else
        MEM_MAX=memory.limit_in_bytes CG_LINE='^[0-9]+:memory:' INIT_AT=''
fi
export MEM_MAX CG_LINE INIT_AT

cg_create ct
V_MEM=$(cg_view memory ct)
V_UNI=$(cg_view unified ct)
H_MEM=$(cg_host memory ct)
H_UNI=$(cg_host unified ct)
export V_MEM V_UNI

# rmdir DIR, retried while it fails with EBUSY: the kernel still counts a process that has just
# been killed until it is reaped, which takes a while on a busy machine (EVENT_TIMEOUT at most).
rmdir_retry() {
        local i err
        for ((i = 0; i < EVENT_TIMEOUT * 10; i++)); do
                err=$(timeout "$IO_TIMEOUT" rmdir "$1" 2>&1) && return 0
                [[ "$err" == *"Device or resource busy"* ]] || break
                sleep 0.1
        done
        echo "$err" >&2
        return 1
}

# worker I DEADLINE: prints "operations errors"; the first errors go to stderr.
worker() {
        local i=$1 deadline=$2 k d u s v got ops=0 errs=0
        local base=$V_MEM/w$i ubase=$V_UNI/w$i
        fail() {
                errs=$((errs + 1))
                ((errs <= 3)) && echo "worker $i, round $k: $*" >&2
        }
        k=-
        timeout "$IO_TIMEOUT" mkdir "$base" || fail "mkdir $base"
        if on_v2; then
                put "$base/cgroup.subtree_control" +memory || fail "enable +memory in $base"
        else
                timeout "$IO_TIMEOUT" mkdir "$ubase" || fail "mkdir $ubase"
        fi
        for ((k = 0; k < ITERATIONS && SECONDS < deadline; k++)); do
                d=$base/n$k
                u=$ubase/n$k
                ops=$((ops + 1))
                if on_v2 && ! timeout "$IO_TIMEOUT" mkdir "$d"; then
                        fail "mkdir $d"
                        continue
                elif ! on_v2 && ! timeout "$IO_TIMEOUT" mkdir "$d" "$u"; then
                        fail "mkdir $d $u"
                        continue
                fi
                v=$(((64 + (i * 31 + k) % 64) * 1048576))
                put "$d/$MEM_MAX" "$v" || fail "write $v to $d/$MEM_MAX"
                got=$(rd "$d/$MEM_MAX")
                [[ "$got" == "$v" ]] || fail "$d/$MEM_MAX: read '$got', wrote $v"
                sleep infinity &
                s=$!
                put "$d/cgroup.procs" "$s" || fail "move $s to $d"
                got=$(rd "$d/cgroup.procs")
                [[ "$got" == "$s" ]] || fail "$d/cgroup.procs: read '$got', expected $s"
                if ! on_v2; then
                        put "$u/cgroup.procs" "$s" || fail "move $s to $u"
                        got=$(rd "$u/cgroup.procs")
                        [[ "$got" == "$s" ]] || fail "$u/cgroup.procs: read '$got', expected $s"
                fi
                got=$(grep -E "$CG_LINE" "/proc/$s/cgroup")
                [[ "$got" == */ct/w$i/n$k ]] || fail "/proc/$s/cgroup says '$got'"
                timeout "$IO_TIMEOUT" ls "$base" >/dev/null || fail "ls $base"
                put "$V_MEM$INIT_AT/cgroup.procs" "$s" || fail "move $s back to the memory root$INIT_AT"
                on_v2 || put "$V_UNI/cgroup.procs" "$s" || fail "move $s back to the unified root"
                kill "$s"
                wait "$s" 2>/dev/null
                rmdir_retry "$d" || fail "rmdir $d"
                on_v2 || rmdir_retry "$u" || fail "rmdir $u"
        done
        rmdir_retry "$base" || fail "rmdir $base"
        on_v2 || rmdir_retry "$ubase" || fail "rmdir $ubase"
        echo "$ops $errs"
}

# reader DEADLINE: lists the container's root and reads the cgroup.procs of its init's cgroup
# (the init is always there, as 1) until DEADLINE; prints "reads errors".
reader() {
        local deadline=$1 reads=0 errs=0 got
        while ((SECONDS < deadline && reads < 2000)); do
                reads=$((reads + 1))
                got=$(timeout "$IO_TIMEOUT" ls "$V_MEM") && [[ "$got" == *"$MEM_MAX"* ]] ||
                        {
                                errs=$((errs + 1))
                                echo "reader: ls $V_MEM: '$got'" >&2
                        }
                got=$(rd "$V_MEM$INIT_AT/cgroup.procs") && [[ $'\n'"$got"$'\n' == *$'\n1\n'* ]] ||
                        {
                                errs=$((errs + 1))
                                echo "reader: $V_MEM$INIT_AT/cgroup.procs without 1: '$got'" >&2
                        }
                # Leaves the (two) CPUs to the workers most of the time.
                sleep 0.05
        done
        echo "$reads $errs"
}

work() {
        local deadline=$((SECONDS + $1)) i
        echo "pid=$$"
        if on_v2; then
                if mkdir "$V_MEM/init.scope" && put "$V_MEM/init.scope/cgroup.procs" 1 &&
                        put "$V_MEM/cgroup.subtree_control" +memory; then
                        echo "v2_setup=OK"
                fi
        fi
        for ((i = 0; i < WORKERS; i++)); do
                worker "$i" "$deadline" >"$SYNC_DIR/worker$i" &
        done
        reader "$deadline" >"$SYNC_DIR/reader0" &
        reader "$deadline" >"$SYNC_DIR/reader1" &
        wait
        cat "$SYNC_DIR"/worker* | awk '{ o += $1; e += $2; if (NR == 1 || $1 < m) m = $1 }
                END { printf "ops=%d\nerrs=%d\nmin_ops=%d\nworkers=%d\n", o, e, m, NR }'
        cat "$SYNC_DIR"/reader* | awk '{ r += $1; e += $2 } END { printf "reads=%d\nread_errs=%d\n", r, e }'
}

SYNC_DIR=$WORKDIR/sync
mkdir "$SYNC_DIR"
export SYNC_DIR

started=$SECONDS
run_in_ct ct work "$SECONDS_FOR_WORK" >"$WORKDIR/ct.out" 2>"$WORKDIR/ct.err" &
job=$!
# A host caller reads the same cgroup.procs meanwhile (host pids, no translation).
host_reads=0 host_errs=0
while ! pid_gone "$job" && ((host_reads < 2000 && SECONDS - started < SECONDS_FOR_WORK + 20)); do
        host_reads=$((host_reads + 1))
        rd "$V_MEM/cgroup.procs" >/dev/null || host_errs=$((host_errs + 1))
        sleep 0.05
done
wait "$job"
elapsed=$((SECONDS - started))
out=$(cat "$WORKDIR/ct.out")
diag "$out" "took ${elapsed}s; the host read cgroup.procs $host_reads times"
[[ -s "$WORKDIR/ct.err" ]] && diag "errors: $(head -n 30 "$WORKDIR/ct.err")"

assert_eq "the container ran" 1 "$(get pid <<<"$out")"
on_v2 && assert_eq "it moved its init to init.scope and enabled +memory for its children" OK \
        "$(get v2_setup <<<"$out")"
ops=$(get ops <<<"$out")
# A loaded machine (or a sanitized daemon) makes rounds slow; what counts is that all workers ran
# at the same time.
assert_eq "all $WORKERS workers reported" "$WORKERS" "$(get workers <<<"$out")"
min_ops=$(get min_ops <<<"$out")
check "each worker did at least one round (the slowest did ${min_ops:-none}, all ${ops:-none})" test "${min_ops:-0}" -ge 1
assert_eq "no worker operation failed or read back a wrong value" 0 "$(get errs <<<"$out")"
reads=$(get reads <<<"$out")
check "the readers read (${reads:-none} times)" test "${reads:-0}" -gt 0
assert_eq "no reader saw an error or a root without its init" 0 "$(get read_errs <<<"$out")"
check "the host caller read (${host_reads} times)" test "$host_reads" -gt 0
assert_eq "no host read failed" 0 "$host_errs"
check "the daemon is still running" not pid_gone "$CAPFS_PID"
check "the mount is still there" fuse_mounted_at "$MNT"
check "it still answers" test -n "$(meminfo_field "$MNT/proc/meminfo" MemTotal)"
left=$(find "$H_MEM" "$H_UNI" -mindepth 1 -type d ! -path "$H_MEM$INIT_AT" 2>/dev/null | sort -u)
assert_eq "host: every cgroup made through the view is gone${INIT_AT:+, but for init.scope}" "" "$left"
no_procs_left() {
        [[ -z "$(cat "$H_MEM/cgroup.procs" "$H_UNI/cgroup.procs")" ]]
}
check "host: no process of the container is left in its cgroups" wait_until "$EVENT_TIMEOUT" no_procs_left

finish
