#!/usr/bin/env bash
# containerd-commit.sh OUT_DIR
#
# `strata containerd commit` and `strata containerd diff` against a real, private containerd
# (Debian's 1.6, with runc) and its default snapshotter, overlayfs. The image is built here:
# Debian's busybox-static, a few files, a directory the container replaces by a file, a file
# with three names, and the mount points runc and containerd's default spec need.
#
#   1. c1, a long-running container, changes its tree (modify, add, delete a file and a tree,
#      replace a directory by a file, add a symlink, modify one name of a hardlinked file, open
#      one for writing and write nothing: a copy-up with no change, which no layer carries); the
#      host sets a user.* and a security.capability xattr through /proc/PID/root.
#   2. commit c1 (it runs: strata pauses it), held at "diffed": the task's status before,
#      while held, and after.
#   3. commit c1 again, held at "stored" while a containerd gc is forced, and another gc once it
#      is done: its blobs must survive both (strata's lease holds them until the image refers to
#      them).
#   4. the committed image runs (ctr run), and its tree (unpacked by containerd) is copied out
#      beside c1's merged view.
#   5. c3, a container on the native snapshotter that has exited, is committed (no overlay upper
#      directory: strata compares trees), and both trees copied out.
#   6. `strata containerd diff c1`.
#   Between 3 and 4: commit c1 with --no-pause, held as its diff starts while c1 writes a file
#   (strata must list it as changed during the diff); commit c1 held while paused and sent SIGTERM
#   (c1 must run again, no image, exit 143); `ctr images push` of the committed image to Debian's
#   docker-registry on loopback, whose manifest digest the registry then serves.
#
# OUT_DIR receives:
#   status.txt                c1's task status before, during and after the first commit
#   commit.json commit2.json  the two commits' --json output (and *.err, strata's stderr)
#   content-held.txt          `ctr content ls -q` after a gc while the second commit was held
#   content.txt               `ctr content ls -q` after a gc once it was done
#   images.txt                `ctr images ls -q` at the end
#   run.txt                   /etc/keep as printed by a container of the committed image
#   committed/ merged/        the committed image's tree and c1's merged view
#   native.json native-committed/ native-merged/   the same for c3
#   diff.tar.gz diff.json     strata containerd diff of c1
#   nopause.json nopause-status.txt   the --no-pause commit and c1's status while it was held
#   signal-status.txt signal-exit.txt c1's status while paused and after SIGTERM; strata's exit code
#   pushed.txt                the digest the registry serves for the pushed tag
#   containerd.log            containerd's log, when a step failed
# The script checks each step ran; what the steps produced is for the caller (Swift's
# ContainerdCommitTests) to judge.
# Requirements: root, containerd, ctr, runc, busybox (static), python3, GNU tar, timeout, setsid,
# mountpoint, umount, docker-registry; STRATA_BIN names the strata binary.
set -euo pipefail
set +m # no job control: $! below must be the process itself, not a forked setsid
# shellcheck source=containerd-common.sh
source "$(dirname "$(readlink -f "$0")")/containerd-common.sh" # ctr_output

PROG=${0##*/}
die() { echo "$PROG: error: $*" >&2; exit 1; }
[[ $# -eq 1 ]] || { echo "usage: $PROG OUT_DIR" >&2; exit 2; }
mkdir -p -- "$1"
OUT=$(readlink -f -- "$1")
[[ $(id -u) -eq 0 ]] || die "must run as root (containerd and runc need it)"
for tool in containerd ctr runc busybox python3 tar timeout setsid mountpoint umount docker-registry; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool not found: $tool"
done
[[ -x ${STRATA_BIN:-} ]] || die "STRATA_BIN must name the strata binary"

# Keep the path short: the socket path must fit in sun_path (108 bytes).
TMP=$(mktemp -d /tmp/strata-commit.XXXXXX)
SOCK=$TMP/containerd.sock
NS=strata-commit  # its own: runc state and cgroups are named by namespace and container ID, and other tests run c1 in strata-test
IMAGE=docker.io/strata/busybox-commit:latest
CTR=(timeout --foreground -k 5 120 ctr --address "$SOCK" --namespace "$NS")
# Not --foreground: timeout then signals strata's whole process group, which cleanup relies on to
# end a commit that is held or hung.
STRATA=(timeout -k 5 300 "$STRATA_BIN" containerd)
ADDR=(--address "$SOCK" --namespace "$NS")
DAEMON=""
COMMIT=""
REGISTRY=""
MNT=$TMP/mnt
HOLD=$TMP/hold
CONTAINERS=(c1 c2 c3)

cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    # A commit still held (the script failed meanwhile) is ended: it is ours.
    if [[ -n $COMMIT ]]; then
        kill -TERM "$COMMIT" 2>/dev/null
        wait "$COMMIT" 2>/dev/null
    fi
    [[ -n $REGISTRY ]] && kill "$REGISTRY" 2>/dev/null
    mountpoint -q "$MNT" 2>/dev/null && umount "$MNT"
    if [[ -n $DAEMON ]]; then
        # Tasks first (their shims exit with them: containerd's death would leave them behind),
        # then the containers.
        for c in "${CONTAINERS[@]}"; do
            "${CTR[@]}" tasks kill -s SIGKILL "$c" >/dev/null 2>&1
            "${CTR[@]}" tasks delete -f "$c" >/dev/null 2>&1
            "${CTR[@]}" containers rm "$c" >/dev/null 2>&1
        done
        kill "$DAEMON" 2>/dev/null
        wait "$DAEMON" 2>/dev/null
    fi
    [[ $rc -ne 0 && -f $TMP/containerd.log ]] && cp "$TMP/containerd.log" "$OUT/containerd.log"
    # containerd's shims and runc state live under $TMP; anything still mounted there goes.
    grep -o " $TMP/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
    if [[ ${STRATA_KEEP_TMP:-0} == 1 ]]; then
        echo "$PROG: kept $TMP" >&2
    elif ! grep -q " $TMP/" /proc/self/mounts; then
        rm -rf --one-file-system "$TMP" # never into a mount still there
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

mkdir -p "$OUT" "$MNT"

# ---------------------------------------------------------------- the image
TREE=$TMP/tree
mkdir -p "$TREE"/{bin,proc,sys,dev,run,etc/hl,tmp,root,opt/dir,var/lib/app/cache}
chmod 1777 "$TREE/tmp"
cp "$(command -v busybox)" "$TREE/bin/busybox"
for a in sh echo rm mkdir cat ls ln chmod touch sleep; do ln -s busybox "$TREE/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$TREE/etc/passwd"
echo "base" >"$TREE/etc/keep"
echo "bye" >"$TREE/etc/remove-me"
echo "capable" >"$TREE/etc/cap-me"
echo "target" >"$TREE/etc/link-target"
echo "state" >"$TREE/var/lib/app/state"
echo "cached" >"$TREE/var/lib/app/cache/entry"
echo "inner" >"$TREE/opt/dir/inner"
# One file, three names: the container writes to the third, which breaks it off (overlayfs copies
# it up alone); the first two stay one file.
echo "shared" >"$TREE/etc/hl/one"
ln "$TREE/etc/hl/one" "$TREE/etc/hl/two"
ln "$TREE/etc/hl/one" "$TREE/etc/hl/three"
find "$TREE" -exec touch -h -d 2024-01-01T00:00:00Z {} +
tar --numeric-owner --owner=0 --group=0 -C "$TREE" -cf "$TMP/layer.tar" .
python3 "$(dirname "$(readlink -f "$0")")/../../scripts/oci-archive.py" "$TMP/layer.tar" none \
    application/vnd.oci.image.layer.v1.tar amd64 "$IMAGE" "$TMP/oci" "$TMP/image.tar" >/dev/null

# ---------------------------------------------------------------- containerd
# Its default snapshotter (overlayfs), native beside it; no proxy plugins.
{
    echo 'version = 2'
    echo "root = \"$TMP/root\""
    echo "state = \"$TMP/state\""
    echo "temp = \"$TMP/tmp\""
    echo 'disabled_plugins = ['
    echo '  "io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",'
    echo '  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",'
    echo '  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs",'
    echo ']'
    echo '[grpc]'
    echo "  address = \"$SOCK\""
    echo '[ttrpc]'
    echo "  address = \"$SOCK.ttrpc\""
} >"$TMP/config.toml"
mkdir -p "$TMP/tmp"
# debug: the log (kept in OUT_DIR when a step fails) then shows leases, pauses and gc runs.
setsid containerd --config "$TMP/config.toml" --log-level debug >"$TMP/containerd.log" 2>&1 </dev/null &
DAEMON=$!
for _ in $(seq 200); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr --address "$SOCK" version >/dev/null 2>&1 || { cat "$TMP/containerd.log" >&2; die "containerd did not start"; }

fail() { tail -n 40 "$TMP/containerd.log" >&2; die "$*"; }

"${CTR[@]}" images import "$TMP/image.tar" >"$TMP/import.out" 2>&1 ||
    { cat "$TMP/import.out" >&2; fail "ctr images import failed"; }

# ---------------------------------------------------------------- helpers
# The status column of `ctr tasks ls` for container $1 (RUNNING, PAUSED, STOPPED), empty if none.
status_of() { "${CTR[@]}" tasks ls | awk -v id="$1" 'NR > 1 && $1 == id { print $3 }'; }
pid_of() { "${CTR[@]}" tasks ls | awk -v id="$1" 'NR > 1 && $1 == id { print $2 }'; }

# Copies the tree mounted at $MNT to $1: owners, modes, ns times (pax), every xattr, hardlinks.
copy_tree() {
    mkdir -p "$1"
    (cd "$MNT" && tar --xattrs --xattrs-include='*' --numeric-owner --format=posix \
        --pax-option=delete=atime,delete=ctime -cf - .) |
        (cd "$1" && tar --xattrs --xattrs-include='*' --numeric-owner --same-owner -xpf -) ||
        fail "copying the tree at $MNT to $1 failed"
}

# Copies image $1's tree, as containerd unpacks it (a read-only view), to $2.
copy_image() {
    "${CTR[@]}" images mount "$1" "$MNT" >"$TMP/mount.out" 2>&1 ||
        { cat "$TMP/mount.out" >&2; fail "ctr images mount $1 failed"; }
    copy_tree "$2"
    "${CTR[@]}" images unmount --rm "$MNT" >/dev/null 2>&1 || umount "$MNT" || fail "unmounting $MNT failed"
}

# Copies container $2's snapshot (snapshotter $1), mounted read-only, to $3. Its task must be gone:
# containerd's overlay mounts use index=off, so a second mount of a live upper would be allowed
# but could see a moving tree.
copy_container() {
    "${CTR[@]}" snapshots --snapshotter "$1" mounts "$MNT" "$2" >"$TMP/mount.sh" ||
        fail "ctr snapshots mounts $2 failed"
    sh "$TMP/mount.sh" || fail "mounting $2's snapshot failed: $(cat "$TMP/mount.sh")"
    # remount,bind,ro sets the mount's own read-only flag. A plain remount,ro would reconfigure the
    # superblock: for native's bind mount, that of the filesystem holding containerd's root.
    mount -o remount,bind,ro "$MNT" || fail "remounting $2's snapshot read-only failed"
    copy_tree "$3"
    umount "$MNT" || fail "unmounting $MNT failed"
}

# Waits for the hold file $1 that a commit (pid $2) creates at its stage.
wait_hold() {
    for _ in $(seq 1200); do
        [[ -e $1 ]] && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    [[ -e $1 ]] && return 0
    kill -0 "$2" 2>/dev/null && fail "strata did not reach its hold point within 120s"
    wait "$2" && fail "strata finished without creating the hold file $1"
    fail "strata failed before its hold point: $(cat "$3")"
}

# ---------------------------------------------------------------- c1: a running container's changes
# -d --null-io: ctr returns once the task runs, leaving it no FIFOs to write to.
"${CTR[@]}" run -d --null-io "$IMAGE" c1 /bin/sh -c '
    echo changed > /etc/keep
    echo new > /etc/new
    mkdir -p /data/sub
    echo payload > /data/sub/file
    rm /etc/remove-me
    rm -r /var/lib/app
    rm -r /opt/dir
    echo now-a-file > /opt/dir
    ln -s /etc/link-target /root/link
    echo more >> /etc/hl/three
    : >> /etc/link-target
    touch /tmp/ready
    exec sleep 1000
' >"$TMP/run.out" 2>&1 || { cat "$TMP/run.out" >&2; fail "ctr run -d c1 failed"; }
PID=$(pid_of c1)
[[ $PID =~ ^[0-9]+$ ]] || fail "no pid for c1 in ctr tasks ls: $("${CTR[@]}" tasks ls)"
for _ in $(seq 300); do [[ -e /proc/$PID/root/tmp/ready ]] && break; sleep 0.1; done
[[ -e /proc/$PID/root/tmp/ready ]] || fail "c1 did not make its changes (no /tmp/ready)"
# Busybox has no setfattr: the host sets the xattrs, through the container's root. The capability
# is cap_net_bind_service+ep (VFS_CAP_REVISION_2 | effective, permitted bit 10).
python3 - "/proc/$PID/root" <<'EOF' || fail "setting xattrs in c1 failed"
import os, struct, sys
root = sys.argv[1]
os.setxattr(root + "/data/sub/file", "user.strata", b"hello")
os.setxattr(root + "/etc/cap-me", "security.capability", struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0))
EOF

# ---------------------------------------------------------------- commit 1: pause and resume
# --xattrs all: the user.* xattr too goes into the layer, so that the trees compare with every xattr.
status_of c1 >"$OUT/status.txt"
STRATA_HOLD="containerd.diffed:$HOLD" "${STRATA[@]}" commit c1 docker.io/strata/committed:1 "${ADDR[@]}" \
    --xattrs all --json >"$OUT/commit.json" 2>"$OUT/commit.err" </dev/null &
COMMIT=$!
wait_hold "$HOLD" "$COMMIT" "$OUT/commit.err"
status_of c1 >>"$OUT/status.txt"
rm -f "$HOLD"
wait "$COMMIT" || { COMMIT=""; fail "strata containerd commit c1 failed: $(cat "$OUT/commit.err")"; }
COMMIT=""
status_of c1 >>"$OUT/status.txt"

# ---------------------------------------------------------------- commit 2: gc while stored
# Held with its layer, config and manifest in the content store but no image yet: only strata's
# lease keeps them. Then, the commit done and its lease gone, only the image's references (the gc
# labels on its manifest) do. ctr 1.6 has no gc command: deleting a scratch lease with --sync makes
# containerd run its gc and wait for it (an unreferenced blob is gone when ctr returns).
force_gc() {
    "${CTR[@]}" leases create --id strata-test-gc >/dev/null || fail "ctr leases create failed"
    "${CTR[@]}" leases delete --sync strata-test-gc >/dev/null || fail "ctr leases delete --sync (a gc) failed"
}
STRATA_HOLD="containerd.stored:$HOLD" "${STRATA[@]}" commit c1 docker.io/strata/committed:2 "${ADDR[@]}" \
    --xattrs all --json >"$OUT/commit2.json" 2>"$OUT/commit2.err" </dev/null &
COMMIT=$!
wait_hold "$HOLD" "$COMMIT" "$OUT/commit2.err"
force_gc
"${CTR[@]}" content ls -q >"$OUT/content-held.txt" || fail "ctr content ls failed"
rm -f "$HOLD"
wait "$COMMIT" || { COMMIT=""; fail "strata containerd commit c1 (2) failed: $(cat "$OUT/commit2.err")"; }
COMMIT=""
force_gc
"${CTR[@]}" content ls -q >"$OUT/content.txt" || fail "ctr content ls failed"

# ---------------------------------------------------------------- the committed image
"${CTR[@]}" images ls -q >"$TMP/images.txt" || fail "ctr images ls failed"
grep -qxF docker.io/strata/committed:1 "$TMP/images.txt" ||
    fail "no image committed:1 in ctr images ls: $(cat "$TMP/images.txt")"
ctr_output "$OUT/run.txt" "${CTR[@]}" run --rm docker.io/strata/committed:1 c2 cat /etc/keep 2>"$TMP/run2.err" </dev/null ||
    { cat "$TMP/run2.err" >&2; fail "ctr run of the committed image failed"; }
copy_image docker.io/strata/committed:1 "$OUT/committed"

# ---------------------------------------------------------------- commit 3: --no-pause, a write meanwhile
# Held just after the diff started (the task left running): c1 writes a file, which the layer may
# or may not hold, and which strata must report as changed during the diff.
STRATA_HOLD="containerd.diff-started:$HOLD" "${STRATA[@]}" commit c1 docker.io/strata/committed:3 "${ADDR[@]}" \
    --no-pause --json >"$OUT/nopause.json" 2>"$OUT/nopause.err" </dev/null &
COMMIT=$!
wait_hold "$HOLD" "$COMMIT" "$OUT/nopause.err"
status_of c1 >"$OUT/nopause-status.txt"
echo during >"/proc/$PID/root/etc/during" || fail "writing into c1 during its diff failed"
rm -f "$HOLD"
wait "$COMMIT" || { COMMIT=""; fail "strata containerd commit --no-pause c1 failed: $(cat "$OUT/nopause.err")"; }
COMMIT=""
# Gone again (it was only in the upper directory: no whiteout), so c1's view is committed:1's.
rm "/proc/$PID/root/etc/during" || fail "removing the file written during the diff failed"

# ---------------------------------------------------------------- commit 4: SIGTERM while paused
# Held with c1 paused, before the diff: a SIGTERM then stops the commit, which must resume c1, make
# no image, and exit with 143.
STRATA_HOLD="containerd.paused:$HOLD" "${STRATA[@]}" commit c1 docker.io/strata/committed:4 "${ADDR[@]}" \
    --json >/dev/null 2>"$OUT/signal.err" </dev/null &
COMMIT=$!
wait_hold "$HOLD" "$COMMIT" "$OUT/signal.err"
status_of c1 >"$OUT/signal-status.txt"
kill -TERM "$COMMIT"
sleep 0.2
rm -f "$HOLD"
rc=0
wait "$COMMIT" || rc=$?
COMMIT=""
echo "$rc" >"$OUT/signal-exit.txt"
status_of c1 >>"$OUT/signal-status.txt"

# ---------------------------------------------------------------- push: ctr images push to a registry
# Debian's docker-registry on a free loopback port; the registry then serves the committed
# manifest's digest for the tag.
PORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
cat >"$TMP/registry.yml" <<EOT
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $TMP/registry
http:
  addr: 127.0.0.1:$PORT
EOT
setsid docker-registry serve "$TMP/registry.yml" >"$TMP/registry.log" 2>&1 </dev/null &
REGISTRY=$!
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
    sleep 0.1
done
PUSHED=127.0.0.1:$PORT/strata/committed:1
"${CTR[@]}" images tag docker.io/strata/committed:1 "$PUSHED" >/dev/null || fail "ctr images tag failed"
"${CTR[@]}" images push --plain-http "$PUSHED" >"$TMP/push.out" 2>&1 ||
    { cat "$TMP/push.out" "$TMP/registry.log" >&2; fail "ctr images push of the committed image failed"; }
python3 - "$PORT" >"$OUT/pushed.txt" <<'EOF' || fail "reading the pushed manifest back failed"
import sys, urllib.request
r = urllib.request.Request(
    "http://127.0.0.1:%s/v2/strata/committed/manifests/1" % sys.argv[1],
    headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
print(urllib.request.urlopen(r, timeout=10).headers["Docker-Content-Digest"])
EOF

# ---------------------------------------------------------------- diff
"${STRATA[@]}" diff c1 "${ADDR[@]}" -o "$OUT/diff.tar.gz" --json \
    >"$OUT/diff.json" 2>"$OUT/diff.err" </dev/null ||
    fail "strata containerd diff c1 failed: $(cat "$OUT/diff.err")"

# ---------------------------------------------------------------- c1's merged view
# -f: a task a commit left paused (status.txt tells) takes no SIGKILL until thawed; runc's forced
# delete kills it all the same.
"${CTR[@]}" tasks kill -s SIGKILL c1 || fail "ctr tasks kill c1 failed"
for _ in $(seq 100); do [[ $(status_of c1) == STOPPED ]] && break; sleep 0.1; done
"${CTR[@]}" tasks delete -f c1 >/dev/null || fail "ctr tasks delete c1 failed"
copy_container overlayfs c1 "$OUT/merged"

# ---------------------------------------------------------------- native: a stopped container, trees
# No upper directory to read: strata compares the container's tree with its image's.
"${CTR[@]}" run --snapshotter native "$IMAGE" c3 /bin/sh -c '
    echo native > /etc/keep
    rm /etc/remove-me
    mkdir /srv
    echo served > /srv/file
' >"$TMP/run3.out" 2>&1 </dev/null || { cat "$TMP/run3.out" >&2; fail "ctr run c3 failed"; }
"${STRATA[@]}" commit c3 docker.io/strata/native:1 "${ADDR[@]}" --json \
    >"$OUT/native.json" 2>"$OUT/native.err" </dev/null ||
    fail "strata containerd commit c3 failed: $(cat "$OUT/native.err")"
copy_image docker.io/strata/native:1 "$OUT/native-committed"
copy_container native c3 "$OUT/native-merged"

"${CTR[@]}" images ls -q >"$OUT/images.txt" || fail "ctr images ls failed"
