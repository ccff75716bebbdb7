#!/usr/bin/env python3
"""Wrap layer blobs into an OCI image archive that `ctr images import` takes.

usage: oci-archive.py LAYER[,LAYER...] COMPRESSION(none|gzip|zstd|xz) MEDIA_TYPE ARCH REF LAYOUT_DIR ARCHIVE
LAYER is one layer file, or several separated by commas, bottom first. COMPRESSION and MEDIA_TYPE
describe a single layer; with several, each layer's is detected from its first bytes. Prints the
chain ID of the image's top layer. Standard library only (zstd layers need the zstd CLI).
"""

import gzip, hashlib, json, lzma, os, shutil, subprocess, sys, tarfile

layer_arg, comp_arg, media_arg, arch, ref, layout, archive = sys.argv[1:]
layer_files = layer_arg.split(",")
blobs = os.path.join(layout, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)

def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def sha_stream(f):
    h = hashlib.sha256()
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()

def detect(path):
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic[:3] == b"\x1f\x8b\x08":
        return "gzip", "application/vnd.oci.image.layer.v1.tar+gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd", "application/vnd.oci.image.layer.v1.tar+zstd"
    return "none", "application/vnd.oci.image.layer.v1.tar"

def diff_id_of(layer, comp):
    if comp == "gzip":
        with gzip.open(layer, "rb") as f:
            return sha_stream(f)
    if comp == "xz":
        with lzma.open(layer, "rb") as f:
            return sha_stream(f)
    if comp == "zstd":
        p = subprocess.Popen(["zstd", "-d", "-c", "-q", layer], stdout=subprocess.PIPE)
        d = sha_stream(p.stdout)
        if p.wait() != 0:
            sys.exit("zstd -d failed")
        return d
    return sha_file(layer)

layers, diff_ids = [], []
for layer in layer_files:
    comp, media = (comp_arg, media_arg) if len(layer_files) == 1 else detect(layer)
    diff_ids.append("sha256:" + diff_id_of(layer, comp))
    layer_digest = sha_file(layer)
    try:
        os.link(layer, os.path.join(blobs, layer_digest))
    except OSError:
        shutil.copyfile(layer, os.path.join(blobs, layer_digest))
    layers.append({"mediaType": media, "digest": "sha256:" + layer_digest, "size": os.path.getsize(layer)})

def put(obj):
    data = json.dumps(obj, separators=(",", ":"), sort_keys=True).encode()
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)

config = {
    "architecture": arch,
    "os": "linux",
    "config": {},
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [{"created_by": "strata oci-archive.py"}],
}
cfg_digest, cfg_size = put(config)
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": cfg_digest, "size": cfg_size},
    "layers": layers,
}
man_digest, man_size = put(manifest)
index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": man_digest, "size": man_size,
        "platform": {"architecture": arch, "os": "linux"},
        "annotations": {
            "io.containerd.image.name": ref,
            "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[1],
        },
    }],
}
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(layout, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)

with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as t:
    for name in ("oci-layout", "index.json", "blobs", "blobs/sha256"):
        t.add(os.path.join(layout, name), arcname=name, recursive=False)
    for b in sorted(os.listdir(blobs)):
        t.add(os.path.join(blobs, b), arcname="blobs/sha256/" + b)

# For the shell: the top layer's chain ID (a single layer's is its diff ID).
chain = diff_ids[0]
for d in diff_ids[1:]:
    chain = "sha256:" + hashlib.sha256((chain + " " + d).encode()).hexdigest()
print(chain)
