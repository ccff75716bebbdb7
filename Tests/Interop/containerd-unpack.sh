#!/usr/bin/env bash
# containerd-unpack.sh LAYER_FILE[,LAYER_FILE...] OUT_DIR
#
# Unpack one OCI image layer blob (tar, tar+gzip or tar+zstd; detected by
# magic bytes), or several stacked (comma-separated, bottom first), with a
# real, private containerd daemon and copy the resulting
# snapshot tree into OUT_DIR (owners, modes, times, xattrs, hardlinks and
# device nodes preserved).
#
# Requirements: root, containerd + ctr (tested with 1.6.20, Debian 12),
# python3 (stdlib only), zstd CLI for zstd layers (apt-get installed if
# missing), GNU tar, util-linux (mountpoint/umount).
#
# Environment:
#   STRATA_SNAPSHOTTER   force a snapshotter (default: overlayfs, falling back
#                        to native if overlayfs is unavailable)
#   STRATA_KEEP_TMP=1    keep the temp dir (daemon log, archive) for debugging
#   STRATA_DEBUG=1       print progress to stderr
#   STRATA_TMPFS=1       put the daemon's root/state on a private tmpfs (faster
#                        for big layers on slow disks; user.* xattrs on tmpfs
#                        need Linux >= 6.6)
#   STRATA_CTR_TIMEOUT   seconds allowed for any single ctr call (default 300)
#
# Exit status: 0 on success, non-zero with a message on stderr otherwise.
# The system's default containerd (/run/containerd, /var/lib/containerd,
# /opt/containerd) is never touched.

set -euo pipefail
set +m   # no job control: $! below must be containerd itself, not a forked setsid

PROG=${0##*/}
NS=strata-test
IMAGE_REF=docker.io/strata/layer-test:latest
WAIT_SECONDS=20
CTR_TIMEOUT=${STRATA_CTR_TIMEOUT:-300}   # upper bound for any single ctr call

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { if [[ ${STRATA_DEBUG:-0} == 1 ]]; then echo "$PROG: $*" >&2; fi; return 0; }

[[ $# -eq 2 ]] || { echo "usage: $PROG LAYER_FILE[,LAYER_FILE...] OUT_DIR" >&2; exit 2; }
OUT=$2
[[ $(id -u) -eq 0 ]] || die "must run as root (containerd needs it)"
for tool in containerd ctr python3 tar mountpoint umount timeout setsid; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool not found: $tool"
done
IFS=, read -ra LAYER_LIST <<<"$1"
LAYERS=
for l in "${LAYER_LIST[@]}"; do
    [[ -f $l && -r $l ]] || die "layer file not readable: $l"
    LAYERS+=${LAYERS:+,}$(readlink -f -- "$l")
done
LAYER=${LAYERS%%,*}   # the media type below is the first layer's (each is detected when several)

# ---------------------------------------------------------------- media type
MAGIC=$(head -c 4 -- "$LAYER" | od -An -tx1 | tr -d ' \n')
case $MAGIC in
    1f8b08*)  COMP=gzip; MEDIA=application/vnd.oci.image.layer.v1.tar+gzip ;;
    28b52ffd) COMP=zstd; MEDIA=application/vnd.oci.image.layer.v1.tar+zstd ;;
    *)        COMP=none; MEDIA=application/vnd.oci.image.layer.v1.tar ;;
esac
log "layer compression: $COMP ($MEDIA)"
if [[ $COMP == zstd ]] && ! command -v zstd >/dev/null 2>&1; then
    log "installing zstd"
    { apt-get install -y zstd || { apt-get update && apt-get install -y zstd; }; } >&2 \
        || die "zstd CLI missing and apt-get install zstd failed"
fi

case $(uname -m) in
    x86_64)        ARCH=amd64 ;;
    aarch64|arm64) ARCH=arm64 ;;
    armv7l|armv6l) ARCH=arm ;;
    i?86)          ARCH=386 ;;
    ppc64le)       ARCH=ppc64le ;;
    s390x)         ARCH=s390x ;;
    riscv64)       ARCH=riscv64 ;;
    *)             die "unsupported host architecture $(uname -m)" ;;
esac

# ---------------------------------------------------------------- temp + cleanup
# Keep the path short: the unix socket path must fit in sun_path (108 bytes).
TMP=$(mktemp -d /tmp/strata-ctrd.XXXXXXXX) || die "mktemp failed"
SOCK=$TMP/containerd.sock
DAEMON_PID=
MNT=$TMP/mnt

unmount_under() {
    # Unmount everything mounted at or below $1 (strictly below if $1 ends in /), deepest first.
    local root=$1 mp i
    for i in 1 2 3; do
        mapfile -t mps < <(awk -v r="${root%/}" -v self="${root: -1}" \
            '{ if (($5 == r && self != "/") || index($5, r "/") == 1) print $5 }' \
            /proc/self/mountinfo | sort -r)
        [[ ${#mps[@]} -eq 0 ]] && return 0
        for mp in "${mps[@]}"; do
            mp=$(printf '%b' "$mp")        # mountinfo escapes spaces as \040
            umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || true
        done
    done
}

cleanup() {
    local rc=$?
    set +e
    trap - EXIT
    trap '' INT TERM HUP    # cleanup itself must not be interrupted
    if [[ -n $DAEMON_PID ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        mountpoint -q "$MNT" 2>/dev/null &&
            timeout --foreground -k 2 20 ctr --address "$SOCK" --namespace "$NS" images unmount --snapshotter "$SNAP" --rm "$MNT" >/dev/null 2>&1
        kill -TERM "$DAEMON_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
    fi
    if [[ $rc -ne 0 && -s $TMP/containerd.log ]]; then
        local lines
        lines=$(grep -E 'level=(error|fatal|warning)' "$TMP/containerd.log" | grep -v 'failed to load plugin' | tail -n 15)
        [[ -n $lines ]] && printf '%s\n%s\n' "$PROG: --- containerd log (errors/warnings) ---" "$lines" >&2
    fi
    if [[ ${STRATA_KEEP_TMP:-0} == 1 ]]; then
        unmount_under "$TMP/"              # everything below, but keep a tmpfs on $TMP itself
        echo "$PROG: kept temp dir $TMP" >&2
    else
        unmount_under "$TMP"
        # Never recurse into a still-mounted path.
        if ! awk -v r="$TMP" '$5 == r || index($5, r "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
            rm -rf --one-file-system -- "$TMP"
        else
            echo "$PROG: warning: mounts remain under $TMP; not removing it" >&2
        fi
    fi
    exit "$rc"
}
SNAP=${STRATA_SNAPSHOTTER:-overlayfs}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

if [[ ${STRATA_TMPFS:-0} == 1 ]]; then
    mount -t tmpfs -o mode=0700 strata-ctrd "$TMP" || die "mounting tmpfs on $TMP failed"
fi
mkdir -p "$TMP/root" "$TMP/state" "$TMP/tmp" "$TMP/oci" "$MNT"

# ---------------------------------------------------------------- daemon
cat >"$TMP/config.toml" <<EOF
version = 2
root = "$TMP/root"
state = "$TMP/state"
temp = "$TMP/tmp"
oom_score = 0
# Only content store, metadata, snapshotters (overlayfs/native), differ,
# images/leases/snapshots services are needed. "opt" would create /opt/containerd.
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
]

[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$TMP/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF

log "starting containerd in $TMP"
# setsid: own session, so a ^C in the caller's terminal goes to us, not the daemon.
setsid containerd --config "$TMP/config.toml" --log-level info >"$TMP/containerd.log" 2>&1 </dev/null &
DAEMON_PID=$!

CTR=(timeout --foreground -k 5 "$CTR_TIMEOUT" ctr --address "$SOCK" --namespace "$NS")
deadline=$((SECONDS + WAIT_SECONDS))
until timeout --foreground -k 1 5 ctr --address "$SOCK" version >/dev/null 2>&1; do
    kill -0 "$DAEMON_PID" 2>/dev/null || die "containerd exited during startup"
    ((SECONDS < deadline)) || die "containerd did not answer on $SOCK within ${WAIT_SECONDS}s"
    sleep 0.1
done
log "containerd up"

# Pick the snapshotter: overlayfs if its plugin loaded, else native.
if [[ -z ${STRATA_SNAPSHOTTER:-} ]]; then
    if ! "${CTR[@]}" plugins ls 2>/dev/null |
            awk '$1 == "io.containerd.snapshotter.v1" && $2 == "overlayfs" && $NF == "ok" { f = 1 } END { exit !f }'; then
        echo "$PROG: note: overlayfs snapshotter unavailable, using native" >&2
        SNAP=native
    fi
fi
log "snapshotter: $SNAP"

# ---------------------------------------------------------------- OCI archive
CHAIN_ID=$(python3 "$(dirname "$(readlink -f "$0")")/../../scripts/oci-archive.py" \
    "$LAYERS" "$COMP" "$MEDIA" "$ARCH" "$IMAGE_REF" "$TMP/oci" "$TMP/image.tar") || die "building the OCI archive failed"
log "diff ID / chain ID: $CHAIN_ID"
[[ -s $TMP/image.tar ]] || die "OCI archive not created"

# ---------------------------------------------------------------- import + unpack
log "importing"
# 1.6: import unpacks by default (for the host platform) into --snapshotter.
"${CTR[@]}" images import --snapshotter "$SNAP" --platform "linux/$ARCH" "$TMP/image.tar" >"$TMP/import.out" 2>&1 \
    || { cat "$TMP/import.out" >&2; die "ctr images import failed"; }
"${CTR[@]}" images ls -q | grep -qxF "$IMAGE_REF" \
    || { cat "$TMP/import.out" >&2; "${CTR[@]}" images ls >&2; die "image $IMAGE_REF not present after import"; }
"${CTR[@]}" snapshots --snapshotter "$SNAP" info "$CHAIN_ID" >/dev/null 2>&1 \
    || die "layer was not unpacked: no $SNAP snapshot $CHAIN_ID"

# ---------------------------------------------------------------- mount + copy
log "mounting snapshot read-only at $MNT"
"${CTR[@]}" images mount --snapshotter "$SNAP" --platform "linux/$ARCH" "$IMAGE_REF" "$MNT" >"$TMP/mount.out" 2>&1 \
    || { cat "$TMP/mount.out" >&2; die "ctr images mount failed"; }
mountpoint -q "$MNT" || die "snapshot not mounted at $MNT"

mkdir -p -- "$OUT" || die "cannot create $OUT"
log "copying tree to $OUT"
# GNU tar as root restores owners, modes (incl. setuid), ns mtimes, all xattrs
# (security.capability is written after chown so it is not cleared), hardlinks,
# fifos and device nodes. Directory times are fixed up after their contents.
( cd "$MNT" && tar --xattrs --xattrs-include='*' --acls --numeric-owner --format=posix \
      --pax-option=delete=atime,delete=ctime -cf - . ) |
    ( cd "$OUT" && tar --xattrs --xattrs-include='*' --acls --numeric-owner \
      --same-owner --preserve-permissions -xf - ) \
    || die "copying the unpacked tree failed"

"${CTR[@]}" images unmount --snapshotter "$SNAP" --rm "$MNT" >/dev/null 2>&1 || umount "$MNT" \
    || die "unmounting $MNT failed"
log "done"
exit 0
