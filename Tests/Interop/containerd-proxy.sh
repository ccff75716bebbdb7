#!/usr/bin/env bash
# containerd-proxy.sh MODE OUT_DIR
#
# Runs a container under a real, private containerd (Debian's 1.6, with runc) and records what it
# did. MODE is the snapshotter setup:
#   native          containerd's built-in native snapshotter and content store
#   strata          `strata serve` as containerd's snapshotter (proxy_plugins, type "snapshot")
#   strata-content  `strata serve` as its snapshotter and its content store (containerd's own
#                   content plugin disabled)
# The image is built here: Debian's busybox-static, a few files, and the mount points runc and
# containerd's default spec need. The container writes, deletes and creates files; then
# `ctr snapshots diff --keep` of its snapshot is taken (containerd 1.6 runs its walking differ over the
# snapshotter's mounts, writing into the content store in use).
#
# OUT_DIR receives: rootfs/ (the container's tree after the run), diff.tar.gz (the snapshot diff),
# and, for the strata modes, strata-snapshots.txt and strata-content.txt (what Strata's CLI reads
# in its containerd partition) and serve.log.
# Requirements: root, containerd, ctr, runc, busybox (static), python3, tar; STRATA_BIN for the
# strata modes.
set -euo pipefail
set +m

PROG=${0##*/}
die() { echo "$PROG: error: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || { echo "usage: $PROG native|strata|strata-content OUT_DIR" >&2; exit 2; }
MODE=$1
mkdir -p -- "$2"
OUT=$(readlink -f -- "$2")
[[ $(id -u) -eq 0 ]] || die "must run as root (containerd and runc need it)"
for tool in containerd ctr runc busybox python3 tar timeout setsid; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool not found: $tool"
done
case $MODE in native | strata | strata-content) ;; *) die "unknown mode $MODE" ;; esac
[[ $MODE == native ]] || [[ -x ${STRATA_BIN:-} ]] || die "STRATA_BIN must name the strata binary"

TMP=$(mktemp -d /tmp/strata-proxy.XXXXXX)
SOCK=$TMP/containerd.sock
SSOCK=$TMP/strata.sock
NS=strata-test
IMAGE=docker.io/strata/busybox-proxy:latest
CTR=(timeout --foreground -k 5 120 ctr --address "$SOCK" --namespace "$NS")
DAEMON=""
SERVER=""
MNT=$TMP/mnt

cleanup() {
    set +e
    mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
    if [[ -n $DAEMON ]]; then
        "${CTR[@]}" tasks kill -s SIGKILL c1 >/dev/null 2>&1
        "${CTR[@]}" containers rm c1 >/dev/null 2>&1
        kill "$DAEMON" 2>/dev/null
        wait "$DAEMON" 2>/dev/null
    fi
    # containerd's shims and runc state live under $TMP; anything still mounted there goes.
    grep -o " $TMP/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    if [[ -n $SERVER ]]; then
        kill -TERM "$SERVER" 2>/dev/null
        wait "$SERVER" 2>/dev/null
    fi
    [[ ${STRATA_KEEP_TMP:-0} == 1 ]] || rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$OUT" "$MNT"

# ---------------------------------------------------------------- the image
TREE=$TMP/tree
mkdir -p "$TREE"/{bin,proc,sys,dev,run,etc,tmp,root}
chmod 1777 "$TREE/tmp"
cp "$(command -v busybox)" "$TREE/bin/busybox"
for a in sh echo rm mkdir cat ls ln chmod; do ln -s busybox "$TREE/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$TREE/etc/passwd"
echo "base" >"$TREE/etc/keep"
echo "bye" >"$TREE/etc/remove-me"
mkdir -p "$TREE/var/lib/app"
echo "state" >"$TREE/var/lib/app/state"
find "$TREE" -exec touch -h -d 2024-01-01T00:00:00Z {} +
tar --numeric-owner --owner=0 --group=0 -C "$TREE" -cf "$TMP/layer.tar" .
python3 "$(dirname "$(readlink -f "$0")")/../../scripts/oci-archive.py" "$TMP/layer.tar" none \
    application/vnd.oci.image.layer.v1.tar amd64 "$IMAGE" "$TMP/oci" "$TMP/image.tar" >/dev/null

# ---------------------------------------------------------------- strata serve
SNAP=native
if [[ $MODE != native ]]; then
    SNAP=strata
    setsid "$STRATA_BIN" serve --root "$TMP/strata" --address "$SSOCK" --log-level debug \
        >"$OUT/serve.log" 2>&1 </dev/null &
    SERVER=$!
    for _ in $(seq 300); do [[ -S $SSOCK ]] && break; sleep 0.05; done
    [[ -S $SSOCK ]] || { cat "$OUT/serve.log" >&2; die "strata serve did not listen"; }
fi

# ---------------------------------------------------------------- containerd
{
    echo 'version = 2'
    echo "root = \"$TMP/root\""
    echo "state = \"$TMP/state\""
    echo 'disabled_plugins = ['
    echo '  "io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",'
    echo '  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",'
    echo '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",'
    [[ $MODE == strata-content ]] && echo '  "io.containerd.content.v1.content",'
    echo ']'
    if [[ $MODE != native ]]; then
        echo '[proxy_plugins]'
        echo '  [proxy_plugins.strata]'
        echo '    type = "snapshot"'
        echo "    address = \"$SSOCK\""
    fi
    if [[ $MODE == strata-content ]]; then
        echo '  [proxy_plugins.strata-content]'
        echo '    type = "content"'
        echo "    address = \"$SSOCK\""
    fi
    echo '[grpc]'
    echo "  address = \"$SOCK\""
    echo '[ttrpc]'
    echo "  address = \"$SOCK.ttrpc\""
} >"$TMP/config.toml"
setsid containerd --config "$TMP/config.toml" --log-level info >"$TMP/containerd.log" 2>&1 </dev/null &
DAEMON=$!
for _ in $(seq 200); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr --address "$SOCK" version >/dev/null 2>&1 || { cat "$TMP/containerd.log" >&2; die "containerd did not start"; }

fail() { cat "$TMP/containerd.log" >&2; [[ -f $OUT/serve.log ]] && cat "$OUT/serve.log" >&2; die "$*"; }

# ---------------------------------------------------------------- import, run, diff
"${CTR[@]}" images import --snapshotter "$SNAP" "$TMP/image.tar" >"$TMP/import.out" 2>&1 ||
    { cat "$TMP/import.out" >&2; fail "ctr images import failed"; }
"${CTR[@]}" run --snapshotter "$SNAP" "$IMAGE" c1 /bin/sh -c '
    echo changed > /etc/keep
    rm /etc/remove-me
    echo new > /etc/new
    mkdir -p /data/sub
    echo payload > /data/sub/file
    rm -r /var/lib/app
    ln -s /data/sub/file /root/link
' >"$TMP/run.out" 2>&1 || { cat "$TMP/run.out" >&2; fail "ctr run failed"; }

"${CTR[@]}" snapshots --snapshotter "$SNAP" diff --keep c1 >"$OUT/diff.tar.gz" 2>"$TMP/diff.err" ||
    { cat "$TMP/diff.err" >&2; fail "ctr snapshots diff failed"; }

# The container's tree, through its snapshot's mounts.
"${CTR[@]}" snapshots --snapshotter "$SNAP" mounts "$MNT" c1 >"$TMP/mount.sh" || fail "ctr snapshots mounts failed"
sh "$TMP/mount.sh" || fail "mounting the container's snapshot failed: $(cat "$TMP/mount.sh")"
mkdir -p "$OUT/rootfs"
tar --numeric-owner -C "$MNT" -cf - . | tar --numeric-owner -C "$OUT/rootfs" -xpf -
umount "$MNT"

if [[ $MODE != native ]]; then
    "$STRATA_BIN" snapshot ls --root "$TMP/strata" --containerd --containerd-namespace "$NS" >"$OUT/strata-snapshots.txt"
    "$STRATA_BIN" content ls --root "$TMP/strata" --containerd >"$OUT/strata-content.txt"
fi
