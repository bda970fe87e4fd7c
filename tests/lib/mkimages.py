#!/usr/bin/env python3
"""Build small test images offline, in every format `assay image import`
reads, plus hostile ones it must refuse.

    mkimages.py OUTDIR

The root file system is busybox-static (/bin/busybox) with its applets as
symlinks; OCI layouts and archives are written with tarfile, hashlib and
json (zstd layers through the zstd program). Nothing is downloaded.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

OUT = sys.argv[1]
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "ls", "cat", "echo", "id", "nc", "sleep", "mkdir", "rm",
           "test", "[", "touch", "tar", "wc", "head", "grep", "env", "pwd",
           "stat", "whoami", "readlink", "httpd", "printf", "cp", "mv", "chmod",
           "true", "false", "ln", "sed", "tr", "cut", "kill", "ps", "od",
           "wget"]


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def info(name, kind=tarfile.REGTYPE, mode=0o644, uid=0, gid=0, size=0,
         link=""):
    t = tarfile.TarInfo(name)
    t.type, t.mode, t.uid, t.gid, t.size, t.linkname = kind, mode, uid, gid, size, link
    t.mtime = 1700000000
    return t


def add_file(tf, name, data, mode=0o644, uid=0, gid=0):
    tf.addfile(info(name, mode=mode, uid=uid, gid=gid, size=len(data)),
               io.BytesIO(data))


def add_dir(tf, name, mode=0o755, uid=0, gid=0):
    tf.addfile(info(name, tarfile.DIRTYPE, mode, uid, gid))


def tar_bytes(fill):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as tf:
        fill(tf)
    return b.getvalue()


def base_layer(tf):
    for d in ["bin", "etc", "tmp", "srv", "home", "opt", "opt/data", "root",
              "usr", "usr/bin"]:
        add_dir(tf, d, 0o1777 if d == "tmp" else 0o755)
    add_dir(tf, "home/agent", 0o755, 1000, 1000)
    with open(BUSYBOX, "rb") as f:
        add_file(tf, "bin/busybox", f.read(), 0o755)
    for a in APPLETS:
        tf.addfile(info("bin/" + a, tarfile.SYMTYPE, 0o777, link="busybox"))
    tf.addfile(info("usr/bin/env", tarfile.SYMTYPE, 0o777, link="/bin/busybox"))
    # the agent's bash tool runs /bin/bash: busybox's ash stands in
    add_file(tf, "bin/bash", b'#!/bin/sh\nexec /bin/sh "$@"\n', 0o755)
    add_file(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
             b"svc:x:100:100:svc:/srv:/bin/sh\n"
             b"agent:x:1000:1000:agent:/home/agent:/bin/sh\n")
    add_file(tf, "etc/group", b"root:x:0:\nsvc:x:100:\nagent:x:1000:\n")
    add_file(tf, "etc/motd", b"base layer motd\n")
    add_file(tf, "etc/image-name", b"busybox-test\n")
    add_file(tf, "opt/data/old", b"hidden by an opaque directory\n")


def top_layer(tf):
    """Second layer: whiteouts and an opaque directory."""
    add_dir(tf, "etc")
    add_file(tf, "etc/.wh.motd", b"")
    add_dir(tf, "opt/data")
    add_file(tf, "opt/data/.wh..wh..opq", b"")
    add_file(tf, "opt/data/new", b"from the top layer\n")
    add_dir(tf, "srv/www", 0o755, 100, 100)
    add_file(tf, "srv/www/index.html", b"hello from a layered image\n", 0o644, 100, 100)


def private_layer(tf):
    """A private layer over the public base: a marker file, a whiteout,
    a hard link and an opaque directory (sealed.sh/image.sh seal it)."""
    add_dir(tf, "opt/secret", 0o700)
    add_file(tf, "opt/secret/marker", b"private-layer-marker-5d1f0c9a\n", 0o600)
    tf.addfile(info("opt/secret/again", tarfile.LNKTYPE, link="opt/secret/marker"))
    add_dir(tf, "etc")
    add_file(tf, "etc/.wh.motd", b"")
    add_dir(tf, "opt/data")
    add_file(tf, "opt/data/.wh..wh..opq", b"")
    add_file(tf, "opt/data/priv", b"private data\n")


def third_layer(tf):
    add_file(tf, "etc/layer3", b"zstd layer\n")


_gz = {}


def gz(data):
    """gzip level 1, each content once (the base layer is used often)."""
    k = sha(data)
    if k not in _gz:
        _gz[k] = gzip.compress(data, 1, mtime=0)
    return _gz[k]


def zstd(data):
    return subprocess.run(["zstd", "-q", "-c"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def write_oci(dirname, layers, config_extra, ref="latest", media=None):
    """layers: list of (uncompressed tar, compression)."""
    blobs = os.path.join(dirname, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(b):
        with open(os.path.join(blobs, sha(b)[7:]), "wb") as f:
            f.write(b)
        return sha(b)

    descs, diff_ids = [], []
    for raw, comp in layers:
        diff_ids.append(sha(raw))
        blob = {"gzip": gz,
                "zstd": zstd, "": lambda r: r}[comp](raw)
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+" + comp if comp else "")
        descs.append({"mediaType": media or mt, "digest": put(blob),
                      "size": len(blob)})
    config = {"architecture": "amd64", "os": "linux",
              "config": config_extra,
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cb = json.dumps(config).encode()
    manifest = {"schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                           "digest": put(cb), "size": len(cb)},
                "layers": descs}
    mb = json.dumps(manifest).encode()
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": put(mb), "size": len(mb),
         "annotations": {"org.opencontainers.image.ref.name": ref}}]}
    with open(os.path.join(dirname, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(dirname, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return manifest


def tar_dir(src, dst):
    with tarfile.open(dst, "w") as tf:
        for name in sorted(os.listdir(src)):
            tf.add(os.path.join(src, name), arcname=name)


def write_docker(dst, layers, config_extra, tag):
    """docker save's legacy layout: HEX.json config, HEX/layer.tar."""
    diff_ids = [sha(raw) for raw in layers]
    config = {"architecture": "amd64", "os": "linux", "config": config_extra,
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cb = json.dumps(config).encode()
    names = []
    with tarfile.open(dst, "w") as tf:
        add_file(tf, sha(cb)[7:] + ".json", cb)
        for raw in layers:
            d = sha(raw)[7:]
            add_dir(tf, d)
            add_file(tf, d + "/layer.tar", raw)
            names.append(d + "/layer.tar")
        m = [{"Config": sha(cb)[7:] + ".json", "RepoTags": [tag], "Layers": names}]
        add_file(tf, "manifest.json", json.dumps(m).encode())


def hostile(name, fill):
    d = os.path.join(OUT, "hostile", name)
    write_oci(d, [(tar_bytes(fill), "")], {})
    return d


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(os.path.join(OUT, "hostile"))
    base = tar_bytes(base_layer)
    top = tar_bytes(top_layer)
    third = tar_bytes(third_layer)
    cfg = {"Env": ["PATH=/bin:/usr/bin", "IMAGE_VAR=from-config"],
           "WorkingDir": "/srv", "Cmd": ["/bin/sh"]}
    # the agent image: one gzip layer
    write_oci(os.path.join(OUT, "oci"), [(base, "gzip")], cfg)
    # layered service image: gzip base, gzip whiteouts, zstd third layer;
    # runs as svc (uid 100) and serves /srv/www
    svc_cfg = {"Env": ["PATH=/bin"], "User": "100:100", "WorkingDir": "/srv/www",
               "Entrypoint": ["/bin/httpd", "-f", "-p"], "Cmd": ["8080"],
               "ExposedPorts": {"8080/tcp": {}}}
    write_oci(os.path.join(OUT, "layered"),
              [(base, "gzip"), (top, "gzip"), (third, "zstd")], svc_cfg)
    # a private image: the agent image's base layer (public) and a private one
    write_oci(os.path.join(OUT, "private"),
              [(base, "gzip"), (tar_bytes(private_layer), "gzip")], cfg)
    # oci-archive: the layout as a tar
    tmp = os.path.join(OUT, "oci-tmp")
    write_oci(tmp, [(base, "zstd")], cfg, ref="busybox-oci")
    tar_dir(tmp, os.path.join(OUT, "oci-archive.tar"))
    shutil.rmtree(tmp)
    write_docker(os.path.join(OUT, "docker.tar"), [base, top], cfg, "busybox-docker:1")
    with open(os.path.join(OUT, "rootfs.tar.gz"), "wb") as f:
        f.write(gz(base))

    # --- hostile -------------------------------------------------------
    hostile("dotdot", lambda tf: add_file(tf, "../escaped", b"x"))
    hostile("abs", lambda tf: add_file(tf, "/etc/escaped", b"x"))

    def symlink_out(tf):
        tf.addfile(info("link", tarfile.SYMTYPE, 0o777, link="/tmp"))
        add_file(tf, "link/escaped-through-symlink", b"x")
    hostile("symlink", symlink_out)

    def symlink_rel(tf):
        tf.addfile(info("up", tarfile.SYMTYPE, 0o777, link="../../../../../../tmp"))
        add_file(tf, "up/escaped-through-symlink", b"x")
    hostile("symlink-rel", symlink_rel)

    def hardlink_out(tf):
        tf.addfile(info("link", tarfile.SYMTYPE, 0o777, link="/etc"))
        tf.addfile(info("shadow", tarfile.LNKTYPE, link="link/shadow"))
    hostile("hardlink", hardlink_out)

    # a blob whose content is not what the manifest names
    d = hostile("digest", lambda tf: add_file(tf, "f", b"original"))
    m = json.load(open(os.path.join(d, "index.json")))
    mb = open(os.path.join(d, "blobs/sha256", m["manifests"][0]["digest"][7:]), "rb").read()
    layer = json.loads(mb)["layers"][0]["digest"][7:]
    p = os.path.join(d, "blobs/sha256", layer)
    data = bytearray(open(p, "rb").read())
    data[600] ^= 1
    open(p, "wb").write(bytes(data))

    # truncated: half a gzip stream, with digests that match it
    raw = tar_bytes(base_layer)
    half = gz(raw)[:200000]
    d = os.path.join(OUT, "hostile", "truncated")
    write_oci(d, [(raw, "gzip")], {})
    idx = json.load(open(os.path.join(d, "index.json")))
    mpath = os.path.join(d, "blobs/sha256", idx["manifests"][0]["digest"][7:])
    man = json.load(open(mpath))
    os.remove(os.path.join(d, "blobs/sha256", man["layers"][0]["digest"][7:]))
    with open(os.path.join(d, "blobs/sha256", sha(half)[7:]), "wb") as f:
        f.write(half)
    man["layers"][0].update(digest=sha(half), size=len(half))
    os.remove(mpath)
    mb = json.dumps(man).encode()
    with open(os.path.join(d, "blobs/sha256", sha(mb)[7:]), "wb") as f:
        f.write(mb)
    idx["manifests"][0].update(digest=sha(mb), size=len(mb))
    json.dump(idx, open(os.path.join(d, "index.json"), "w"))

    d = os.path.join(OUT, "hostile", "media")
    write_oci(d, [(tar_bytes(third_layer), "")], {},
              media="application/vnd.example.not-a-layer")

    # a 10 GB sparse file declared in a tar header (GNU sparse format)
    sp = os.path.join(OUT, "sparse-src")
    os.makedirs(sp)
    with open(os.path.join(sp, "big"), "wb") as f:
        f.truncate(10 * 1000 ** 3)
    subprocess.run(["tar", "--sparse", "-C", sp, "-cf",
                    os.path.join(OUT, "hostile", "sparse.tar"), "big"], check=True)
    shutil.rmtree(sp)

    # a zip bomb: 96 MiB of zeros in a gzip layer of ~100 KiB (refused
    # once 64 MiB came out of it)
    zb = os.path.join(OUT, "bomb-src")
    os.makedirs(zb)
    with open(os.path.join(zb, "zeros"), "wb") as f:
        f.truncate(96 << 20)
    t = subprocess.run(["tar", "-C", zb, "-cf", "-", "zeros"], check=True,
                       stdout=subprocess.PIPE).stdout
    shutil.rmtree(zb)
    _gz[sha(t)] = gzip.compress(t, 9, mtime=0)   # ~1000x
    write_oci(os.path.join(OUT, "hostile", "bomb"), [(t, "gzip")], {})


main()
