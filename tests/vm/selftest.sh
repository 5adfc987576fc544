#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/vm/selftest.sh [CAPFS_BINARY]: checks tests/vm/run itself and prints TAP. Every VM run is
# bounded by --timeout. With CAPFS_BINARY (a daemon built on the host), also mounts it inside the
# guest and reads a container's meminfo through it, to prove FUSE and cgroup2 work end to end.
set -u
set -o pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
run=$here/run
capfs=${1:-}
VM_TIMEOUT=300

count=0
failed=0
scratch=$(mktemp -d /tmp/capfs-vm-selftest.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

ok() {
        count=$((count + 1))
        echo "ok $count - $1"
}

not_ok() {
        count=$((count + 1))
        failed=$((failed + 1))
        echo "not ok $count - $1"
        if [[ -n ${2:-} ]]; then
                while IFS= read -r line; do
                        echo "# $line"
                done <<<"$2"
        fi
}

# verdict STATUS DESC [DIAGNOSTIC]: a test point from the exit status of a check just made.
verdict() {
        if [[ $1 == 0 ]]; then
                ok "$2"
        else
                not_ok "$2" "${3:-}"
        fi
}

skip() {
        count=$((count + 1))
        echo "ok $count - $1 # SKIP $2"
}

# vm OUT_BASENAME ARGS...: runs tests/vm/run from the checkout; stdout and stderr land in
# $scratch/OUT_BASENAME.{out,err}, the exit status in $rc.
vm() {
        local name=$1
        shift
        rc=0
        (cd "$repo" && "$run" --timeout "$VM_TIMEOUT" "$@") >"$scratch/$name.out" 2>"$scratch/$name.err" || rc=$?
}

expect_status() {
        local want=$1 desc=$2 name=$3
        if [[ $rc == "$want" ]]; then
                ok "$desc"
        else
                not_ok "$desc (exit status $rc, want $want)" "$(cat "$scratch/$name.err")"
        fi
}

if [[ $EUID -ne 0 ]]; then
        echo "1..0 # SKIP tests/vm/run needs root (to install qemu and fill /var/cache/capfs-vm)"
        exit 0
fi

vm true true
expect_status 0 "run true exits 0" true

vm false false
expect_status 1 "run false exits 1" false

vm exit7 sh -c 'exit 7'
expect_status 7 "run sh -c 'exit 7' exits 7" exit7

# /dev/stderr is reopened, as scripts do: it must not be a device that allows one open only.
vm streams sh -c 'echo to-stdout; echo to-stderr >&2; echo reopened >/dev/stderr'
if [[ $rc == 0 && $(cat "$scratch/streams.out") == to-stdout &&
        $(cat "$scratch/streams.err") == $'to-stderr\nreopened' ]]; then
        ok "COMMAND's stdout and stderr reach the caller's stdout and stderr, unmixed"
else
        not_ok "COMMAND's stdout and stderr reach the caller's stdout and stderr, unmixed" \
                "exit $rc; stdout: $(cat "$scratch/streams.out"); stderr: $(cat "$scratch/streams.err")"
fi

# A reader that stops early (| head) must not stall the guest until --timeout.
start=$(date +%s)
first=$( (cd "$repo" && "$run" --timeout "$VM_TIMEOUT" seq 1 1000000 2>"$scratch/head.err"; echo "rc=$?" >"$scratch/head.rc") | head -n 1)
took=$(($(date +%s) - start))
if [[ $first == 1 && $(cat "$scratch/head.rc") == rc=0 ]]; then
        ok "output into a closed pipe does not stall the run (exit 0 after $took s)"
else
        not_ok "output into a closed pipe does not stall the run" \
                "first line '$first', $(cat "$scratch/head.rc") after $took s; $(cat "$scratch/head.err")"
fi

# One boot gathers the facts about the guest; each is judged on its own below.
marker=.vm-selftest-$$
# shellcheck disable=SC2016 # expanded by the guest's shell
vm facts sh -c '
        echo "pwd=$(pwd)"
        echo "controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
        echo "subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
        echo "cgroup2_mounts=$(grep -c " /sys/fs/cgroup cgroup2 " /proc/mounts)"
        echo "cgroup1_mounts=$(grep -c " cgroup " /proc/mounts)"
        [ -c /dev/fuse ] && echo fuse=yes
        [ -f tests/vm/run ] && echo checkout=yes
        echo guest >"$0" && [ "$(cat "$0")" = guest ] && echo guest_write=yes
        touch "/usr/$0" && echo system_write=yes
' "$marker"
fact() {
        sed -n "s/^$1=//p" "$scratch/facts.out"
}
if [[ $rc != 0 ]]; then
        not_ok "the facts run succeeded (exit status $rc)" "$(cat "$scratch/facts.err")"
else
        ok "the facts run succeeded"
fi

[[ $(fact pwd) == "$repo" ]]
verdict $? "COMMAND runs in the caller's directory ($repo)" "pwd in the guest: $(fact pwd)"
[[ $(fact checkout) == yes ]]
verdict $? "the checkout is at the same path in the guest"

controllers=$(fact controllers)
missing=
for want in cpuset cpu io memory pids; do
        [[ " $controllers " == *" $want "* ]] || missing+=" $want"
done
[[ -n $controllers && -z $missing ]]
verdict $? "cgroup2 offers cpuset cpu io memory pids ($controllers)" "missing:$missing; cgroup.controllers: $controllers"
[[ -n $controllers && $(fact subtree) == "$controllers" ]]
verdict $? "every controller is enabled in the root's subtree_control" "subtree_control: $(fact subtree)"
[[ $(fact cgroup2_mounts) == 1 && $(fact cgroup1_mounts) == 0 ]]
verdict $? "the hierarchy is pure cgroup2 at /sys/fs/cgroup" \
        "cgroup2 mounts there: $(fact cgroup2_mounts), cgroup v1 mounts: $(fact cgroup1_mounts)"
[[ $(fact fuse) == yes ]]
verdict $? "/dev/fuse exists in the guest"

if [[ $(fact guest_write) == yes && $(fact system_write) == yes ]]; then
        ok "the guest can write in the checkout and in system directories"
else
        not_ok "the guest can write in the checkout and in system directories" "$(cat "$scratch/facts.out")"
fi
if [[ ! -e $repo/$marker && ! -e /usr/$marker ]]; then
        ok "the guest's writes do not reach the host"
else
        not_ok "the guest's writes do not reach the host" "found $repo/$marker or /usr/$marker on the host"
        rm -f "$repo/$marker" "/usr/$marker"
fi

mkdir "$scratch/shared"
# shellcheck disable=SC2016 # expanded by the guest's shell
vm share --share "$scratch/shared" sh -c 'echo from-guest >"$0/result"' "$scratch/shared"
if [[ $rc == 0 && $(cat "$scratch/shared/result" 2>/dev/null) == from-guest ]]; then
        ok "--share DIR: what the guest writes there reaches the host"
else
        not_ok "--share DIR: what the guest writes there reaches the host" "exit $rc; $(cat "$scratch/share.err")"
fi

start=$(date +%s)
rc=0
(cd "$repo" && "$run" --timeout 5 sleep 600) >"$scratch/timeout.out" 2>"$scratch/timeout.err" || rc=$?
took=$(($(date +%s) - start))
if [[ $rc == 124 ]] && ((took < 60)) && grep -q 'exceeded --timeout' "$scratch/timeout.err"; then
        ok "--timeout 5 kills the VM (exit 124 after $took s)"
else
        not_ok "--timeout 5 kills the VM" "exit $rc after $took s; $(cat "$scratch/timeout.err")"
fi

# A guest that cannot boot (48 MiB cannot even hold the kernel) must fail, never pass.
vm noboot --memory 48M true
if [[ $rc == 125 ]] && grep -q 'did not run COMMAND' "$scratch/noboot.err"; then
        ok "a VM that cannot boot fails with exit 125 and says so"
else
        not_ok "a VM that cannot boot fails with exit 125 and says so" "exit $rc; $(cat "$scratch/noboot.err")"
fi

if [[ -z $capfs ]]; then
        skip "a FUSE daemon serves a container's view inside the guest" "no CAPFS_BINARY given"
else
        capfs=$(readlink -f "$capfs")
        # ct1: 256 MiB memory.max and cpuset 0; a shell moved into it reads meminfo and the
        # online CPUs through the daemon's mount.
        # shellcheck disable=SC2016 # expanded by the guest's shell
        vm capfs sh -c '
                set -e
                mkdir -p /tmp/mnt
                "$0" --foreground /tmp/mnt >/tmp/capfs.log 2>&1 &
                i=0
                until [ -e /tmp/mnt/proc/meminfo ]; do
                        i=$((i + 1)); [ $i -lt 600 ] || { echo "capfs did not mount /tmp/mnt in 60 s" >&2; cat /tmp/capfs.log >&2; exit 1; }
                        sleep 0.1
                done
                mkdir /sys/fs/cgroup/ct1
                echo 268435456 >/sys/fs/cgroup/ct1/memory.max
                echo 0 >/sys/fs/cgroup/ct1/cpuset.cpus
                sh -c "echo \$\$ >/sys/fs/cgroup/ct1/cgroup.procs
                        grep MemTotal /tmp/mnt/proc/meminfo
                        echo online=\$(cat /tmp/mnt/sys/devices/system/cpu/online)"
        ' "$capfs"
        if [[ $rc == 0 ]] && grep -Eq '^MemTotal: +262144 kB$' "$scratch/capfs.out" && grep -qx 'online=0' "$scratch/capfs.out"; then
                ok "a FUSE daemon serves a container's view inside the guest"
        else
                not_ok "a FUSE daemon serves a container's view inside the guest" \
                        "exit $rc; stdout: $(cat "$scratch/capfs.out"); stderr: $(cat "$scratch/capfs.err")"
        fi
fi

echo "1..$count"
((failed == 0))
