#!/usr/bin/env python3
"""Prints a manifest (YAML or JSON file, one or more objects) ready for the
test cluster's real node (test/cluster/node.sh): every Workflow step gets
the node's local busybox image (Debian's busybox-static, imported without a
registry) and is pinned to the node. Everything else is printed unchanged.

usage: test/cluster/on-real-node.py FILE | kubectl apply -f -
"""
import json
import subprocess
import sys

NODE_SPEC = {
    "nodeSelector": {"runbook.dev/real-node": "true"},
    "tolerations": [{"key": "runbook.dev/real-node", "operator": "Exists", "effect": "NoSchedule"}],
}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    # kubectl reads the YAML, so no YAML module is needed here.
    out = subprocess.run(["kubectl", "create", "--dry-run=client", "--validate=false", "-o", "json", "-f", sys.argv[1]],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("on-real-node.py: " + out.stderr.strip())
    # One JSON object per input object, one after the other.
    objs, text, pos = [], out.stdout, 0
    dec = json.JSONDecoder()
    while text[pos:].strip():
        obj, end = dec.raw_decode(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
        objs.append(obj)
        pos = end
    for obj in objs:
        spec = obj.get("spec") or {}
        if obj.get("kind") == "Workflow":
            for step in spec.get("steps", []) + spec.get("finally", []):
                step["image"] = "runbook.test/busybox:1"
                step.setdefault("podTemplate", {}).setdefault("spec", {}).update(NODE_SPEC)
        print(json.dumps(obj))


if __name__ == "__main__":
    main()
