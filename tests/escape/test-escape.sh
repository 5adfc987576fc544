#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/escape/test-escape.sh CAPFS CAPFS_LAUNCH PROBE: the known container escapes and abuses,
# each tried as root inside a container that capfs-launch starts with its default options (a
# Debian rootfs from tests/e2e/lib/rootfs.sh, on an overlay), against a capfs daemon of our own.
#
# Every attempt runs in a fresh container (the attempt is the container's init, or a shell
# script is), so each one meets exactly what a payload meets: the capability bounding set, the
# seccomp filter, the mounts and the cgroups of a real container. The attempts themselves are in
# PROBE (tests/escape/probe.c), which prints "blocked ERRNO ...", "accepted ...", "contained ..."
# or "ESCAPED ...". Each test asserts the specific outcome (the errno), and, where the attempt
# aims at the host, what the host shows (its real cgroup files, sysctls, a marker file).
#
# Expected errnos are the ones the kernel gives a root without CAP_SYS_ADMIN (and the other
# dropped capabilities) and capfs gives for its cgroup view: EPERM for a missing capability or a
# seccomp refusal, EROFS for read-only mounts, EACCES for the view's protected knobs, ENOENT for
# what a container cannot see. This machine's own sandbox may refuse a system call for everyone
# with ENOSYS; then ENOSYS is accepted too, but only when an unprivileged process on the host
# gets ENOSYS as well.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-600}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/../e2e/lib/rootfs.sh"

LAUNCH=${2:-}
PROBE=${3:-}
SUITE=${CAPFS_E2E_SUITE:-bookworm}
# Bound of one container run (start, attempt, stop): an awaited event (lib.sh's EVENT_TIMEOUT).
# A container that waits for the test to release it gets the test's own bound (CT_TIMEOUT).
RUN_TIMEOUT=$EVENT_TIMEOUT

((EUID == 0)) || skip_all "needs root (containers, FUSE allow_other, cgroups)"
[[ -x $LAUNCH && -x $PROBE ]] || bail "usage: $0 CAPFS CAPFS_LAUNCH PROBE (got '$LAUNCH' '$PROBE')"
on_v2 && skip_all "the escape suite covers v1/hybrid hosts so far (the v2 lane boots no rootfs yet)"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        skip_all "no overlay file system (containers run on an overlay of the cached rootfs)"
ROOTFS=$(capfs_rootfs "$SUITE") ||
        bail "cannot build the Debian $SUITE rootfs: tests/e2e/lib/rootfs.sh $SUITE failed (its error is above)"

setup
cg_create launch
cg_create hostside

# The container's root: an overlay of the cached tree (which stays pristine), with the probe
# and a shared directory for results bind-mounted in by the launcher.
ROOT=$WORKDIR/root
mkdir -p "$WORKDIR/upper" "$WORKDIR/work" "$ROOT" "$WORKDIR/share"
mount -t overlay capfs-escape -o "lowerdir=$ROOTFS,upperdir=$WORKDIR/upper,workdir=$WORKDIR/work" "$ROOT" ||
        bail "cannot mount an overlay of $ROOTFS on $ROOT"
touch "$ROOT/capfs-probe"
mkdir -p "$ROOT/share"
# lib.sh's teardown removes nothing that is still mounted: unmount the overlay first.
trap 'umount "$ROOT" 2>/dev/null; _teardown' EXIT

# A marker beside the container's root, where a way out would lead: its device and inode as
# the host sees them identify it, whatever path the container would see it at.
MARKER_NAME=capfs-escape-marker-$$
touch "$WORKDIR/$MARKER_NAME"
read -r marker_dev marker_ino < <(stat -c '%d %i' "$WORKDIR/$MARKER_NAME")
MARKER=("$MARKER_NAME" "$((marker_dev >> 8)):$((marker_dev & 255))" "$marker_ino")

n_run=0
# launch NAME COMMAND...: runs a container named NAME whose init is COMMAND, in the foreground,
# from our "launch" cgroup (the launcher makes the container's cgroups below its own). Output in
# $WORKDIR/out.NAME; returns the launcher's exit status (the init's).
launch() {
        local name=$1
        shift
        (
                cg_join launch || exit 125
                exec timeout -k 5 "$RUN_TIMEOUT" "$LAUNCH" --rootfs "$ROOT" --name "$name" --capfs "$MNT" \
                        --network=none --bind "$PROBE:/capfs-probe:ro" --bind "$WORKDIR/share:/share" \
                        -- "$@" </dev/null
        ) >"$WORKDIR/out.$name" 2>&1
}

# attempt ARGS...: runs `capfs-probe ARGS` as the init of a fresh container; prints its verdict
# line (the last line starting with a verdict word), or what the launcher said.
attempt() {
        local name=esc$((++n_run)) line
        launch "$name" /capfs-probe "$@"
        line=$(grep -E '^(blocked|accepted|contained|ESCAPED|error) ' "$WORKDIR/out.$name" | tail -n 1)
        echo "${line:-no verdict: $(tail -n 3 "$WORKDIR/out.$name" | tr '\n' ' ')}"
}

# in_ct SCRIPT: runs a shell script as a container's init; prints its output.
in_ct() {
        local name=esc$((++n_run))
        launch "$name" /bin/sh -c "$1"
        cat "$WORKDIR/out.$name"
}

# The host's answer for an unprivileged caller, to tell a system call this machine lacks
# altogether (ENOSYS) from one the container is refused.
host_baseline() {
        setpriv --reuid=65534 --regid=65534 --clear-groups "$PROBE" "$@" | awk '{ print $2 }'
}

# expect DESCRIPTION REGEX RESULT
expect() {
        if [[ $3 =~ $2 ]]; then
                ok "$1"
        else
                not_ok "$1" "expected /$2/, got: $3"
        fi
}

# expect_errno DESCRIPTION ERRNO PROBE-ARGS...: the attempt is blocked with ERRNO (or ENOSYS
# where the host lacks the call for everyone).
expect_errno() {
        local desc=$1 errno=$2 result want
        shift 2
        result=$(attempt "$@")
        want="^blocked $errno "
        if [[ $(host_baseline "$@") == ENOSYS ]]; then
                want="^blocked ($errno|ENOSYS) "
        fi
        expect "$desc" "$want" "$result"
}

# expect_absent_or DESCRIPTION ERRNO write PATH VALUE: as expect_errno, but where this host's
# kernel has no such file at all (built without it), ENOENT is the answer.
expect_absent_or() {
        local desc=$1 errno=$2
        [[ -e $5 ]] || errno="($errno|ENOENT)"
        expect_errno "$desc" "$errno" "${@:3}"
}

daemon_answers() {
        timeout "$IO_TIMEOUT" grep -q '^MemTotal:' "$MNT/proc/meminfo" && kill -0 "$CAPFS_PID"
}

# ---------------------------------------------------------------- the container starts at all

result=$(attempt create /share/started)
expect "a container runs the probe as root (capfs-launch defaults)" '^accepted ' "$result"
[[ $result == accepted* ]] || bail "capfs-launch cannot run a container here: $(cat "$WORKDIR/out.esc1")"

# The container's cgroups, as the host sees them: capfs/NAME below our launch cgroup.
host_cg() { # host_cg HIERARCHY NAME: the directory of the container NAME's outer cgroup
        echo "$(cg_host "$1" launch)/capfs/$2"
}

# ---------------------------------------------------------------- through the cgroup view

V=/sys/fs/cgroup
# What the devices cgroup allows the container, and what a mknod+open of the host's first disk
# gives: the view must refuse devices.allow everywhere, and the kernel the open.
disk=$(awk '$4 ~ /^(vd|sd|nvme)[a-z0-9]*$/ && $2 == 0 { print $1 ":" $2; exit }' /proc/partitions)
disk=${disk:-8:0}
out=$(in_ct "/capfs-probe write $V/devices/devices.allow a
mkdir $V/devices/sub && /capfs-probe write $V/devices/sub/devices.allow a
/capfs-probe mknod-open b ${disk%:*} ${disk#*:}
cat $V/devices/devices.list")
expect "devices.allow of the container's root: EACCES" "blocked EACCES $V/devices/devices.allow" "$out"
expect "devices.allow of a child cgroup: EACCES" "blocked EACCES $V/devices/sub/devices.allow" "$out"
expect "mknod+open of the host's disk $disk: EPERM" "blocked EPERM (mknod|open)" "$out"
expect "the devices cgroup still denies by default" '^c 1:3 rwm$' "$(grep -x 'c 1:3 rwm' <<<"$out")"
[[ $out == *"a *:* rwm"* ]] && not_ok "the container's devices.list does not allow everything" "$out" ||
        ok "the container's devices.list does not allow everything"

agent_before=$(cat /sys/fs/cgroup/memory/release_agent)
out=$(in_ct "mkdir $V/memory/x
/capfs-probe write $V/memory/x/notify_on_release 1
/capfs-probe write $V/memory/release_agent /share/evil
/capfs-probe write $V/memory/x/release_agent /share/evil")
expect "notify_on_release: EACCES" "blocked EACCES $V/memory/x/notify_on_release" "$out"
expect "release_agent (not at a hierarchy's root in the view): refused" \
        "blocked (EACCES|ENOENT) $V/memory/release_agent" "$out"
assert_eq "the host's release_agent is unchanged" "$agent_before" "$(cat /sys/fs/cgroup/memory/release_agent)"
# CVE-2022-0492 needs a user namespace in which to mount cgroupfs.
expect_errno "a new user namespace (CVE-2022-0492's way to a cgroupfs of its own): EPERM" EPERM unshare-user

# Own pid to a parent's or the host root's cgroup.procs: there is no such path in the container.
out=$(in_ct "for p in $V/memory/../cgroup.procs $V/memory/../../cgroup.procs $V/../cgroup.procs; do
        /capfs-probe write \$p 0; done
cat /proc/self/cgroup | grep memory")
expect "own pid to a parent's cgroup.procs through '..': no such file" \
        '^blocked ENOENT .*\.\./cgroup\.procs' "$(grep '/memory/\.\./' <<<"$out")"
expect "the container stays in its own root" ':memory:/$' "$(grep ':memory:' <<<"$out")"

# Pids: a host pid, 0 (the writer itself), -1, junk and a 64 KiB list.
host_pid=$(
        cg_join hostside || exit 1
        sleep infinity >/dev/null 2>&1 &
        echo $!
)
host_pid_cg=$(cat "/proc/$host_pid/cgroup")
out=$(in_ct "/capfs-probe write $V/memory/cgroup.procs $host_pid
/capfs-probe write $V/memory/cgroup.procs -1
/capfs-probe write $V/memory/cgroup.procs 'junk 1x'
/capfs-probe write $V/memory/cgroup.procs \"\$(seq 100000 112000 | tr '\n' ' ')\"
/capfs-probe write $V/memory/cgroup.procs 0")
expect "a host pid ($host_pid) to cgroup.procs: ESRCH" "^blocked ESRCH .*$" "$(sed -n 1p <<<"$out")"
expect "-1 to cgroup.procs: EINVAL" "^blocked EINVAL " "$(sed -n 2p <<<"$out")"
expect "junk to cgroup.procs: EINVAL" "^blocked EINVAL " "$(sed -n 3p <<<"$out")"
expect "a 64 KiB pid list to cgroup.procs: refused" "^blocked E[A-Z0-9]+ " "$(sed -n 4p <<<"$out")"
expect "0 (the writer) to its own root's cgroup.procs: allowed" "^accepted " "$(sed -n 5p <<<"$out")"
assert_eq "the host process was not moved" "$host_pid_cg" "$(cat "/proc/$host_pid/cgroup")"
check "the daemon still answers after the pid writes" daemon_answers

# A process that entered from the host (nsenter into the container's pid and mount namespaces,
# as an admin's `docker exec` would, staying in the host's cgroups): the container can neither
# move it into a cgroup it controls nor so freeze or kill it through cgroups.
rm -f "$WORKDIR/share/"*
name=esc$((++n_run))
(
        RUN_TIMEOUT=$CT_TIMEOUT launch "$name" /bin/sh -c "while [ ! -e /share/go ]; do sleep 0.1; done
                pid=\$(cat /share/pid)
                mkdir $V/freezer/trap $V/memory/trap
                /capfs-probe write $V/freezer/trap/cgroup.procs \$pid >/share/move-freezer
                /capfs-probe write $V/memory/trap/cgroup.procs \$pid >/share/move-memory
                /capfs-probe write $V/freezer/trap/freezer.state FROZEN >/share/freeze
                /capfs-probe write $V/freezer/freezer.state FROZEN >/share/freeze-root
                touch /share/done
                # The entered process dies with this pid namespace: wait for the host's checks.
                while [ ! -e /share/stop ]; do sleep 0.1; done"
) &
launcher_job=$!
ct_init=
ct_init_started() {
        test -n "$(pgrep -f -n "^/bin/sh -c while \[ ! -e /share/go" 2>/dev/null)"
}
wait_until "$EVENT_TIMEOUT" ct_init_started
ct_init=$(pgrep -f -n "^/bin/sh -c while \[ ! -e /share/go")
if [[ -n $ct_init ]]; then
        entered=$(
                cg_join hostside || exit 1
                nsenter -t "$ct_init" -p -m -- sleep infinity >/dev/null 2>&1 &
                echo $!
        )
        # nsenter forks the sleeper into the container's pid namespace.
        entered_forked() {
                test -n "$(pgrep -P "$entered")"
        }
        wait_until "$EVENT_TIMEOUT" entered_forked
        sleeper=$(pgrep -P "$entered")
        awk '$1 == "NSpid:" { print $NF }' "/proc/$sleeper/status" >"$WORKDIR/share/pid"
        sleeper_cg=$(cat "/proc/$sleeper/cgroup")
        touch "$WORKDIR/share/go"
        wait_until "$EVENT_TIMEOUT" test -e "$WORKDIR/share/done"
        expect "move an nsenter'ed host process (freezer): EPERM" '^blocked EPERM ' "$(cat "$WORKDIR/share/move-freezer")"
        expect "move an nsenter'ed host process (memory): EPERM" '^blocked EPERM ' "$(cat "$WORKDIR/share/move-memory")"
        expect "freezing a child cgroup is allowed (it holds no host process)" '^accepted ' "$(cat "$WORKDIR/share/freeze")"
        expect "freeze the container's root: EACCES" '^blocked EACCES ' "$(cat "$WORKDIR/share/freeze-root")"
        assert_eq "the entered process stayed in its cgroups" "$sleeper_cg" "$(cat "/proc/$sleeper/cgroup")"
        assert_eq "the entered process is not frozen" "THAWED" "$(cat "$(cg_host freezer hostside)/freezer.state")"
        touch "$WORKDIR/share/stop"
        kill "$entered" "$sleeper" 2>/dev/null
else
        not_ok "the nsenter scenario's container started" "$(cat "$WORKDIR/out.$name")"
fi
wait "$launcher_job"
kill "$host_pid" 2>/dev/null

# Raising its own limits: the root's knobs are read-only through the view.
launch_limits() {
        in_ct "for k in memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us; do
                /capfs-probe write $V/\$k -1; done"
}
out=$(launch_limits)
for knob in memory.limit_in_bytes pids.max cpu.cfs_quota_us; do
        expect "raise own $knob: EACCES" "blocked EACCES [^ ]*/$knob" "$out"
done

# Siblings: ct1 and ct10, one a prefix of the other's name.
name10=ct10-$$
(RUN_TIMEOUT=$CT_TIMEOUT launch "$name10" /bin/sh -c 'while [ ! -e /share/stop10 ]; do sleep 0.1; done') &
ct10_job=$!
ct10_started() {
        test -d "$(host_cg memory "$name10")"
}
wait_until "$EVENT_TIMEOUT" ct10_started
out=$(in_ct "ls -R $V/memory | grep -c ct10 || true
/capfs-probe write $V/memory/../capfs/$name10/cgroup.procs 0
/capfs-probe mkdir $V/memory/../../capfs/$name10/x")
expect "ct1 lists nothing of ct10" '^0$' "$(sed -n 1p <<<"$out")"
expect "ct1 reaches no cgroup.procs of ct10" '^blocked ENOENT ' "$(sed -n 2p <<<"$out")"
expect "ct1 cannot mkdir in ct10" '^blocked ENOENT ' "$(sed -n 3p <<<"$out")"
touch "$WORKDIR/share/stop10"
wait "$ct10_job"

# File operations the view never allows, `..` tricks and overlong names.
long=$(printf 'n%.0s' {1..300})
out=$(in_ct "mkdir $V/memory/a
/capfs-probe symlink /etc $V/memory/a/link
/capfs-probe link $V/memory/a/cgroup.procs $V/memory/a/hard
/capfs-probe rename $V/memory/a $V/memory/b
/capfs-probe mknod $V/memory/a/fifo
/capfs-probe create $V/memory/a/file
/capfs-probe mkdir $V/memory/$long
/capfs-probe write $V/memory/a/cgroup.event_control '0 1 2'
/capfs-probe mkdir $V/memory/a/../../../escape")
expect "symlink in the view: EPERM" '^blocked EPERM ' "$(sed -n 1p <<<"$out")"
expect "hard link in the view: EPERM" '^blocked EPERM ' "$(sed -n 2p <<<"$out")"
expect "rename in the view: EPERM" '^blocked EPERM ' "$(sed -n 3p <<<"$out")"
expect "mknod in the view: EPERM" '^blocked EPERM ' "$(sed -n 4p <<<"$out")"
expect "create a file in the view: EPERM" '^blocked EPERM ' "$(sed -n 5p <<<"$out")"
expect "a 300-character cgroup name: ENAMETOOLONG" '^blocked ENAMETOOLONG ' "$(sed -n 6p <<<"$out")"
expect "cgroup.event_control: EACCES" '^blocked EACCES ' "$(sed -n 7p <<<"$out")"
expect "mkdir through '..' out of the view: refused" '^blocked (ENOENT|EROFS|EPERM|EACCES) ' "$(sed -n 8p <<<"$out")"

# 10k parallel opens of tasks: the daemon keeps answering everyone.
name=esc$((++n_run))
(launch "$name" /capfs-probe open-flood "$V/memory/tasks" 10000 64) &
flood_job=$!
# The flood is on once the probe runs its 64 threads (or it is over already: a fast machine).
flood_on() {
        local p
        for p in $(pgrep -f "^/capfs-probe open-flood"); do
                (($(awk '$1 == "Threads:" { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0) >= 64)) && return 0
        done
        pid_gone "$flood_job"
}
wait_until "$EVENT_TIMEOUT" flood_on
check "the daemon answers the host during a 10k-open flood" daemon_answers
wait "$flood_job"
expect "the flood ran" '^contained 64 threads, 10000 opens' "$(grep '^contained' "$WORKDIR/out.$name")"
check "the daemon answers after the flood" daemon_answers

# ---------------------------------------------------------------- through the /proc and /sys views

for f in /proc/meminfo /proc/cpuinfo /proc/uptime; do
        expect_errno "write $f: EROFS" EROFS write "$f" 0
        expect_errno "truncate $f: EROFS" EROFS truncate "$f"
        expect_errno "chmod $f: EROFS" EROFS chmod "$f"
        expect_errno "unmount $f: EPERM" EPERM umount "$f"
        expect_errno "cover $f with a mount: EPERM" EPERM cover "$f"
done
# cpu0 of x86 has no online file; the list file stands for them then.
for f in $(cd "$MNT" && ls -d sys/devices/system/cpu/cpu[0-9]*/online 2>/dev/null) sys/devices/system/cpu/online; do
        expect_errno "write /$f: EROFS" EROFS write "/$f" 0
done
expect "pread of /proc/meminfo at 2^40: no data, no crash" '^contained read 0 bytes' \
        "$(attempt pread /proc/meminfo 1099511627776 4096)"
expect "a zero-size read of /proc/stat" '^contained read 0 bytes' "$(attempt pread /proc/stat 0 0)"
# Reads through handles opened in a cgroup that is gone by the time they read.
# Not the init: moving the init moves the container's root with it.
out=$(in_ct "mkdir $V/memory/gone && sh -c 'echo \$\$ >$V/memory/gone/cgroup.procs
exec 3</proc/meminfo 4<$V/memory/gone/memory.usage_in_bytes
echo \$\$ >$V/memory/cgroup.procs && rmdir $V/memory/gone && echo removed
head -n 1 <&3; cat <&4; echo read-done'")
expect "reads after the cgroup is gone finish" 'removed.*read-done' "$(tr '\n' ' ' <<<"$out")"
check "the daemon is alive after the odd reads" daemon_answers

# ---------------------------------------------------------------- around the views

expect_errno "remount /proc/sys read-write: EPERM" EPERM mount-remount /proc/sys
expect_errno "remount /sys read-write: EPERM" EPERM mount-remount /sys
expect_errno "remount the read-only bind of the probe: EPERM" EPERM mount-remount /capfs-probe
core_before=$(cat /proc/sys/kernel/core_pattern)
expect_errno "write core_pattern: EROFS" EROFS write /proc/sys/kernel/core_pattern "|/share/evil"
assert_eq "the host's core_pattern is unchanged" "$core_before" "$(cat /proc/sys/kernel/core_pattern)"
expect_absent_or "write the modprobe path: EROFS" EROFS write /proc/sys/kernel/modprobe /share/evil
expect_absent_or "write uevent_helper: EROFS" EROFS write /sys/kernel/uevent_helper /share/evil
expect "register a binfmt_misc handler: refused" '^blocked (EROFS|ENOENT|EACCES|EPERM) ' \
        "$(attempt write /proc/sys/fs/binfmt_misc/register ':evil:E::evil::/share/evil:')"
# "h" only prints the SysRq help, should the write ever go through.
expect_absent_or "write /proc/sysrq-trigger: EROFS" EROFS write /proc/sysrq-trigger h
irq=$(find /proc/irq -mindepth 2 -maxdepth 2 -name smp_affinity_list 2>/dev/null | head -n 1)
[[ -n $irq ]] && expect "write $irq: refused" '^blocked (EROFS|EACCES|EPERM|EIO) ' "$(attempt write "$irq" 0)"
expect "write below /proc/fs: refused" '^blocked (EROFS|EACCES|ENOENT|EPERM) ' \
        "$(attempt create /proc/fs/capfs-probe)"
expect "write below /proc/bus: refused" '^blocked (EROFS|EACCES|ENOENT|EPERM) ' \
        "$(attempt create /proc/bus/capfs-probe)"
expect_errno "load a kernel module: EPERM" EPERM init-module
expect "mknod+open of /dev/mem: EPERM" '^blocked EPERM ' "$(attempt mknod-open c 1 1)"
expect "mknod+open of /dev/port: EPERM" '^blocked EPERM ' "$(attempt mknod-open c 1 4)"
expect_errno "iopl/ioperm: EPERM" EPERM iopl
expect_errno "open_by_handle_at (shocker): EPERM" EPERM open-by-handle
expect_errno "kexec_load/kexec_file_load: EPERM" EPERM kexec
# Every call the filter refuses outright, each once (the list of lxc/capfs.seccomp, which
# tests/unit/test-launch.c keeps equal to the launcher's own).
refused=$(awk '$2 == "errno" && $3 == 1 && NF == 3 { print $1 }' "$here/../../mount-helper/lxc/capfs.seccomp")
out=$(in_ct "for c in $(echo $refused); do /capfs-probe syscall \$c; done")
for call in $refused; do
        want="^blocked EPERM $call:"
        [[ $(host_baseline syscall "$call") == ENOSYS ]] && want="^blocked (EPERM|ENOSYS) $call:"
        expect "refused ($call, of capfs.seccomp's list): EPERM" "$want" "$(grep -E "^[a-zA-Z]+ [A-Z0-9?]* ${call}[: ]" <<<"$out")"
done
expect_errno "bpf(BPF_PROG_LOAD): EPERM" EPERM bpf
expect_errno "perf_event_open: EPERM" EPERM perf
expect_errno "keyctl on root's user keyring (shared with the host's root): EPERM" EPERM keyctl
expect_errno "setns into the container's own mount namespace: EPERM" EPERM setns /proc/1/ns/mnt
expect "chroot escapes (with '..' and with a kept fd) reach nothing outside" '^contained ' \
        "$(attempt chroot-escape "${MARKER[@]}")"
expect "no fd, cwd or root of any container process leads outside" '^contained ' \
        "$(attempt scan-handles "${MARKER[@]}")"
expect_errno "ptrace/process_vm_readv of a host pid: ESRCH" ESRCH ptrace "$$"
expect "TIOCSTI into the console: EPERM" '^blocked (EPERM|EIO|ENXIO|ENOENT) ' "$(attempt tiocsti /dev/console)"
expect_errno "set the clock: EPERM" EPERM settime
expect_errno "clear the kernel log: EPERM" EPERM dmesg-clear
expect_errno "lower oom_score_adj below the container's floor: EACCES" EACCES oom-score-adj -1000

# Nothing the attempts did may remain on the host: every container's cgroups are gone.
left=$(find "$(cg_host memory launch)" -mindepth 1 -type d 2>/dev/null)
assert_eq "every container's cgroups are removed" "" "$left"
finish
