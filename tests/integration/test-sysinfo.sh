#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sysinfo(2) answered by capfs through its seccomp proxy: a container (its own cgroup with a 256 MiB
# limit, new pid and mount namespaces) runs under a filter whose listener is held with capfs-launch's
# code (bench/sysinfo-holder.c, CAPFS_TEST_SYSINFO_HOLDER), and glibc's sysconf(_SC_PHYS_PAGES)
# (getconf) shows its limit. Also: a caller in the host's pid namespace gets the kernel's answer;
# malformed messages on the socket close that connection only; a worker that is killed, reloaded,
# stopped (SIGSTOP) or a capfs that is gone never makes a call fail: the answer is the container's
# or the host's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/restart-lib.sh"

HOLDER=${CAPFS_TEST_SYSINFO_HOLDER:-$(dirname "$CAPFS")/../bench/capfs-bench-sysinfo-holder}
setup
[[ -x $HOLDER ]] || bail "no sysinfo holder at $HOLDER (bench/sysinfo-holder.c; CAPFS_TEST_SYSINFO_HOLDER)"

LIMIT=268435456
PAGE_SIZE=$(getconf PAGESIZE)
CT_PAGES=$((LIMIT / PAGE_SIZE))
HOST_PAGES=$(getconf _PHYS_PAGES)
SOCKET=$("$CAPFS" --print-seccomp-socket "$MNT")
cg_create ct
cg_limit_memory ct "$LIMIT"

# in_holder REL [--host-pidns] COMMAND...: COMMAND in cgroup REL under the filter, the holder in the
# host's pid namespace as capfs-launch is; COMMAND in a new pid namespace unless --host-pidns.
in_holder() {
        local rel=$1
        shift
        local -a ns=(unshare --pid --fork --kill-child --mount --mount-proc)
        if [[ $1 == --host-pidns ]]; then
                ns=()
                shift
        fi
        (
                cg_join "$rel" || exit 125
                exec timeout -k 5 "$CT_TIMEOUT" "$HOLDER" --capfs "$MNT" -- "${ns[@]}" "$@"
        )
}

check "capfs listens on its seccomp socket ($SOCKET)" test -S "$SOCKET"
assert_match "capfs --check names it" "containers' sysinfo\(\) answered on $SOCKET" "$("$CAPFS" --check "$MNT")"
assert_eq "getconf _PHYS_PAGES (sysinfo) in the container: its 256 MiB" "$CT_PAGES" "$(in_holder ct getconf _PHYS_PAGES)"
assert_eq "a caller in the host's pid namespace gets the kernel's answer" "$HOST_PAGES" \
        "$(in_holder ct --host-pidns getconf _PHYS_PAGES)"
assert_eq "without the filter, the host's own sysinfo() is unchanged" "$HOST_PAGES" "$(getconf _PHYS_PAGES)"

# Malformed messages: capfs closes that connection and goes on answering the others.
malformed=$(timeout "$EVENT_TIMEOUT" python3 - "$SOCKET" <<'EOF'
import array, os, socket, struct, sys
path = sys.argv[1]
def closed_after(payload, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
    s.sendmsg([payload], anc)
    s.settimeout(10)
    try:
        return "closed" if s.recv(4096) == b"" else "answered"
    except socket.timeout:
        return "hung"
null = os.open("/dev/null", os.O_RDONLY)
print(closed_after(b"garbage"))
# A header whose struct sizes are too small for any kernel's, with the three fds.
print(closed_after(struct.pack("=QiiHHHxxQ", 0, 1, 1, 8, 8, 8, 0) + bytes(64), [null, null, null]))
EOF
)
assert_eq "a short message without fds: that connection is closed" closed "$(sed -n 1p <<<"$malformed")"
assert_eq "impossible struct sizes: that connection is closed" closed "$(sed -n 2p <<<"$malformed")"
assert_eq "... and capfs still answers" "$CT_PAGES" "$(in_holder ct getconf _PHYS_PAGES)"

# A worker that does not answer: after 1.5 s the kernel answers (the host's numbers), not an error.
worker=$(serving_worker "$MNT")
kill -STOP "$worker"
stalled=$(in_holder ct getconf _PHYS_PAGES)
kill -CONT "$worker"
assert_eq "with the worker stopped, the kernel answers" "$HOST_PAGES" "$stalled"
assert_eq "... and capfs again once it runs" "$CT_PAGES" "$(in_holder ct getconf _PHYS_PAGES)"

# Calls in a loop while the worker is killed and capfs reloaded: each answer is the container's or
# the host's, none fails.
rm -f "$WORKDIR/stop"
in_holder ct sh -c "while [ ! -e '$WORKDIR/stop' ]; do getconf _PHYS_PAGES || echo failed; : >'$WORKDIR/started'; done" \
        >"$WORKDIR/answers" 2>&1 &
loop=$!
wait_until "$EVENT_TIMEOUT" test -e "$WORKDIR/started" || bail "the sysinfo() loop did not start"
check "the worker is killed and another serves" kill_worker "$MNT"
generation=$(status "$MNT" generation)
kill -USR1 "$CAPFS_PID"
reloaded() {
        [[ $(status "$MNT" generation) -gt $generation ]] && serving_worker "$MNT" >/dev/null 2>&1
}
check "capfs reloads" wait_until "$EVENT_TIMEOUT" reloaded
: >"$WORKDIR/stop"
wait "$loop"
total=$(wc -l <"$WORKDIR/answers")
mine=$(grep -cx "$CT_PAGES" "$WORKDIR/answers")
hosts=$(grep -cx "$HOST_PAGES" "$WORKDIR/answers")
diag "answers: $total, the container's $mine, the host's $hosts"
check "calls were made" test "$total" -gt 0
assert_eq "every answer was the container's or the host's" "$total" "$((mine + hosts))"
check "capfs answered for the container" test "$mine" -gt 0

# capfs gone: the holder lets the kernel answer at once.
stop_capfs "$CAPFS_PID" TERM
assert_eq "capfs stops" 0 "$STOP_STATUS"
check "its socket is gone" not test -e "$SOCKET"
assert_eq "with capfs stopped, the kernel answers" "$HOST_PAGES" "$(in_holder ct getconf _PHYS_PAGES)"
finish
