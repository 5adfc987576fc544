#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run every check capfs has: ./scripts/test.sh
#
#   1. clang-format (version 14, the one .clang-format is written for) on the C sources, and
#      ShellCheck on the shell scripts;
#   2. a gcc build with warnings as errors (build-test/), its unit and fuzz-replay suites;
#   3. a clang ASan/UBSan build (build-asan/), the same suites under the sanitizers;
#      then each libFuzzer target for CAPFS_FUZZ_SECONDS (15) from a copy of its corpus;
#   4. the integration suite (root, /dev/fuse, real cgroups) against the build-test daemon,
#      then against the sanitized daemon;
#   5. bench/run --smoke (the benchmark runs, numbers ignored), then the end-to-end suites (tests/e2e: systemd booted by capfs-launch and by LXC without
#      CAP_SYS_ADMIN; tests/escape: the known escapes, each tried inside a container);
#   6. tests/install: meson install into a scratch prefix (test-install.sh), and the Debian
#      packages of scripts/build-deb.sh through install, upgrade, removal and purge (test-deb.sh);
#   7. the pure cgroup v2 lane: tests/vm/selftest.sh (the VM runner's own TAP test), then the
#      same integration suite, then the boot, scope, planted-path and runtime tests (test-boot-*
#      with sid's systemd 258+ too,
#      test-scope, test-planted, test-runtimes, test-podman with crun), against the build-test daemon
#      and launcher inside tests/vm/run (Debian's kernel under qemu, cgroup2 only). A VM that
#      cannot boot fails the run;
#   8. the systemd lane: test-deb's packages on Debian machines booted by the real systemd
#      (tests/vm/run --systemd: bookworm and trixie on cgroup2, bookworm hybrid), each running
#      tests/systemd/test-host.sh.
#
# Build directories are always made from scratch, so nothing left over from an earlier run (an
# object compiled before -Werror, an old test log) can hide a failure. Exits non-zero on any
# failure and ends with one line: "N passed, M failed, K skipped", counting every test point of
# every suite (a TAP test program counts each of its "ok"/"not ok" lines).
set -uo pipefail

cd "$(dirname "$(readlink -f "$0")")/.." || exit 1

DEPS=(meson ninja-build pkg-config gcc libglib2.0-dev libfuse3-dev fuse3 libcap-dev
      clang libclang-rt-14-dev clang-format shellcheck util-linux procps coreutils
      qemu-system-x86 xz-utils libseccomp-dev libjson-glib-dev debootstrap lxc lxcfs python3 perl systemd dbus-daemon man-db
      podman runc crun docker.io containerd systemd-container python3-yaml python3-kubernetes)

# Tests that are not meson tests (clang-format, builds) add to these.
extra_passed=0
extra_failed=0
extra_skipped=0
failed_steps=()
logs=()

die() {
        echo "test.sh: $*" >&2
        exit 1
}

step() {
        printf '\n==== %s ====\n' "$*"
}

fail_step() {
        failed_steps+=("$1")
        extra_failed=$((extra_failed + 1))
}

PROG=test.sh
# shellcheck source=scripts/lib/packages.sh
source "$(dirname "$(readlink -f "$0")")/lib/packages.sh"


# The exact output of clang-format changes between major versions; only the version the
# style file was written for gives a verdict worth failing on.
check_format() {
        local -a files bad=()
        local f
        step "clang-format"
        if ! command -v clang-format >/dev/null || [[ "$(clang-format --version)" != *" version 14."* ]]; then
                echo "skipped: clang-format 14 not found"
                extra_skipped=$((extra_skipped + 1))
                return 0
        fi
        mapfile -t files < <(find fs bindings tests mount-helper -name '*.[ch]' -type f 2>/dev/null | sort)
        for f in "${files[@]}"; do
                clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
        done
        if ((${#bad[@]})); then
                echo "not formatted (fix with: clang-format -i ${bad[*]}):"
                printf '  %s\n' "${bad[@]}"
                fail_step "clang-format"
        else
                echo "${#files[@]} files formatted"
                extra_passed=$((extra_passed + 1))
        fi
}

check_shell() {
        local -a files
        step "shellcheck"
        if ! command -v shellcheck >/dev/null; then
                echo "skipped: shellcheck not found"
                extra_skipped=$((extra_skipped + 1))
                return 0
        fi
        files=(scripts/*.sh .ci/run bench/run tests/integration/*.sh tests/e2e/*.sh tests/e2e/lib/*.sh tests/escape/*.sh
               tests/install/*.sh tests/systemd/*.sh tests/vm/run tests/vm/*.sh)
        if shellcheck -x -S warning "${files[@]}"; then
                echo "${#files[@]} scripts clean"
                extra_passed=$((extra_passed + 1))
        else
                fail_step "shellcheck"
        fi
}

# fresh_build DIR [meson setup options...]
fresh_build() {
        local dir=$1
        shift
        step "build $dir ($*)"
        rm -rf "$dir"
        if meson setup "$dir" "$@" && ninja -C "$dir"; then
                return 0
        fi
        fail_step "build $dir"
        return 1
}

# run_suites DIR LOGBASE [meson test options...]
run_suites() {
        local dir=$1 logbase=$2
        shift 2
        step "meson test -C $dir $*"
        logs+=("$dir/meson-logs/$logbase.json")
        meson test -C "$dir" --print-errorlogs --logbase "$logbase" "$@" || failed_steps+=("$dir: $*")
}

# tap_log NAME STATUS TAP_FILE JSON_FILE: records a TAP program run outside meson as one entry
# of a meson-style JSON log, so that summarize() counts its points like those of meson's tests.
tap_log() {
        python3 - "$@" <<'EOF'
import json, sys

name, status, tap, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(tap, errors='replace') as f:
    stdout = f.read()
with open(out, 'w') as f:
    json.dump({'name': name, 'result': 'OK' if status == 0 else 'FAIL', 'returncode': status,
               'stdout': stdout}, f)
    f.write('\n')
EOF
}

# The VM lane: one boot per self-test case, then one for the whole integration suite and one
# for the boot tests.
# Under TCG (no /dev/kvm: the normal case here) the guest runs several times slower than the
# host, and many times slower again when the host is busy: a test that takes 3 s on the host
# takes minutes there. So the bounds are generous: each test's watchdog (CAPFS_TEST_WATCHDOG,
# which also sets the bound of every wait inside it to half of that), meson's backstop above it
# (--timeout-multiplier) and the VM's own bound above all of them. They only matter when
# something hangs; a wait ends as soon as what it waits for happens.
vm_lane() {
        local logdir=build-test/meson-logs rc=0 started=$SECONDS
        step "tests/vm/selftest.sh build-test/bindings/capfs"
        if ((EUID != 0)); then
                echo "skipped: the VM lane needs root (qemu's cache in /var/cache, cgroups in the guest)"
                extra_skipped=$((extra_skipped + 1))
                return 0
        fi
        [[ -e /dev/kvm ]] || echo "no /dev/kvm: qemu emulates the guest (TCG)"
        tests/vm/selftest.sh build-test/bindings/capfs | tee "$logdir/vm-selftest.tap"
        rc=${PIPESTATUS[0]}
        tap_log vm-selftest "$rc" "$logdir/vm-selftest.tap" "$logdir/vm-selftest.json"
        logs+=("$logdir/vm-selftest.json")
        ((rc == 0)) || failed_steps+=("tests/vm/selftest.sh")
        echo "(vm selftest: $((SECONDS - started))s)"

        # meson-logs is shared writable, so that the guest's log lands on the host.
        vm_suite integration "integration suite" --timeout 5400 --env CAPFS_TEST_WATCHDOG=600 -- \
                --suite integration
        # The boot tests on cgroup2: the rootfs caches the host's e2e lane filled are visible in
        # the guest (read-only under its overlay), so nothing is downloaded there.
        # podman there runs crun (which refuses hybrid hosts), runc on the host.
        vm_suite e2e "boot tests" --timeout 3600 --memory 3G --env CAPFS_TEST_WATCHDOG=900 \
                --env CAPFS_OCI_RUNTIME=crun -- \
                --suite e2e --suite escape test-boot-bookworm test-boot-trixie test-boot-sid test-scope test-planted \
                test-runtimes test-podman
}

# vm_suite LOGNAME WHAT [tests/vm/run options...] -- [meson test options...]: one VM boot running
# `meson test` on build-test; its log becomes build-test/meson-logs/testlog-vm-LOGNAME.json.
vm_suite() {
        local name=$1 what=$2 logdir=build-test/meson-logs rc=0 started=$SECONDS
        local -a vm_opts=()
        shift 2
        while (($#)) && [[ $1 != -- ]]; do
                vm_opts+=("$1")
                shift
        done
        shift
        step "meson test -C build-test $*, in a pure cgroup v2 VM (tests/vm/run)"
        rm -f "$logdir/testlog-vm-$name.json"
        tests/vm/run "${vm_opts[@]}" --share "$logdir" -- meson test -C build-test --no-rebuild \
                --print-errorlogs --logbase "testlog-vm-$name" --timeout-multiplier 3 "$@" || rc=$?
        echo "(vm $name: $((SECONDS - started))s)"
        if ((rc == 124 || rc == 125)) || [[ ! -s "$logdir/testlog-vm-$name.json" ]]; then
                # The VM did not boot, or was stopped: whatever the guest logged is incomplete.
                fail_step "tests/vm/run (exit status $rc): the $what in the v2 VM did not run to its end"
        elif ((rc != 0)); then
                failed_steps+=("$what in the v2 VM")
        fi
        logs+=("$logdir/testlog-vm-$name.json")
}

# libFuzzer, for a bounded time per target (CAPFS_FUZZ_SECONDS, default 15), starting from a copy
# of the committed corpus so that a run never writes into the checkout. Needs the clang build.
fuzz_lane() {
        local seconds=${CAPFS_FUZZ_SECONDS:-15} target name work
        step "libFuzzer, ${seconds}s per target"
        work=$(mktemp -d /tmp/capfs-fuzz.XXXXXX) || return 0
        for target in build-asan/tests/fuzz/fuzz-*; do
                # The libFuzzer binaries only: not the replay programs, not meson's *.p directories.
                [[ -f $target && -x $target && $target != *-replay ]] || continue
                name=${target##*/fuzz-}
                mkdir -p "$work/$name"
                cp -r "tests/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null
                if "$target" -max_total_time="$seconds" -artifact_prefix="$work/$name-" "$work/$name" \
                        >"$work/$name.log" 2>&1; then
                        echo "fuzz-$name: $(grep -o 'Done [0-9]* runs' "$work/$name.log" | tail -n 1)"
                        extra_passed=$((extra_passed + 1))
                else
                        echo "fuzz-$name found a crash; the input is in $work (kept), its log:"
                        tail -n 30 "$work/$name.log"
                        fail_step "libFuzzer fuzz-$name"
                        work_keep=1
                fi
        done
        [[ ${work_keep:-} ]] || rm -rf "$work"
}

# bench/run --smoke: a few seconds of every benchmark, to prove it still runs. Fails only on
# errors (a failed read, a daemon that does not start), never on timings.
bench_smoke() {
        step "bench/run --smoke (build-test)"
        if ((EUID != 0)); then
                echo "skipped: the benchmark needs root"
                extra_skipped=$((extra_skipped + 1))
        elif bench/run --smoke --build build-test --out build-test/bench-smoke; then
                extra_passed=$((extra_passed + 1))
        else
                fail_step "bench/run --smoke"
        fi
}

# meson install of a fresh build into a scratch prefix (tests/install): the files, the unit
# (systemd-analyze verify), the installed binaries running with the installed library.
install_lane() {
        local logdir=build-test/meson-logs rc started=$SECONDS
        step "tests/install/test-install.sh"
        tests/install/test-install.sh . | tee "$logdir/install.tap"
        rc=${PIPESTATUS[0]}
        tap_log install "$rc" "$logdir/install.tap" "$logdir/install.json"
        logs+=("$logdir/install.json")
        ((rc == 0)) || failed_steps+=("tests/install/test-install.sh")
        # The Debian packages, built for bookworm and trixie and put through install, upgrade,
        # remove and purge in scratch roots of their suites.
        step "tests/install/test-deb.sh"
        mkdir -p build-test/debs
        CAPFS_TEST_DEBS=$PWD/build-test/debs tests/install/test-deb.sh | tee "$logdir/deb.tap"
        rc=${PIPESTATUS[0]}
        tap_log deb "$rc" "$logdir/deb.tap" "$logdir/deb.json"
        logs+=("$logdir/deb.json")
        ((rc == 0)) || failed_steps+=("tests/install/test-deb.sh")
        echo "(install: $((SECONDS - started))s)"
}

# The packages of test-deb.sh (build-test/debs) on Debian machines run by the real systemd
# (tests/vm/run --systemd): bookworm and trixie on pure cgroup2, bookworm on hybrid. Each boot
# installs the older build with apt and tests/systemd/test-host.sh upgrades to the newer one. The
# container is bookworm, and on the trixie host sid (systemd 258 or later, cgroup2 only), from the
# rootfs cache the e2e lane filled.
systemd_lane() {
        local logdir=build-test/meson-logs old=build-test/debs/debs-0.0.1+test1 new=build-test/debs/debs-0.0.1+test2
        local combo suite layout container lxc tree name rc started
        # HOST SUITE:CGROUP LAYOUT:capfs-launch's CONTAINER:LXC's container (the LXC lane of the
        # e2e suite covers hybrid hosts).
        for combo in bookworm:v2:bookworm:bookworm trixie:v2:sid:trixie bookworm:hybrid:bookworm:; do
                IFS=: read -r suite layout container lxc <<<"$combo"
                name=systemd-$suite-$layout started=$SECONDS
                step "tests/systemd/test-host.sh on Debian $suite run by systemd, cgroup $layout, a $container container${lxc:+, LXC with a $lxc one} (tests/vm/run --systemd)"
                if ((EUID != 0)); then
                        echo "skipped: needs root (qemu's cache, the rootfs caches)"
                        extra_skipped=$((extra_skipped + 1))
                        continue
                fi
                if ! compgen -G "$old/$suite/capfs_*.deb" >/dev/null || ! compgen -G "$new/$suite/capfs_*.deb" >/dev/null; then
                        echo "no $suite packages in $old and $new: tests/install/test-deb.sh did not build them"
                        fail_step "$name: no packages"
                        continue
                fi
                # The guest has no network: the containers' trees come from the host's cache.
                for tree in "$container" $lxc; do
                        tests/e2e/lib/rootfs.sh "$tree" >/dev/null || {
                                fail_step "$name: no $tree rootfs"
                                continue 2
                        }
                done
                tests/vm/run --systemd --suite "$suite" --cgroup "$layout" --memory 3G --timeout 1200 \
                        --env CAPFS_E2E_SUITE="$container" --env CAPFS_LXC_SUITE="$lxc" \
                        --deb "$(compgen -G "$old/$suite/capfs_*.deb")" --deb "$(compgen -G "$old/$suite/libcapfs0_*.deb")" -- \
                        tests/systemd/test-host.sh "$new/$suite" | tee "$logdir/$name.tap"
                rc=${PIPESTATUS[0]}
                tap_log "$name" "$rc" "$logdir/$name.tap" "$logdir/$name.json"
                logs+=("$logdir/$name.json")
                ((rc == 0)) || failed_steps+=("tests/systemd/test-host.sh ($suite, $layout)")
                echo "($name: $((SECONDS - started))s)"
        done
}

# The end-to-end suites on the host: real Debian rootfs (built once with debootstrap, cached in
# /var/cache/capfs-e2e), booted with capfs-launch and with LXC (tests/e2e), and the escape suite
# (tests/escape), all against the build-test binaries.
e2e_lane() {
        local started=$SECONDS
        run_suites build-test testlog-e2e --suite e2e --suite escape
        echo "(e2e and escape suites: $((SECONDS - started))s)"
}

# Counts the test points in meson's JSON logs. A TAP program counts each "ok"/"not ok" line (a
# "# SKIP" one as skipped, a "not ok # TODO" one as skipped too); a program that failed without
# saying "not ok" (a crash, a timeout) adds one failure, plus one for each planned point it never
# reached; a non-TAP program counts once.
summarize() {
        python3 - "$extra_passed" "$extra_failed" "$extra_skipped" "$@" <<'EOF'
import json, re, sys

passed, failed, skipped = (int(x) for x in sys.argv[1:4])
point = re.compile(r'^(not ok|ok)\b(.*)$')
plan = re.compile(r'^1\.\.(\d+)(.*)$')
for path in sys.argv[4:]:
    try:
        entries = [json.loads(line) for line in open(path) if line.strip()]
    except OSError:
        continue
    for t in entries:
        p = f = s = 0
        planned = None
        seen = 0
        for line in t.get('stdout', '').splitlines():
            m = plan.match(line)
            if m:
                planned = int(m.group(1))
                if planned == 0:
                    s += 1
                continue
            m = point.match(line)
            if not m:
                continue
            seen += 1
            directive = m.group(2).split('#', 1)[1].strip().upper() if '#' in m.group(2) else ''
            if directive.startswith('SKIP') or (m.group(1) == 'not ok' and directive.startswith('TODO')):
                s += 1
            elif m.group(1) == 'ok':
                p += 1
            else:
                f += 1
        result = t.get('result')
        if result not in ('OK', 'SKIP', 'EXPECTEDFAIL'):
            if f == 0:
                f = 1
            if planned is not None and planned > seen:
                f += planned - seen
        if p + f + s == 0:
            if result in ('OK', 'EXPECTEDFAIL'):
                p = 1
            elif result == 'SKIP':
                s = 1
            else:
                f = 1
        passed += p
        failed += f
        skipped += s
line = f'{passed} passed, {failed} failed'
if skipped:
    line += f', {skipped} skipped'
print(line)
EOF
}

started=$SECONDS
install_missing "${DEPS[@]}"

# The sanitizers must stop a test at the first report rather than print it and exit 0.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1

check_format
check_shell

if fresh_build build-test -Dwerror=true; then
        run_suites build-test testlog-unit --suite unit --suite fuzz-replay --suite deploy
        have_test=1
fi

# clang, so that the fuzz targets are also built for libFuzzer; a shared library built with clang's
# sanitizers leaves their runtime symbols to the executable, hence b_lundef=false.
if CC=clang fresh_build build-asan -Db_sanitize=address,undefined -Db_lundef=false; then
        run_suites build-asan testlog-unit --suite unit --suite fuzz-replay --timeout-multiplier 3
        fuzz_lane
        have_asan=1
fi

if [[ ${have_test:-} ]]; then
        run_suites build-test testlog-integration --suite integration
fi
if [[ ${have_asan:-} ]]; then
        run_suites build-asan testlog-integration --suite integration --timeout-multiplier 2
fi
if [[ ${have_test:-} ]]; then
        bench_smoke
        install_lane
        e2e_lane
        vm_lane
        systemd_lane
fi

step "summary ($((SECONDS - started))s)"
if ((${#failed_steps[@]})); then
        printf 'failed: %s\n' "${failed_steps[@]}"
fi
summary=$(summarize "${logs[@]}") || {
        summary="0 passed, 1 failed"
        failed_steps+=("summary")
}
echo "$summary"
[[ ${#failed_steps[@]} -eq 0 && $summary =~ ^[0-9]+\ passed,\ 0\ failed ]]
