# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Helpers of the tests that restart, reload and upgrade capfs under load (test-restart*.sh,
# test-soak.sh), sourced after lib.sh. capfs runs as a supervisor (the pid start_capfs gives)
# and a worker it starts and replaces; the supervisor describes itself in a status file next to
# its lock file: supervisor=, worker=, generation=, reloads=, reload_result=.

# status_file MOUNTPOINT
status_file() {
        local digest
        digest=$(printf '%s' "$(readlink -f "$1")" | sha256sum | cut -c1-16)
        echo "/run/capfs/$digest.status"
}

# status MOUNTPOINT KEY
status() {
        get "$2" <"$(status_file "$1")" 2>/dev/null
}

worker_of() {
        status "$1" worker
}

# A supervisor killed with SIGKILL leaves its status file; lib.sh removes only the lock file.
remove_status_file() {
        rm -f "$(status_file "$1")"
}

# The id of the mount at MOUNTPOINT (first field of mountinfo): the same id means the same mount.
mount_id() {
        awk -v m="$1" '$5 == m { print $1 }' /proc/self/mountinfo
}

# new_worker_serves MOUNTPOINT OLD_PID: a worker other than OLD_PID is named and alive.
new_worker_serves() {
        local w
        w=$(worker_of "$1")
        [[ -n "$w" && "$w" != 0 && "$w" != "$2" ]] && ! pid_gone "$w"
}

# kill_worker MOUNTPOINT: SIGKILLs the worker and waits (EVENT_TIMEOUT at most) until another
# serves.
kill_worker() {
        local old
        old=$(serving_worker "$1") || return 1
        kill -KILL "$old" || return 1
        wait_until "$EVENT_TIMEOUT" new_worker_serves "$1" "$old"
}

# serving_worker MOUNTPOINT: prints the pid of the worker serving MOUNTPOINT, one known to serve:
# the supervisor names it, it is alive, and a read through the mount is answered while it stays
# the one named. Waits EVENT_TIMEOUT at most (a worker may be being replaced); fails with a
# message on stderr when no worker serves by then.
serving_worker() {
        if wait_until "$EVENT_TIMEOUT" _worker_answers "$1"; then
                echo "$_answering_worker"
                return 0
        fi
        echo "no worker serves $1 after ${EVENT_TIMEOUT}s; status: $(tr '\n' ' ' <"$(status_file "$1")" 2>&1)" >&2
        return 1
}

_worker_answers() {
        local w
        w=$(worker_of "$1")
        [[ -n "$w" && "$w" != 0 ]] && ! pid_gone "$w" || return 1
        timeout "$IO_TIMEOUT" cat "$1/proc/uptime" >/dev/null || return 1
        [[ "$(worker_of "$1")" == "$w" ]] && ! pid_gone "$w" || return 1
        _answering_worker=$w
}

# child_waits_on_fuse PID: a child of PID (the command `timeout` runs) sleeps in the kernel
# waiting for a FUSE request's answer.
child_waits_on_fuse() {
        local child
        for child in $(pgrep -P "$1"); do
                case $(cat "/proc/$child/wchan" 2>/dev/null) in *request_wait_answer* | *fuse*) return 0 ;; esac
        done
        return 1
}

# The kernel cannot put requests in flight back in the queue (FUSE_NOTIFY_RESEND, Linux 6.9):
# capfs fails them with EINTR instead, and says so once in its log.
kernel_lacks_resend() {
        grep -q "cannot resend FUSE requests" "$1"
}

# ct_reader FILE EXPECTED_KB STOPFILE ERRLOG: reads FILE (a meminfo) in a loop, with bash's own
# read (no fork: thousands of requests a second), until STOPFILE exists; prints good=, wrong=,
# err=, new= (reads showing " KB", what a patched libcapfs prints) and maxgap= (the longest
# time between two successful reads, in ms). Error messages go to ERRLOG.
ct_reader() {
        local file=$1 expected=$2 stop=$3 errlog=$4 good=0 wrong=0 err=0 new=0 fd v
        local last=${EPOCHREALTIME/./} now gap maxgap=0
        while [[ ! -e "$stop" ]]; do
                v=
                if { exec {fd}<"$file"; } 2>>"$errlog"; then
                        { IFS= read -r -d '' -u "$fd" v; } 2>>"$errlog"
                        exec {fd}<&-
                fi
                if [[ "$v" != *MemTotal:* || "$v" != *$'\n' ]]; then
                        err=$((err + 1))
                        ((err > 1000)) && break
                        continue
                fi
                if [[ "$v" =~ MemTotal:\ +([0-9]+)\ (k|K)B ]] && [[ ${BASH_REMATCH[1]} == "$expected" ]]; then
                        good=$((good + 1))
                        ((good == 1)) && : >"$stop.started"
                        [[ ${BASH_REMATCH[2]} == K ]] && new=$((new + 1))
                else
                        wrong=$((wrong + 1))
                        ((wrong <= 3)) && echo "wrong: $(grep MemTotal <<<"$v")" >>"$errlog"
                fi
                now=${EPOCHREALTIME/./}
                gap=$(((now - last) / 1000))
                ((gap > maxgap)) && maxgap=$gap
                last=$now
        done
        printf 'good=%d\nwrong=%d\nerr=%d\nnew=%d\nmaxgap=%d\n' "$good" "$wrong" "$err" "$new" "$maxgap"
}

# start_reader NAME CGROUP FILE EXPECTED_KB: ct_reader in a container of ours (its own pid and
# mount namespaces, in CGROUP), in the background; READER_PID[NAME] is the job to wait for.
declare -A READER_PID=()
start_reader() {
        local name=$1 cg=$2 file=$3 expected=$4
        rm -f "$WORKDIR/stop-$name" "$WORKDIR/stop-$name.started"
        : >"$WORKDIR/errors-$name"
        CT_FUNCS="ct_reader ${CT_FUNCS:-}" run_in_ct "$cg" ct_reader "$file" "$expected" "$WORKDIR/stop-$name" \
                "$WORKDIR/errors-$name" >"$WORKDIR/reader-$name" 2>&1 &
        remember_job "$name"
}

# remember_job NAME: the background job just started is NAME's, for stop_reader.
remember_job() {
        READER_PID[$1]=$!
}

# stop_reader NAME: ends the loop and waits for its totals (in $WORKDIR/reader-NAME).
stop_reader() {
        : >"$WORKDIR/stop-$1"
        wait "${READER_PID[$1]}"
}

reader_result() {
        get "$2" <"$WORKDIR/reader-$1"
}

# wait_reader NAME: waits (EVENT_TIMEOUT at most) until the reader has read once.
wait_reader() {
        wait_until "$EVENT_TIMEOUT" test -e "$WORKDIR/stop-$1.started"
}

# assert_reader_clean NAME WHAT [ALLOW_EINTR]: no failed read, no wrong value, never ENOTCONN.
# With ALLOW_EINTR (a kernel without FUSE_NOTIFY_RESEND) failures saying EINTR or ECONNABORTED
# (what the kernel answers for a dead worker's requests there) are reported, not counted.
assert_reader_clean() {
        local name=$1 what=$2 allow_eintr=${3:-false} err eintr enotconn
        err=$(reader_result "$name" err)
        enotconn=$(grep -c "not connected" "$WORKDIR/errors-$name")
        eintr=$(grep -cE "Interrupted system call|Software caused connection abort" "$WORKDIR/errors-$name")
        assert_eq "$what: never ENOTCONN" 0 "$enotconn"
        if $allow_eintr; then
                diag "$what: $eintr operation(s) failed with EINTR or ECONNABORTED (this kernel cannot resend" \
                        "requests in flight)"
                err=$((${err:-0} - eintr))
        fi
        if [[ "${err:-x}" == 0 ]]; then
                ok "$what: no failed read"
        else
                not_ok "$what: no failed read" "$err failed; first errors: $(head -n 3 "$WORKDIR/errors-$name")"
        fi
        assert_eq "$what: no wrong value" 0 "$(reader_result "$name" wrong)"
        assert_match "$what: the reader kept reading" '^[1-9][0-9]*$' "$(reader_result "$name" good)"
}

# install_copy DIR: capfs and libcapfs as a package would install them (bin/, lib/), copied from
# the build so that a test can replace them under a running daemon. Run it with
# LD_LIBRARY_PATH=DIR/lib, which the loader searches before the build's RUNPATH.
install_copy() {
        local dir=$1 lib
        lib=$(ldd "$CAPFS" | awk '$1 ~ /^libcapfs\.so/ { print $3; exit }')
        [[ -f "$lib" ]] || return 1
        mkdir -p "$dir/bin" "$dir/lib" &&
                cp "$CAPFS" "$dir/bin/capfs" &&
                cp -L "$lib" "$dir/lib/$(basename "$(ldd "$CAPFS" | awk '$1 ~ /^libcapfs\.so/ { print $1; exit }')")"
}

# replace FILE NEWFILE: puts NEWFILE in place of FILE as a package manager does (a rename: the
# running processes keep the old file).
replace() {
        mv -f "$2" "$1"
}

# patched_library LIB OUT: LIB with meminfo's unit printed "KB": code that only a reloaded
# library can serve.
patched_library() {
        LC_ALL=C perl -0777 -pe 's/%8lu kB\n/%8lu KB\n/' "$1" >"$2" && ! cmp -s "$1" "$2"
}
