# Functions for driving a private containerd daemon from the benchmark (sourced by run.sh).
# The daemon's root, state and socket live under the directory given to ctrd_start; the
# system's containerd is never touched.

CTRD_PID=
CTRD_DIR=
CTRD_NS=strata-bench

ctr_() { ctr --address "$CTRD_DIR/c.sock" --namespace "$CTRD_NS" "$@"; }

# ctrd_start DIR: starts containerd with everything under DIR (an overlayfs snapshotter).
ctrd_start() {
    CTRD_DIR=$1
    mkdir -p "$CTRD_DIR/root" "$CTRD_DIR/state" "$CTRD_DIR/tmp" "$CTRD_DIR/mnt"
    cat >"$CTRD_DIR/config.toml" <<CONF
version = 2
root = "$CTRD_DIR/root"
state = "$CTRD_DIR/state"
temp = "$CTRD_DIR/tmp"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$CTRD_DIR/c.sock"
[ttrpc]
  address = "$CTRD_DIR/c.sock.ttrpc"
CONF
    setsid containerd --config "$CTRD_DIR/config.toml" >"$CTRD_DIR/containerd.log" 2>&1 </dev/null &
    CTRD_PID=$!
    trap 'ctrd_stop; umount "$TMPFS" 2>/dev/null || true' EXIT
    for _ in $(seq 1 200); do
        ctr --address "$CTRD_DIR/c.sock" version >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "bench: containerd did not start (see $CTRD_DIR/containerd.log)" >&2
    return 1
}

ctrd_stop() {
    [[ -n $CTRD_DIR ]] || return 0
    awk -v r="$CTRD_DIR" 'index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
    [[ -n $CTRD_PID ]] && kill "$CTRD_PID" 2>/dev/null && wait "$CTRD_PID" 2>/dev/null
    CTRD_PID=
    CTRD_DIR=
}

# ctrd_import LAYER NAME [--no-unpack]: imports a one-layer image; sets CTRD_CHAIN and CTRD_MANIFEST.
ctrd_import() {
    local layer=$1 name=$2 media=application/vnd.oci.image.layer.v1.tar comp=none
    case $(head -c 3 "$layer" | od -An -tx1 | tr -d ' \n') in 1f8b08) comp=gzip media+=+gzip ;; esac
    rm -rf "$CTRD_DIR/oci-$name"
    CTRD_CHAIN=$(python3 "$ROOT/scripts/oci-archive.py" "$layer" "$comp" "$media" amd64 \
        "docker.io/strata/$name:latest" "$CTRD_DIR/oci-$name" "$CTRD_DIR/$name.oci.tar")
    ctr_ images import --snapshotter overlayfs --platform linux/amd64 ${3:-} "$CTRD_DIR/$name.oci.tar" >/dev/null
    rm -f "$CTRD_DIR/$name.oci.tar"
    CTRD_MANIFEST=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['manifests'][0]['digest'])" \
        "$CTRD_DIR/oci-$name/index.json")
}

# ctrd_prepare_with_changes NAME KEY: an active snapshot KEY over the image's layer, holding the
# benchmark's change set (made by mutate.py inside the mounted snapshot).
ctrd_prepare_with_changes() {
    local key=$2 mnt=$CTRD_DIR/mnt
    ctr_ snapshots --snapshotter overlayfs rm "$key" >/dev/null 2>&1 || true
    ctr_ snapshots --snapshotter overlayfs prepare "$key" "$CTRD_CHAIN" >/dev/null
    eval "$(ctr_ snapshots --snapshotter overlayfs mounts "$mnt" "$key")"
    python3 "$HERE/mutate.py" "$mnt" >/dev/null
    umount "$mnt"
}

# ctrd_diff KEY: containerd's diff of the active snapshot against its parent, uncompressed.
ctrd_diff() {
    ctr_ snapshots --snapshotter overlayfs diff --media-type application/vnd.oci.image.layer.v1.tar "$1" >/dev/null
}

# ctrd_unpack_setup LAYER DIR: a fresh daemon rooted in DIR (tmpfs) with the layer imported but
# not unpacked; ctrd_unpack then times containerd's unpack alone.
ctrd_unpack_setup() {
    ctrd_stop
    rm -rf "$2"
    ctrd_start "$2"
    ctrd_import "$1" unpack --no-unpack
}

ctrd_unpack() { ctr_ snapshots --snapshotter overlayfs unpack "$CTRD_MANIFEST" >/dev/null; }

# ctrd_container_with_changes NAME ID: container ID of the image NAME, on containerd's overlayfs
# snapshotter (its snapshot's key is ID), holding the benchmark's change set; no task.
ctrd_container_with_changes() {
    local mnt=$CTRD_DIR/mnt
    ctr_ containers create --snapshotter overlayfs "docker.io/strata/$1:latest" "$2" >/dev/null
    eval "$(ctr_ snapshots --snapshotter overlayfs mounts "$mnt" "$2")"
    python3 "$HERE/mutate.py" "$mnt" >/dev/null
    umount "$mnt"
}

# ctrd_read_bytes CMD...: runs CMD once; prints the bytes it read and the bytes containerd read
# meanwhile (each process's rchar: every read call, files and sockets).
ctrd_read_bytes() {
    local before after own
    before=$(awk '$1 == "rchar:" { print $2 }' "/proc/$CTRD_PID/io")
    own=$(python3 -c '
import subprocess, sys
def rchar():
    return int(next(l for l in open("/proc/self/io") if l.startswith("rchar")).split()[1])
a = rchar()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(rchar() - a)' "$@")
    after=$(awk '$1 == "rchar:" { print $2 }' "/proc/$CTRD_PID/io")
    echo "$own $((after - before))"
}
