#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""libcapfs.so exports exactly the functions fs/capfs.h declares.

A reload runs the daemon against whatever libcapfs is installed, so the daemon may bind to
nothing but capfs.h. fs/libcapfs.map makes the linker export that list; this test catches the
two ways it can drift: an internal function exported (the map's list, or a wildcard, grew), or
a function added to capfs.h and not to the map (the daemon would fail to link, or to load).

    check-exports.py LIBCAPFS.SO CAPFS.H
TAP on stdout. Version nodes (nm type A) are listed in a comment, not counted as exports.
"""
import re
import shutil
import subprocess
import sys

n = 0
failed = 0


def result(good, desc, details=()):
    global n, failed
    n += 1
    if not good:
        failed += 1
    print(f"{'ok' if good else 'not ok'} {n} - {desc}")
    if not good:
        for line in details:
            print(f"# {line}")


def declared_functions(header):
    with open(header, encoding="utf-8") as f:
        text = f.read()
    # Comments name functions too ("what capfs_container_resolve() found"): only code counts.
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return set(re.findall(r"\b(capfs_\w+)\s*\(", text))


def exported_symbols(library):
    nm = shutil.which("nm")
    if not nm:
        print("1..0 # SKIP nm (binutils) not installed")
        sys.exit(0)
    out = subprocess.run([nm, "-D", "--defined-only", "--format=posix", library],
                         check=True, capture_output=True, text=True).stdout
    symbols, nodes = set(), set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        # "capfs_host_open@@LIBCAPFS_0 T ...": the name without its version.
        name = fields[0].split("@", 1)[0]
        (nodes if fields[1] == "A" else symbols).add(name)
    return symbols, nodes


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} LIBCAPFS.SO CAPFS.H", file=sys.stderr)
        return 2
    library, header = sys.argv[1:]
    declared = declared_functions(header)
    exported, nodes = exported_symbols(library)

    result(bool(declared), f"{header} declares functions", [f"none found in {header}"])
    result(not exported - declared, "every symbol libcapfs exports is declared in capfs.h",
           ["exported but not in capfs.h (add them to capfs.h or leave them out of fs/libcapfs.map):"]
           + sorted(exported - declared))
    result(not declared - exported, "every function capfs.h declares is exported",
           ["declared but not exported (add them to fs/libcapfs.map):"] + sorted(declared - exported))
    print(f"# {len(exported)} exported; version nodes: {', '.join(sorted(nodes)) or 'none'}")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
