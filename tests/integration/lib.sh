# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Shared by the integration tests (tests/integration/test-*.sh CAPFS_BINARY). Each test file is
# a TAP program: it sources this file, calls `setup` (or `require_host` plus its own daemons),
# asserts with the helpers below and calls `finish`. An EXIT trap undoes everything this file set
# up, also when a test dies half-way:
#   - the capfs daemons it started (by their PID, nothing else), and their mounts;
#   - the processes inside the capfs-test-* cgroups it created, then those cgroups;
#   - its scratch directory under /tmp.
# It then checks that nothing of it is left behind and prints the TAP plan.
#
# Every wait is bounded, and every access to a FUSE mount runs under `timeout` (directly or
# around the process doing it), so a hung daemon fails the test instead of hanging it.

set -u
set -o pipefail

CAPFS=${1:-${CAPFS:-}}
TEST_NAME=$(basename "$0" .sh)
TEST_NAME=${TEST_NAME#test-}
TAG="capfs-test-$$-$TEST_NAME"
# Upper bound for one access to the mount (a read of a few KiB takes microseconds) and for the
# small command around it: 10 s, or a twentieth of the watchdog's time where that is raised (under
# emulation even starting python3 takes seconds).
IO_TIMEOUT=$((${CAPFS_TEST_WATCHDOG:-180} / 20 > 10 ? ${CAPFS_TEST_WATCHDOG:-180} / 20 : 10))

_tap_count=0
_tap_failed=0
_tap_done=false
WORKDIR=
MNT=
declare -a _daemon_pids=()
declare -A _daemon_mnt=()
declare -A _daemon_log=()
declare -A _daemon_reaped=()
# One entry per cgroup hierarchy we use: key (controllers, "unified" for the v2 tree) ->
# the directory of our own top cgroup, below the cgroup this test runs in.
declare -A CG_TOP=()

# ---------------------------------------------------------------- TAP

diag() {
        local line
        while IFS= read -r line; do
                printf '# %s\n' "$line"
        done <<<"$*"
}

ok() {
        _tap_count=$((_tap_count + 1))
        printf 'ok %d - %s\n' "$_tap_count" "$1"
}

# not_ok DESCRIPTION [DIAGNOSTIC...]
not_ok() {
        _tap_count=$((_tap_count + 1))
        _tap_failed=$((_tap_failed + 1))
        printf 'not ok %d - %s\n' "$_tap_count" "$1"
        # Also on stderr: meson parses a TAP test's stdout and shows only stderr with
        # --print-errorlogs, which is all a CI log keeps of a failure.
        printf 'not ok %d - %s\n' "$_tap_count" "$1" >&2
        shift
        if [[ $# -gt 0 ]]; then
                diag "$*"
                diag "$*" >&2
        fi
        return 0
}

skip() {
        _tap_count=$((_tap_count + 1))
        printf 'ok %d - %s # SKIP %s\n' "$_tap_count" "$1" "$2"
}

# The whole file cannot run here (not root, no FUSE, no cgroup v1...): not a failure.
skip_all() {
        printf '1..0 # SKIP %s\n' "$*"
        _tap_done=true
        exit 0
}

# Something the remaining tests depend on broke: stop, clean up, fail.
bail() {
        printf 'Bail out! %s\n' "$*"
        printf 'Bail out! %s\n' "$*" >&2
        _tap_done=true
        exit 1
}

# check DESCRIPTION COMMAND... : ok when COMMAND succeeds.
check() {
        local desc=$1
        shift
        if "$@" >/dev/null; then
                ok "$desc"
        else
                not_ok "$desc" "failed: $*"
        fi
}

assert_eq() {
        local desc=$1 expected=$2 actual=$3
        if [[ "$actual" == "$expected" ]]; then
                ok "$desc"
        else
                not_ok "$desc" "expected: '$expected'" "  actual: '$actual'"
        fi
}

# assert_same DESCRIPTION EXPECTED ACTUAL: assert_eq for content read from the mount, where two
# failed reads (both empty) must not count as a match.
assert_same() {
        if [[ -z "$2" ]]; then
                not_ok "$1" "the reference read returned nothing"
        else
                assert_eq "$@"
        fi
}

assert_match() {
        local desc=$1 regex=$2 actual=$3
        if [[ "$actual" =~ $regex ]]; then
                ok "$desc"
        else
                not_ok "$desc" "expected to match: $regex" "  actual: '$actual'"
        fi
}

# assert_lt DESCRIPTION LIMIT ACTUAL (decimals allowed)
assert_lt() {
        local desc=$1 limit=$2 actual=$3
        if [[ "$actual" =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v a="$actual" -v l="$limit" 'BEGIN { exit !(a < l) }'; then
                ok "$desc"
        else
                not_ok "$desc" "expected a number below $limit, got '$actual'"
        fi
}

# assert_fails DESCRIPTION MESSAGE COMMAND... : COMMAND must fail and say MESSAGE on stderr
# (the strerror text of the errno we expect, e.g. "Permission denied").
assert_fails() {
        local desc=$1 message=$2 err rc
        shift 2
        err=$(timeout "$IO_TIMEOUT" "$@" 2>&1 >/dev/null)
        rc=$?
        if ((rc == 124)); then
                not_ok "$desc" "timed out after ${IO_TIMEOUT}s: $*"
        elif ((rc == 0)); then
                not_ok "$desc" "succeeded, expected '$message': $*"
        elif [[ "$err" != *"$message"* ]]; then
                not_ok "$desc" "expected '$message', got: $err"
        else
                ok "$desc"
        fi
}

# ---------------------------------------------------------------- helpers

# Reads a file on the mount with a bound on the time it may take.
rd() {
        timeout "$IO_TIMEOUT" cat "$@"
}

# meminfo_field FILE KEY: the number of a "Key:   123 kB" line.
meminfo_field() {
        timeout "$IO_TIMEOUT" awk -v key="$2:" '$1 == key { print $2; found = 1; exit } END { exit !found }' "$1"
}

count_matching() {
        local regex=$1 file=$2 n
        n=$(timeout "$IO_TIMEOUT" grep -cE "$regex" "$file")
        echo "${n:-0}"
}

# get KEY <<<"key=value lines": the value of the first KEY line.
get() {
        awk -v key="$1" 'index($0, key "=") == 1 { print substr($0, length(key) + 2); exit }'
}

not() {
        ! "$@"
}

# wait_until SECONDS COMMAND...: waits for COMMAND to succeed, polling every 50 ms, at most
# SECONDS (as a rule EVENT_TIMEOUT: a bound for when something is broken, never a time that
# stands for "long enough"). When the bound is hit it says on stderr what it waited for.
wait_until() {
        local seconds=$1 i
        shift
        for ((i = 0; i < seconds * 20; i++)); do
                "$@" && return 0
                sleep 0.05
        done
        "$@" && return 0
        echo "wait_until: gave up after ${seconds}s waiting for: $*" >&2
        return 1
}

fuse_mounted_at() {
        awk -v mnt="$1" '$5 == mnt && $0 ~ / - fuse(\.[^ ]*)? / { found = 1 } END { exit !found }' /proc/self/mountinfo
}

pid_gone() {
        local state
        [[ -r /proc/$1/stat ]] || return 0
        state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
        [[ -z "$state" || "$state" == Z ]]
}

# ---------------------------------------------------------------- environment

# Pure cgroup2 host (no v1 controllers): the same test for the layout as capfs's own.
on_v2() {
        [[ -f /sys/fs/cgroup/cgroup.controllers ]]
}

# The controllers the tests limit; on v2 each level above a test cgroup enables them for its
# children, so the test's own cgroup must offer them to the cgroups it creates.
V2_CONTROLLERS="cpuset cpu io memory pids"

# On v2 our cgroups go below our own one, which must hand the controllers down: the root, or a
# delegated cgroup with no processes of its own (the no-internal-processes rule).
_v2_delegated() {
        local path ctrl
        path=$(sed -n 's/^0:://p' /proc/self/cgroup)
        [[ -n "$path" ]] || return 1
        for ctrl in $V2_CONTROLLERS; do
                [[ " $(cat "/sys/fs/cgroup${path%/}/cgroup.subtree_control" 2>/dev/null) " == *" $ctrl "* ]] ||
                        return 1
        done
}

require_host() {
        local tool
        [[ -n "$CAPFS" && -x "$CAPFS" ]] || bail "usage: $0 PATH/TO/capfs (got '${CAPFS}')"
        ((EUID == 0)) || skip_all "needs root (FUSE allow_other, cgroups, namespaces)"
        [[ -c /dev/fuse ]] || skip_all "no /dev/fuse"
        for tool in unshare fusermount3 timeout awk dd free nproc getconf; do
                command -v "$tool" >/dev/null || skip_all "$tool not installed"
        done
        if on_v2; then
                _v2_delegated || skip_all "needs our cgroup ($(sed -n 's/^0:://p' /proc/self/cgroup)) to enable" \
                        "$V2_CONTROLLERS in its cgroup.subtree_control (the root, or an empty delegated cgroup)"
        else
                [[ -d /sys/fs/cgroup/memory && -d /sys/fs/cgroup/cpu && -d /sys/fs/cgroup/cpuset ]] ||
                        skip_all "needs cgroup v1 memory, cpu and cpuset hierarchies (v1 or hybrid host)"
        fi
        WORKDIR=$(mktemp -d "/tmp/$TAG.XXXXXX") || bail "cannot create a scratch directory in /tmp"
        MNT=$WORKDIR/mnt
        mkdir "$MNT"
        export MNT
        # Without a trap, a signal would end the shell without running the EXIT trap.
        trap _teardown EXIT
        trap 'exit 129' HUP
        trap 'exit 130' INT
        trap 'exit 141' PIPE
        trap 'exit 143' TERM
        _start_watchdog
}

# A test that runs too long is stopped from inside, with time left for its cleanup: meson's own
# timeout (tests/integration/meson.build) kills the whole process group half a second after
# its SIGTERM, which would leave cgroups and mounts behind. When the watchdog fires it ends the
# processes in our cgroups (the containers a test may be waiting for), then sends the test
# SIGTERM, so the EXIT trap runs at once.
WATCHDOG_SECONDS=${CAPFS_TEST_WATCHDOG:-180}
_watchdog_pid=
_start_watchdog() {
        local main=$$
        (
                trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
                sleep "$WATCHDOG_SECONDS" &
                sleeper=$!
                wait "$sleeper" || exit 0
                echo "# watchdog: still running after ${WATCHDOG_SECONDS}s, stopping"
                kill -TERM "$main"
                _cg_kill_listed
        ) &
        _watchdog_pid=$!
}

# The bound on one awaited event (a mount, a process starting, a file a container posts, a
# worker replaced): a minute, or half the watchdog's time when that is raised, as under
# emulation, where everything is several times slower. A wait returns as soon as its condition
# holds, so a generous bound costs nothing unless something is broken.
EVENT_TIMEOUT=$((WATCHDOG_SECONDS / 2 > 60 ? WATCHDOG_SECONDS / 2 : 60))
# The bound on a container of run_in_ct* (and on the helpers a test starts for one): the test's
# own. A helper that must outlive a step waits for the test to release it (sync_wait, or a
# signal), never for a fixed time; the teardown and the watchdog end whatever is left.
CT_TIMEOUT=$WATCHDOG_SECONDS

# Mounts capfs on MNT and makes cgroups; what most tests start with.
setup() {
        require_host
        start_capfs "$MNT" || bail "capfs did not mount $MNT"
        cg_init
}

# ---------------------------------------------------------------- the daemon

# start_capfs MOUNTPOINT [OPTIONS...]: runs capfs -f in the background (OPTIONS "-d" alone
# instead of -f, to check that it implies it), waits for the mount.
# Its PID goes to CAPFS_PID and to the list the teardown stops. SIGINT is reset to its default
# because a background job of a script inherits it ignored, and libfuse leaves ignored signals
# alone.
start_capfs() {
        local mnt=$1 log pid
        shift
        log="$WORKDIR/capfs-$(basename "$mnt").log"
        if [[ "$*" == -d ]]; then
                env --default-signal=INT,QUIT "$CAPFS" -d "$mnt" >"$log" 2>&1 &
        else
                env --default-signal=INT,QUIT "$CAPFS" --foreground "$@" "$mnt" >"$log" 2>&1 &
        fi
        pid=$!
        # shellcheck disable=SC2034 # read by the test files
        CAPFS_PID=$pid
        _daemon_pids+=("$pid")
        _daemon_mnt[$pid]=$mnt
        _daemon_log[$pid]=$log
        if ! wait_until "$EVENT_TIMEOUT" _mounted_or_dead "$pid" "$mnt" || ! fuse_mounted_at "$mnt"; then
                diag "capfs $* $mnt did not mount; its output:" "$(cat "$log")"
                return 1
        fi
        return 0
}

_mounted_or_dead() {
        fuse_mounted_at "$2" || pid_gone "$1"
}

# stop_capfs PID [SIGNAL]: stops one daemon of ours, bounded; sets STOP_STATUS to its exit
# status (or "killed" when it had to be SIGKILLed) and makes sure its mount is gone.
stop_capfs() {
        local pid=$1 sig=${2:-TERM} mnt
        mnt=${_daemon_mnt[$pid]}
        STOP_STATUS=
        [[ -n "${_daemon_reaped[$pid]:-}" ]] && {
                STOP_STATUS=${_daemon_reaped[$pid]}
                return 0
        }
        kill "-$sig" "$pid" 2>/dev/null
        if ! wait_until "$EVENT_TIMEOUT" pid_gone "$pid"; then
                kill -KILL "$pid" 2>/dev/null
                wait_until "$EVENT_TIMEOUT" pid_gone "$pid"
                STOP_STATUS=killed
        fi
        wait "$pid" 2>/dev/null
        local rc=$?
        [[ -z "$STOP_STATUS" ]] && STOP_STATUS=$rc
        _daemon_reaped[$pid]=$STOP_STATUS
        if fuse_mounted_at "$mnt"; then
                timeout 5 fusermount3 -u -z "$mnt" 2>/dev/null || timeout 5 umount -l "$mnt" 2>/dev/null
        fi
        return 0
}

# capfs keeps a lock file per mountpoint in /run/capfs (named after its path); ours are scratch
# paths that will never be used again.
remove_lock_file() {
        local digest
        digest=$(printf '%s' "$(readlink -f "$1")" | sha256sum | cut -c1-16)
        rm -f "/run/capfs/$digest.lock"
}

# Sanitizer reports from the daemon (when the suite runs against an ASan/UBSan build).
sanitizer_reports() {
        grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Undefined)' "$@" 2>/dev/null
}

# ---------------------------------------------------------------- cgroups

# Fills CG_TOP with one capfs-test-* directory per hierarchy this process is in, each made
# below the cgroup we are in there (never elsewhere).
cg_init() {
        local id ctrls path mount root key top
        while IFS=: read -r id ctrls path; do
                root='' mount=''
                if [[ -z "$ctrls" ]]; then
                        [[ "$id" == 0 ]] || continue
                        key=unified
                        read -r root mount < <(awk '$0 ~ / - cgroup2 / { print $4, $5; exit }' /proc/self/mountinfo)
                else
                        key=$ctrls
                        read -r root mount < <(awk -v want="$ctrls" '
                                $0 ~ / - cgroup / {
                                        n = split(want, w, ",")
                                        opts = "," $NF ","
                                        for (i = 1; i <= n; i++)
                                                if (index(opts, "," w[i] ",") == 0)
                                                        next
                                        print $4, $5
                                        exit
                                }' /proc/self/mountinfo)
                fi
                [[ -n "${mount:-}" ]] || continue
                # Our path relative to the mount's root (they differ inside a cgroup namespace).
                if [[ "$root" != / ]]; then
                        [[ "$path" == "$root" || "$path" == "$root"/* ]] || continue
                        path=${path#"$root"}
                fi
                top="$mount${path%/}/$TAG"
                CG_TOP[$key]=$top
                mkdir "$top" || bail "cannot create cgroup $top"
                # For the watchdog, a process started before CG_TOP was filled.
                echo "$top" >>"$WORKDIR/cgroups"
                _cg_inherit_cpuset "$key" "$top"
        done </proc/self/cgroup
        [[ -n "$(cg_hier memory)" && -n "$(cg_hier cpu)" && -n "$(cg_hier cpuset)" ]] ||
                bail "memory, cpu or cpuset hierarchy not found in /proc/self/cgroup"
}

# The CG_TOP key of the hierarchy holding CONTROLLER.
cg_hier() {
        local key
        # Pure cgroup2: one tree holds every controller.
        if on_v2 && [[ -n "${CG_TOP[unified]:-}" ]]; then
                echo unified
                return 0
        fi
        for key in "${!CG_TOP[@]}"; do
                [[ ",$key," == *",$1,"* ]] && {
                        echo "$key"
                        return 0
                }
        done
        return 1
}

# cpuset v1 refuses tasks until cpus and mems are set on every level.
_cg_inherit_cpuset() {
        local key=$1 dir=$2
        [[ ",$key," == *",cpuset,"* ]] || return 0
        cat "$dir/../cpuset.cpus" >"$dir/cpuset.cpus" &&
                cat "$dir/../cpuset.mems" >"$dir/cpuset.mems" ||
                bail "cannot initialise cpuset of $dir"
}

# cgroup2 gives a cgroup a controller's files only when its parent enables that controller in
# cgroup.subtree_control; a level that does so can no longer hold processes itself.
_cg_enable_controllers() {
        local key=$1 dir=$2 ctrl want=
        [[ "$key" == unified ]] && on_v2 || return 0
        for ctrl in $(cat "$dir/cgroup.controllers"); do
                [[ " $V2_CONTROLLERS " == *" $ctrl "* ]] && want+=" +$ctrl"
        done
        [[ -z "$want" ]] || echo "$want" >"$dir/cgroup.subtree_control" ||
                bail "cannot enable$want in $dir/cgroup.subtree_control"
}

# cg_create REL: makes REL (a/b/...) below our top cgroup in every hierarchy.
cg_create() {
        local key dir part rel=$1
        for key in "${!CG_TOP[@]}"; do
                dir=${CG_TOP[$key]}
                for part in ${rel//\// }; do
                        _cg_enable_controllers "$key" "$dir"
                        dir="$dir/$part"
                        [[ -d "$dir" ]] && continue
                        mkdir "$dir" || bail "cannot create cgroup $dir"
                        _cg_inherit_cpuset "$key" "$dir"
                done
        done
}

# launcher_cgroups: the cgroups a test runs capfs-launch from, which makes the container's below
# "launch" (LAUNCH_CG, the cgroup to join; LAUNCH_ARGS, the options it needs). On cgroup2 a cgroup
# that hands controllers down may hold no processes, so there the launcher runs in "runner" and is
# given "launch" as its --cgroup-parent.
# shellcheck disable=SC2034 # read by the test files
launcher_cgroups() {
        cg_create launch
        LAUNCH_CG=launch
        LAUNCH_ARGS=()
        if on_v2; then
                cg_create runner
                LAUNCH_CG=runner
                LAUNCH_ARGS=(--cgroup-parent "$(cg_rel memory launch)")
        fi
}

# cg_set CONTROLLER REL KNOB VALUE
cg_set() {
        local key
        key=$(cg_hier "$1") || bail "no $1 hierarchy"
        echo "$4" >"${CG_TOP[$key]}/$2/$3" || bail "cannot write $4 to ${CG_TOP[$key]}/$2/$3"
}

# cg_limit_memory REL BYTES: memory.max on v2, memory.limit_in_bytes on v1.
cg_limit_memory() {
        if on_v2; then
                cg_set memory "$1" memory.max "$2"
        else
                cg_set memory "$1" memory.limit_in_bytes "$2"
        fi
}

# cg_limit_cpu REL QUOTA_US [PERIOD_US]: a CFS quota (QUOTA_US -1: none); cpu.max on v2.
cg_limit_cpu() {
        local quota=$2 period=${3:-100000}
        if on_v2; then
                [[ "$quota" == -1 ]] && quota=max
                cg_set cpu "$1" cpu.max "$quota $period"
        else
                cg_set cpu "$1" cpu.cfs_period_us "$period"
                cg_set cpu "$1" cpu.cfs_quota_us "$quota"
        fi
}

# cg_join REL: moves the calling (sub)shell into REL in every hierarchy. Only ever called in a
# subshell of ours, so nothing of the machine's leaves its cgroups.
cg_join() {
        local key
        for key in "${!CG_TOP[@]}"; do
                echo "$BASHPID" >"${CG_TOP[$key]}/$1/cgroup.procs" || return 1
        done
}

# run_in_ct REL FUNCTION [ARGS...]: runs FUNCTION as the init of a new pid (and mount)
# namespace whose processes all live in cgroup REL; prints what FUNCTION prints. FUNCTION may
# call the read helpers above and the functions named in CT_FUNCS. At most CT_TIMEOUT seconds.
# After ct_delegate, REL holds the container's processes only (see there).
run_in_ct() {
        local rel=$1 fn=$2
        shift 2
        if $_ct_delegated; then
                _ct_run_delegated "$rel" "" "$fn" "$@"
                return
        fi
        (
                cg_join "$rel" || exit 125
                exec timeout -k 5 "$CT_TIMEOUT" unshare --pid --fork --kill-child --mount --mount-proc \
                        bash -c "$(_ct_script "$fn")" "$fn" "$@"
        )
}

# ct_delegate: from now on the containers of run_in_ct* get their cgroup as a launcher that
# delegates one leaves it: the wrappers (timeout, unshare) wait in our cgroup "launcher", and
# the container's init joins REL itself before it runs FUNCTION (then enters the cgroup
# namespace, for run_in_ct_cgns, so that its root is REL). On cgroup2 this is what lets a
# container hand controllers to its children: a cgroup that does so may hold no processes
# (the no-internal-processes rule), and the container cannot move processes it does not see.
_ct_delegated=false
ct_delegate() {
        cg_create launcher
        _ct_delegated=true
}

# _ct_run_delegated REL ENTER FUNCTION [ARGS...]: ENTER is the command (words) the init runs
# FUNCTION's shell under once it is in REL: "unshare --cgroup" for a cgroup namespace, or
# "setpriv ... unshare --map-root-user" for an unprivileged one.
_ct_run_delegated() {
        local rel=$1 enter=$2 fn=$3 key dirs=()
        shift 3
        for key in "${!CG_TOP[@]}"; do
                dirs+=("${CG_TOP[$key]}/$rel")
        done
        (
                cg_join launcher || exit 125
                # shellcheck disable=SC2016 # expanded by the init's shell
                exec timeout -k 5 "$CT_TIMEOUT" unshare --pid --fork --kill-child --mount --mount-proc \
                        bash -c 'for d in '"$(printf '%q ' "${dirs[@]}")"'; do
                                         echo 0 >"$d/cgroup.procs" || exit 125
                                 done
                                 script=$1
                                 shift
                                 exec '"$enter"' bash -c "$script" "$@"' \
                        "$fn" "$(_ct_script "$fn")" "$fn" "$@"
        )
}

# run_in_ct_as USER REL FUNCTION [ARGS...]: run_in_ct (after ct_delegate) for an unprivileged
# container: its init, once in REL, becomes host uid and gid USER, root of a user namespace of
# its own mapped to them. The mount must be reachable by USER.
run_in_ct_as() {
        local user=$1 rel=$2 fn=$3
        shift 3
        $_ct_delegated || bail "run_in_ct_as needs ct_delegate"
        _ct_run_delegated "$rel" "setpriv --reuid=$user --regid=$user --clear-groups unshare --map-root-user" \
                "$fn" "$@"
}

# run_in_cg REL FUNCTION [ARGS...]: the same in the host's pid namespace.
run_in_cg() {
        local rel=$1 fn=$2
        shift 2
        (
                cg_join "$rel" || exit 125
                exec timeout -k 5 "$CT_TIMEOUT" bash -c "$(_ct_script "$fn")" "$fn" "$@"
        )
}

_ct_script() {
        echo "set -u; $(declare -f meminfo_field count_matching rd on_v2 _sync_poll ${CT_FUNCS:-} "$1"); IO_TIMEOUT=$IO_TIMEOUT CT_TIMEOUT=$CT_TIMEOUT EVENT_TIMEOUT=$EVENT_TIMEOUT; $1 \"\$@\""
}

# _cg_kill_listed: what _cg_kill_all does, for the cgroups cg_init listed in WORKDIR/cgroups.
_cg_kill_listed() {
        local top pid
        [[ -r "$WORKDIR/cgroups" ]] || return 0
        while read -r top; do
                [[ -d "$top" ]] || continue
                find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
                        [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
                done
        done <"$WORKDIR/cgroups"
}

_cg_kill_all() {
        local top pid
        for top in "${CG_TOP[@]}"; do
                [[ -d "$top" ]] || continue
                while read -r pid; do
                        [[ -n "$pid" ]] && kill -KILL "$pid" 2>/dev/null
                done < <(find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null)
        done
}

# Killed processes leave their cgroups when the kernel has reaped them, which takes a while on a
# busy machine: retried for EVENT_TIMEOUT.
_cg_remove_all() {
        local top i
        for ((i = 0; i < EVENT_TIMEOUT * 10; i++)); do
                _cg_kill_all
                for top in "${CG_TOP[@]}"; do
                        [[ -d "$top" ]] && find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null
                done
                _cg_left || return 0
                sleep 0.1
        done
        return 1
}

_cg_left() {
        local top
        for top in "${CG_TOP[@]}"; do
                [[ -d "$top" ]] && return 0
        done
        return 1
}

# ---------------------------------------------------------------- the cgroup view

# run_in_ct_cgns REL FUNCTION [ARGS...]: run_in_ct, with a new cgroup namespace too (rooted at
# REL, as a container launcher makes it), so that /proc/self/cgroup and the view show paths
# relative to REL.
run_in_ct_cgns() {
        local rel=$1 fn=$2
        shift 2
        if $_ct_delegated; then
                _ct_run_delegated "$rel" "unshare --cgroup" "$fn" "$@"
                return
        fi
        (
                cg_join "$rel" || exit 125
                exec timeout -k 5 "$CT_TIMEOUT" unshare --pid --fork --kill-child --mount --mount-proc --cgroup \
                        bash -c "$(_ct_script "$fn")" "$fn" "$@"
        )
}

# cg_view CONTROLLER [REL]: the path of our cgroup REL in MNT/cgroup as a caller without a
# cgroup namespace sees it: the hierarchy's directory as named under /sys/fs/cgroup, then the
# full host path ("unified" for the cgroup2 tree of a hybrid host).
cg_view() {
        local key top
        key=$(cg_hier "$1") || bail "no $1 hierarchy"
        top=${CG_TOP[$key]}
        [[ "$top" == /sys/fs/cgroup/* ]] || bail "the $1 hierarchy is not mounted under /sys/fs/cgroup"
        echo "$MNT/cgroup/${top#/sys/fs/cgroup/}${2:+/$2}"
}

# cg_host CONTROLLER [REL]: the host directory of our cgroup REL.
cg_host() {
        local key
        key=$(cg_hier "$1") || bail "no $1 hierarchy"
        echo "${CG_TOP[$key]}${2:+/$2}"
}

# cg_hier_dir CONTROLLER: the name of the hierarchy's directory under /sys/fs/cgroup (and
# MNT/cgroup); empty on pure cgroup2, where both are the unified tree itself.
cg_hier_dir() {
        local top
        on_v2 && return 0
        top=$(cg_host "$1")
        top=${top#/sys/fs/cgroup/}
        echo "${top%%/*}"
}

# cg_rel CONTROLLER [REL]: the path of our cgroup REL in CONTROLLER's hierarchy, as
# /proc/PID/cgroup shows it outside a cgroup namespace.
cg_rel() {
        local dir host
        dir=$(cg_hier_dir "$1")
        host=$(cg_host "$@")
        echo "${host#/sys/fs/cgroup${dir:+/$dir}}"
}

# ns_pids PID: the NSpid field of PID: its pid in each pid namespace it is in, the host's first.
ns_pids() {
        awk '$1 == "NSpid:" { $1 = ""; sub(/^[ \t]+/, ""); gsub(/[ \t]+/, " "); print; exit }' \
                "/proc/$1/status" 2>/dev/null
}

# ct_init_pid REL: the host pid of the init of a container of ours (one pid namespace below
# the host's) that runs in cgroup REL, as run_in_ct starts it.
ct_init_pid() {
        local pid
        for pid in $(cat "$(cg_host memory "$1")/cgroup.procs" 2>/dev/null); do
                [[ "$(ns_pids "$pid")" =~ ^[0-9]+\ 1$ ]] && {
                        echo "$pid"
                        return 0
                }
        done
        return 1
}

# Meeting points between the test and a container it runs in the background: files in
# SYNC_DIR (exported, so that a container sees it too; CT_FUNCS may name sync_post and
# sync_wait). sync_wait waits EVENT_TIMEOUT at most, and says what it waited for when that runs
# out.
sync_post() {
        : >"$SYNC_DIR/$1"
}

# _sync_poll NAME SECONDS [PID]: 0 once NAME is in SYNC_DIR; 1 after SECONDS without it; 2 as soon
# as PID (when given) has ended without posting it.
_sync_poll() {
        local i
        for ((i = 0; i < $2 * 20; i++)); do
                [[ -e "$SYNC_DIR/$1" ]] && return 0
                [[ -n ${3:-} ]] && ! kill -0 "$3" 2>/dev/null && break
                sleep 0.05
        done
        [[ -e "$SYNC_DIR/$1" ]] && return 0
        [[ -n ${3:-} ]] && ! kill -0 "$3" 2>/dev/null && return 2
        return 1
}

sync_wait() {
        _sync_poll "$1" "$EVENT_TIMEOUT" && return 0
        echo "sync_wait: no '$1' in $SYNC_DIR after ${EVENT_TIMEOUT}s" >&2
        return 1
}

# sync_await NAME JOB: the test waiting for a container it runs in the background (JOB, its pid)
# to post NAME: for as long as the container runs (CT_TIMEOUT bounds it), failing at once when it
# has ended without posting. The container's pace is its own: under emulation a step can take
# minutes.
sync_await() {
        _sync_poll "$1" "$CT_TIMEOUT" "$2"
        case $? in
        0) return 0 ;;
        2) echo "sync_await: the container (job $2) ended without posting '$1' in $SYNC_DIR" >&2 ;;
        *) echo "sync_await: no '$1' in $SYNC_DIR after ${CT_TIMEOUT}s; the container (job $2) still runs" >&2 ;;
        esac
        return 1
}

# sync_hold NAME: what a helper that must outlive a step of the test waits on: NAME in SYNC_DIR,
# posted by the test when it is done with the helper. Bounded only by the test's own life
# (CT_TIMEOUT), never by a guess at how long the step takes.
sync_hold() {
        _sync_poll "$1" "$CT_TIMEOUT" && return 0
        echo "sync_hold: not released ('$1' in $SYNC_DIR) within the test's ${CT_TIMEOUT}s" >&2
        return 1
}

# Inside a container: `try KEY COMMAND...` runs COMMAND (bounded) and prints KEY=OK,
# KEY=TIMEOUT or KEY=FAIL: followed by its error output on one line. `try_put KEY FILE VALUE`
# writes VALUE and a newline to FILE with one write(2), as `echo VALUE >FILE` does.
try() {
        local key=$1 err rc
        shift
        err=$(timeout "$IO_TIMEOUT" "$@" 2>&1 >/dev/null)
        rc=$?
        if ((rc == 0)); then
                echo "$key=OK"
        elif ((rc == 124)); then
                echo "$key=TIMEOUT"
        else
                echo "$key=FAIL: ${err//$'\n'/ }"
        fi
}

try_put() {
        try "$1" bash -c 'printf "%s\n" "$2" >"$1"' put "$2" "$3"
}

# put FILE VALUE: the same without the report; fails when the write fails.
put() {
        timeout "$IO_TIMEOUT" bash -c 'printf "%s\n" "$2" >"$1"' put "$1" "$2"
}

# assert_refused DESCRIPTION MESSAGE RESULT HOST_BEFORE HOST_AFTER: RESULT (of `try`) is a
# failure saying MESSAGE (an extended regex of strerror texts), and what the host shows of the
# target is the same before and after the attempt.
assert_refused() {
        local desc=$1 message=$2 result=$3 before=$4 after=$5
        if [[ "$result" != FAIL:* ]]; then
                not_ok "$desc" "expected a failure with '$message', got: '${result:-nothing: the probe never got there}'"
        elif ! [[ "$result" =~ $message ]]; then
                not_ok "$desc" "expected '$message', got: $result"
        elif [[ "$before" != "$after" ]]; then
                not_ok "$desc" "the host side changed;" "before: $before" " after: $after"
        else
                ok "$desc"
        fi
}

# ---------------------------------------------------------------- teardown

finish() {
        exit 0
}

_teardown() {
        local status=$? pid f left logs=()
        trap - EXIT
        # Cleaning up matters more than reporting or obeying a second signal: `timeout` and
        # meson signal the test and then its whole process group, so a second SIGINT or
        # SIGTERM often follows the first; and whoever reads our output may be gone. The
        # cleanup is bounded (a few EVENT_TIMEOUTs at worst, when daemons or processes will not end).
        trap '' HUP INT PIPE TERM
        [[ -n "$_watchdog_pid" ]] && kill -TERM "$_watchdog_pid" 2>/dev/null
        # Background jobs of ours that are not daemons (readers) die with their cgroups below;
        # jobs outside our cgroups are only ever the daemons.
        _cg_kill_all
        # A test's own leftovers (mounts it made itself), after its processes are gone.
        [[ $(type -t test_cleanup) == function ]] && test_cleanup
        for pid in "${_daemon_pids[@]}"; do
                logs+=("${_daemon_log[$pid]}")
                [[ -n "${_daemon_reaped[$pid]:-}" ]] && continue
                stop_capfs "$pid" TERM
                $_tap_done || assert_eq "capfs (pid $pid) exits 0 on SIGTERM and unmounts" 0 "$STOP_STATUS"
        done
        if ! _cg_remove_all; then
                $_tap_done || not_ok "remove our cgroups" "left: $(for t in "${CG_TOP[@]}"; do find "$t" -type d 2>/dev/null; done)"
        fi
        if ! $_tap_done; then
                ((status == 0)) || not_ok "the test runs to its end" \
                        "exit status $status (143: stopped by SIGTERM, e.g. from the watchdog)"
                if ((${#CG_TOP[@]})); then
                        left=$(for t in "${CG_TOP[@]}"; do [[ -e "$t" ]] && echo "$t"; done)
                        assert_eq "no $TAG cgroups left" "" "$left"
                fi
                left=$(awk -v w="$WORKDIR/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo)
                assert_eq "no mounts of ours left" "" "$left"
                if ((${#logs[@]})); then
                        left=$(sanitizer_reports "${logs[@]}")
                        assert_eq "no sanitizer reports from capfs" "" "$left"
                fi
        fi
        if [[ -n "$WORKDIR" ]]; then
                # Only when nothing is mounted below it: rm must never walk into a mount.
                if ! awk -v w="$WORKDIR/" 'index($5, w) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
                        if ((_tap_failed)) || ((status)); then
                                for f in "${logs[@]}"; do
                                        [[ -s "$f" ]] && diag "--- $(basename "$f"):" "$(tail -n 20 "$f")"
                                done
                        fi
                        for f in "$WORKDIR"/*/; do
                                remove_lock_file "$f"
                        done
                        rm -rf --one-file-system "$WORKDIR"
                fi
        fi
        if ! $_tap_done; then
                printf '1..%d\n' "$_tap_count"
                ((_tap_failed)) && exit 1
        fi
        exit "$status"
}
