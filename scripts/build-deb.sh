#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# scripts/build-deb.sh [--suite SUITE]... [--version VERSION] [--out DIR]: Debian packages of
# this checkout (as it is, uncommitted changes included): capfs and libcapfs0, for each SUITE
# (default: bookworm and trixie), checked with lintian (no errors allowed). Prints the paths of
# the .deb files, one per line.
#
# The host's own suite builds here (its build dependencies installed with apt-get); another suite
# builds in a chroot of it, made with debootstrap and kept in ${CAPFS_DEB_CACHE:-/var/cache/capfs-deb}
# (outside the checkout), rebuilt when its recipe changes. The version is the project's, then the
# commit's date and hash (0.1.0+git20261206.043512.dd080b1, with ".dirty" for uncommitted
# changes), then ~SUITE; --version replaces the part before ~SUITE (an upgrade test builds a
# newer one so).
set -euo pipefail

PROG=build-deb.sh
top=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
die() {
        echo "$PROG: $*" >&2
        exit 1
}
note() {
        echo "$PROG: $*" >&2
}

suites=() version='' out=$top/build-deb
while (($#)); do
        case $1 in
        --suite) suites+=("${2:?--suite needs a Debian codename}") && shift ;;
        --suite=*) suites+=("${1#*=}") ;;
        --version) version=${2:?--version needs a version} && shift ;;
        --version=*) version=${1#*=} ;;
        --out) out=${2:?--out needs a directory} && shift ;;
        --out=*) out=${1#*=} ;;
        -h | --help)
                sed -n '4,15s/^# \{0,1\}//p' "$0"
                exit 0
                ;;
        *) die "unknown argument '$1' (see --help)" ;;
        esac
        shift
done
((${#suites[@]})) || suites=(bookworm trixie)
((EUID == 0)) || die "needs root (apt-get, debootstrap, chroot); run it with sudo"
for s in "${suites[@]}"; do
        [[ $s =~ ^[a-z]+$ ]] || die "invalid suite '$s': expected a Debian codename such as bookworm or trixie"
done
[[ -z $version || $version =~ ^[0-9][A-Za-z0-9.+]*$ ]] ||
        die "invalid version '$version': digits first, then letters, digits, '.' and '+' (a native package has no '-')"

# shellcheck source=scripts/lib/packages.sh
source "$top/scripts/lib/packages.sh"
# shellcheck source=tests/e2e/lib/rootfs.sh
source "$top/tests/e2e/lib/rootfs.sh"

BUILD_DEPS=(build-essential debhelper fakeroot lintian meson ninja-build pkgconf python3 libglib2.0-dev
        libfuse3-dev libcap-dev libseccomp-dev libjson-glib-dev)
# Bump when the chroots' recipe changes.
CHROOT_RECIPE=1

project_version=$(sed -n "s/^ *version: '\([^']*\)'.*/\1/p" "$top/meson.build" | head -n 1)
[[ -n $project_version ]] || die "no version: in $top/meson.build"
if [[ -z $version ]]; then
        if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
                stamp=$(TZ=UTC0 git -C "$top" log -1 --format=%cd --date=format-local:%Y%m%d.%H%M%S)
                version=$project_version+git$stamp.$(git -C "$top" rev-parse --short=7 HEAD)
                [[ -z $(git -C "$top" status --porcelain --untracked-files=no) ]] || version+=.dirty
        else
                version=$project_version
        fi
fi

host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
work=$(mktemp -d /var/tmp/capfs-deb.XXXXXX)
mounted=()
cleanup() {
        local m
        for m in "${mounted[@]}"; do
                umount -l "$m" 2>/dev/null || true
        done
        rm -rf --one-file-system "$work"
}
trap cleanup EXIT
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The checkout's files as they are now: tracked ones and untracked ones git does not ignore.
export_source() {
        local dest=$1
        mkdir -p "$dest"
        if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
                (cd "$top" && git ls-files -z --cached --others --exclude-standard |
                        xargs -0 -r tar --no-recursion -cf - --ignore-failed-read) | tar -xf - -C "$dest"
        else
                tar -C "$top" --exclude='./build*' -cf - . | tar -xf - -C "$dest"
        fi
}

# debian/changelog with VERSION on top (the committed one stays as it is).
write_changelog() {
        local dir=$1 v=$2 suite=$3 rest
        rest=$(cat "$dir/debian/changelog")
        {
                printf 'capfs (%s) %s; urgency=medium\n\n  * Built from the checkout by scripts/build-deb.sh.\n\n' "$v" "$suite"
                printf ' -- capfs developers <capfs-dev@lists.example.org>  %s\n\n' "$(date -R)"
                printf '%s\n' "$rest"
        } >"$dir/debian/changelog"
}

# A chroot of SUITE with the build dependencies, cached; prints its path.
build_chroot() {
        local suite=$1 cache dir stamp tmp
        cache=${CAPFS_DEB_CACHE:-/var/cache/capfs-deb}
        dir=$cache/$suite
        stamp="recipe=$CHROOT_RECIPE deps=${BUILD_DEPS[*]}"
        mkdir -p "$cache"
        if [[ -f $dir/.capfs-deb-chroot && "$(cat "$dir/.capfs-deb-chroot")" == "$stamp" ]]; then
                echo "$dir"
                return 0
        fi
        install_missing debootstrap >&2
        tmp=$(mktemp -d "$cache/.build-$suite.XXXXXX")
        note "making a $suite build chroot in $dir (debootstrap and the build dependencies, a few minutes)"
        if ! debootstrap --variant=buildd "$suite" "$tmp" "$(capfs_rootfs_mirror)" >"$cache/.$suite.log" 2>&1; then
                tail -n 20 "$cache/.$suite.log" >&2
                rm -rf --one-file-system "$tmp"
                die "debootstrap of $suite failed (log: $cache/.$suite.log)"
        fi
        mount -t proc proc "$tmp/proc"
        mounted+=("$tmp/proc")
        cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
        if ! { chroot "$tmp" apt-get update && chroot "$tmp" env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y --no-install-recommends "${BUILD_DEPS[@]}"; } >>"$cache/.$suite.log" 2>&1; then
                tail -n 20 "$cache/.$suite.log" >&2
                umount -l "$tmp/proc"
                rm -rf --one-file-system "$tmp"
                die "installing the build dependencies in the $suite chroot failed (log: $cache/.$suite.log)"
        fi
        umount -l "$tmp/proc"
        chroot "$tmp" apt-get clean
        echo "$stamp" >"$tmp/.capfs-deb-chroot"
        [[ -e $dir ]] && rm -rf --one-file-system "$dir"
        mv -T "$tmp" "$dir"
        echo "$dir"
}

debs=()
for suite in "${suites[@]}"; do
        v=$version~$suite
        # systemd.pc (where units go) is in systemd-dev since trixie, in systemd before.
        case $suite in
        buster | bullseye | bookworm) BUILD_DEPS+=(systemd) ;;
        *) BUILD_DEPS+=(systemd-dev) ;;
        esac
        if [[ $suite == "$host_suite" ]]; then
                install_missing "${BUILD_DEPS[@]}" >&2
                root=/
                src=$work/$suite/capfs-$v
        else
                root=$(build_chroot "$suite")
                mkdir -p "$root/build"
                src=$root/build/$(basename "$work")/capfs-$v
                mount -t proc proc "$root/proc"
                mounted+=("$root/proc")
        fi
        rm -rf "$src"
        export_source "$src"
        write_changelog "$src" "$v" "$suite"
        note "building capfs $v for $suite"
        if [[ $root == / ]]; then
                (cd "$src" && DEB_BUILD_OPTIONS=noautodbgsym dpkg-buildpackage -us -uc -b) >"$work/$suite.log" 2>&1 || {
                        tail -n 40 "$work/$suite.log" >&2
                        die "dpkg-buildpackage for $suite failed"
                }
        else
                chroot "$root" sh -c "cd '${src#"$root"}' && DEB_BUILD_OPTIONS=noautodbgsym dpkg-buildpackage -us -uc -b" \
                        >"$work/$suite.log" 2>&1 || {
                        tail -n 40 "$work/$suite.log" >&2
                        die "dpkg-buildpackage in the $suite chroot failed"
                }
        fi
        parent=$(dirname "$src")
        lintian_args=(--fail-on error --suppress-tags-from-file /dev/null)
        for deb in "$parent"/*.deb; do
                if [[ $root == / ]]; then
                        lint=$(lintian "${lintian_args[@]}" "$deb" 2>&1) || {
                                echo "$lint" >&2
                                die "lintian found errors in $(basename "$deb")"
                        }
                else
                        cp "$deb" "$root/tmp/"
                        lint=$(chroot "$root" lintian "${lintian_args[@]}" "/tmp/$(basename "$deb")" 2>&1) || {
                                echo "$lint" >&2
                                die "lintian found errors in $(basename "$deb") ($suite)"
                        }
                        rm -f "$root/tmp/$(basename "$deb")"
                fi
                # lintian's remark on running as root is about lintian, not the package.
                lint=$(grep -v 'running with root privileges' <<<"$lint" || true)
                [[ -n $lint ]] && note "lintian, $(basename "$deb"): $(tr '\n' ';' <<<"$lint")"
                mkdir -p "$out/$suite"
                cp "$deb" "$out/$suite/"
                debs+=("$out/$suite/$(basename "$deb")")
        done
        [[ $root == / ]] || rm -rf --one-file-system "$(dirname "$parent")"
        unset 'BUILD_DEPS[-1]'
done
printf '%s\n' "${debs[@]}"
