#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `meson install` of a fresh build into a scratch prefix puts capfs, capfs-launch, libcapfs, the
# LXC files and capfs.service where a distribution expects them, and systemd accepts the unit.
# The installed capfs runs from there (--version, --help) with the installed libcapfs.
#
#   tests/install/test-install.sh SOURCE_DIR
# TAP on stdout.
set -uo pipefail

SRC=$(readlink -f "${1:-.}")
# shellcheck source=tests/install/tap.sh
source "$(dirname "$(readlink -f "$0")")/tap.sh"

WORK=$(mktemp -d /tmp/capfs-install-test.XXXXXX) || exit 1
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix

if ! meson setup "$WORK/build" "$SRC" --prefix="$PREFIX" -Dbuildtype=release >"$WORK/setup.log" 2>&1 ||
        ! meson install -C "$WORK/build" --quiet >"$WORK/install.log" 2>&1; then
        echo "not ok 1 - meson setup, build and install into $PREFIX"
        sed 's/^/# /' "$WORK/setup.log" "$WORK/install.log" | tail -n 30
        echo "1..1"
        exit 1
fi
ok "meson install into a scratch prefix"

libdir=$(meson introspect --buildoptions "$WORK/build" |
        python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"))')
unit=$(find "$PREFIX" -path '*/systemd/system/capfs.service' | head -n 1)
for f in sbin/capfs sbin/capfs-launch sbin/capfs-fdstore libexec/capfs/capfs-mount-hook libexec/capfs/capfs-oci-hook \
        share/capfs/lxc/capfs.conf share/capfs/lxc/capfs.seccomp share/containers/oci/hooks.d/capfs.json \
        share/doc/capfs/README.md; do
        check "installed: $f" test -s "$PREFIX/$f"
done
check "installed: $libdir/libcapfs.so.0 (the library a reload loads)" test -e "$PREFIX/$libdir/libcapfs.so.0"
check "executable: sbin/capfs, sbin/capfs-launch, sbin/capfs-fdstore, the LXC and OCI hooks" \
        test -x "$PREFIX/sbin/capfs" -a -x "$PREFIX/sbin/capfs-launch" -a -x "$PREFIX/sbin/capfs-fdstore" -a -x "$PREFIX/libexec/capfs/capfs-mount-hook" \
        -a -x "$PREFIX/libexec/capfs/capfs-oci-hook"
check "the hooks.d file names the installed OCI hook" \
        grep -q "\"path\": \"$PREFIX/libexec/capfs/capfs-oci-hook\"" "$PREFIX/share/containers/oci/hooks.d/capfs.json"
check "installed: capfs.service under lib/systemd/system" test -n "$unit"
for page in man8/capfs.8 man1/capfs-launch.1 man8/capfs-fdstore.8; do
        check "installed: share/man/$page" test -s "$PREFIX/share/man/$page"
        # man's own checks (groff warnings), on the page as installed.
        check "man -l renders share/man/$page without warnings" \
                test -z "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$PREFIX/share/man/$page" 2>&1 >/dev/null)"
done
nothing_else=$(find "$PREFIX" -type f | grep -vE '/(sbin/capfs(-launch|-fdstore)?|lib.*/libcapfs\.so[.0-9]*|libexec/capfs/capfs-(mount|oci)-hook|share/capfs/lxc/.*|share/containers/oci/hooks\.d/capfs\.json|share/doc/capfs/README\.md|share/man/man8/capfs(-fdstore)?\.8|share/man/man1/capfs-launch\.1|systemd/system/capfs\.service)$')
check "nothing else installed (no tests, benchmarks or probes)" test -z "$nothing_else"

if [[ -n "$unit" ]]; then
        check "capfs.service runs the installed capfs" grep -qx "ExecStart=$PREFIX/sbin/capfs --foreground /var/lib/capfs" "$unit"
        check "capfs.service reloads with capfs --upgrade" grep -qx "ExecReload=$PREFIX/sbin/capfs --upgrade /var/lib/capfs" "$unit"
        check "capfs.service keeps the FUSE connection in the fd store" grep -q '^FileDescriptorStoreMax=[1-9]' "$unit"
        check "capfs.service: OOMScoreAdjust below 0" grep -qE '^OOMScoreAdjust=-[0-9]+' "$unit"
        if command -v systemd-analyze >/dev/null; then
                check "systemd-analyze verify capfs.service" systemd-analyze verify "$unit"
        else
                echo "ok $((n += 1)) - systemd-analyze verify capfs.service # SKIP systemd-analyze not installed"
        fi
fi

export LD_LIBRARY_PATH=$PREFIX/$libdir
check "the installed capfs runs: --version" "$PREFIX/sbin/capfs" --version
check "the installed capfs uses the installed libcapfs" \
        bash -c "ldd '$PREFIX/sbin/capfs' | grep -q '$PREFIX/$libdir/libcapfs.so'"
check "the installed capfs-launch runs: --version" "$PREFIX/sbin/capfs-launch" --version
check "the installed capfs-fdstore runs: --help" "$PREFIX/sbin/capfs-fdstore" --help

echo "1..$n"
((failed == 0))
