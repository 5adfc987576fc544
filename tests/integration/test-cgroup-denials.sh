#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Everything the cgroup view (MOUNT/cgroup, issue 4) refuses a container, one assertion each:
# the error the container gets, and that the host's real cgroup files show no change. The
# container root's own limits, siblings (also ct10 next to ct1, ct next to ct1), `..` tricks,
# pids it cannot see or has no right to move, the knobs that grant power, file operations that
# cgroupfs has no use for, overlong names and values the kernel rejects.
#
# Both layouts run the same table; the rows marked v1 or v2 exist on one layout only. v1 has the
# device whitelist, release_agent, notify_on_release, cgroup.event_control and clone_children, and
# a process can be in the container in one hierarchy and outside it in another. Pure cgroup2 has
# none of those files (devices are BPF programs there), but more knobs of the root that would hand
# the container power over its own share: cgroup.freeze, cgroup.kill, cgroup.max.*, cgroup.type,
# memory.high/low/min/swap.max, cpu.weight, cpuset.cpus.partition, all refused at the root. Its
# root's cgroup.subtree_control stays writable (cgroup2 delegation: what lets the container give
# controllers to its children), but only the controllers the host gave it can be enabled there.
# On cgroup2 the container's init is in ct1/init.scope (still the root ct1 for the view), because
# ct1 hands controllers to kid and so can hold no processes.
source "$(dirname "$0")/lib.sh"
setup
ct_delegate

SYNC_DIR=$WORKDIR/sync
mkdir "$SYNC_DIR"
export SYNC_DIR
export CT_FUNCS="sync_post sync_wait sync_hold try try_put"

if on_v2; then
        MEM_MAX=memory.max QUOTA=cpu.max NO_QUOTA="max 100000" TASKS=cgroup.threads INIT_AT=/init.scope
        # A knob no attempt here writes to.
        UNTOUCHED=memory.low
        # A controller the host did not enable for ct1's children.
        UNDELEGATED=hugetlb
else
        MEM_MAX=memory.limit_in_bytes QUOTA=cpu.cfs_quota_us NO_QUOTA=-1 TASKS=tasks INIT_AT=''
        UNTOUCHED=memory.soft_limit_in_bytes
        # Bound to a v1 hierarchy: never available in the unified tree.
        UNDELEGATED=memory
fi
export MEM_MAX QUOTA NO_QUOTA TASKS INIT_AT UNTOUCHED UNDELEGATED

timeout "$IO_TIMEOUT" ls "$MNT/cgroup" >/dev/null || bail "no cgroup view at $MNT/cgroup"

# ct1 is the container; ct10 and ct its siblings whose names share a prefix with it; ct2 another
# container; outside a cgroup of ours outside the container for processes of its pid namespace;
# ns1 a container with its own cgroup namespace.
cg_create ct1/kid
cg_create ct2
cg_create ct1/kid2
cg_create "ct1$INIT_AT"
cg_create ct10/victim
cg_create ct
cg_create outside
cg_create ns1
cg_limit_memory ct1 268435456
cg_set pids ct1 pids.max 64
cg_limit_cpu ct1 50000
cg_limit_memory ct10 209715200
cg_set pids ct10 pids.max 32
cg_limit_memory ns1 268435456
cg_set pids ns1 pids.max 64
if on_v2; then
        # Values below what the attempts ask for, so that one that went through would show.
        cg_set memory ct1 memory.high 201326592
        cg_set memory ct1 memory.swap.max 0
        cg_set pids ct1 cgroup.max.descendants 100
        cg_set pids ct1 cgroup.max.depth 10
else
        # kid may use no device: allowing one through the view would show in devices.list.
        cg_set devices ct1/kid devices.deny a
fi
# Only one CPU is left in the container's root cpuset if the host has more.
cpus=$(cat "$(cg_host cpuset ct1)/cpuset.cpus")

HM=$(cg_host memory)
HP=$(cg_host pids)
HC=$(cg_host cpu)
HS=$(cg_host cpuset)
HD=$(cg_host devices)
HU=$(cg_host unified)
VM=$(cg_view memory ct1)
VP=$(cg_view pids ct1)
VC=$(cg_view cpu ct1)
VS=$(cg_view cpuset ct1)
VD=$(cg_view devices ct1)
P_MEM=$(cg_view memory)
P_PIDS=$(cg_view pids)
P_UNI=$(cg_view unified)
HOST_SHELL=$$
export VM VP VC VS VD P_MEM P_PIDS P_UNI HOST_SHELL

# UNTOUCHED: its mode, owner, times and xattrs change only if an attempt goes through.

long300=$(head -c 300 /dev/zero | tr '\0' x)
long256=$(head -c 256 /dev/zero | tr '\0' y)
export long300 long256

# What the host shows of the target of each attempt (KEY as in the table below).
state() {
        case $1 in
        root_mem | dot_root_knob) cat "$HM/ct1/$MEM_MAX" ;;
        root_pids) cat "$HP/ct1/pids.max" ;;
        root_quota) cat "$HC/ct1/$QUOTA" ;;
        root_cpuset) cat "$HS/ct1/cpuset.cpus" ;;
        root_rmdir) ls -d "$HM/ct1" ;;
        root_freeze) cat "$HM/ct1/cgroup.freeze" ;;
        # cgroup.kill cannot be read: what it would do shows in the init.
        root_kill) kill -0 "${init_host:-0}" && echo "the container's init is alive" ;;
        root_max_descendants) cat "$HM/ct1/cgroup.max.descendants" ;;
        root_max_depth) cat "$HM/ct1/cgroup.max.depth" ;;
        root_type) cat "$HM/ct1/cgroup.type" ;;
        root_high) cat "$HM/ct1/memory.high" ;;
        root_low) cat "$HM/ct1/memory.low" ;;
        root_min) cat "$HM/ct1/memory.min" ;;
        root_swap) cat "$HM/ct1/memory.swap.max" ;;
        root_weight) cat "$HC/ct1/cpu.weight" ;;
        root_partition) cat "$HS/ct1/cpuset.cpus.partition" ;;
        root_subtree_undelegated) cat "$HU/ct1/cgroup.subtree_control" ;;
        anc_freeze) cat "$HU/cgroup.freeze" ;;
        anc_kill) kill -0 "${init_host:-0}" && echo "the container's init is alive" ;;
        sib_*) cat "$HM/ct10/$MEM_MAX" "$HM/ct10/cgroup.procs" "$HP/ct10/pids.max"
                find "$HM/ct10" "$HU/ct10" "$HM/ct" -type d | sort ;;
        dot_*) cat "$HM/ct10/$MEM_MAX" "$HM/$MEM_MAX"
                find "$HM" -maxdepth 1 -type d | sort ;;
        pid_outsider2) if on_v2; then
                        cat "$HM/ct1/kid/cgroup.procs" "$HM/ct10/victim/cgroup.procs"
                else
                        cat "$HP/ct1/kid/cgroup.procs" "$HP/outside/cgroup.procs"
                fi ;;
        pid_*) cat "$HM/ct1/kid/cgroup.procs" "$HM/ct1/kid/$TASKS" "$HM/outside/cgroup.procs" "/proc/$HOST_SHELL/cgroup"
                echo "init in the root: $(grep -cx "${init_host:-none}" "$HM/ct1$INIT_AT/cgroup.procs")"
                echo "ct2's process in the root: $(grep -cx "${foreign_host:-none}" "$HM/ct1$INIT_AT/cgroup.procs")" ;;
        deny_devices_allow) cat "$HD/ct1/kid/devices.list" ;;
        deny_devices_deny) cat "$HD/ct1/kid2/devices.list" ;;
        deny_notify) cat "$HM/ct1/kid/notify_on_release" ;;
        deny_clone) cat "$HS/ct1/kid/cgroup.clone_children" ;;
        deny_event_control) cat "$HM/ct1/kid/memory.limit_in_bytes" ;; # nothing else to see
        op_chmod | op_chown) stat -c '%a %u:%g' "$HM/ct1/kid/$UNTOUCHED" ;;
        # kernfs gives a knob a new mtime whenever its inode is instantiated again; only the time
        # the attempt asks for would tell.
        op_utimes) [[ "$(stat -c %Y "$HM/ct1/kid/$UNTOUCHED")" == 86400 ]] && echo "mtime set to the attempted 86400" ;;
        op_chmod_dir) stat -c '%a %u:%g' "$HM/ct1/kid" ;;
        op_setxattr) python3 -c 'import os, sys; print(os.listxattr(sys.argv[1]))' "$HM/ct1/kid/$UNTOUCHED" ;;
        op_* | name_*) ls -A "$HM/ct1" "$HM/ct1/kid" ;;
        junk_mem) cat "$HM/ct1/kid/$MEM_MAX" ;;
        junk_pids) cat "$HP/ct1/kid/pids.max" ;;
        *) echo "no state for $1" ;;
        esac 2>&1 | tr -s '\n' ' '
}

# LAYOUT|KEY|what the error must say|description; LAYOUT is both, v1 (and hybrid) or v2.
denials='
both|root_mem|Permission denied|own root MEM_MAX (raise to 1 GiB): EACCES
both|root_pids|Permission denied|own root pids.max (max): EACCES
both|root_quota|Permission denied|own root QUOTA (no quota): EACCES
both|root_cpuset|Permission denied|own root cpuset.cpus: EACCES
both|root_rmdir|Permission denied|Device or resource busy|rmdir of the own root: EACCES or EBUSY
v2|root_freeze|Permission denied|own root cgroup.freeze (1: freeze the container): EACCES
v2|root_kill|Permission denied|own root cgroup.kill: EACCES
v2|root_max_descendants|Permission denied|own root cgroup.max.descendants (max): EACCES
v2|root_max_depth|Permission denied|own root cgroup.max.depth (max): EACCES
v2|root_type|Permission denied|own root cgroup.type (threaded): EACCES
v2|root_high|Permission denied|own root memory.high (max): EACCES
v2|root_low|Permission denied|own root memory.low (1 GiB of protection): EACCES
v2|root_min|Permission denied|own root memory.min (1 GiB of protection): EACCES
v2|root_swap|Permission denied|own root memory.swap.max (max): EACCES
v2|root_weight|Permission denied|own root cpu.weight (10000): EACCES
v2|root_partition|Permission denied|own root cpuset.cpus.partition (root): EACCES
both|root_subtree_undelegated|No such file or directory|+UNDELEGATED (not delegated) to the own root cgroup.subtree_control: the kernel ENOENT
both|sib_ls|No such file or directory|ls of sibling ct10: ENOENT
both|sib_stat|No such file or directory|stat of sibling ct10: ENOENT
both|sib_cat|No such file or directory|cat ct10/memory.limit_in_bytes: ENOENT
both|sib_echo|No such file or directory|echo 1G >ct10/memory.limit_in_bytes: ENOENT
both|sib_procs|No such file or directory|echo own pid >ct10/cgroup.procs: ENOENT
both|sib_mkdir|No such file or directory|mkdir ct10/x: ENOENT
both|sib_rmdir|No such file or directory|rmdir ct10/victim: ENOENT
both|sib_pids_cat|No such file or directory|cat ct10/pids.max (pids hierarchy): ENOENT
both|sib_uni_ls|No such file or directory|ls ct10 (unified tree): ENOENT
both|sib_short_ls|No such file or directory|ls of sibling ct (a prefix of ct1): ENOENT
both|sib_short_mkdir|No such file or directory|mkdir ct/x: ENOENT
both|dot_sib|No such file or directory|cat ROOT/../ct10/memory.limit_in_bytes: ENOENT
both|dot_deep|No such file or directory|cat ROOT/kid/../../(x30)/.../ct10/memory.limit_in_bytes: ENOENT
both|dot_mkdir|Permission denied|Operation not permitted|No such file or directory|mkdir ROOT/../ct1x (in an ancestor) fails
both|dot_ancestor_knob|Permission denied|Operation not permitted|No such file or directory|echo >ROOT/../memory.limit_in_bytes (an ancestor) fails
both|anc_freeze|Permission denied|Operation not permitted|No such file or directory|cgroup.freeze of the ancestor above the root in the unified tree (via ..) fails
both|anc_kill|Permission denied|Operation not permitted|No such file or directory|cgroup.kill of that ancestor fails
both|dot_root_knob|Permission denied|echo >ROOT/kid/../memory.limit_in_bytes (own root): EACCES
both|pid_foreign|No such process|a process of container ct2 placed in our root, by its pid there, to kid/cgroup.procs: ESRCH
both|pid_host|No such process|host pid (the test shell) to kid/cgroup.procs: ESRCH
both|pid_init_host|No such process|the host pid of the container init to kid/cgroup.procs: ESRCH
both|pid_outsider|Operation not permitted|a process of the container outside its cgroups to kid/cgroup.procs: EPERM
both|pid_outsider_tasks|Operation not permitted|the same to kid/TASKS: EPERM
v1|pid_outsider2|Operation not permitted|a process in the container memory cgroup but outside it in pids, to pids kid: EPERM
v2|pid_outsider2|Operation not permitted|a process of the container in the sibling ct10/victim, to kid: EPERM
both|pid_junk|Invalid argument|junk (abc) to kid/cgroup.procs: EINVAL
both|pid_negative|Invalid argument|-1 to kid/cgroup.procs: EINVAL
v1|deny_devices_allow|Permission denied|kid/devices.allow: EACCES
v1|deny_devices_deny|Permission denied|kid2/devices.deny: EACCES
v1|deny_notify|Permission denied|kid/notify_on_release: EACCES
v1|deny_clone|Permission denied|kid/cgroup.clone_children (cpuset): EACCES
v1|deny_event_control|Permission denied|kid/cgroup.event_control: EACCES
both|op_symlink|Operation not permitted|ln -s in kid: EPERM
both|op_link|Operation not permitted|hard link in kid: EPERM
both|op_rename_dir|Operation not permitted|mv kid2 kid3: EPERM
both|op_rename_file|Operation not permitted|mv a knob to another name: EPERM
both|op_mknod_fifo|Operation not permitted|mknod kid/fifo p: EPERM
both|op_mknod_char|Operation not permitted|mknod kid/null c 1 3: EPERM
both|op_touch_new|Operation not permitted|touch kid/newfile: EPERM
both|op_unlink|Operation not permitted|rm of a knob: EPERM
both|op_chmod|Operation not permitted|chmod 0777 of a knob: EPERM
both|op_chown|Operation not permitted|chown 1000 of a knob: EPERM
both|op_chmod_dir|Operation not permitted|chmod 0700 of kid: EPERM
both|op_utimes|Operation not permitted|touch (set times) of a knob: EPERM
both|op_setxattr|Operation not permitted|setxattr user.capfs on a knob: EPERM
both|name_mkdir_300|File name too long|mkdir of a 300-character name: ENAMETOOLONG
both|name_mkdir_256|File name too long|mkdir of a 256-character name: ENAMETOOLONG
both|name_stat_300|File name too long|stat of a 300-character name: ENAMETOOLONG
both|junk_mem|Invalid argument|banana to kid/MEM_MAX: the kernel EINVAL
both|junk_pids|Invalid argument|banana to kid/pids.max: the kernel EINVAL
'

attempts() {
        local init_host outsider outsider2 foreign deep i
        sync_post ready
        sync_wait go || return 1
        init_host=$(cat "$SYNC_DIR/init_host")
        outsider=$(cat "$SYNC_DIR/outsider")
        outsider2=$(cat "$SYNC_DIR/outsider2")
        foreign=$(cat "$SYNC_DIR/foreign")
        for i in HOST_SHELL init_host outsider outsider2 foreign; do
                if kill -0 "${!i}" 2>/dev/null; then echo "visible_$i=yes"; else echo "visible_$i=no"; fi
        done
        # First, while this namespace has used few pids: ct2's process has a large one in its own.
        try_put pid_foreign "$VM/kid/cgroup.procs" "$foreign"
        echo "root_lists_foreign=$(rd "$VM$INIT_AT/cgroup.procs" | grep -cx "$foreign")"
        try_put pid_host "$VM/kid/cgroup.procs" "$HOST_SHELL"
        try_put pid_init_host "$VM/kid/cgroup.procs" "$init_host"
        try_put pid_outsider "$VM/kid/cgroup.procs" "$outsider"
        try_put pid_outsider_tasks "$VM/kid/$TASKS" "$outsider"
        try_put pid_outsider2 "$VP/kid/cgroup.procs" "$outsider2"
        try_put pid_junk "$VM/kid/cgroup.procs" abc
        try_put pid_negative "$VM/kid/cgroup.procs" -1

        try_put root_mem "$VM/$MEM_MAX" 1073741824
        try_put root_pids "$VP/pids.max" max
        try_put root_quota "$VC/$QUOTA" "$NO_QUOTA"
        try_put root_cpuset "$VS/cpuset.cpus" "${CPUS_ONE}"
        try root_rmdir rmdir "$VM"
        if on_v2; then
                try_put root_freeze "$VM/cgroup.freeze" 1
                try_put root_kill "$VM/cgroup.kill" 1
                try_put root_max_descendants "$VM/cgroup.max.descendants" max
                try_put root_max_depth "$VM/cgroup.max.depth" max
                try_put root_type "$VM/cgroup.type" threaded
                try_put root_high "$VM/memory.high" max
                try_put root_low "$VM/memory.low" 1073741824
                try_put root_min "$VM/memory.min" 1073741824
                try_put root_swap "$VM/memory.swap.max" max
                try_put root_weight "$VC/cpu.weight" 10000
                try_put root_partition "$VS/cpuset.cpus.partition" root
                try_put root_subtree_undelegated "$VM/cgroup.subtree_control" "+$UNDELEGATED"
        else
                try_put root_subtree_undelegated "$P_UNI/ct1/cgroup.subtree_control" "+$UNDELEGATED"
        fi

        try sib_ls ls "$P_MEM/ct10"
        try sib_stat stat "$P_MEM/ct10"
        try sib_cat cat "$P_MEM/ct10/memory.limit_in_bytes"
        try_put sib_echo "$P_MEM/ct10/memory.limit_in_bytes" 1073741824
        try_put sib_procs "$P_MEM/ct10/cgroup.procs" $$
        try sib_mkdir mkdir "$P_MEM/ct10/x"
        try sib_rmdir rmdir "$P_MEM/ct10/victim"
        try sib_pids_cat cat "$P_PIDS/ct10/pids.max"
        try sib_uni_ls ls "$P_UNI/ct10"
        try sib_short_ls ls "$P_MEM/ct"
        try sib_short_mkdir mkdir "$P_MEM/ct/x"

        try dot_sib cat "$VM/../ct10/memory.limit_in_bytes"
        deep=$VM/kid
        for ((i = 0; i < 30; i++)); do deep+=/..; done
        try dot_deep cat "$deep$P_MEM/ct10/memory.limit_in_bytes"
        try dot_mkdir mkdir "$VM/../ct1x"
        try_put dot_ancestor_knob "$VM/../$MEM_MAX" 1073741824
        try_put dot_root_knob "$VM/kid/../$MEM_MAX" 1073741824
        try_put anc_freeze "$P_UNI/ct1/../cgroup.freeze" 1
        try_put anc_kill "$P_UNI/ct1/../cgroup.kill" 1


        if ! on_v2; then
                try_put deny_devices_allow "$VD/kid/devices.allow" a
                try_put deny_devices_deny "$VD/kid2/devices.deny" "c 1:3 rwm"
                try_put deny_notify "$VM/kid/notify_on_release" 1
                try_put deny_clone "$VS/kid/cgroup.clone_children" 1
                try_put deny_event_control "$VM/kid/cgroup.event_control" "0 0"
        fi

        try op_symlink ln -s /etc/passwd "$VM/kid/link"
        try op_link ln "$VM/kid/$MEM_MAX" "$VM/kid/hard"
        try op_rename_file mv -T "$VM/kid/$MEM_MAX" "$VM/kid/renamed"
        try op_mknod_fifo mknod "$VM/kid/fifo" p
        try op_mknod_char mknod "$VM/kid/null" c 1 3
        try op_touch_new touch "$VM/kid/newfile"
        try op_unlink rm -f "$VM/kid/$MEM_MAX"
        try op_chmod chmod 0777 "$VM/kid/$UNTOUCHED"
        try op_chown chown 1000 "$VM/kid/$UNTOUCHED"
        try op_chmod_dir chmod 0700 "$VM/kid"
        try op_utimes touch -c -d @86400 "$VM/kid/$UNTOUCHED"
        try op_setxattr python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.capfs", b"1")' \
                "$VM/kid/$UNTOUCHED"

        try name_mkdir_300 mkdir "$VM/kid/$long300"
        try name_mkdir_256 mkdir "$VM/kid/$long256"
        try name_stat_300 stat "$VM/kid/$long300"

        try_put junk_mem "$VM/kid/$MEM_MAX" banana
        try_put junk_pids "$VP/kid/pids.max" banana
        # Last: if it went through, kid2 would be gone for what comes before.
        try op_rename_dir mv -T "$VM/kid2" "$VM/kid3"

        sync_post attempted
        sync_hold host_looked
}

# One CPU of the root's cpuset, different from what it has when it has more than one.
CPUS_ONE=${cpus%%[-,]*}
[[ "$CPUS_ONE" == "$cpus" ]] && CPUS_ONE=$((CPUS_ONE + 1))
export CPUS_ONE

declare -A before=()
# The rows of this layout, without their layout field, with the knob names of the layout.
table=()
layout=v1
on_v2 && layout=v2
while IFS= read -r line; do
        [[ -n "$line" ]] || continue
        [[ "${line%%|*}" == both || "${line%%|*}" == "$layout" ]] || continue
        line=${line#*|}
        line=${line//MEM_MAX/$MEM_MAX}
        line=${line//QUOTA/$QUOTA}
        line=${line//TASKS/$TASKS}
        table+=("${line//UNDELEGATED/$UNDELEGATED}")
done <<<"$denials"

# Container ct2 has a process with a pid there that ct1's namespace does not use; the host puts
# it into ct1's memory cgroup (its init.scope on cgroup2), a process ct1 must neither see nor move.
foreign() {
        local i s
        for ((i = 0; i < 300; i++)); do /bin/true; done
        # It must stay until the host has compared the root's cgroup.procs after every attempt.
        sleep infinity &
        s=$!
        echo "$s" >"$SYNC_DIR/foreign"
        sync_post foreign_ready
        sync_hold host_looked
        kill "$s"
}
run_in_ct ct2 foreign >"$WORKDIR/ct2.out" 2>&1 &
foreign_job=$!
foreign_host=
if sync_await foreign_ready "$foreign_job"; then
        for p in $(cat "$HM/ct2/cgroup.procs"); do
                [[ "$(ns_pids "$p")" == *" $(cat "$SYNC_DIR/foreign")" ]] && foreign_host=$p
        done
        echo "${foreign_host:-0}" >"$HM/ct1$INIT_AT/cgroup.procs" || diag "could not move ct2's process into ct1"
else
        echo 0 >"$SYNC_DIR/foreign"
fi

run_in_ct "ct1$INIT_AT" attempts >"$WORKDIR/ct1.out" 2>"$WORKDIR/ct1.err" &
job=$!
if sync_await ready "$job" && init_host=$(ct_init_pid "ct1$INIT_AT"); then
        echo "$init_host" >"$SYNC_DIR/init_host"
        # Two processes of the container's pid namespace that are not in its cgroups: one outside
        # everywhere; on v1 one in the container's memory cgroup but outside it in the others, on
        # cgroup2 one in the sibling ct10 (whose name extends ct1).
        # They live in the container's pid namespace, so they end with its init.
        (cg_join outside && exec timeout "$CT_TIMEOUT" nsenter --target "$init_host" --pid -- sleep infinity) &
        disown
        if on_v2; then
                (cg_join ct10/victim && exec timeout "$CT_TIMEOUT" nsenter --target "$init_host" --pid -- sleep infinity) &
        else
                (cg_join outside && echo "$BASHPID" >"$HM/ct1/cgroup.procs" &&
                        exec timeout "$CT_TIMEOUT" nsenter --target "$init_host" --pid -- sleep infinity) &
        fi
        disown
        # The sleepers are the processes in the container's pid namespace (two NSpid levels).
        container_sleepers_in() {
                local p f
                for p in $(cat "$1/cgroup.procs"); do
                        f=$(ns_pids "$p")
                        [[ "$f" =~ ^[0-9]+\ [0-9]+$ ]] && echo "${f#* }"
                done
        }
        find_outsiders() {
                local p f
                outsider='' outsider2=''
                if on_v2; then
                        outsider=$(container_sleepers_in "$HM/outside")
                        outsider2=$(container_sleepers_in "$HM/ct10/victim")
                        [[ -n "$outsider" && -n "$outsider2" ]]
                        return
                fi
                for p in $(cat "$HP/outside/cgroup.procs"); do
                        f=$(ns_pids "$p")
                        [[ "$f" =~ ^[0-9]+\ [0-9]+$ ]] || continue
                        if grep -qx "$p" "$HM/outside/cgroup.procs"; then
                                outsider=${f#* }
                        elif grep -qx "$p" "$HM/ct1/cgroup.procs"; then
                                outsider2=${f#* }
                        fi
                done
                [[ -n "$outsider" && -n "$outsider2" ]]
        }
        wait_until "$EVENT_TIMEOUT" find_outsiders || diag "the processes outside the container's cgroups did not start"
        echo "${outsider:-0}" >"$SYNC_DIR/outsider"
        echo "${outsider2:-0}" >"$SYNC_DIR/outsider2"
        for line in "${table[@]}"; do
                key=${line%%|*}
                before[$key]=$(state "$key")
        done
        sync_post go
        sync_await attempted "$job"
else
        diag "the container did not start: $(cat "$WORKDIR/ct1.err")"
fi
out=$(cat "$WORKDIR/ct1.out")
diag "$out"
assert_eq "the host shell's pid is invisible in the container" no "$(get visible_HOST_SHELL <<<"$out")"
assert_eq "the init's host pid is invisible in the container" no "$(get visible_init_host <<<"$out")"
assert_eq "the outsider is visible in the container" yes "$(get visible_outsider <<<"$out")"
assert_eq "the second outsider is visible in the container" yes "$(get visible_outsider2 <<<"$out")"
assert_eq "ct2's process is invisible in the container" no "$(get visible_foreign <<<"$out")"
assert_eq "ct2's process is not listed in the container's root${INIT_AT} cgroup.procs" 0 "$(get root_lists_foreign <<<"$out")"
for line in "${table[@]}"; do
        key=${line%%|*}
        desc=${line##*|}
        message=${line#*|}
        message=${message%|*}
        assert_refused "$desc" "$message" "$(get "$key" <<<"$out")" "${before[$key]:-}" "$(state "$key")"
done
sync_post host_looked
wait "$job" "$foreign_job"
[[ -s "$WORKDIR/ct1.err" ]] && diag "stderr: $(head -n 20 "$WORKDIR/ct1.err")"

# ---------------------------------------------------------------- in a cgroup namespace
D_MEM=$(cg_hier_dir memory)
D_PIDS=$(cg_hier_dir pids)
REL_TOP=$(cg_rel memory)
REL_TOP=${REL_TOP#/}
export D_MEM D_PIDS REL_TOP

ns_attempts() {
        local m=$MNT/cgroup/$D_MEM
        try_put cgns_root_mem "$m/$MEM_MAX" 1073741824
        try_put cgns_root_pids "$MNT/cgroup/$D_PIDS/pids.max" max
        try cgns_root_rmdir rmdir "$m"
        try cgns_host_path cat "$m/$REL_TOP/ct10/$MEM_MAX"
        try cgns_dot cat "$MNT/cgroup/${D_MEM:+$D_MEM/../}../cgroup/${D_MEM:+$D_MEM/}$REL_TOP/ct10/$MEM_MAX"
}

ns_state() {
        cat "$HM/ns1/$MEM_MAX" "$HP/ns1/pids.max" "$HM/ct10/$MEM_MAX"
        ls -d "$HM/ns1"
}
ns_before=$(ns_state)
out=$(run_in_ct_cgns ns1 ns_attempts 2>&1)
diag "$out"
ns_after=$(ns_state)
assert_refused "cgns: own root $MEM_MAX: EACCES" "Permission denied" \
        "$(get cgns_root_mem <<<"$out")" "$ns_before" "$ns_after"
assert_refused "cgns: own root pids.max: EACCES" "Permission denied" \
        "$(get cgns_root_pids <<<"$out")" "$ns_before" "$ns_after"
assert_refused "cgns: rmdir of the own root (cgroup/$D_MEM): EACCES or EBUSY" "Permission denied|Device or resource busy" \
        "$(get cgns_root_rmdir <<<"$out")" "$ns_before" "$ns_after"
assert_refused "cgns: the sibling's full host path: ENOENT" "No such file or directory" \
        "$(get cgns_host_path <<<"$out")" "$ns_before" "$ns_after"
assert_refused "cgns: the same through ..: ENOENT" "No such file or directory" \
        "$(get cgns_dot <<<"$out")" "$ns_before" "$ns_after"

# ---------------------------------------------------------------- the host's own caller
# The test shell is in the host's pid namespace; where it is in the root cgroup of a hierarchy
# (cpu here, as a rule; on cgroup2 in the VM the root of all), it sees that root, whose
# release_agent and notify_on_release (v1), or cgroup.max.depth and cgroup.max.descendants
# (cgroup2), are never writable through capfs: it is the caller's own root. The values written
# are the current ones, so that a failure changes nothing.
CPU_DIR=$(cg_hier_dir cpu)
if on_v2; then
        root_knobs="cgroup.max.depth cgroup.max.descendants"
else
        root_knobs="release_agent notify_on_release"
fi
if [[ "$(cg_host cpu)" == "/sys/fs/cgroup/${CPU_DIR:+$CPU_DIR/}$TAG" ]]; then
        for knob in $root_knobs; do
                value=$(cat "/sys/fs/cgroup/${CPU_DIR:+$CPU_DIR/}$knob")
                r=$(try_put r "$MNT/cgroup/${CPU_DIR:+$CPU_DIR/}$knob" "$value")
                assert_refused "host caller: ${CPU_DIR:+$CPU_DIR/}$knob at the hierarchy's root: EACCES" "Permission denied" \
                        "$(get r <<<"$r")" "$value" "$(cat "/sys/fs/cgroup/${CPU_DIR:+$CPU_DIR/}$knob")"
        done
else
        skip "host caller: release_agent at the hierarchy's root" "this test does not run in the root cpu cgroup"
fi

finish
