#!/usr/bin/env python3
"""Write an OCI image layout holding one gzip layer made of a rootfs tar.

    oci-from-rootfs.py ROOTFS.tar OUT_DIR [--env K=V]... [--workdir D]
                       [--cmd ARG]... [--user U] [--ref NAME]

Standard library only (hashlib, gzip, json): the layout `assay image
import` reads, with the config's Env, WorkingDir, Cmd and User set.
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rootfs")
    p.add_argument("out")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--workdir", default="")
    p.add_argument("--cmd", action="append", default=[])
    p.add_argument("--user", default="")
    p.add_argument("--ref", default="latest")
    a = p.parse_args()

    blobs = os.path.join(a.out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    raw = hashlib.sha256()
    tmp = os.path.join(blobs, ".layer")
    with open(a.rootfs, "rb") as src, open(tmp, "wb") as dst:
        with gzip.GzipFile(fileobj=dst, mode="wb", compresslevel=6, mtime=0) as gz:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                raw.update(chunk)
                gz.write(chunk)
    comp = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            comp.update(chunk)
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
             "digest": "sha256:" + comp.hexdigest(), "size": os.path.getsize(tmp)}
    shutil.move(tmp, os.path.join(blobs, comp.hexdigest()))

    def put(obj):
        b = json.dumps(obj, sort_keys=True).encode()
        h = hashlib.sha256(b).hexdigest()
        with open(os.path.join(blobs, h), "wb") as f:
            f.write(b)
        return {"digest": "sha256:" + h, "size": len(b)}

    cfg = {k: v for k, v in (("Env", a.env), ("WorkingDir", a.workdir),
                             ("Cmd", a.cmd), ("User", a.user)) if v}
    config = put({"architecture": "amd64", "os": "linux", "config": cfg,
                  "rootfs": {"type": "layers",
                             "diff_ids": ["sha256:" + raw.hexdigest()]}})
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = put({"schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": config, "layers": [layer]})
    manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    manifest["annotations"] = {"org.opencontainers.image.ref.name": a.ref}
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [manifest]}, f)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)


main()
