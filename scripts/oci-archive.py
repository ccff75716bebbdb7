#!/usr/bin/env python3
"""Wrap one layer blob into an OCI image archive that `ctr images import` takes.

usage: oci-archive.py LAYER COMPRESSION(none|gzip|zstd) MEDIA_TYPE ARCH REF LAYOUT_DIR ARCHIVE
Prints the chain ID of the image's single layer (its diff ID). Standard library only (zstd
layers need the zstd CLI).
"""

import gzip, hashlib, json, os, shutil, subprocess, sys, tarfile

layer, comp, media, arch, ref, layout, archive = sys.argv[1:]
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

if comp == "gzip":
    with gzip.open(layer, "rb") as f:
        diff_id = sha_stream(f)
elif comp == "zstd":
    p = subprocess.Popen(["zstd", "-d", "-c", "-q", layer], stdout=subprocess.PIPE)
    diff_id = sha_stream(p.stdout)
    if p.wait() != 0:
        sys.exit("zstd -d failed")
else:
    diff_id = None
layer_digest = sha_file(layer)
if diff_id is None:
    diff_id = layer_digest
layer_size = os.path.getsize(layer)
try:
    os.link(layer, os.path.join(blobs, layer_digest))
except OSError:
    shutil.copyfile(layer, os.path.join(blobs, layer_digest))

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
    "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    "history": [{"created_by": "strata oci-archive.py"}],
}
cfg_digest, cfg_size = put(config)
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": cfg_digest, "size": cfg_size},
    "layers": [{"mediaType": media, "digest": "sha256:" + layer_digest, "size": layer_size}],
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

# For the shell: chain ID of a single layer == its diff ID.
print("sha256:" + diff_id)
