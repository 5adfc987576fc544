#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# A cached Debian root filesystem with systemd for the end-to-end tests.
#
#   tests/e2e/lib/rootfs.sh [SUITE [FLAVOUR]]   prints the path of a ready rootfs (default: bookworm)
#   source tests/e2e/lib/rootfs.sh; dir=$(capfs_rootfs trixie)
#
# FLAVOUR "runtimes" adds what tests/e2e/test-runtimes.sh runs: Debian's OpenJDK (the JDK, to
# compile tests/e2e/RuntimeProbe.java into /opt/capfs once, at build time), Node.js, Python,
# busybox-static and procps; it is kept apart, in SUITE-runtimes.
#
# FLAVOUR "host" is the machine tests/vm/run --systemd boots: systemd as PID 1 with what the capfs
# packages depend on already installed (the guest has no network, and `apt install ./capfs_*.deb`
# must find them), Debian's LXC, and the tools the tests in that lane run; kept in SUITE-host.
#
# The tree is built with debootstrap (minbase variant, so no services the tests do not need) from
# the Debian mirror the host's apt uses, and kept in ${CAPFS_E2E_CACHE:-/var/cache/capfs-e2e}/SUITE,
# outside the checkout. It is rebuilt when it is missing, when a build was interrupted, or when
# the recipe below changed: each build happens in a scratch directory beside it, gets a stamp file
# describing the recipe as its last step, and only then is renamed into place; a lock serialises
# concurrent callers so only one of them builds.
#
# Treat the tree as read-only: booting systemd writes to its root (journal, random seed, ...), so
# a container should run on an overlay of it or a copy, never on the cached tree itself.
#
# What the e2e assertions need is in it: systemd as init, dbus (systemctl set-property and
# systemd-run talk to PID 1 over it), procps (free), util-linux and mount. The memory hog that must
# be OOM-killed needs nothing extra: `head -c 100M /dev/zero | tail -n 1` makes tail hold and
# touch the whole newline-free stream.
#
# Environment: CAPFS_E2E_CACHE (cache directory), CAPFS_E2E_MIRROR (Debian mirror URL; default:
# the first Debian mirror in the host's apt sources, else http://deb.debian.org/debian).

# Bump when the way the tree is built changes in a way the stamp below would not notice.
CAPFS_ROOTFS_RECIPE=2
CAPFS_ROOTFS_PACKAGES=systemd,systemd-sysv,dbus,procps,util-linux,mount
# Installed with apt-get in the tree (their maintainer scripts need /proc, which debootstrap's
# second stage does not give them all).
CAPFS_ROOTFS_RUNTIMES="openjdk-17-jdk-headless nodejs python3 busybox-static procps"
# Those of the capfs packages (debian/control and the shared libraries they link), as apt-get
# satisfy takes them: glib's package was renamed for the 64-bit time_t transition in trixie, and
# fuse3 brings the libfuse3 of its suite.
CAPFS_ROOTFS_HOST_DEPENDS="fuse3, libcap2, libseccomp2, libglib2.0-0t64 | libglib2.0-0, libjson-glib-1.0-0, lxc, procps, iproute2, kmod"
# Generous: a cold build downloads about 40 MB and unpacks about 120 packages.
CAPFS_ROOTFS_LOCK_TIMEOUT=1200

# The Debian mirror from the host's apt sources (one-line and deb822 formats): the URI of the
# first source that is not the security archive.
capfs_rootfs_mirror() {
        local file line uri
        if [[ -n ${CAPFS_E2E_MIRROR:-} ]]; then
                echo "$CAPFS_E2E_MIRROR"
                return
        fi
        for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
                [[ -r $file ]] || continue
                while read -r line; do
                        case $line in
                        deb\ * | URIs:*) ;;
                        *) continue ;;
                        esac
                        # Strip the keyword and one-line options such as [signed-by=...].
                        line=${line#deb }
                        line=${line#URIs:}
                        line=$(sed -E 's/^[[:space:]]*(\[[^]]*\][[:space:]]*)?//' <<<"$line")
                        uri=${line%%[[:space:]]*}
                        [[ $uri == */debian && $uri != *security* ]] && {
                                echo "$uri"
                                return
                        }
                done <"$file"
        done
        echo http://deb.debian.org/debian
}

# What decides whether a cached tree is still the one this recipe builds.
capfs_rootfs_stamp() {
        local suite=$1 flavour=${2:-}
        printf 'recipe=%s\nsuite=%s\nvariant=minbase\npackages=%s\n' \
                "$CAPFS_ROOTFS_RECIPE" "$suite" "$CAPFS_ROOTFS_PACKAGES"
        if [[ $flavour == host ]]; then
                printf 'host=%s\n' "$CAPFS_ROOTFS_HOST_DEPENDS"
        fi
        if [[ $flavour == runtimes ]]; then
                printf 'runtimes=%s\nprobe=%s\n' "$CAPFS_ROOTFS_RUNTIMES" \
                        "$(sha256sum <"$(dirname "${BASH_SOURCE[0]}")/../RuntimeProbe.java" | cut -d' ' -f1)"
        fi
}

# capfs_rootfs SUITE: prints the path of a ready rootfs for SUITE, building it first if needed.
# Runs in a subshell so its helpers, traps and exits never touch the caller's.
capfs_rootfs() (
        set -euo pipefail
        PROG=rootfs.sh
        suite=${1:-bookworm}
        flavour=${2:-}
        die() {
                echo "$PROG: $*" >&2
                exit 1
        }
        note() {
                echo "$PROG: $*" >&2
        }
        [[ $suite =~ ^[a-z]+$ ]] || die "invalid suite '$suite': expected a Debian codename such as bookworm or trixie"
        [[ -z $flavour || $flavour == runtimes || $flavour == host ]] ||
                die "invalid flavour '$flavour': expected nothing, 'runtimes' or 'host'"

        cache=${CAPFS_E2E_CACHE:-/var/cache/capfs-e2e}
        mkdir -p "$cache" || die "cannot create the cache directory $cache; set CAPFS_E2E_CACHE to a writable directory"
        cache=$(cd "$cache" && pwd -P)
        checkout=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd -P)
        case $cache/ in
        "$checkout"/*) die "the cache $cache must be outside the checkout $checkout" ;;
        esac
        name=$suite${flavour:+-$flavour}
        dir=$cache/$name
        stamp_name=.capfs-e2e-rootfs
        want=$(capfs_rootfs_stamp "$suite" "$flavour")

        ready() {
                [[ -f $dir/$stamp_name && -x $dir/lib/systemd/systemd ]] && [[ "$(cat "$dir/$stamp_name")" == "$want" ]]
        }
        # Fast path without the lock: the stamp is written before the rename, so its presence
        # means the whole tree is there.
        if ready; then
                echo "$dir"
                return 0
        fi

        [[ $EUID -eq 0 ]] || die "building the $suite rootfs needs root (debootstrap); run as root"
        exec {lock_fd}>"$cache/.$name.lock"
        flock -w "$CAPFS_ROOTFS_LOCK_TIMEOUT" "$lock_fd" ||
                die "timed out after ${CAPFS_ROOTFS_LOCK_TIMEOUT}s waiting for another build of $dir ($cache/.$name.lock)"
        if ready; then
                echo "$dir"
                return 0
        fi

        # shellcheck source=scripts/lib/packages.sh
        source "$checkout/scripts/lib/packages.sh"
        # apt-get talks on stdout, which carries only the path.
        install_missing debootstrap >&2

        # Anything a killed build left mounted (debootstrap mounts /proc and /sys in the target)
        # must go before its tree can be removed; only trees below our own scratch paths qualify.
        remove_tree() {
                local tree=$1 mnt
                [[ -e $tree ]] || return 0
                while read -r mnt; do
                        umount -l "$mnt" || die "cannot unmount $mnt left by a build in $tree"
                done < <(findmnt -rn -o TARGET | grep -F "$tree/" | sort -r)
                rm -rf --one-file-system "$tree"
        }
        # Holding the lock, any scratch tree is from a build that died.
        for stale in "$cache/.build-$name".* "$cache/.old-$name".*; do
                [[ -e $stale ]] && remove_tree "$stale"
        done

        tmp=$(mktemp -d "$cache/.build-$name.XXXXXX")
        trap 'remove_tree "$tmp"' EXIT
        mirror=$(capfs_rootfs_mirror)
        note "building the Debian $suite rootfs in $dir from $mirror (debootstrap, about a minute)"
        started=$SECONDS
        # debootstrap's log is long; keep it and show its tail only when it fails.
        if ! debootstrap --variant=minbase --include="$CAPFS_ROOTFS_PACKAGES" "$suite" "$tmp" "$mirror" \
                >"$cache/.$name.log" 2>&1; then
                tail -n 30 "$cache/.$name.log" >&2
                die "debootstrap of $suite from $mirror failed (log: $cache/.$name.log)"
        fi

        # mktemp made the directory 0700: as the root of a container (podman's --rootfs DIR:O
        # keeps its mode), no service could reach anything below it once it drops root.
        chmod 0755 "$tmp"
        echo "capfs-$suite" >"$tmp/etc/hostname"
        printf '127.0.0.1\tlocalhost\n127.0.1.1\tcapfs-%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
                "$suite" >"$tmp/etc/hosts"
        # No login with an empty password: lock root's unless debootstrap already did ('*').
        if awk -F: '$1 == "root" && $2 !~ /^[*!]/ { found = 1 } END { exit !found }' "$tmp/etc/shadow"; then
                chroot "$tmp" usermod --lock root || die "cannot lock root's password in $tmp"
        fi
        # apt_in_tree WHAT APT-GET-ARGS...: apt-get update, then apt-get APT-GET-ARGS, in the tree
        # with /proc mounted (left mounted for what follows; unmounted below).
        apt_in_tree() {
                local what=$1
                shift
                mountpoint -q "$tmp/proc" || mount -t proc proc "$tmp/proc" || die "cannot mount /proc in $tmp"
                cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
                if ! { chroot "$tmp" apt-get update &&
                        chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get "$@"; } >>"$cache/.$name.log" 2>&1; then
                        tail -n 30 "$cache/.$name.log" >&2
                        die "installing $what in $tmp failed (log: $cache/.$name.log)"
                fi
        }
        if [[ $flavour == host ]]; then
                note "installing $CAPFS_ROOTFS_HOST_DEPENDS into it"
                apt_in_tree "$CAPFS_ROOTFS_HOST_DEPENDS" satisfy -y --no-install-recommends "$CAPFS_ROOTFS_HOST_DEPENDS"
        fi
        if [[ $flavour == runtimes ]]; then
                note "installing $CAPFS_ROOTFS_RUNTIMES into it (about 150 MB)"
                # shellcheck disable=SC2086 # a list of packages
                apt_in_tree "$CAPFS_ROOTFS_RUNTIMES" install -y --no-install-recommends $CAPFS_ROOTFS_RUNTIMES
                mkdir -p "$tmp/opt/capfs"
                cp "$(dirname "${BASH_SOURCE[0]}")/../RuntimeProbe.java" "$tmp/opt/capfs/"
                chroot "$tmp" javac -d /opt/capfs /opt/capfs/RuntimeProbe.java >>"$cache/.$name.log" 2>&1 ||
                        die "cannot compile RuntimeProbe.java in $tmp (log: $cache/.$name.log)"
        fi
        if mountpoint -q "$tmp/proc"; then
                umount "$tmp/proc" || die "cannot unmount $tmp/proc"
                chroot "$tmp" apt-get clean
        fi
        rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*_Packages

        capfs_rootfs_stamp "$suite" "$flavour" >"$tmp/$stamp_name"
        if [[ -e $dir ]]; then
                old=$(mktemp -u "$cache/.old-$name.XXXXXX")
                mv -T "$dir" "$old"
        fi
        mv -T "$tmp" "$dir"
        trap - EXIT
        [[ -n ${old:-} ]] && remove_tree "$old"
        note "built $dir in $((SECONDS - started))s"
        echo "$dir"
)

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
        case ${1:-} in
        -h | --help)
                sed -n '5,30s/^# \{0,1\}//p' "$0"
                exit 0
                ;;
        esac
        capfs_rootfs "${1:-bookworm}" "${2:-}"
fi
