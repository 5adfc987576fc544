#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What systemd does for a Type=notify service with FileDescriptorStoreMax=, for tests on hosts
without systemd as init: runs COMMAND with NOTIFY_SOCKET, keeps the fds it sends with FDSTORE=1
(by FDNAME), and starts COMMAND again with them (LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID) when
told to.

    fake-fdstore.py DIR COMMAND...

DIR/cmd is a FIFO of commands, one per line:
    restart   wait for the service to exit (the test stops or kills it), start it with the store
    stop      wait for the service to exit, then empty the store (closes the fds)
    start     start the service (with what the store holds, as systemd does)
    quit      empty the store and exit (the service must have exited)
It writes DIR/pid (the service's pid), DIR/ready (pid of the last READY=1), DIR/exit (the last
exit status) and DIR/log (every notification, and the names in the store).
"""
import array
import os
import socket
import sys


def log(d, text):
    with open(os.path.join(d, "log"), "a") as f:
        f.write(text + "\n")


def put(d, name, value):
    tmp = os.path.join(d, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(str(value) + "\n")
    os.rename(tmp, os.path.join(d, name))


def main():
    d, command = sys.argv[1], sys.argv[2:]
    os.mkfifo(os.path.join(d, "cmd"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(d, "notify")
    sock.bind(path)
    store = {}  # name -> fd
    child = None

    def start():
        names = list(store)
        pid = os.fork()
        if pid == 0:
            env = dict(os.environ, NOTIFY_SOCKET=path)
            for i, name in enumerate(names):
                os.dup2(store[name], 3 + i, inheritable=True)
            if names:
                env.update(LISTEN_FDS=str(len(names)), LISTEN_FDNAMES=":".join(names), LISTEN_PID=str(os.getpid()))
            os.closerange(3 + len(names), 1024)
            os.execvpe(command[0], command, env)
        put(d, "pid", pid)
        log(d, "started %d with %s" % (pid, ",".join(names) or "nothing"))
        return pid

    def receive():
        fds = array.array("i")
        msg, ancdata, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        fields = dict(line.split("=", 1) for line in msg.decode().splitlines() if "=" in line)
        log(d, "notify: " + " ".join("%s=%s" % kv for kv in fields.items()) + (" +%d fd" % len(fds) if fds else ""))
        if fields.get("FDSTORE") == "1":
            name = fields.get("FDNAME", "stored")
            for fd in fds:
                if name in store:
                    os.close(store[name])
                store[name] = fd
        else:
            for fd in fds:
                os.close(fd)
        if fields.get("READY") == "1":
            put(d, "ready", child)

    def wait_child():
        _, status = os.waitpid(child, 0)
        put(d, "exit", os.waitstatus_to_exitcode(status))
        log(d, "%d exited: %d" % (child, os.waitstatus_to_exitcode(status)))
        # Notifications sent before the exit still count.
        sock.setblocking(False)
        try:
            while True:
                receive()
        except BlockingIOError:
            pass
        sock.setblocking(True)

    def empty():
        for fd in store.values():
            os.close(fd)
        store.clear()

    child = start()
    cmd = os.open(os.path.join(d, "cmd"), os.O_RDWR)
    import select
    while True:
        ready, _, _ = select.select([sock, cmd], [], [])
        if sock in ready:
            receive()
        if cmd not in ready:
            continue
        for line in os.read(cmd, 4096).decode().split():
            log(d, "command: " + line)
            if line in ("restart", "stop"):
                wait_child()
                if line == "stop":
                    empty()
                else:
                    child = start()
            elif line == "start":
                child = start()
            elif line == "quit":
                empty()
                log(d, "store: " + ",".join(store))
                return
            log(d, "store: " + ",".join(store))


if __name__ == "__main__":
    main()
