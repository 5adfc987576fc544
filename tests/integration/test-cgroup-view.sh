#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The cgroup view (MOUNT/cgroup, issue 4) used as a container uses it: a process in a new pid
# namespace inside capfs-test-* cgroups creates a child cgroup through the view, sets its limits,
# moves one of its own processes into it and back and removes it, and the host's real cgroup
# files show exactly that. Pids are translated both ways (written in the caller's pid namespace,
# read back in it; a host caller sees host pids), also from a pid namespace nested in the
# container's. A container in its own cgroup namespace sees paths relative to its root, the
# same ones /proc/self/cgroup shows it.
#
# Both layouts run the same scenarios. On v1/hybrid each controller has its tree (memory,
# pids, cpu, unified), and a container moves its processes in each. On pure cgroup2 there is one
# tree, and its rule that a cgroup handing controllers to its children holds no processes: a
# container first moves its init into init.scope (which still counts as its root, as systemd
# does it), then enables the controllers in its root's cgroup.subtree_control, which the view
# allows (it is what cgroup2 delegation hands out, and gives no more than the host's
# cgroup.controllers), and moves processes back to init.scope, not to the root.
source "$(dirname "$0")/lib.sh"
setup
ct_delegate

SYNC_DIR=$WORKDIR/sync
mkdir "$SYNC_DIR"
export SYNC_DIR
export CT_FUNCS="sync_post sync_wait sync_hold sync_await try try_put put try_rmdir cgroup_of nspid_of nested_inner"

# The names that differ per layout. MEMH: memory's key in /proc/PID/cgroup ("" for the cgroup2
# line); INIT_AT: where a container's init is once its root hands controllers down.
if on_v2; then
        MEM_MAX=memory.max MEM_UNLIMITED=max TASKS=cgroup.threads MEMH='' CG_LINE='^0::' INIT_AT=/init.scope
else
        MEM_MAX=memory.limit_in_bytes MEM_UNLIMITED=9223372036854771712 TASKS=tasks MEMH=memory
        CG_LINE='^[0-9]+:memory:' INIT_AT=''
fi
export MEM_MAX TASKS MEMH CG_LINE INIT_AT

timeout "$IO_TIMEOUT" ls "$MNT/cgroup" >/dev/null || bail "no cgroup view at $MNT/cgroup"

# try_rmdir KEY DIR: rmdir, retried while it fails with EBUSY: the kernel still counts a process
# that has just been killed until it is reaped, which takes a while on a busy machine (at most
# EVENT_TIMEOUT).
try_rmdir() {
        local i result
        for ((i = 0; i < EVENT_TIMEOUT * 10; i++)); do
                result=$(try "$1" rmdir "$2")
                [[ "$result" == *"Device or resource busy"* ]] || break
                sleep 0.1
        done
        echo "$result"
}

# cgroup_of PID HIERARCHY: PID's path in HIERARCHY ("memory", or "" for the cgroup2 tree) as
# /proc/PID/cgroup shows it to whoever reads it.
cgroup_of() {
        awk -F: -v h="$2" '(h == "" && $1 == "0" && $2 == "") || (h != "" && $2 == h) { print $3; exit }' \
                "/proc/$1/cgroup"
}

# nspid_of PID: the NSpid field of PID as the reader's /proc shows it.
nspid_of() {
        awk '$1 == "NSpid:" { $1 = ""; sub(/^[ \t]+/, ""); gsub(/[ \t]+/, " "); print; exit }' "/proc/$1/status"
}

words() {
        tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# contains_word LIST WORD
contains_word() {
        [[ " $1 " == *" $2 "* ]]
}

# The containers of this file, made before any runs, so that each has siblings the view hides.
cg_create ct
cg_create ns
cg_create sd
cg_create nest
cg_create flood/kid
cg_create flood/init.scope
cg_create rootless/kid
cg_create rootless/init.scope

# ---- the layout
assert_same "cgroup/ lists the hierarchies of /sys/fs/cgroup" "$(ls /sys/fs/cgroup | words)" \
        "$(timeout "$IO_TIMEOUT" ls "$MNT/cgroup" | words)"

# ---------------------------------------------------------------- a container without a cgroup namespace
V_MEM=$(cg_view memory ct)
V_PIDS=$(cg_view pids ct)
V_CPU=$(cg_view cpu ct)
V_UNI=$(cg_view unified ct)
export V_MEM V_PIDS V_CPU V_UNI
H_MEM=$(cg_host memory ct)
H_PIDS=$(cg_host pids ct)
H_CPU=$(cg_host cpu ct)
H_UNI=$(cg_host unified ct)
daemon_cgroup_before=$(cat "/proc/$CAPFS_PID/cgroup")

basic() {
        local s
        echo "pid=$$"
        echo "root_ls=$(timeout "$IO_TIMEOUT" ls "$V_MEM" | grep -cxE "$MEM_MAX|cgroup\\.procs|$TASKS")"
        echo "root_listing=$(timeout "$IO_TIMEOUT" ls -A "$V_MEM" | tr '\n' ' ')"
        echo "parent_ls=$(timeout "$IO_TIMEOUT" ls -A "${V_MEM%/*}" | tr '\n' ' ')"
        echo "grandparent_ls=$(timeout "$IO_TIMEOUT" ls -A "${V_MEM%/*/*}" | tr '\n' ' ')"
        echo "parent_mode=$(timeout "$IO_TIMEOUT" stat -c %a "${V_MEM%/*}")"
        if on_v2; then
                try mkdir_scope mkdir "$V_MEM/init.scope"
                try_put move_init "$V_MEM/init.scope/cgroup.procs" 1
                try_put enable "$V_MEM/cgroup.subtree_control" "+memory +pids +cpu"
                echo "subtree_read=$(rd "$V_MEM/cgroup.subtree_control")"
                try mkdir_mem mkdir "$V_MEM/child"
        else
                try mkdir_mem mkdir "$V_MEM/child"
                try mkdir_pids mkdir "$V_PIDS/child"
                try mkdir_cpu mkdir "$V_CPU/child"
                try mkdir_uni mkdir "$V_UNI/child"
        fi
        echo "child_listed=$(timeout "$IO_TIMEOUT" ls "$V_MEM" | grep -cx child)"
        try_put set_mem "$V_MEM/child/$MEM_MAX" 134217728
        try_put set_pids "$V_PIDS/child/pids.max" 16
        if on_v2; then
                try_put set_quota "$V_CPU/child/cpu.max" "25000 100000"
        else
                try_put set_quota "$V_CPU/child/cpu.cfs_quota_us" 25000
        fi
        echo "mem_read=$(rd "$V_MEM/child/$MEM_MAX")"
        echo "pids_read=$(rd "$V_PIDS/child/pids.max")"

        sleep infinity &
        s=$!
        echo "sleeper=$s"
        try_put move_mem "$V_MEM/child/cgroup.procs" "$s"
        if ! on_v2; then
                try_put move_pids "$V_PIDS/child/cgroup.procs" "$s"
                try_put move_uni "$V_UNI/child/cgroup.procs" "$s"
        fi
        echo "view_child_procs=$(rd "$V_MEM/child/cgroup.procs" | tr '\n' ' ')"
        echo "view_child_tasks=$(rd "$V_MEM/child/$TASKS" | tr '\n' ' ')"
        echo "view_child_uni_procs=$(rd "$V_UNI/child/cgroup.procs" | tr '\n' ' ')"
        echo "view_child_uni_threads=$(rd "$V_UNI/child/cgroup.threads" | tr '\n' ' ')"
        echo "view_root_procs=$(rd "$V_MEM$INIT_AT/cgroup.procs" | tr '\n' ' ')"
        echo "proc_mem=$(cgroup_of "$s" "$MEMH")"
        echo "proc_uni=$(cgroup_of "$s" "")"
        # "0" is the writer: this bash moves itself; the grep it starts afterwards is there too.
        echo "zero=$(timeout "$IO_TIMEOUT" bash -c 'echo 0 >"$1" && grep -E "$2" /proc/self/cgroup | cut -d: -f3' \
                zero "$V_MEM/child/cgroup.procs" "$CG_LINE" 2>&1 | tr '\n' ' ')"
        sync_post moved
        sync_hold checked || return 1

        if on_v2; then
                # The root hands controllers down now: the kernel keeps processes out of it.
                try_put back_root "$V_MEM/cgroup.procs" "$s"
                try_put back_mem "$V_MEM/init.scope/cgroup.procs" "$s"
        else
                try_put back_mem "$V_MEM/cgroup.procs" "$s"
                try_put back_pids "$V_PIDS/cgroup.procs" "$s"
                try_put back_uni "$V_UNI/cgroup.procs" "$s"
        fi
        echo "proc_mem_back=$(cgroup_of "$s" "$MEMH")"
        kill "$s"
        wait "$s" 2>/dev/null
        try_rmdir rmdir_mem "$V_MEM/child"
        if ! on_v2; then
                try_rmdir rmdir_pids "$V_PIDS/child"
                try_rmdir rmdir_cpu "$V_CPU/child"
                try_rmdir rmdir_uni "$V_UNI/child"
        fi
        echo "child_listed_after=$(timeout "$IO_TIMEOUT" ls "$V_MEM" | grep -cx child)"

        # Names cgroupfs allows that /proc/PID/cgroup shows unescaped: the view finds the
        # process inside its subtree all the same.
        sleep infinity &
        s=$!
        try mkdir_colon mkdir "$V_MEM/x:memory:"
        try_put move_colon "$V_MEM/x:memory:/cgroup.procs" "$s"
        echo "read_colon=$(rd "$V_MEM/x:memory:/cgroup.procs" | tr '\n' ' ')"
        try_put back_colon "$V_MEM$INIT_AT/cgroup.procs" "$s"
        try mkdir_space mkdir "$V_MEM/a b"
        try_put move_space "$V_MEM/a b/cgroup.procs" "$s"
        try_put back_space "$V_MEM$INIT_AT/cgroup.procs" "$s"
        echo "odd_sleeper=$s"
        kill "$s"
        wait "$s" 2>/dev/null
        try_rmdir rmdir_colon "$V_MEM/x:memory:"
        try_rmdir rmdir_space "$V_MEM/a b"
}

host_listing=$(ls -A "$H_MEM" | tr '\n' ' ')
run_in_ct ct basic >"$WORKDIR/basic.out" 2>"$WORKDIR/basic.err" &
job=$!
if sync_await moved "$job"; then
        out=$(cat "$WORKDIR/basic.out")
        s=$(get sleeper <<<"$out")
        host_procs=$(cat "$H_MEM/child/cgroup.procs" | words)
        assert_match "host: memory child/cgroup.procs holds one process" '^[0-9]+$' "$host_procs"
        host_s=$host_procs
        assert_eq "host: it is the container's sleeper (NSpid host, container)" "$host_s $s" "$(ns_pids "$host_s")"
        if on_v2; then
                assert_eq "host: child/cgroup.threads holds exactly its one thread" "$host_s" \
                        "$(cat "$H_UNI/child/cgroup.threads" | words)"
                assert_eq "host: /proc/SLEEPER/cgroup is the child" "0::$(cg_rel unified ct)/child" \
                        "$(cat "/proc/$host_s/cgroup")"
                assert_eq "host: the container enabled cpu, memory and pids for the root's children" \
                        "cpu memory pids" "$(cat "$H_UNI/cgroup.subtree_control")"
                assert_eq "host: child cpu.max is 25000 100000" "25000 100000" "$(cat "$H_CPU/child/cpu.max")"
        else
                assert_eq "host: pids child/cgroup.procs holds exactly it" "$host_s" "$(cat "$H_PIDS/child/cgroup.procs" | words)"
                assert_eq "host: unified child/cgroup.procs holds exactly it" "$host_s" "$(cat "$H_UNI/child/cgroup.procs" | words)"
                assert_eq "host: its cpu cgroup did not change (not moved there)" 1 "$(grep -cx "$host_s" "$H_CPU/cgroup.procs")"
                assert_eq "host: child cpu.cfs_quota_us is 25000" 25000 "$(cat "$H_CPU/child/cpu.cfs_quota_us")"
        fi
        assert_eq "host: child $MEM_MAX is 128 MiB" 134217728 "$(cat "$H_MEM/child/$MEM_MAX")"
        assert_eq "host: child pids.max is 16" 16 "$(cat "$H_PIDS/child/pids.max")"
        assert_eq "host: the container's own limit is untouched" "$MEM_UNLIMITED" "$(cat "$H_MEM/$MEM_MAX")"
        # The host's pid namespace reads host pids through the view.
        assert_eq "host caller reads child/cgroup.procs through the view: host pids" "$host_s" \
                "$(rd "$V_MEM/child/cgroup.procs" | words)"
        init_host=$(ct_init_pid "ct$INIT_AT")
        assert_eq "the container's pid 1 is still in the container's root${INIT_AT:+ (its init.scope)} (host)" 1 \
                "$(grep -cx "${init_host:-none}" "$H_MEM$INIT_AT/cgroup.procs")"
        assert_eq "the daemon did not move itself (\"0\" is the caller)" "$daemon_cgroup_before" \
                "$(cat "/proc/$CAPFS_PID/cgroup")"
else
        not_ok "the container gets to the point where its sleeper is moved" "$(cat "$WORKDIR/basic.err")"
fi
sync_post checked
wait "$job"
out=$(cat "$WORKDIR/basic.out")
diag "$out"
[[ -s "$WORKDIR/basic.err" ]] && diag "stderr: $(head -n 20 "$WORKDIR/basic.err")"
s=$(get sleeper <<<"$out")
rel_mem=$(cg_rel memory ct)
rel_uni=$(cg_rel unified ct)

assert_eq "the container's init is pid 1" 1 "$(get pid <<<"$out")"
assert_eq "the container root lists $MEM_MAX, cgroup.procs and $TASKS" 3 "$(get root_ls <<<"$out")"
assert_same "the container root lists what the host directory holds" "$host_listing" "$(get root_listing <<<"$out")"
assert_eq "its parent (an ancestor) lists only the container" "ct " "$(get parent_ls <<<"$out")"
assert_eq "the ancestor above lists only the path to it" "$TAG " "$(get grandparent_ls <<<"$out")"
assert_eq "ancestors are read-only directories (0555)" 555 "$(get parent_mode <<<"$out")"
if on_v2; then
        assert_eq "mkdir init.scope below the container root" OK "$(get mkdir_scope <<<"$out")"
        assert_eq "move the init (1) into it" OK "$(get move_init <<<"$out")"
        assert_eq "enable +memory +pids +cpu in the root's cgroup.subtree_control (delegation)" OK \
                "$(get enable <<<"$out")"
        assert_eq "read the root's cgroup.subtree_control back" "cpu memory pids" "$(get subtree_read <<<"$out")"
        mkdirs=mkdir_mem
else
        mkdirs="mkdir_mem mkdir_pids mkdir_cpu mkdir_uni"
fi
for k in $mkdirs; do
        assert_eq "$k: mkdir child below the container root" OK "$(get "$k" <<<"$out")"
done
assert_eq "the new child is listed at once" 1 "$(get child_listed <<<"$out")"
assert_eq "write $MEM_MAX of the child" OK "$(get set_mem <<<"$out")"
assert_eq "write pids.max of the child" OK "$(get set_pids <<<"$out")"
assert_eq "write $(if on_v2; then echo cpu.max; else echo cpu.cfs_quota_us; fi) of the child" OK "$(get set_quota <<<"$out")"
assert_eq "read $MEM_MAX back through the view" 134217728 "$(get mem_read <<<"$out")"
assert_eq "read pids.max back through the view" 16 "$(get pids_read <<<"$out")"
assert_eq "move the sleeper (container pid) into the child" OK "$(get move_mem <<<"$out")"
if ! on_v2; then
        assert_eq "move it into pids child" OK "$(get move_pids <<<"$out")"
        assert_eq "move it into the unified tree's child" OK "$(get move_uni <<<"$out")"
fi
assert_eq "child/cgroup.procs read in the container: its own pid of the sleeper" "$s " \
        "$(get view_child_procs <<<"$out")"
assert_eq "child/$TASKS read in the container: the same" "$s " "$(get view_child_tasks <<<"$out")"
if ! on_v2; then
        assert_eq "unified child/cgroup.procs read in the container: the same" "$s " "$(get view_child_uni_procs <<<"$out")"
        assert_eq "unified child/cgroup.threads read in the container: the same" "$s " \
                "$(get view_child_uni_threads <<<"$out")"
fi
root_procs=$(get view_root_procs <<<"$out")
check "root${INIT_AT}/cgroup.procs read in the container holds its init as 1 ($root_procs)" contains_word "$root_procs" 1
check "... and not the sleeper, which moved" not contains_word "$root_procs" "$s"
check "... and no host pid (the init's is ${init_host:-?})" not contains_word "$root_procs" "${init_host:-1}"
assert_eq "/proc/SLEEPER/cgroup in the container: memory path = the view's path" "$rel_mem/child" \
        "$(get proc_mem <<<"$out")"
assert_eq "/proc/SLEEPER/cgroup in the container: unified path = the view's path" "$rel_uni/child" \
        "$(get proc_uni <<<"$out")"
assert_eq "writing 0 moves the writer itself" "$rel_mem/child " "$(get zero <<<"$out")"
if on_v2; then
        assert_refused "the sleeper back into the root, which hands controllers down: the kernel's EBUSY" \
                "Device or resource busy" "$(get back_root <<<"$out")" "" ""
        backs=back_mem rmdirs=rmdir_mem
else
        backs="back_mem back_pids back_uni" rmdirs="rmdir_mem rmdir_pids rmdir_cpu rmdir_uni"
fi
for k in $backs; do
        assert_eq "$k: move the sleeper back to the container root${INIT_AT:+ (init.scope)}" OK "$(get "$k" <<<"$out")"
done
assert_eq "it is back there" "$rel_mem$INIT_AT" "$(get proc_mem_back <<<"$out")"
for k in $rmdirs; do
        assert_eq "$k: rmdir the child" OK "$(get "$k" <<<"$out")"
done
assert_eq "the child is gone from the listing at once" 0 "$(get child_listed_after <<<"$out")"
left=$(for d in "$H_MEM" "$H_PIDS" "$H_CPU" "$H_UNI"; do [[ -e $d/child ]] && echo "$d/child"; done)
assert_eq "host: the child cgroups are gone" "" "$left"
assert_eq "a cgroup named x:memory: (colons): mkdir" OK "$(get mkdir_colon <<<"$out")"
assert_eq "x:memory:: move a process in" OK "$(get move_colon <<<"$out")"
assert_eq "x:memory:: read its cgroup.procs" "$(get odd_sleeper <<<"$out") " "$(get read_colon <<<"$out")"
assert_eq "x:memory:: move it out again (it is found inside the subtree)" OK "$(get back_colon <<<"$out")"
assert_eq "a cgroup named 'a b': mkdir" OK "$(get mkdir_space <<<"$out")"
assert_eq "'a b': move a process in and out" "OK OK" "$(get move_space <<<"$out") $(get back_space <<<"$out")"
assert_eq "rmdir both" "OK OK" "$(get rmdir_colon <<<"$out") $(get rmdir_space <<<"$out")"
log=$WORKDIR/capfs-mnt.log
check "the daemon's log records the limit write (audit)" \
        grep -qE "ct/child/$MEM_MAX.*134217728|134217728.*ct/child/$MEM_MAX" "$log"
check "the daemon's log records the mkdir (audit)" grep -qE "mkdir.*ct/child|ct/child.*mkdir" "$log"

# ---------------------------------------------------------------- a container in its own cgroup namespace
D_MEM=$(cg_hier_dir memory)
D_UNI=$(cg_hier_dir unified)
H_NS_MEM=$(cg_host memory ns)
H_NS_UNI=$(cg_host unified ns)
rel=$(cg_rel memory ns)
rel=${rel#/}
FIRST_COMPONENT=${rel%%/*}
export D_MEM D_UNI FIRST_COMPONENT

nsview() {
        local m=$MNT/cgroup/$D_MEM u=$MNT/cgroup/$D_UNI s
        echo "self_mem=$(cgroup_of self "$MEMH")"
        echo "self_uni=$(cgroup_of self "")"
        echo "root_ls=$(timeout "$IO_TIMEOUT" ls "$m" | grep -cxE "$MEM_MAX|cgroup\\.procs")"
        try host_path ls "$m/$FIRST_COMPONENT"
        if on_v2; then
                try mkdir_scope mkdir "$m/init.scope"
                try_put move_init "$m/init.scope/cgroup.procs" 1
                echo "self_scope=$(cgroup_of self "")"
                try_put enable "$m/cgroup.subtree_control" "+memory"
                try mkdir_mem mkdir "$m/sub"
        else
                try mkdir_mem mkdir "$m/sub"
                try mkdir_uni mkdir "$u/sub"
        fi
        try_put set_mem "$m/sub/$MEM_MAX" 67108864
        sleep infinity &
        s=$!
        echo "sleeper=$s"
        try_put move_mem "$m/sub/cgroup.procs" "$s"
        on_v2 || try_put move_uni "$u/sub/cgroup.procs" "$s"
        echo "proc_mem=$(cgroup_of "$s" "$MEMH")"
        echo "proc_uni=$(cgroup_of "$s" "")"
        echo "view_sub_procs=$(rd "$m/sub/cgroup.procs" | tr '\n' ' ')"
        echo "view_root_procs=$(rd "$m$INIT_AT/cgroup.procs" | tr '\n' ' ')"
        sync_post ns_moved
        sync_hold ns_checked || return 1
        try_put back_mem "$m$INIT_AT/cgroup.procs" "$s"
        on_v2 || try_put back_uni "$u/cgroup.procs" "$s"
        kill "$s"
        wait "$s" 2>/dev/null
        try_rmdir rmdir_mem "$m/sub"
        on_v2 || try_rmdir rmdir_uni "$u/sub"
}

run_in_ct_cgns ns nsview >"$WORKDIR/ns.out" 2>"$WORKDIR/ns.err" &
job=$!
if sync_await ns_moved "$job"; then
        out=$(cat "$WORKDIR/ns.out")
        s=$(get sleeper <<<"$out")
        host_s=$(cat "$H_NS_MEM/sub/cgroup.procs" | words)
        assert_eq "cgns host: memory sub holds exactly the sleeper" "$host_s $s" "$(ns_pids "${host_s:-0}")"
        on_v2 || assert_eq "cgns host: unified sub holds exactly it" "$host_s" "$(cat "$H_NS_UNI/sub/cgroup.procs" | words)"
        assert_eq "cgns host: sub $MEM_MAX is 64 MiB" 67108864 "$(cat "$H_NS_MEM/sub/$MEM_MAX")"
else
        not_ok "the cgroup-namespace container gets to the point where its sleeper is moved" "$(cat "$WORKDIR/ns.err")"
fi
sync_post ns_checked
wait "$job"
out=$(cat "$WORKDIR/ns.out")
diag "$out"
[[ -s "$WORKDIR/ns.err" ]] && diag "stderr: $(head -n 20 "$WORKDIR/ns.err")"
s=$(get sleeper <<<"$out")
assert_eq "cgns: /proc/self/cgroup shows / for memory" / "$(get self_mem <<<"$out")"
assert_eq "cgns: /proc/self/cgroup shows / for the unified tree" / "$(get self_uni <<<"$out")"
assert_eq "cgns: cgroup/$D_MEM is the container root itself" 2 "$(get root_ls <<<"$out")"
assert_refused "cgns: the host path (cgroup/$D_MEM${D_MEM:+/}$FIRST_COMPONENT) does not exist" \
        "No such file or directory" "$(get host_path <<<"$out")" "" ""
if on_v2; then
        assert_eq "cgns: /proc/self/cgroup shows /init.scope once the init moved there" /init.scope \
                "$(get self_scope <<<"$out")"
        oks="mkdir_scope move_init enable mkdir_mem set_mem move_mem back_mem rmdir_mem"
else
        oks="mkdir_mem mkdir_uni set_mem move_mem move_uni back_mem back_uni rmdir_mem rmdir_uni"
fi
for k in $oks; do
        assert_eq "cgns: $k" OK "$(get "$k" <<<"$out")"
done
assert_eq "cgns: /proc/SLEEPER/cgroup shows /sub (memory), as the view's path" /sub "$(get proc_mem <<<"$out")"
assert_eq "cgns: /proc/SLEEPER/cgroup shows /sub (unified)" /sub "$(get proc_uni <<<"$out")"
assert_eq "cgns: sub/cgroup.procs read in the container" "$s " "$(get view_sub_procs <<<"$out")"
root_procs=$(get view_root_procs <<<"$out")
check "cgns: root${INIT_AT}/cgroup.procs holds its init as 1 ($root_procs)" contains_word "$root_procs" 1
left=$(for d in "$H_NS_MEM" "$H_NS_UNI"; do [[ -e $d/sub ]] && echo "$d/sub"; done)
assert_eq "cgns host: sub is gone" "" "$left"

# ---------------------------------------------------------------- systemd in a cgroup namespace
# systemd as the container's init moves itself into /init.scope and makes system.slice next to
# it; the container's root stays the top of its namespace, the paths stay those of
# /proc/self/cgroup. On cgroup2 it then enables controllers in the top's cgroup.subtree_control,
# and disables them again before it moves back (the kernel keeps processes out of a cgroup that
# hands controllers down).
H_SD=$(cg_host memory sd)

systemd_like() {
        local m=$MNT/cgroup/$D_MEM
        try mkdir_scope mkdir "$m/init.scope"
        try_put move_init "$m/init.scope/cgroup.procs" 1
        echo "self=$(cgroup_of self "$MEMH")"
        echo "top_lists_scope=$(timeout "$IO_TIMEOUT" ls "$m" | grep -cx init.scope)"
        echo "scope_procs=$(rd "$m/init.scope/cgroup.procs" | tr '\n' ' ')"
        on_v2 && try_put enable "$m/cgroup.subtree_control" "+memory +pids"
        try_put top_limit "$m/$MEM_MAX" 1073741824
        try mkdir_slice mkdir "$m/system.slice"
        try_put slice_limit "$m/system.slice/$MEM_MAX" 134217728
        echo "slice_limit_read=$(rd "$m/system.slice/$MEM_MAX")"
        try_put scope_limit "$m/init.scope/$MEM_MAX" 268435456
        try_rmdir rmdir_slice "$m/system.slice"
        if on_v2; then
                try_put move_back_busy "$m/cgroup.procs" 1
                try_put disable "$m/cgroup.subtree_control" "-memory -pids"
                echo "scope_knob_gone=$(timeout "$IO_TIMEOUT" ls "$m/init.scope" | grep -cx "$MEM_MAX")"
        fi
        try_put move_back "$m/cgroup.procs" 1
        try_rmdir rmdir_scope "$m/init.scope"
}

cg_limit_memory sd 536870912
sd_before=$(cat "$H_SD/$MEM_MAX")
out=$(run_in_ct_cgns sd systemd_like 2>&1)
diag "$out"
assert_eq "systemd-like: mkdir init.scope at the top" OK "$(get mkdir_scope <<<"$out")"
assert_eq "systemd-like: move pid 1 into it" OK "$(get move_init <<<"$out")"
assert_eq "systemd-like: /proc/self/cgroup says /init.scope" /init.scope "$(get self <<<"$out")"
assert_eq "systemd-like: the top lists init.scope" 1 "$(get top_lists_scope <<<"$out")"
check "systemd-like: init.scope/cgroup.procs holds 1 ($(get scope_procs <<<"$out"))" \
        contains_word "$(get scope_procs <<<"$out")" 1
on_v2 && assert_eq "systemd-like: enable +memory +pids in the top's cgroup.subtree_control" OK \
        "$(get enable <<<"$out")"
assert_refused "systemd-like: the top's own limit stays read-only (EACCES)" "Permission denied" \
        "$(get top_limit <<<"$out")" "$sd_before" "$(cat "$H_SD/$MEM_MAX")"
assert_eq "systemd-like: mkdir system.slice" OK "$(get mkdir_slice <<<"$out")"
assert_eq "systemd-like: set its limit" OK "$(get slice_limit <<<"$out")"
assert_eq "systemd-like: read it back" 134217728 "$(get slice_limit_read <<<"$out")"
assert_eq "systemd-like: set init.scope's limit (a descendant)" OK "$(get scope_limit <<<"$out")"
if on_v2; then
        assert_refused "systemd-like: pid 1 back into the top while it hands controllers down: EBUSY" \
                "Device or resource busy" "$(get move_back_busy <<<"$out")" "" ""
        assert_eq "systemd-like: disable -memory -pids again" OK "$(get disable <<<"$out")"
        assert_eq "systemd-like: init.scope has no $MEM_MAX then" 0 "$(get scope_knob_gone <<<"$out")"
fi
assert_eq "systemd-like: move pid 1 back, rmdir both" "OK OK OK" \
        "$(get move_back <<<"$out") $(get rmdir_slice <<<"$out") $(get rmdir_scope <<<"$out")"
check "systemd-like host: init.scope and system.slice are gone" test ! -e "$H_SD/init.scope" -a ! -e "$H_SD/system.slice"

# ---------------------------------------------------------------- a pid namespace in the container's
V_NEST=$(cg_view memory nest)
H_NEST=$(cg_host memory nest)
export V_NEST

# Runs as pid 1 of a pid namespace inside the container's. OUTER_PID is a pid of the container's
# namespace this one cannot see.
nested_inner() {
        local outer=$1 s
        echo "nested_pid=$$"
        if kill -0 "$outer" 2>/dev/null; then echo "outer_visible=yes"; else echo "outer_visible=no"; fi
        sleep infinity &
        s=$!
        echo "nested_sleeper=$s"
        echo "nested_self=$(timeout "$IO_TIMEOUT" bash -c 'echo $$ >"$1" && grep -E "$2" /proc/self/cgroup | cut -d: -f3' \
                self "$V_NEST/inner/cgroup.procs" "$CG_LINE" 2>&1 | tr '\n' ' ')"
        try_put nested_move "$V_NEST/inner/cgroup.procs" "$s"
        try_put nested_move_outer "$V_NEST/inner/cgroup.procs" "$outer"
        echo "nested_reads_inner=$(rd "$V_NEST/inner/cgroup.procs" | tr '\n' ' ')"
        echo "nested_reads_root=$(rd "$V_NEST/cgroup.procs" | tr '\n' ' ')"
        sync_post nested_moved
        sync_hold nested_release
        kill "$s"
        wait "$s" 2>/dev/null
}

nested_outer() {
        local s u i p inner
        # Pids used up here make the sleeper's pid one the nested namespace will not reach.
        for ((i = 0; i < 40; i++)); do /bin/true; done
        sleep infinity &
        s=$!
        echo "outer_sleeper=$s"
        try mkdir_inner mkdir "$V_NEST/inner"
        timeout -k 5 "$CT_TIMEOUT" unshare --pid --fork --kill-child --mount-proc bash -c \
                "$(declare -f nested_inner try try_put sync_post sync_wait sync_hold _sync_poll rd)
                 IO_TIMEOUT=$IO_TIMEOUT EVENT_TIMEOUT=$EVENT_TIMEOUT CT_TIMEOUT=$CT_TIMEOUT
                 nested_inner \"\$@\"" \
                nested_inner "$s" >"$SYNC_DIR/nested.out" 2>&1 &
        u=$!
        sync_await nested_moved "$u" || return 1
        inner=$(rd "$V_NEST/inner/cgroup.procs" | tr '\n' ' ')
        echo "outer_reads_inner=$inner"
        for p in $inner; do
                echo "outer_inner_nspid=$(nspid_of "$p")"
        done
        sync_post outer_read
        sync_hold host_checked
        sync_post nested_release
        wait "$u"
        cat "$SYNC_DIR/nested.out"
        kill "$s"
        wait "$s" 2>/dev/null
        try_rmdir rmdir_inner "$V_NEST/inner"
}

run_in_ct nest nested_outer >"$WORKDIR/nest.out" 2>"$WORKDIR/nest.err" &
job=$!
if sync_await outer_read "$job"; then
        host_procs=$(cat "$H_NEST/inner/cgroup.procs" | words)
        nested=$(cat "$SYNC_DIR/nested.out")
        out=$(cat "$WORKDIR/nest.out")
        assert_match "nested host: inner holds one process" '^[0-9]+$' "$host_procs"
        outer_nspid=$(get outer_inner_nspid <<<"$out")
        assert_eq "nested host: it is the nested sleeper (NSpid host, container, nested)" \
                "$host_procs ${outer_nspid% *} $(get nested_sleeper <<<"$nested")" "$(ns_pids "${host_procs:-0}")"
        outer_s=$(get outer_sleeper <<<"$out")
        found=
        for p in $(cat "$H_NEST/cgroup.procs"); do
                [[ "$(ns_pids "$p")" == *" $outer_s" ]] && found=$p
        done
        check "nested host: the container's sleeper (pid $outer_s there) is still in the root" test -n "$found"
else
        not_ok "the nested pid namespace gets to the point where it moved its process" \
                "$(cat "$WORKDIR/nest.err" "$SYNC_DIR/nested.out" 2>/dev/null)"
fi
sync_post host_checked
wait "$job"
out=$(cat "$WORKDIR/nest.out")
diag "$out"
[[ -s "$WORKDIR/nest.err" ]] && diag "stderr: $(head -n 20 "$WORKDIR/nest.err")"
nested_s=$(get nested_sleeper <<<"$out")
outer_s=$(get outer_sleeper <<<"$out")
assert_eq "nested: mkdir inner from the container" OK "$(get mkdir_inner <<<"$out")"
assert_eq "nested: its init is pid 1 there" 1 "$(get nested_pid <<<"$out")"
assert_eq "nested: the container's sleeper (pid $outer_s) is invisible there" no "$(get outer_visible <<<"$out")"
assert_eq "nested: a process writing its own pid (as it sees it) moves itself" "$(cg_rel memory nest)/inner " \
        "$(get nested_self <<<"$out")"
assert_eq "nested: it moves its sleeper by its own pid" OK "$(get nested_move <<<"$out")"
assert_refused "nested: a pid of the outer namespace it cannot see: ESRCH" "No such process" \
        "$(get nested_move_outer <<<"$out")" "" ""
assert_eq "nested: inner/cgroup.procs read there: its own pid of the sleeper" "$nested_s " \
        "$(get nested_reads_inner <<<"$out")"
nested_root=$(get nested_reads_root <<<"$out")
check "nested: root/cgroup.procs read there holds its init 1 once ($nested_root)" \
        test "$(tr ' ' '\n' <<<"$nested_root" | grep -cx 1)" -eq 1
check "nested: ... and not the container's sleeper $outer_s" not contains_word "$nested_root" "$outer_s"
outer_nspid=$(get outer_inner_nspid <<<"$out")
assert_eq "nested: the container reads inner/cgroup.procs in its own pids" "${outer_nspid% *} " \
        "$(get outer_reads_inner <<<"$out")"
assert_eq "nested: that pid is the nested sleeper" "$nested_s" "${outer_nspid#* }"
assert_eq "nested: rmdir inner" OK "$(get rmdir_inner <<<"$out")"
check "nested host: inner is gone" test ! -e "$H_NEST/inner"

# ---------------------------------------------------------------- a rootless container
# The init of a pid namespace, once in its cgroup, becomes the unprivileged host user 100000 and
# root of a user namespace of its own: the view shows its subtree owned by its root (host uid
# 100000 is that root), the ancestors by nobody, and it manages its subtree as any container.
# Its init is in rootless/init.scope, so that its root (rootless) may hand controllers to kid on
# cgroup2.
V_RL=$(cg_view memory rootless)
H_RL=$(cg_host memory rootless)
export V_RL

rootless() {
        local s
        echo "uid_map=$(awk '{ print $1, $2, $3 }' /proc/self/uid_map)"
        echo "root_owner=$(stat -c %u:%g "$V_RL")"
        echo "kid_owner=$(stat -c %u:%g "$V_RL/kid" "$V_RL/kid/$MEM_MAX" | tr '\n' ' ')"
        echo "ancestor_owner=$(stat -c %u:%g "${V_RL%/*}")"
        try_put kid_limit "$V_RL/kid/$MEM_MAX" 134217728
        try_put root_limit "$V_RL/$MEM_MAX" 1073741824
        try mkdir mkdir "$V_RL/new"
        try rmdir rmdir "$V_RL/new"
        sleep infinity &
        s=$!
        echo "sleeper=$s"
        try_put move "$V_RL/kid/cgroup.procs" "$s"
        echo "kid_procs=$(rd "$V_RL/kid/cgroup.procs" | tr '\n' ' ')"
        kill "$s"
}

if command -v setpriv >/dev/null; then
        # The unprivileged user must reach the mount.
        chmod 0755 "$WORKDIR"
        rl_before=$(cat "$H_RL/$MEM_MAX")
        out=$(run_in_ct_as 100000 rootless/init.scope rootless 2>&1)
        diag "$out"
        assert_eq "rootless: it is root of a user namespace mapped to host uid 100000" "0 100000 1" \
                "$(get uid_map <<<"$out")"
        assert_eq "rootless: its root cgroup is owned by its root" 0:0 "$(get root_owner <<<"$out")"
        assert_eq "rootless: so are its descendants and their knobs" "0:0 0:0 " "$(get kid_owner <<<"$out")"
        assert_eq "rootless: ancestors are owned by nobody (host root is unmapped)" 65534:65534 \
                "$(get ancestor_owner <<<"$out")"
        assert_eq "rootless: write a descendant's limit" OK "$(get kid_limit <<<"$out")"
        assert_eq "rootless host: it is 128 MiB" 134217728 "$(cat "$H_RL/kid/$MEM_MAX")"
        assert_refused "rootless: its root's limit: EACCES" "Permission denied" "$(get root_limit <<<"$out")" \
                "$rl_before" "$(cat "$H_RL/$MEM_MAX")"
        assert_eq "rootless: mkdir and rmdir" "OK OK" "$(get mkdir <<<"$out") $(get rmdir <<<"$out")"
        assert_eq "rootless: move its process into kid" OK "$(get move <<<"$out")"
        assert_eq "rootless: kid/cgroup.procs shows its pid" "$(get sleeper <<<"$out") " "$(get kid_procs <<<"$out")"
else
        skip "rootless container" "setpriv not installed"
fi

# ---------------------------------------------------------------- the audit log's rate limit
# 400 rejected writes in a burst from one container: the log keeps the first ones and a steady
# rate after them, then says how many it dropped.
V_FLOOD=$(cg_view memory flood)
export V_FLOOD

flood() {
        local i t0 fails=0
        exec 3>"$V_FLOOD/kid/$MEM_MAX" || return 1
        t0=$EPOCHREALTIME
        for ((i = 0; i < 400; i++)); do
                echo banana >&3 2>/dev/null || fails=$((fails + 1))
        done
        echo "fails=$fails"
        echo "elapsed=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a + 1 }')"
        # Long enough for a token to come back: this one gets through and reports the drops.
        sleep 1.5
        echo banana >&3 2>/dev/null
        exec 3>&-
        try_put junk_pid "$V_FLOOD/kid/cgroup.procs" "1 2#x"
}

out=$(run_in_ct flood/init.scope flood 2>&1)
diag "$out"
log=$WORKDIR/capfs-mnt.log
logged=$(grep -c "flood/kid/$MEM_MAX" "$log")
elapsed=$(get elapsed <<<"$out")
assert_eq "audit flood: all 400 writes got the kernel's EINVAL" 400 "$(get fails <<<"$out")"
check "audit flood: the log kept between 100 and 100 + 20/s x ${elapsed:-?} s + 1 lines of 401 ($logged)" \
        test "$logged" -ge 100 -a "$logged" -le $((100 + 20 * ${elapsed:-0} + 1))
check "audit flood: a later line says how many were dropped" \
        grep -qE "flood/kid/$MEM_MAX.*dropped" "$log"
assert_refused "audit: text that is no pid, to cgroup.procs: EINVAL" "Invalid argument" "$(get junk_pid <<<"$out")" "" ""
check "audit: the log shows what was written instead of a pid, escaped" \
        grep -qF 'move "1 2#x\n" to '"${D_MEM:+$D_MEM:}$(cg_rel memory flood)/kid/cgroup.procs: EINVAL" "$log"

finish
