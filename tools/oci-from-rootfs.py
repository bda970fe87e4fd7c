#!/usr/bin/env python3
"""Write an OCI image layout holding one gzip layer made of a rootfs tar.

    oci-from-rootfs.py ROOTFS.tar OUT_DIR [--env K=V]... [--workdir D]
                       [--cmd ARG]... [--user U] [--ref NAME]
                       [--compress gzip|zstd|none]

Standard library only (hashlib, gzip, json; zstd through the zstd
program): the layout `assay image import` reads, with the config's Env,
WorkingDir, Cmd and User set. gzip (the default) is what every OCI
runtime reads; zstd (multi-threaded) is many times faster to write and
read; none moves the tar in as the layer.
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess


def main():
    p = argparse.ArgumentParser()
    p.add_argument("rootfs")
    p.add_argument("out")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("--workdir", default="")
    p.add_argument("--cmd", action="append", default=[])
    p.add_argument("--user", default="")
    p.add_argument("--ref", default="latest")
    p.add_argument("--compress", choices=("gzip", "zstd", "none"), default="gzip")
    a = p.parse_args()

    blobs = os.path.join(a.out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    raw = hashlib.sha256()
    tmp = os.path.join(blobs, ".layer")
    with open(a.rootfs, "rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            raw.update(chunk)
    if a.compress == "gzip":
        with open(a.rootfs, "rb") as src, open(tmp, "wb") as dst:
            with gzip.GzipFile(fileobj=dst, mode="wb", compresslevel=6, mtime=0) as gz:
                shutil.copyfileobj(src, gz, 1 << 20)
    elif a.compress == "zstd":
        subprocess.run(["zstd", "-q", "-T0", "-3", "-f", "-o", tmp, a.rootfs], check=True)
    else:
        shutil.copyfile(a.rootfs, tmp)
    media = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
             "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
             "none": "application/vnd.oci.image.layer.v1.tar"}[a.compress]
    comp = hashlib.sha256()
    with open(tmp, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            comp.update(chunk)
    layer = {"mediaType": media,
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
