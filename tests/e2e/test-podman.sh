#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/test-podman.sh CAPFS CAPFS_OCI_HOOK: Debian's podman (rootful, the cgroupfs manager,
# the runtime CAPFS_OCI_RUNTIME, default runc) with capfs's OCI hook as podman and CRI-O take it:
# a hooks.d file (mount-helper/oci/capfs.json.in, as installed, plus --capfs for our scratch
# mount) that runs it for containers annotated io.capfs.enabled=true. The containers run on
# overlays of the cached Debian rootfs with OpenJDK, Node.js and Python (tests/e2e/lib/rootfs.sh
# SUITE runtimes; podman run --rootfs DIR:O), with --memory 512m --cpus 1:
#
#  - a plain container: free, nproc, getconf _NPROCESSORS_ONLN, /proc/uptime, and what the JVM, Node.js and
#    Python size themselves to (sysinfo(2) is the host's here: no runtime of podman's hands it to
#    capfs);
#  - a --systemd=always container with podman's default capabilities (no CAP_SYS_ADMIN): boots
#    to "running" with nothing failed; `systemctl set-property MemoryMax=50M` reaches the host's
#    cgroup (through capfs's cgroup view on v1 and hybrid hosts), enforced on a 100 MB hog, and
#    its own limit is not writable;
#  - a container reading capfs's files while capfs's worker is killed and capfs reloaded: no
#    failed or wrong read;
#  - the hook's refusals: capfs not mounted (and io.capfs.optional=true), a wrong stage.
#
# podman runs in a mount and cgroup namespace of its own (tests/e2e/lib/cgroup-root.sh) where
# the test's capfs-test-* cgroups are the tops of the trees: podman puts its cgroups at absolute
# paths, and nothing of this machine's is ours to fill. Its storage is in the scratch directory.
set -u

export CAPFS_TEST_WATCHDOG=${CAPFS_TEST_WATCHDOG:-600}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/integration/lib.sh
source "$here/../integration/lib.sh"
# shellcheck source=tests/integration/restart-lib.sh
source "$here/../integration/restart-lib.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$here/lib/rootfs.sh"
# shellcheck source=tests/e2e/lib/isolators.sh
source "$here/lib/isolators.sh"

HOOK=$(readlink -f "${2:-/nonexistent}")
SUITE=${CAPFS_E2E_SUITE:-bookworm}
RUNTIME=${CAPFS_OCI_RUNTIME:-runc}
MEMORY_LIMIT=536870912
BOOT_TIMEOUT=$((EVENT_TIMEOUT > 180 ? EVENT_TIMEOUT : 180))

((EUID == 0)) || skip_all "needs root (rootful podman, FUSE allow_other, cgroups)"
[[ -x $HOOK ]] || bail "usage: $0 CAPFS CAPFS_OCI_HOOK (got '$HOOK')"
for tool in podman "$RUNTIME" unshare; do
        command -v "$tool" >/dev/null ||
                skip_all "$tool not found: install Debian's podman and $RUNTIME (apt-get install --no-install-recommends podman $RUNTIME)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        skip_all "no overlay file system (podman's --rootfs DIR:O)"
# Before the watchdog starts: a cold build downloads about 150 MB.
ROOTFS=$(capfs_rootfs "$SUITE" runtimes) ||
        bail "cannot build the Debian $SUITE runtimes rootfs: tests/e2e/lib/rootfs.sh $SUITE runtimes failed"

setup
cg_create podman
# podman's storage on a tmpfs of its own: its overlays cannot have their upper layers on an
# overlay (the VM lane's root file system is one).
mkdir -p "$WORKDIR/hooks" "$WORKDIR/pm" "$WORKDIR/share"
mount -t tmpfs -o size=2G capfs-test-podman "$WORKDIR/pm" || bail "cannot mount a tmpfs for podman's storage"
mkdir -p "$WORKDIR/pm/storage" "$WORKDIR/pm/run" "$WORKDIR/pm/tmp"

# hooks_dir DIR CAPFS_DIR [STAGE]: the hooks.d file as installed, the hook given --capfs.
hooks_dir() {
        mkdir -p "$1"
        sed -e "s|\"path\": \"@CAPFS_OCI_HOOK@\"|\"path\": \"$HOOK\", \"args\": [\"capfs-oci-hook\", \"--capfs\", \"$2\"]|" \
                -e "s|\"createContainer\"|\"${3:-createContainer}\"|" \
                "$here/../../mount-helper/oci/capfs.json.in" >"$1/capfs.json"
}
hooks_dir "$WORKDIR/hooks" "$MNT"

# podman's cgroup namespace, rooted at our podman cgroup, made by a process that then leaves for
# capfs-test-engine below it and holds it: on cgroup2 podman hands controllers down from the top,
# which a cgroup holding processes cannot, and every podman command enters this namespace from
# capfs-test-engine.
podman_dirs=()
for top in "${CG_TOP[@]}"; do podman_dirs+=("$top/podman"); done
# shellcheck disable=SC2016 # expanded by the holder's shell
(cg_join podman && exec unshare --cgroup -- sh -c 'for d in "$@"; do
                mkdir -p "$d/capfs-test-engine" || exit 1
                if [ -e "$d/cpuset.cpus" ] && [ ! -e "$d/cgroup.controllers" ]; then
                        cat "$d/cpuset.cpus" >"$d/capfs-test-engine/cpuset.cpus"
                        cat "$d/cpuset.mems" >"$d/capfs-test-engine/cpuset.mems"
                fi
                echo $$ >"$d/capfs-test-engine/cgroup.procs" || exit 1
        done
        exec sleep infinity' sh "${podman_dirs[@]}") &
CGNS_HOLDER=$!
wait_until "$EVENT_TIMEOUT" grep -q capfs-test-engine "/proc/$CGNS_HOLDER/cgroup" ||
        bail "the holder of podman's cgroup namespace did not start"
# Now that podman holds no process: its controllers handed down (cgroup2).
cg_create podman/capfs-test-engine

# pm [--hooks-dir DIR] ARGS...: podman with our storage and runtime, in the podman cgroup as the
# top of its trees, bounded by PM_TIMEOUT (default: a boot's). This machine's hard limits are
# above what runc accepts by default (RUN_ARGS).
pm() {
        local hooks=$WORKDIR/hooks
        if [[ $1 == --hooks-dir ]]; then
                hooks=$2
                shift 2
        fi
        (cg_join podman/capfs-test-engine && exec nsenter --cgroup="/proc/$CGNS_HOLDER/ns/cgroup" -- \
                unshare -m --propagation private -- "$here/lib/cgroup-root.sh" \
                timeout -k 5 "${PM_TIMEOUT:-$BOOT_TIMEOUT}" podman --root "$WORKDIR/pm/storage" --runroot "$WORKDIR/pm/run" --tmpdir "$WORKDIR/pm/tmp" \
                --cgroup-manager=cgroupfs --events-backend=file --runtime "$RUNTIME" --hooks-dir "$hooks" "$@")
}
RUN_ARGS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none --memory 512m --cpus 1
        --annotation io.capfs.enabled=true)

_pm_clean() {
        local status=$?
        PM_TIMEOUT=$EVENT_TIMEOUT pm rm --all --force --time 0 >/dev/null 2>&1
        umount -R -l "$WORKDIR/pm" 2>/dev/null
        return "$status"
}
trap '_pm_clean; _teardown' EXIT

# ---------------------------------------------------------------- a plain container

started=$SECONDS
out=$(pm run --rm "${RUN_ARGS[@]}" --rootfs "$ROOTFS:O" /bin/sh -c '
        echo "free=$(free -m | awk "\$1 == \"Mem:\" { print \$2 }")"
        echo "nproc=$(nproc) online=$(getconf _NPROCESSORS_ONLN)"
        echo "uptime=$(cut -d. -f1 /proc/uptime)"
        echo "meminfo=$(findmnt -n -o FSTYPE -M /proc/meminfo)"
        echo "java_heap=$(java -XX:+PrintFlagsFinal -version 2>/dev/null | awk "\$2 == \"MaxHeapSize\" { print \$4 }")"
        echo "java_cpus=$(java -cp /opt/capfs RuntimeProbe | grep -o "availableProcessors=[0-9]*" | cut -d= -f2)"
        echo "node_totalmem=$(node -p "require(\"os\").totalmem()")"
        echo "node_parallelism=$(node -p "require(\"os\").availableParallelism()")"
        echo "python_cpus=$(python3 -c "import os; print(os.cpu_count())")"' 2>&1)
rc=$?
elapsed=$((SECONDS - started))
[[ $rc == 0 ]] || diag "podman run said:" "$out"
value() { sed -n "s/^.*\b$1=\([^ ]*\).*$/\1/p" <<<"$out" | head -n 1; }
assert_eq "podman run --rootfs (hook on, --memory 512m --cpus 1) exits 0" 0 "$rc"
assert_eq "/proc/meminfo in it comes from capfs" fuse.capfs "$(value meminfo)"
assert_eq "free -m shows 512 MiB" 512 "$(value free)"
assert_eq "nproc (the affinity: the hook narrowed the cpuset to the quota's 1 CPU) shows 1" 1 "$(value nproc)"
assert_eq "getconf _NPROCESSORS_ONLN (capfs's sysfs) shows 1" 1 "$(value online)"
uptime=$(value uptime)
if [[ $uptime =~ ^[0-9]+$ ]] && ((uptime <= elapsed + 1)); then
        ok "/proc/uptime is the container's ($uptime s, within the $elapsed s of podman run)"
else
        not_ok "/proc/uptime is the container's" "uptime '$uptime', podman run took $elapsed s"
fi
assert_eq "java MaxHeapSize is a quarter of 512 MiB" $((MEMORY_LIMIT / 4)) "$(value java_heap)"
assert_eq "java availableProcessors() is 1" 1 "$(value java_cpus)"
assert_eq "node os.totalmem() is 512 MiB" "$MEMORY_LIMIT" "$(value node_totalmem)"
assert_eq "node os.availableParallelism() is 1" 1 "$(value node_parallelism)"
assert_eq "python os.cpu_count() is 1" 1 "$(value python_cpus)"

out=$(pm run --rm "${RUN_ARGS[@]}" --annotation io.capfs.enabled=false --rootfs "$ROOTFS:O" \
        /bin/sh -c 'free -m | awk "\$1 == \"Mem:\" { print \$2 }"' 2>&1)
assert_match "with io.capfs.enabled=false nothing is bound (free -m shows the host's)" '^[0-9]+$' "$out"
[[ $out =~ ^[0-9]+$ ]] && ((out != 512)) || not_ok "... not 512 MiB" "free -m: $out"

# ---------------------------------------------------------------- systemd

CT=capfs-sd-$$
if ! out=$(pm run -d --name "$CT" --systemd=always "${RUN_ARGS[@]}" --rootfs "$ROOTFS:O" \
        /sbin/init 2>&1); then
        bail "podman run --systemd=always failed: $out"
fi
ok "podman run -d --systemd=always /sbin/init starts"
ID=$(pm inspect --format '{{.Id}}' "$CT")
memory_root=$(cg_host memory podman)/libpod_parent/libpod-$ID
# On cgroup2 systemd hands the controllers down from its root cgroup, which it can do only while
# no other process is in that cgroup, and crun puts a `podman exec`'d process there: an exec
# early in the boot (our wait for "running" is one) can leave the container without memory
# control for good (README). So, from the host, before the first exec: systemd has done it.
if on_v2; then
        memory_handed_down() { grep -qw memory "$memory_root/cgroup.subtree_control" 2>/dev/null; }
        check "its systemd hands the memory controller down (seen from the host, before any exec)" \
                wait_until "$BOOT_TIMEOUT" memory_handed_down
fi
ct() {
        PM_TIMEOUT=$EVENT_TIMEOUT pm exec "$CT" env PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
state=
booted() {
        state=$(ct systemctl is-system-running --wait 2>&1)
        [[ $state =~ ^(running|degraded|maintenance|stopping)$ ]]
}
wait_until "$BOOT_TIMEOUT" booted
assert_eq "systemd in it boots to 'running'" running "$state"
failed=$(ct systemctl --failed --no-legend --plain 2>&1)
assert_eq "no failed units" "" "$failed"
[[ $state == running && -z $failed ]] || diag "podman logs:" "$(pm logs "$CT" 2>&1 | tail -n 30)"
capbnd=$(ct awk '$1 == "CapBnd:" { print $2 }' /proc/1/status)
if [[ $capbnd =~ ^[0-9a-f]{16}$ ]]; then
        assert_eq "its init's bounding set lacks CAP_SYS_ADMIN" 0 $((0x$capbnd >> 21 & 1))
else
        not_ok "read its init's bounding set" "got '$capbnd'"
fi
assert_eq "free -m in it shows 512 MiB" 512 "$(ct free -m | awk '$1 == "Mem:" { print $2 }')"
# On v1 and hybrid hosts the hook puts capfs's view over the controllers; on cgroup2 the
# container's own cgroup2 mount (podman's private cgroup namespace, nsdelegate) serves systemd.
if on_v2; then
        knob=memory.max own=/sys/fs/cgroup/memory.max
else
        knob=memory.limit_in_bytes own=/sys/fs/cgroup/memory/memory.limit_in_bytes
        assert_eq "its memory hierarchy is capfs's view" fuse.capfs \
                "$(ct findmnt -n -o FSTYPE -M /sys/fs/cgroup/memory | tail -n 1)"
fi
[[ -d $memory_root ]] || bail "no memory cgroup of the container at $memory_root"
check_isolators "$memory_root" "$knob"
out=$(ct sh -c "echo 4294967296 | tee $own" 2>&1)
assert_match "writing its own memory limit fails" "(Permission denied|Operation not permitted)" "$out"
assert_eq "... and the host's is unchanged" "$MEMORY_LIMIT" "$(cat "$memory_root/$knob")"

# ---------------------------------------------------------------- reading across worker kills and reloads

# In the container (its systemd's): reads of capfs's files until /share/stop, counting failed ones
# and answers not the container's.
reader='ops=0 errors=0 wrong=0 first=none
while [ ! -e /share/stop ]; do
        if m=$(cat /proc/meminfo 2>&1); then
                case $m in *"MemTotal:         524288 kB"*) ;; *) wrong=$((wrong + 1)) ;; esac
        else
                errors=$((errors + 1)); [ "$first" = none ] && first="$m"
        fi
        c=$(cat /sys/devices/system/cpu/online 2>&1) || { errors=$((errors + 1)); first="$c"; }
        ops=$((ops + 2))
        echo $ops >/share/count.tmp && mv /share/count.tmp /share/count
done
echo "ops=$ops errors=$errors wrong=$wrong first=$first" >/share/result'
if ! out=$(pm run -d --name "$CT-reader" "${RUN_ARGS[@]}" -v "$WORKDIR/share:/share" \
        --rootfs "$ROOTFS:O" /bin/sh -c "$reader" 2>&1); then
        bail "podman run of the reader failed: $out"
fi
count() { cat "$WORKDIR/share/count" 2>/dev/null || echo 0; }
count_past() { (($(count) > $1)); }
progressed() { wait_until "$EVENT_TIMEOUT" count_past $(($(count) + 20)); }
check "the reading container runs" progressed
check "capfs's worker is killed and another serves" kill_worker "$MNT"
check "... the container's reads go on" progressed
generation=$(status "$MNT" generation)
kill -USR1 "$CAPFS_PID"
reloaded() {
        local g
        g=$(status "$MNT" generation)
        [[ -n $g && $g -gt $generation ]] && serving_worker "$MNT" >/dev/null 2>&1
}
check "capfs reloads (SIGUSR1)" wait_until "$EVENT_TIMEOUT" reloaded
check "... the container's reads go on" progressed
: >"$WORKDIR/share/stop"
wait_until "$EVENT_TIMEOUT" test -e "$WORKDIR/share/result"
result=$(cat "$WORKDIR/share/result" 2>&1)
diag "the reader: $result"
if kernel_lacks_resend "$WORKDIR/capfs-mnt.log"; then
        # Without FUSE_NOTIFY_RESEND (Linux < 6.9, the VM lane's kernel) a read in flight when a
        # worker goes fails with ECONNABORTED or EINTR (README, Operations): one per replacement.
        assert_match "no wrong read across them, and a failed one only as this kernel makes it" \
                '^ops=[0-9]+ errors=[0-2] wrong=0 first=(none|.*(connection abort|Interrupted system call).*)$' \
                "$(tr '\n' ' ' <<<"$result" | sed 's/ $//')"
else
        assert_match "no failed or wrong read across them" '^ops=[0-9]+ errors=0 wrong=0 first=none$' "$result"
fi

# ---------------------------------------------------------------- stop

check "podman stop of the systemd container" pm stop --time 30 "$CT" "$CT-reader"
check "podman rm" pm rm "$CT" "$CT-reader"
left=$(find "$(cg_host memory podman)" -mindepth 1 -type d -name "libpod-*" 2>/dev/null)
assert_eq "no cgroup of the containers is left" "" "$left"

# ---------------------------------------------------------------- the hook's refusals

# refused DESC REGEX PM_ARGS...: podman run fails because of the hook, whose message matches
# REGEX. runc puts a failed hook's stderr in its error; crun only names the hook and its exit
# status (the message is in syslog, which the hook also writes to).
refused() {
        local desc=$1 regex=$2 out
        shift 2
        if out=$(pm "$@" /bin/true 2>&1); then
                not_ok "$desc" "podman run succeeded"
        elif [[ $RUNTIME == crun && $out == *"error executing hook \`$HOOK\` (exit code: 1)"* ]]; then
                ok "$desc (crun names the hook and its exit status only)"
        else
                assert_match "$desc" "$regex" "$out"
        fi
}
mkdir -p "$WORKDIR/no-capfs"
hooks_dir "$WORKDIR/hooks-no-capfs" "$WORKDIR/no-capfs"
refused "without capfs, podman run fails naming the missing mount" "capfs is not mounted at $WORKDIR/no-capfs" \
        --hooks-dir "$WORKDIR/hooks-no-capfs" run --rm "${RUN_ARGS[@]}" --rootfs "$ROOTFS:O"
# The hook warns on stderr, which runc shows only for a hook that fails.
out=$(pm --hooks-dir "$WORKDIR/hooks-no-capfs" run --rm "${RUN_ARGS[@]}" --annotation io.capfs.optional=true \
        --rootfs "$ROOTFS:O" /bin/sh -c 'echo started; findmnt -n -o FSTYPE -M /proc/meminfo' 2>&1)
assert_eq "with io.capfs.optional=true it starts without capfs" "started" "$(tr '\n' ' ' <<<"$out" | sed 's/ *$//')"
hooks_dir "$WORKDIR/hooks-prestart" "$MNT" prestart
refused "at the prestart stage the hook refuses, naming the stage to use" "must run at the createContainer stage" \
        --hooks-dir "$WORKDIR/hooks-prestart" run --rm "${RUN_ARGS[@]}" --rootfs "$ROOTFS:O"
refused "an annotation with a value the hook does not know fails the start, naming it" \
        "io.capfs.cgroup=yes of container [0-9a-f]+ is neither view nor none" \
        run --rm "${RUN_ARGS[@]}" --annotation io.capfs.cgroup=yes --rootfs "$ROOTFS:O"

finish
