#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/install/test-deb.sh [SUITE...]: the Debian packages of this checkout (scripts/build-deb.sh;
# default suites bookworm and trixie), each installed, upgraded to a newer version, removed and
# purged with apt and dpkg in a scratch Debian root of its suite (an overlay of
# tests/e2e/lib/rootfs.sh's cached tree), as a user would: what lands where, that the programs
# run and the manual pages render, that an upgrade only reloads the service (its maintainer
# scripts, read back), and that purge leaves nothing. No systemd runs in the scratch root, so the
# service itself is not started here: tests/vm/run --systemd is where that is checked.
set -uo pipefail

top=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$top/tests/e2e/lib/rootfs.sh"
# shellcheck source=tests/install/tap.sh
source "$top/tests/install/tap.sh"

((EUID == 0)) || {
        echo "1..0 # SKIP needs root (dpkg in a scratch root, debootstrap)"
        exit 0
}
suites=("$@")
((${#suites[@]})) || suites=(bookworm trixie)

WORK=$(mktemp -d /var/tmp/capfs-test-deb.XXXXXX) || exit 1
mounts=()
cleanup() {
        local i
        for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
                umount -l "${mounts[i]}" 2>/dev/null
        done
        rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

# Two builds: the one under test and a newer one to upgrade to, kept in CAPFS_TEST_DEBS when it is
# set (scripts/test.sh's systemd lane installs the same packages on a machine run by systemd).
old_version=0.0.1+test1 new_version=0.0.1+test2
debs=${CAPFS_TEST_DEBS:-$WORK}
for v in "$old_version" "$new_version"; do
        args=()
        for s in "${suites[@]}"; do args+=(--suite "$s"); done
        rm -rf "$debs/debs-$v"
        if ! "$top/scripts/build-deb.sh" "${args[@]}" --version "$v" --out "$debs/debs-$v" >"$WORK/build-$v.log" 2>&1; then
                sed 's/^/# /' "$WORK/build-$v.log" | tail -n 30
                bail "scripts/build-deb.sh --version $v failed"
        fi
done
ok "scripts/build-deb.sh builds ${suites[*]} packages, lintian without errors"

in_root() {
        chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}

for suite in "${suites[@]}"; do
        base=$(capfs_rootfs "$suite") || bail "no $suite rootfs (tests/e2e/lib/rootfs.sh $suite)"
        root=$WORK/root-$suite
        mkdir -p "$root" "$WORK/upper-$suite" "$WORK/work-$suite"
        mount -t overlay "capfs-deb-$suite" \
                -o "lowerdir=$base,upperdir=$WORK/upper-$suite,workdir=$WORK/work-$suite" "$root" ||
                bail "cannot mount an overlay of $base"
        mounts+=("$root")
        mount -t proc proc "$root/proc" && mounts+=("$root/proc")
        cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
        mkdir -p "$root/debs"
        cp "$debs/debs-$old_version/$suite"/*.deb "$root/debs/"
        old_capfs=$(basename "$debs/debs-$old_version/$suite"/capfs_*.deb)
        old_lib=$(basename "$debs/debs-$old_version/$suite"/libcapfs0_*.deb)

        if out=$(in_root sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends ./debs/$old_capfs ./debs/$old_lib" 2>&1); then
                ok "$suite: apt installs capfs and libcapfs0 with their dependencies"
        else
                not_ok "$suite: apt installs capfs and libcapfs0 with their dependencies" "$(tail -n 20 <<<"$out")"
                continue
        fi
        for f in /usr/sbin/capfs /usr/sbin/capfs-launch; do
                check "$suite: $f is installed and runs" in_root "$f" --version
        done
        check "$suite: the LXC hook is installed and runs" in_root /usr/libexec/capfs/capfs-mount-hook --help
        check "$suite: the OCI hook is installed and runs" in_root /usr/libexec/capfs/capfs-oci-hook --help
        check "$suite: capfs-fdstore (Kubernetes) is installed and runs" in_root /usr/sbin/capfs-fdstore --help
        check "$suite: podman's and CRI-O's hooks.d file names it" \
                grep -q '"path": "/usr/libexec/capfs/capfs-oci-hook"' "$root/usr/share/containers/oci/hooks.d/capfs.json"
        unit=$(in_root dpkg -L capfs | grep '/systemd/system/capfs.service$')
        check "$suite: the unit is installed ($unit)" test -n "$unit"
        check "$suite: the unit runs /usr/sbin/capfs" grep -qx 'ExecStart=/usr/sbin/capfs --foreground /var/lib/capfs' "$root$unit"
        check "$suite: the unit is enabled (multi-user.target wants it)" \
                test -L "$root/etc/systemd/system/multi-user.target.wants/capfs.service"
        check "$suite: the LXC snippet names the installed hook" \
                grep -qx 'lxc.hook.mount = /usr/libexec/capfs/capfs-mount-hook' "$root/usr/share/capfs/lxc/capfs.conf"
        check "$suite: the daemon finds the installed libcapfs.so.0" \
                in_root sh -c "ldd /usr/sbin/capfs | grep -q 'libcapfs.so.0 => /.*/libcapfs.so.0 '"
        for page in capfs.8 capfs-launch.1 capfs-fdstore.8; do
                section=${page##*.}
                warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/man$section/$page.gz" 2>&1 >/dev/null)
                check "$suite: man -l $page renders without warnings" test -z "$warnings"
        done
        check "$suite: the upgrade reloads the service (postinst)" \
                grep -q 'deb-systemd-invoke reload capfs.service' "$root/var/lib/dpkg/info/capfs.postinst"
        check "$suite: ... and never restarts it (no restart in postinst)" \
                not grep -Eq 'deb-systemd-invoke.*(restart|\$_dh_action)' "$root/var/lib/dpkg/info/capfs.postinst"
        check "$suite: an upgrade never stops it (prerm stops only on remove)" \
                grep -q '"$1" = remove' "$root/var/lib/dpkg/info/capfs.prerm"

        new_capfs=$(basename "$debs/debs-$new_version/$suite"/capfs_*.deb)
        new_lib=$(basename "$debs/debs-$new_version/$suite"/libcapfs0_*.deb)
        cp "$debs/debs-$new_version/$suite"/*.deb "$root/debs/"
        if out=$(in_root apt-get install -y -q --no-install-recommends "./debs/$new_capfs" "./debs/$new_lib" 2>&1); then
                ok "$suite: apt upgrades to the newer version"
        else
                not_ok "$suite: apt upgrades to the newer version" "$(tail -n 20 <<<"$out")"
        fi
        check "$suite: the newer version is installed" \
                test "$(in_root dpkg-query -W -f '${Version}' capfs)" = "$new_version~$suite"

        check "$suite: apt removes capfs" in_root apt-get remove -y -q capfs libcapfs0
        check "$suite: dpkg purges them" in_root dpkg --purge capfs libcapfs0
        left=$(cd "$WORK/upper-$suite" && find . \( -path ./debs -o -path ./var/lib/apt -o -path ./var/cache \
                -o -path ./var/log -o -path ./var/lib/dpkg -o -path ./etc/resolv.conf -o -path ./tmp \) -prune -o \
                \( -iname '*capfs*' -print \) 2>/dev/null)
        check "$suite: purge leaves no capfs file behind" test -z "$left"
        [[ -z $left ]] || echo "# left: $(tr '\n' ' ' <<<"$left")"
        umount -l "$root/proc"
        umount -l "$root"
done
echo "1..$n"
((failed == 0))
