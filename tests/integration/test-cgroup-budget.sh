#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The budget of cgroups a container may make through the cgroup view (issue 15): capfs refuses a
# mkdir past so many cgroups below the container's root, or past so many levels below it, with
# EAGAIN, as cgroup2's own cgroup.max.descendants and cgroup.max.depth do. Here the daemon runs
# with a small budget (--cgroup-max-descendants=20 --cgroup-max-depth=4), and a container:
#   - makes cgroups until EAGAIN: exactly the budget, counted in each hierarchy on its own (v1),
#     and the host sees exactly those;
#   - after it removes some, may make as many again, and no more;
#   - is held to the same budget after a reload (SIGUSR1), an upgrade (capfs --upgrade) and a
#     worker killed with SIGKILL: the options reach every new worker.
# A container whose cgroup2 root sets cgroup.max.descendants/depth (what a launcher writes) is
# held to those numbers instead, in every hierarchy, and to the daemon's where they read "max".
# Last, the kernel's own enforcement that a launcher relies on: a native mkdir below a cgroup2
# cgroup whose cgroup.max.descendants or cgroup.max.depth is reached fails with EAGAIN.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"
require_host
DESCENDANTS=20
DEPTH=4
start_capfs "$MNT" --cgroup-max-descendants=$DESCENDANTS --cgroup-max-depth=$DEPTH ||
        bail "capfs --cgroup-max-descendants=$DESCENDANTS --cgroup-max-depth=$DEPTH did not mount $MNT"
cg_init

export CT_FUNCS="try mkdirs"
EAGAIN="Resource temporarily unavailable"
LOG=$WORKDIR/capfs-mnt.log

timeout "$IO_TIMEOUT" ls "$MNT/cgroup" >/dev/null || bail "no cgroup view at $MNT/cgroup"

# mkdirs DIR PREFIX MOST: makes DIR/PREFIX0, DIR/PREFIX1, ... until a mkdir fails or MOST are
# made; prints how many were made, then the error of the one that failed ("" if none did).
mkdirs() {
        local dir=$1 prefix=$2 most=$3 i err=
        for ((i = 0; i < most; i++)); do
                err=$(timeout "$IO_TIMEOUT" mkdir "$dir/$prefix$i" 2>&1) || break
                err=
        done
        echo "$i ${err##*: }"
}

# host_cgroups DIR: how many cgroups the host has below DIR.
host_cgroups() {
        find "$1" -mindepth 1 -type d | wc -l
}

# The containers of this file: ct (in a cgroup namespace) with the daemon's budget, ct2 (host
# paths) with numbers of its cgroup2 root.
cg_create ct
cg_create ct2
D_MEM=$(cg_hier_dir memory)
D_PIDS=$(cg_hier_dir pids)
export D_MEM D_PIDS
H_MEM=$(cg_host memory ct)
H_PIDS=$(cg_host pids ct)

# ---------------------------------------------------------------- the daemon's budget
fill() {
        local m=$MNT/cgroup/$D_MEM p=$MNT/cgroup/$D_PIDS
        try deep mkdir -p "$m/d1/d2/d3/d4"
        try too_deep mkdir "$m/d1/d2/d3/d4/d5"
        echo "flat=$(mkdirs "$m" c 100)"
        on_v2 || echo "pids=$(mkdirs "$p" c 100)"
}

out=$(run_in_ct_cgns ct fill 2>&1)
diag "$out"
assert_eq "4 levels below the root (mkdir -p d1/d2/d3/d4)" OK "$(get deep <<<"$out")"
assert_refused "a 5th level: EAGAIN" "$EAGAIN" "$(get too_deep <<<"$out")" "" ""
check "... and it is not made" test ! -e "$H_MEM/d1/d2/d3/d4/d5"
assert_eq "then flat until refused: 16 more (20 in all), the 21st EAGAIN" "16 $EAGAIN" "$(get flat <<<"$out")"
assert_eq "the host sees exactly 20 cgroups below the container's root" 20 "$(host_cgroups "$H_MEM")"
if on_v2; then
        skip "each v1 hierarchy has its own budget" "pure cgroup2: one tree"
        skip "the host sees exactly 20 cgroups in pids too" "pure cgroup2: one tree"
else
        assert_eq "each v1 hierarchy has its own budget: 20 in pids, the 21st EAGAIN" "20 $EAGAIN" \
                "$(get pids <<<"$out")"
        assert_eq "the host sees exactly 20 cgroups in pids too" 20 "$(host_cgroups "$H_PIDS")"
fi
check "the refusals are in the audit log with EAGAIN" \
        grep -qF "mkdir ${D_MEM:+$D_MEM:}$(cg_rel memory ct)/c16: EAGAIN" "$LOG"
check "... the one too deep too" grep -qF "mkdir ${D_MEM:+$D_MEM:}$(cg_rel memory ct)/d1/d2/d3/d4/d5: EAGAIN" "$LOG"

again() {
        local m=$MNT/cgroup/$D_MEM
        try rmdirs rmdir "$m/c0" "$m/c1" "$m/c2"
        echo "again=$(mkdirs "$m" e 100)"
}

out=$(run_in_ct_cgns ct again 2>&1)
diag "$out"
assert_eq "rmdir 3 of them" OK "$(get rmdirs <<<"$out")"
assert_eq "then 3 more may be made, and the 4th is EAGAIN" "3 $EAGAIN" "$(get again <<<"$out")"
assert_eq "the host sees 20 again" 20 "$(host_cgroups "$H_MEM")"

# ---------------------------------------------------------------- options across replacements
reloads_at_least() {
        [[ "$(status "$MNT" reloads)" -ge "$1" ]] 2>/dev/null
}

full() {
        echo "full=$(mkdirs "$MNT/cgroup/$D_MEM" f 100)"
}

kill -USR1 "$CAPFS_PID"
if wait_until "$EVENT_TIMEOUT" reloads_at_least 1; then
        assert_eq "SIGUSR1: the reload succeeded" ok "$(status "$MNT" reload_result)"
else
        not_ok "SIGUSR1: the reload finished within ${EVENT_TIMEOUT}s" "$(tr '\n' ' ' <"$(status_file "$MNT")")"
fi
assert_eq "after the reload: still EAGAIN at 20" "0 $EAGAIN" "$(run_in_ct_cgns ct full 2>&1 | get full)"
upgrade=$(timeout $((EVENT_TIMEOUT * 2)) "$CAPFS" --upgrade "$MNT" 2>&1)
rc=$?
assert_eq "capfs --upgrade exits 0" 0 "$rc"
((rc)) && diag "$upgrade"
assert_eq "after the upgrade: still EAGAIN at 20" "0 $EAGAIN" "$(run_in_ct_cgns ct full 2>&1 | get full)"
check "a worker killed with SIGKILL is replaced" kill_worker "$MNT"
assert_eq "after the restart: still EAGAIN at 20" "0 $EAGAIN" "$(run_in_ct_cgns ct full 2>&1 | get full)"
assert_eq "the host still sees 20" 20 "$(host_cgroups "$H_MEM")"
announced=$(grep -c "cgroup budget $DESCENDANTS cgroups $DEPTH levels deep" "$LOG")
check "every worker (the first, reloaded, upgraded, restarted) announced the budget ($announced)" \
        test "$announced" -ge 4

# ---------------------------------------------------------------- numbers of the container's cgroup2 root
# What a launcher writes on the container's root; on a hybrid host they are the cgroup2 tree's
# (unified), and capfs holds the container to them in the v1 hierarchies, which have no such files.
H2=$(cg_host unified ct2)
H2_MEM=$(cg_host memory ct2)
V2_MEM=$(cg_view memory ct2)
export V2_MEM

rooted() {
        try deep mkdir -p "$V2_MEM/a/b"
        try too_deep mkdir "$V2_MEM/a/b/c"
        echo "flat=$(mkdirs "$V2_MEM" c 100)"
}

echo 5 >"$H2/cgroup.max.descendants" && echo 2 >"$H2/cgroup.max.depth" ||
        bail "cannot write cgroup.max.descendants and cgroup.max.depth of $H2"
out=$(run_in_ct ct2 rooted 2>&1)
diag "$out"
assert_eq "root's cgroup.max.depth 2: a/b is made" OK "$(get deep <<<"$out")"
assert_refused "root's cgroup.max.depth 2: a/b/c is EAGAIN" "$EAGAIN" "$(get too_deep <<<"$out")" "" ""
assert_eq "root's cgroup.max.descendants 5: 3 more, then EAGAIN" "3 $EAGAIN" "$(get flat <<<"$out")"
assert_eq "the host sees exactly 5 cgroups below ct2" 5 "$(host_cgroups "$H2_MEM")"

unrooted() {
        try deeper mkdir "$V2_MEM/a/b/c"
        echo "more=$(mkdirs "$V2_MEM" m 100)"
}

echo max >"$H2/cgroup.max.descendants" && echo max >"$H2/cgroup.max.depth" ||
        bail "cannot reset cgroup.max.descendants and cgroup.max.depth of $H2"
out=$(run_in_ct ct2 unrooted 2>&1)
diag "$out"
assert_eq "root's numbers back to max: the daemon's hold, a/b/c is made" OK "$(get deeper <<<"$out")"
assert_eq "... and 14 more (20 in all), the 21st EAGAIN" "14 $EAGAIN" "$(get more <<<"$out")"
assert_eq "the host sees exactly 20 cgroups below ct2" 20 "$(host_cgroups "$H2_MEM")"

# ---------------------------------------------------------------- the kernel's own limits (cgroup2)
# Pure v2, or the unified tree of a hybrid host: a native mkdir, by the host's root, below
# cgroups whose limits are reached.
if [[ -n "${CG_TOP[unified]:-}" ]]; then
        cg_create native
        HN=$(cg_host unified native)
        echo 3 >"$HN/cgroup.max.descendants" && echo 1 >"$HN/cgroup.max.depth" ||
                bail "cannot write cgroup.max.descendants and cgroup.max.depth of $HN"
        check "native: 3 cgroups below one with cgroup.max.descendants 3" mkdir "$HN/n0" "$HN/n1" "$HN/n2"
        assert_fails "native: the 4th is EAGAIN (the kernel's)" "$EAGAIN" mkdir "$HN/n3"
        echo 10 >"$HN/cgroup.max.descendants"
        assert_fails "native: a 2nd level below cgroup.max.depth 1 is EAGAIN" "$EAGAIN" mkdir "$HN/n0/x"
        check "native: neither was made" test ! -e "$HN/n3" -a ! -e "$HN/n0/x"
else
        skip "the kernel's cgroup.max.descendants and cgroup.max.depth" "no cgroup2 tree on this host"
fi

finish
