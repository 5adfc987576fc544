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
#    to "running" with nothing failed; on v1 and hybrid hosts the cgroup view lets
#    `systemctl set-property MemoryMax=50M` reach the host's cgroup, enforced on a 100 MB hog;
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
mkdir -p "$WORKDIR/hooks" "$WORKDIR/storage" "$WORKDIR/run" "$WORKDIR/tmp" "$WORKDIR/share"

# hooks_dir DIR CAPFS_DIR [STAGE]: the hooks.d file as installed, the hook given --capfs.
hooks_dir() {
        mkdir -p "$1"
        sed -e "s|\"path\": \"@CAPFS_OCI_HOOK@\"|\"path\": \"$HOOK\", \"args\": [\"capfs-oci-hook\", \"--capfs\", \"$2\"]|" \
                -e "s|\"createContainer\"|\"${3:-createContainer}\"|" \
                "$here/../../mount-helper/oci/capfs.json.in" >"$1/capfs.json"
}
hooks_dir "$WORKDIR/hooks" "$MNT"

# pm [--hooks-dir DIR] ARGS...: podman with our storage and runtime, in the podman cgroup as the
# top of its trees, bounded by PM_TIMEOUT (default: a boot's). This machine's hard limits are
# above what runc accepts by default (RUN_ARGS).
pm() {
        local hooks=$WORKDIR/hooks
        if [[ $1 == --hooks-dir ]]; then
                hooks=$2
                shift 2
        fi
        (cg_join podman && exec timeout -k 5 "${PM_TIMEOUT:-$BOOT_TIMEOUT}" \
                unshare -m --propagation private --cgroup -- "$here/lib/cgroup-root.sh" \
                podman --root "$WORKDIR/storage" --runroot "$WORKDIR/run" --tmpdir "$WORKDIR/tmp" \
                --cgroup-manager=cgroupfs --events-backend=file --runtime "$RUNTIME" --hooks-dir "$hooks" "$@")
}
RUN_ARGS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none --memory 512m --cpus 1
        --annotation io.capfs.enabled=true)

_pm_clean() {
        local status=$?
        PM_TIMEOUT=$EVENT_TIMEOUT pm rm --all --force --time 0 >/dev/null 2>&1
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
if on_v2; then
        skip "the cgroup view under systemd" "pure cgroup2: the hook leaves the runtime's cgroup2 mount"
else
        assert_eq "its memory hierarchy is capfs's view" fuse.capfs \
                "$(ct findmnt -n -o FSTYPE -M /sys/fs/cgroup/memory | tail -n 1)"
        memory_root=$(cg_host memory podman)/libpod_parent/libpod-$ID
        [[ -d $memory_root ]] || bail "no memory cgroup of the container at $memory_root"
        check_isolators "$memory_root" memory.limit_in_bytes
        out=$(ct sh -c 'echo 4294967296 | tee /sys/fs/cgroup/memory/memory.limit_in_bytes' 2>&1)
        assert_match "writing its own memory limit fails" "(Permission denied|Operation not permitted)" "$out"
        assert_eq "... and the host's is unchanged" "$MEMORY_LIMIT" "$(cat "$memory_root/memory.limit_in_bytes")"
fi

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
assert_match "no failed or wrong read across them" '^ops=[0-9]+ errors=0 wrong=0 first=none$' "$result"

# ---------------------------------------------------------------- stop

check "podman stop of the systemd container" pm stop --time 30 "$CT" "$CT-reader"
check "podman rm" pm rm "$CT" "$CT-reader"
left=$(find "$(cg_host memory podman)" -mindepth 1 -type d -name "libpod-*" 2>/dev/null)
assert_eq "no cgroup of the containers is left" "" "$left"

# ---------------------------------------------------------------- the hook's refusals

mkdir -p "$WORKDIR/no-capfs"
hooks_dir "$WORKDIR/hooks-no-capfs" "$WORKDIR/no-capfs"
out=$(pm --hooks-dir "$WORKDIR/hooks-no-capfs" run --rm "${RUN_ARGS[@]}" \
        --rootfs "$ROOTFS:O" /bin/true 2>&1)
assert_match "without capfs, podman run fails naming the missing mount" \
        "capfs is not mounted at $WORKDIR/no-capfs" "$out"
# The hook warns on stderr, which runc shows only for a hook that fails.
out=$(pm --hooks-dir "$WORKDIR/hooks-no-capfs" run --rm "${RUN_ARGS[@]}" \
        --annotation io.capfs.optional=true --rootfs "$ROOTFS:O" /bin/sh -c 'echo started; findmnt -n -o FSTYPE -M /proc/meminfo' 2>&1)
assert_eq "with io.capfs.optional=true it starts without capfs" "started" "$(tr '\n' ' ' <<<"$out" | sed 's/ *$//')"
hooks_dir "$WORKDIR/hooks-prestart" "$MNT" prestart
out=$(pm --hooks-dir "$WORKDIR/hooks-prestart" run --rm "${RUN_ARGS[@]}" \
        --rootfs "$ROOTFS:O" /bin/true 2>&1)
assert_match "at the prestart stage the hook refuses, naming the stage to use" \
        "must run at the createContainer stage" "$out"
out=$(pm run --rm "${RUN_ARGS[@]}" --annotation io.capfs.cgroup=yes \
        --rootfs "$ROOTFS:O" /bin/true 2>&1)
assert_match "an annotation with a value the hook does not know fails the start, naming it" \
        "io.capfs.cgroup=yes of container [0-9a-f]+ is neither view nor none" "$out"

finish
