#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/e2e/lib/cgroup-root.sh COMMAND...: runs COMMAND with the cgroup hierarchies remounted at
# /sys/fs/cgroup as this process's cgroup namespace shows them, so that the roots of that
# namespace look like the roots of their trees. Run it in a new mount namespace and a cgroup
# namespace rooted at the cgroups that are to be the tops, new or entered:
#
#   (cg_join NAME && exec unshare -m --propagation private --cgroup -- cgroup-root.sh dockerd ...)
#   (cg_join NAME/capfs-test-engine && exec nsenter --cgroup=/proc/HOLDER/ns/cgroup -- \
#           unshare -m --propagation private -- cgroup-root.sh podman ...)
#
# Container engines (podman with the cgroupfs manager, conmon) put their cgroups at absolute
# paths from the top of each hierarchy ("/libpod_parent/..."), and this machine's cgroups are not
# the tests' to fill: seen from here, the top is the test's own capfs-test-* cgroup. What the
# engine mounts and runs stays in these namespaces; its containers' cgroups are real ones below
# the test's, which the host (and capfs) sees at their full paths.
set -euo pipefail

[[ $# -gt 0 ]] || {
        echo "usage: cgroup-root.sh COMMAND..." >&2
        exit 2
}
[[ $(readlink /proc/self/ns/cgroup) != "$(readlink /proc/1/ns/cgroup)" &&
        $(readlink /proc/self/ns/mnt) != "$(readlink /proc/1/ns/mnt)" ]] || {
        echo "cgroup-root.sh: run it in a new mount namespace and a cgroup namespace of its own" >&2
        exit 2
}

if [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]]; then
        # The kernel refuses a file system mounted right on top of itself (EBUSY): a tmpfs
        # between them.
        mount -t tmpfs -o mode=755,nosuid,nodev,noexec capfs-test-cgroup /sys/fs/cgroup
        mount -t cgroup2 capfs-test-cgroup2 /sys/fs/cgroup
else
        # Each hierarchy as mounted below /sys/fs/cgroup (its super options name the controllers
        # and must match to mount the same hierarchy again), and the links between them.
        mapfile -t hierarchies < <(awk '$5 ~ "^/sys/fs/cgroup/" {
                for (i = 7; $i != "-"; i++) ;
                if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $(i + 1), $5, $(i + 3)
        }' /proc/self/mountinfo)
        mapfile -t links < <(find /sys/fs/cgroup -mindepth 1 -maxdepth 1 -type l -printf '%f %l\n')
        mount -t tmpfs -o mode=755,nosuid,nodev,noexec capfs-test-cgroup /sys/fs/cgroup
        for h in "${hierarchies[@]}"; do
                read -r fstype dir options <<<"$h"
                mkdir -p "$dir"
                if [[ $fstype == cgroup2 ]]; then
                        mount -t cgroup2 cgroup2 "$dir"
                else
                        mount -t cgroup -o "$options" cgroup "$dir"
                fi
        done
        for l in "${links[@]}"; do
                read -r name target <<<"$l"
                ln -s "$target" "/sys/fs/cgroup/$name"
        done
fi
# The engine itself moves to a cgroup of its own below the top: on cgroup2 a cgroup holding
# processes cannot hand controllers down, and the engine hands them down from the top.
while read -r dir; do
        mkdir -p "$dir/capfs-test-engine"
        if [[ -e $dir/cpuset.cpus && ! -e $dir/cgroup.controllers ]]; then
                cat "$dir/cpuset.cpus" >"$dir/capfs-test-engine/cpuset.cpus"
                cat "$dir/cpuset.mems" >"$dir/capfs-test-engine/cpuset.mems"
        fi
        echo $$ >"$dir/capfs-test-engine/cgroup.procs"
done < <(awk '$5 ~ "^/sys/fs/cgroup(/|$)" {
        for (i = 7; $i != "-"; i++) ;
        if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5
}' /proc/self/mountinfo | sort -u)
exec "$@"
