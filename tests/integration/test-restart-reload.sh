#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Live reload and upgrade, as a package upgrade does them: capfs and libcapfs are installed in a
# directory of ours, replaced on disk under the running daemon, then
#   - SIGUSR1: a new worker loads the new libcapfs and serves (meminfo shows the patched unit),
#   - capfs --upgrade: the supervisor re-execs the new binary (same pid) and replaces the worker,
#   - a broken library: the reload fails and the running worker keeps serving,
# all while a container reads in a loop: no failed read, the same mount throughout.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"
require_host
cg_init
command -v perl >/dev/null || skip_all "perl not installed (it patches the library copy)"

LIMIT=268435456 # 256 MiB
LIMIT_KB=262144
cg_create ct1
cg_limit_memory ct1 "$LIMIT"

INST=$WORKDIR/inst
install_copy "$INST" || bail "cannot copy capfs and libcapfs from the build (ldd $CAPFS)"
LIB=$(ls "$INST"/lib/libcapfs.so*)
cp "$LIB" "$WORKDIR/libcapfs.orig"
patched_library "$WORKDIR/libcapfs.orig" "$WORKDIR/libcapfs.patched" ||
        bail "the meminfo format string was not found in $LIB"

BUILD_CAPFS=$CAPFS
export LD_LIBRARY_PATH=$INST/lib
CAPFS=$INST/bin/capfs start_capfs "$MNT" || bail "capfs from $INST did not mount $MNT"
supervisor=$CAPFS_PID
mount_before=$(mount_id "$MNT")

# The unit of MemTotal as the container sees it (the host's own callers get the host's file).
meminfo_unit() {
        timeout "$IO_TIMEOUT" awk '$1 == "MemTotal:" { print $3 }' "$1"
}
unit() {
        CT_FUNCS=meminfo_unit run_in_ct ct1 meminfo_unit "$MNT/proc/meminfo"
}
reloads_at_least() {
        [[ "$(status "$MNT" reloads)" -ge "$1" ]] 2>/dev/null
}
library_of() {
        awk '$6 ~ /libcapfs/ { print $5; exit }' "/proc/$1/maps"
}

assert_eq "before: meminfo in kB" kB "$(unit)"
start_reader a ct1 "$MNT/proc/meminfo" "$LIMIT_KB"
wait_reader a || bail "the container's reader never read $MNT/proc/meminfo"

# ---- SIGUSR1 with a new library on disk
old_worker=$(worker_of "$MNT")
cp "$WORKDIR/libcapfs.patched" "$LIB.new"
replace "$LIB" "$LIB.new"
sleep 0.3
assert_eq "a library replaced on disk changes nothing by itself" kB "$(unit)"
kill -USR1 "$supervisor"
if wait_until "$EVENT_TIMEOUT" reloads_at_least 1; then
        assert_eq "SIGUSR1: the reload succeeded" ok "$(status "$MNT" reload_result)"
else
        not_ok "SIGUSR1: the reload finished within ${EVENT_TIMEOUT}s" "$(tr '\n' ' ' <"$(status_file "$MNT")")"
fi
assert_eq "SIGUSR1: the new libcapfs serves (meminfo in KB)" KB "$(unit)"
new_worker=$(worker_of "$MNT")
check "SIGUSR1: a new worker" test "$new_worker" != "$old_worker"
check "SIGUSR1: the old worker exited" wait_until "$EVENT_TIMEOUT" pid_gone "$old_worker"
assert_eq "SIGUSR1: the new worker maps the new library file" "$(stat -c %i "$LIB")" "$(library_of "$new_worker")"
assert_eq "SIGUSR1: the same supervisor" "$supervisor" "$(status "$MNT" supervisor)"
assert_eq "SIGUSR1: the same mount" "$mount_before" "$(mount_id "$MNT")"

# ---- capfs --upgrade: a new binary and the original library
cp "$BUILD_CAPFS" "$INST/bin/capfs.new"
replace "$INST/bin/capfs" "$INST/bin/capfs.new"
cp "$WORKDIR/libcapfs.orig" "$LIB.new"
replace "$LIB" "$LIB.new"
old_worker=$(worker_of "$MNT")
out=$(timeout 120 "$INST/bin/capfs" --upgrade "$MNT" 2>&1)
assert_eq "capfs --upgrade: exit 0" 0 $?
assert_match "capfs --upgrade: reports the upgrade" "upgraded: supervisor pid $supervisor" "$out"
diag "$out"
assert_eq "--upgrade: the supervisor keeps its pid" "$supervisor" "$(status "$MNT" supervisor)"
check "--upgrade: the supervisor still runs" not pid_gone "$supervisor"
assert_eq "--upgrade: the supervisor runs the new binary" "$(stat -c %i "$INST/bin/capfs")" \
        "$(stat -L -c %i "/proc/$supervisor/exe")"
check "--upgrade: a new worker" test "$(worker_of "$MNT")" != "$old_worker"
assert_eq "--upgrade: the new worker maps the new library file" "$(stat -c %i "$LIB")" \
        "$(library_of "$(worker_of "$MNT")")"
assert_eq "--upgrade: the new library serves (meminfo in kB again)" kB "$(unit)"
assert_eq "--upgrade: the same mount" "$mount_before" "$(mount_id "$MNT")"

# ---- a broken library: the reload fails, the running worker stays
old_worker=$(worker_of "$MNT")
reloads=$(status "$MNT" reloads)
head -c 4096 "$WORKDIR/libcapfs.orig" >"$LIB.new"
replace "$LIB" "$LIB.new"
kill -USR1 "$supervisor"
wait_until "$EVENT_TIMEOUT" reloads_at_least $((reloads + 1))
assert_match "a broken library: the reload fails" '^failed' "$(status "$MNT" reload_result)"
assert_eq "a broken library: the running worker keeps serving" "$old_worker" "$(worker_of "$MNT")"
assert_eq "a broken library: reads still work" kB "$(unit)"
out=$(env -u LD_LIBRARY_PATH timeout 120 "$BUILD_CAPFS" --upgrade "$MNT" 2>&1)
assert_eq "a broken library: capfs --upgrade exits 1" 1 $?
assert_match "a broken library: capfs --upgrade says why" "cannot take over" "$out"
check "a broken library: the supervisor still runs" not pid_gone "$supervisor"
assert_eq "a broken library: the same worker serves" "$old_worker" "$(worker_of "$MNT")"
cp "$WORKDIR/libcapfs.orig" "$LIB.new"
replace "$LIB" "$LIB.new"
kill -USR1 "$supervisor"
wait_until "$EVENT_TIMEOUT" reloads_at_least $((reloads + 3))
assert_eq "the library repaired: SIGUSR1 reloads" ok "$(status "$MNT" reload_result)"

sleep 0.5
stop_reader a
assert_reader_clean a "container reading through the reloads and the upgrade"
assert_match "the container saw the reloaded library's output" '^[1-9][0-9]*$' "$(reader_result a new)"
diag "reads: $(reader_result a good) ($(reader_result a new) in KB), longest pause: $(reader_result a maxgap) ms"
assert_eq "the same mount at the end" "$mount_before" "$(mount_id "$MNT")"

finish
