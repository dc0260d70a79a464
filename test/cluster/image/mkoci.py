#!/usr/bin/env python3
"""Writes a one-layer OCI image archive (oci-layout tar) that containerd's
`ctr images import` takes, from files on this machine: the real node's
images come from Debian packages, never from a registry.

usage: mkoci.py OUT.tar NAME:TAG --entrypoint CMD [--file SRC:DEST]...
       [--busybox SRC]   (installs busybox at /bin/busybox with a link per
                          applet, the way `busybox --install` would)
"""
import argparse
import gzip
import hashlib
import io
import json
import platform
import subprocess
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def blob(tar, data, media):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo("blobs/sha256/" + digest[7:])
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))
    return {"mediaType": media, "digest": digest, "size": len(data)}


def add_dir(layer, path):
    info = tarfile.TarInfo(path)
    info.type = tarfile.DIRTYPE
    info.mode = 0o1777 if path == "tmp" else 0o755
    layer.addfile(info)


def add_file(layer, src, dest):
    with open(src, "rb") as f:
        data = f.read()
    info = tarfile.TarInfo(dest.lstrip("/"))
    info.size = len(data)
    info.mode = 0o755
    layer.addfile(info, io.BytesIO(data))


def add_link(layer, dest, target):
    info = tarfile.TarInfo(dest.lstrip("/"))
    info.type = tarfile.SYMTYPE
    info.linkname = target
    layer.addfile(info)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("ref")
    ap.add_argument("--entrypoint", nargs="+", default=[])
    ap.add_argument("--cmd", nargs="+", default=[])
    ap.add_argument("--file", action="append", default=[])
    ap.add_argument("--busybox")
    a = ap.parse_args()

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as layer:
        dirs = {"bin", "etc", "tmp", "usr", "usr/bin", "usr/sbin", "sbin", "proc", "sys", "dev"}
        for d in sorted(dirs):
            add_dir(layer, d)
        for spec in a.file:
            src, dest = spec.split(":", 1)
            add_file(layer, src, dest)
        if a.busybox:
            add_file(layer, a.busybox, "/bin/busybox")
            applets = subprocess.run([a.busybox, "--list-full"], check=True,
                                     capture_output=True, text=True).stdout.split()
            for path in sorted(set(applets)):
                if path != "bin/busybox" and path.split("/")[0] in {"bin", "sbin", "usr"}:
                    add_link(layer, path, "/bin/busybox")
        passwd = b"root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
        info = tarfile.TarInfo("etc/passwd")
        info.size = len(passwd)
        layer.addfile(info, io.BytesIO(passwd))
    layer_tar = raw.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
    layer_gz = gzip.compress(layer_tar, mtime=0)

    config = {
        "architecture": ARCH,
        "os": "linux",
        "config": {"Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Entrypoint": a.entrypoint or None, "Cmd": a.cmd or None},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    with tarfile.open(a.out, "w") as tar:
        cfg = blob(tar, json.dumps(config).encode(), "application/vnd.oci.image.config.v1+json")
        lay = blob(tar, layer_gz, "application/vnd.oci.image.layer.v1.tar+gzip")
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": cfg, "layers": [lay]}
        man = blob(tar, json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
        man["annotations"] = {"io.containerd.image.name": a.ref,
                              "org.opencontainers.image.ref.name": a.ref.rsplit(":", 1)[1]}
        man["platform"] = {"architecture": ARCH, "os": "linux"}
        for name, data in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
                           ("index.json", json.dumps({"schemaVersion": 2, "manifests": [man]}).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


if __name__ == "__main__":
    main()
