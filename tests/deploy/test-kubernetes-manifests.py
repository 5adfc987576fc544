#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""deploy/kubernetes checked offline: no cluster runs here, and kubectl validates only against
one (`kubectl apply --dry-run=client` downloads the server's OpenAPI schema).

    test-kubernetes-manifests.py SOURCE_ROOT

1. Every document parses and is a valid object of the Kubernetes API as Debian's
   python3-kubernetes models it: every field known at its place, of its type, the required ones
   present (the models' constructors check them).
2. What the design relies on (capfs-fdstore(8), README "Kubernetes"): the keeper and capfs use
   the same directory on the same hostPath; capfs runs in the host's pid and cgroup namespaces,
   privileged, its mount propagated to the node; never two capfs on a node at once.
3. The pod example binds exactly what the README's Docker recipe binds (the recipe
   tests/e2e/test-docker.sh runs), from the node's /var/lib/capfs, read-only.
Prints TAP.
"""
import os
import re
import sys

try:
    import kubernetes.client as k8s
    import yaml
except ImportError as e:
    print("1..0 # SKIP %s (apt-get install python3-yaml python3-kubernetes)" % e)
    sys.exit(0)

TESTS = []


def ok(cond, desc, detail=""):
    TESTS.append(cond)
    print("%s %d - %s" % ("ok" if cond else "not ok", len(TESTS), desc))
    if not cond:
        for line in str(detail).splitlines() or [""]:
            print("# " + line)
            print("# " + line, file=sys.stderr)
        print("not ok %d - %s" % (len(TESTS), desc), file=sys.stderr)


# ---------------------------------------------------------------- the API's schema

SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def model_class(name):
    return getattr(k8s, name, None)


def schema_errors(value, type_name, path):
    """Errors of VALUE against the python3-kubernetes type TYPE_NAME (e.g. 'V1PodSpec',
    'list[V1Container]', 'dict(str, str)', 'object')."""
    if value is None:
        return []
    if type_name == "object":  # IntOrString, Quantity, free-form
        return []
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            return ["%s: a list expected, got %r" % (path, value)]
        return [e for i, v in enumerate(value) for e in schema_errors(v, m.group(1), "%s[%d]" % (path, i))]
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            return ["%s: a map expected, got %r" % (path, value)]
        return [e for k, v in value.items() for e in schema_errors(v, m.group(1), "%s.%s" % (path, k))]
    if type_name in SCALARS:
        # Quantities and the like are written as numbers or strings; the API takes both for
        # str-typed fields only where the model says object, so a str field must be a string.
        if isinstance(value, bool) and type_name != "bool":
            return ["%s: %s expected, got %r" % (path, type_name, value)]
        return [] if isinstance(value, SCALARS[type_name]) else ["%s: %s expected, got %r" % (path, type_name, value)]
    cls = model_class(type_name)
    if cls is None:
        return ["%s: unknown type %s" % (path, type_name)]
    if not isinstance(value, dict):
        return ["%s: an object (%s) expected, got %r" % (path, type_name, value)]
    by_json = {json: attr for attr, json in cls.attribute_map.items()}
    errors = []
    for key, v in value.items():
        if key not in by_json:
            errors.append("%s.%s: no such field in %s" % (path, key, type_name))
            continue
        errors += schema_errors(v, cls.openapi_types[by_json[key]], "%s.%s" % (path, key))
    return errors


def deserialize(doc, type_name):
    """The client's own deserialization, whose constructors refuse missing required fields."""
    client = k8s.ApiClient()
    return client._ApiClient__deserialize(doc, type_name)


def type_of(doc):
    group_version = doc.get("apiVersion", "")
    version = group_version.split("/")[-1]
    return "%s%s" % (version.capitalize(), doc.get("kind", ""))


# ---------------------------------------------------------------- helpers


def container(workload, name):
    spec = workload["spec"]["template"]["spec"] if workload["kind"] != "Pod" else workload["spec"]
    return next((c for c in spec["containers"] if c["name"] == name), None)


def pod_spec(workload):
    return workload["spec"]["template"]["spec"] if workload["kind"] != "Pod" else workload["spec"]


def host_path_of(spec, volume_name):
    v = next((v for v in spec.get("volumes", []) if v["name"] == volume_name), None)
    return (v or {}).get("hostPath", {}).get("path")


def mount_at(spec, c, mount_path):
    """(hostPath, volumeMount) of what container C mounts at MOUNT_PATH."""
    m = next((m for m in c.get("volumeMounts", []) if m["mountPath"] == mount_path), None)
    if not m:
        return None, None
    return host_path_of(spec, m["name"]), m


def readme_docker_binds(readme):
    """(source, target) of every -v line of the README's `docker run` block."""
    block = re.search(r"```sh\n(docker run .*?)```", readme, re.S)
    if not block:
        return []
    return re.findall(r"-v (/var/lib/capfs/\S+?):(\S+?):ro", block.group(1))


# ---------------------------------------------------------------- the checks


def main():
    top = sys.argv[1]
    kdir = os.path.join(top, "deploy", "kubernetes")
    docs = {}
    for name in sorted(os.listdir(kdir)):
        if not name.endswith(".yaml"):
            continue
        try:
            with open(os.path.join(kdir, name)) as f:
                loaded = [d for d in yaml.safe_load_all(f) if d is not None]
            ok(True, "%s parses (%d objects)" % (name, len(loaded)))
        except yaml.YAMLError as e:
            ok(False, "%s parses" % name, e)
            continue
        for d in loaded:
            t = type_of(d)
            where = "%s: %s %s" % (name, d.get("kind"), d.get("metadata", {}).get("name"))
            errors = schema_errors(d, t, d.get("kind", "?"))
            ok(not errors, "%s: every field is one of the API's %s" % (where, t), "\n".join(errors))
            try:
                deserialize(d, t)
                ok(True, "%s: has the fields the API requires" % where)
            except (ValueError, TypeError) as e:
                ok(False, "%s: has the fields the API requires" % where, e)
            docs[(d.get("kind"), d.get("metadata", {}).get("name"))] = d

    keeper = docs.get(("DaemonSet", "capfs-fdstore"))
    daemon = docs.get(("DaemonSet", "capfs"))
    example = docs.get(("Pod", "capfs-example"))
    ok(keeper is not None and daemon is not None and example is not None,
       "capfs.yaml has the DaemonSets capfs-fdstore and capfs, pod-example.yaml the pod capfs-example")
    if not (keeper and daemon and example):
        return

    # -- the keeper
    kspec, kc = pod_spec(keeper), container(keeper, "fdstore")
    kcmd = kc["command"]
    ok(kcmd[:2] == ["capfs-fdstore", "keep"], "the keeper runs capfs-fdstore keep", kcmd)
    kdir_in_pod = kcmd[-1]
    ok("--linger" in kcmd and int(kcmd[kcmd.index("--linger") + 1]) > 0,
       "the keeper lets an abandoned connection go (--linger > 0: ENOTCONN, not a hang for ever)", kcmd)
    ok(kspec.get("hostPID") is True, "the keeper sees capfs's processes (hostPID)")
    ok(keeper["spec"]["updateStrategy"]["type"] == "OnDelete", "the keeper is replaced only by hand (OnDelete)")
    ksec = kc.get("securityContext", {})
    ok(not ksec.get("privileged") and ksec.get("capabilities", {}).get("drop") == ["ALL"],
       "the keeper runs without privileges or capabilities", ksec)

    # -- capfs
    dspec, dc = pod_spec(daemon), container(daemon, "capfs")
    dcmd = dc["command"]
    ok(dcmd[:3] == ["nsenter", "--cgroup=/proc/1/ns/cgroup", "--"],
       "capfs runs in the node's cgroup namespace (nsenter --cgroup=/proc/1/ns/cgroup)", dcmd)
    rest = dcmd[3:]
    ok(rest[:2] == ["capfs-fdstore", "run"] and "--" in rest, "capfs is started by capfs-fdstore run", dcmd)
    run_dir = rest[rest.index("--") - 1] if "--" in rest else None
    ok(run_dir == kdir_in_pod, "... on the keeper's directory (%s)" % kdir_in_pod, run_dir)
    capfs_cmd = rest[rest.index("--") + 1:] if "--" in rest else []
    ok(capfs_cmd == ["capfs", "--foreground", "/var/lib/capfs"], "... running capfs --foreground /var/lib/capfs",
       capfs_cmd)
    ok(dspec.get("hostPID") is True, "capfs sees every pod's processes (hostPID)")
    ok(dc.get("securityContext", {}).get("privileged") is True, "capfs's container is privileged")
    host, m = mount_at(dspec, dc, "/var/lib/capfs")
    ok(host == "/var/lib/capfs" and m and m.get("mountPropagation") == "Bidirectional",
       "capfs's mount reaches the node's /var/lib/capfs (Bidirectional)", (host, m))
    host, m = mount_at(dspec, dc, "/sys/fs/cgroup")
    ok(host == "/sys/fs/cgroup", "capfs sees the node's whole cgroup tree at /sys/fs/cgroup", (host, m))
    # The keeper's directory is below a hostPath both mount at the same place.
    kparent = os.path.dirname(kdir_in_pod)
    khost, _ = mount_at(kspec, kc, kparent)
    dhost, _ = mount_at(dspec, dc, kparent)
    ok(khost is not None and khost == dhost,
       "the keeper and capfs share %s (the node's %s)" % (kparent, khost), (khost, dhost))
    strategy = daemon["spec"]["updateStrategy"]
    ok(strategy["type"] == "RollingUpdate" and strategy.get("rollingUpdate", {}).get("maxSurge") == 0,
       "never two capfs on a node (RollingUpdate, maxSurge 0)", strategy)
    ok(kc["image"] == dc["image"], "both run the same image", (kc["image"], dc["image"]))
    for ds in (keeper, daemon):
        ok(any(t.get("operator") == "Exists" for t in pod_spec(ds).get("tolerations", [])),
           "%s runs on every node, tainted or not" % ds["metadata"]["name"])

    # -- the pod example against the README's tested recipe
    with open(os.path.join(top, "README.md")) as f:
        binds = readme_docker_binds(f.read())
    ok(len(binds) >= 8, "the README's Docker recipe names its binds", binds)
    espec, ec = pod_spec(example), example["spec"]["containers"][0]
    for src, dst in binds:
        host, m = mount_at(espec, ec, dst)
        ok(host == src and m and m.get("readOnly") is True,
           "the pod example binds %s at %s read-only, as the Docker recipe does" % (src, dst), (host, m))
    extra = [m["mountPath"] for m in ec.get("volumeMounts", []) if (host_path_of(espec, m["name"]) or "").startswith(
        "/var/lib/capfs/") and (host_path_of(espec, m["name"]), m["mountPath"]) not in binds]
    ok(not extra, "... and nothing the recipe does not", extra)

    # -- the image
    with open(os.path.join(kdir, "Containerfile")) as f:
        containerfile = f.read()
    ok(re.search(r"apt-get install .*/tmp/debs/\*\.deb.*util-linux", containerfile) is not None,
       "the image installs the capfs packages and util-linux (nsenter)")


main()
print("1..%d" % len(TESTS))
sys.exit(0 if all(TESTS) else 1)
