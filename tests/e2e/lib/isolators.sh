# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check_isolators CGROUP KNOB: the isolator checks every booted container gets, in whatever test
# booted it (tests/e2e, tests/systemd). The caller provides `ct COMMAND...` (runs COMMAND in the
# container) and the TAP helpers ok, not_ok and assert_eq. CGROUP is the host's path of the
# container's root memory cgroup, KNOB its memory limit file (memory.max or memory.limit_in_bytes).
#
# Checked: `systemctl set-property dbus.service MemoryMax=50M` inside succeeds and reaches the
# host's cgroup file (also when dbus.service had not been activated yet); a 100 MB allocation in a transient unit with MemoryMax=50M is killed, and
# completes under MemoryMax=200M.

# tail keeps a line without newline whole: 100 MB of zeros are held and touched.
_isolators_hog='head -c 100M /dev/zero | tail -n 1 >/dev/null'

# _isolators_hog_exit DESC WANT PROPERTY...: the hog's exit status in a transient unit with
# PROPERTYs. A kill may also end as the unit's result "oom-kill" (systemd-run then exits 1): on
# cgroup2, or whenever systemd notices the kill before the shell reports its SIGKILLed child (137).
_isolators_hog_exit() {
        local desc=$1 want=$2 out rc
        shift 2
        out=$(ct systemd-run --wait --collect "${@/#/-p}" sh -c "$_isolators_hog" 2>&1)
        rc=$?
        if ((rc == want)) || [[ $want == 137 && $out == *"result: oom-kill"* ]]; then
                ok "$desc"
        else
                not_ok "$desc" "expected exit status $want, got $rc; systemd-run said: $out"
        fi
}

_isolators_limit_is() {
        [[ $(cat "$1" 2>/dev/null) == "$2" ]]
}

check_isolators() {
        local cgroup=$1 knob=$2 out
        if out=$(ct systemctl set-property dbus.service MemoryMax=50M 2>&1); then
                ok "systemctl set-property dbus.service MemoryMax=50M in the container succeeds"
        else
                not_ok "systemctl set-property dbus.service MemoryMax=50M in the container succeeds" "$out"
        fi
        # dbus.service is socket-activated: a boot can reach "running" before anything has asked
        # for the bus, and an inactive unit has no cgroup yet. Starting it (a no-op when it runs)
        # must then create the cgroup with the limit set. systemd answers set-property before it
        # writes the cgroup (its realize queue runs on its next loop iteration): a slow machine
        # (the VM lane's emulated CPU) can read the file in between, hence the wait.
        out=$(ct timeout 60 systemctl start dbus.service 2>&1) || diag "systemctl start dbus.service: $out"
        wait_until 30 _isolators_limit_is "$cgroup/system.slice/dbus.service/$knob" 52428800
        out=$(cat "$cgroup/system.slice/dbus.service/$knob" 2>&1)
        assert_eq "... and reaches the host's $cgroup/system.slice/dbus.service/$knob" 52428800 "$out"
        [[ $out == 52428800 ]] || diag "dbus.service in the container:" \
                "$(ct timeout 20 systemctl show -p ActiveState,SubState,ControlGroup,MemoryMax,ActiveEnterTimestamp dbus.service 2>&1)" \
                "controllers handed down (cgroup2): $(cat "$cgroup/cgroup.subtree_control" "$cgroup/system.slice/cgroup.subtree_control" 2>&1 | tr '\n' ' ')" \
                "$(ct timeout 20 journalctl -n 30 --no-pager 2>&1)"
        _isolators_hog_exit "a 100 MB hog under systemd-run -p MemoryMax=50M is killed (SIGKILL)" 137 \
                MemoryMax=50M MemorySwapMax=0
        _isolators_hog_exit "the same hog under MemoryMax=200M completes" 0 MemoryMax=200M
}
