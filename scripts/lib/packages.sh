# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Installing Debian packages only when missing, shared by run.sh and test.sh, without starting
# the services they bring. The sourcing script
# defines die() and sets PROG (its name, for messages).

# dpkg-query rather than `command -v`: headers and .pc files have no command to look for.
missing_packages() {
        local pkg
        for pkg in "$@"; do
                if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != installed ]]; then
                        echo "$pkg"
                fi
        done
}

install_missing() {
        local -a missing
        command -v dpkg-query >/dev/null || die "dpkg-query not found: this script expects Debian or Ubuntu;" \
                "install these by hand: $*"
        mapfile -t missing < <(missing_packages "$@")
        ((${#missing[@]} == 0)) && return 0
        [[ $EUID -eq 0 ]] || die "missing packages: ${missing[*]}; run as root or install them first"
        echo "$PROG: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q || die "apt-get update failed"
        # Packages with services (docker.io, containerd, lxcfs) would start them, machine-wide:
        # a policy-rc.d that refuses keeps invoke-rc.d from doing so while we install (one the
        # machine already has stays as it is).
        local policy=/usr/sbin/policy-rc.d made_policy=false
        if [[ ! -e $policy ]]; then
                printf '#!/bin/sh\n# capfs test.sh: no services started while it installs packages\nexit 101\n' >"$policy" &&
                        chmod 755 "$policy" && made_policy=true
        fi
        apt-get install -y -q --no-install-recommends "${missing[@]}"
        local status=$?
        $made_policy && rm -f "$policy"
        ((status == 0)) || die "apt-get install failed"
}
