#!/usr/bin/env bash
# containerd-pull.sh [--import ARCHIVE] REF OUT_DIR [COMMAND...]
#
# Pulls REF from a registry over plain HTTP with a real, private containerd (Debian's 1.6:
# `ctr images pull --plain-http`, unpacked by containerd into its overlayfs snapshotter), or with
# --import, imports the OCI archive ARCHIVE that names the image REF (`ctr images import`); copies
# the image's tree to OUT_DIR/rootfs (owners, modes, nanosecond times, xattrs kept), and, with a
# COMMAND, runs it in a container of the image (runc), its output in OUT_DIR/run.out.
# The daemon is the benchmark's (bench/containerd.sh); the system's containerd is never touched.
# Requirements: root, containerd, ctr, runc (for COMMAND), python3, GNU tar.
set -euo pipefail
set +m
# shellcheck source=containerd-common.sh
source "$(dirname "$(readlink -f "$0")")/containerd-common.sh" # ctr_output

PROG=${0##*/}
die() { echo "$PROG: error: $*" >&2; exit 1; }
ARCHIVE=
if [[ ${1:-} == --import ]]; then
    ARCHIVE=$(readlink -f -- "$2")
    shift 2
fi
[[ $# -ge 2 ]] || { echo "usage: $PROG [--import ARCHIVE] REF OUT_DIR [COMMAND...]" >&2; exit 2; }
REF=$1
mkdir -p -- "$2/rootfs"
OUT=$(readlink -f -- "$2")
shift 2
[[ $(id -u) -eq 0 ]] || die "must run as root (containerd needs it)"
ROOT=$(readlink -f "$(dirname "$(readlink -f "$0")")/../..")
# shellcheck source=../../bench/containerd.sh
source "$ROOT/bench/containerd.sh"

TMP=$(mktemp -d /tmp/strata-pull.XXXXXX)
ctrd_start "$TMP" || die "containerd did not start: $(tail -5 "$TMP/containerd.log")"
trap 'ctrd_stop; rm -rf "$TMP"' EXIT

if [[ -n $ARCHIVE ]]; then
    ctr_ images import --snapshotter overlayfs "$ARCHIVE" >"$TMP/pull.out" 2>&1 ||
        { cat "$TMP/pull.out" >&2; die "ctr images import failed"; }
else
    ctr_ images pull --plain-http --snapshotter overlayfs "$REF" >"$TMP/pull.out" 2>&1 ||
        { cat "$TMP/pull.out" >&2; die "ctr images pull failed"; }
fi
ctr_ images mount --snapshotter overlayfs "$REF" "$TMP/mnt" >"$TMP/mount.out" 2>&1 ||
    { cat "$TMP/mount.out" >&2; die "ctr images mount failed"; }
(cd "$TMP/mnt" && tar --xattrs --xattrs-include='*' --numeric-owner --format=posix \
    --pax-option=delete=atime,delete=ctime -cf - .) |
    (cd "$OUT/rootfs" && tar --xattrs --xattrs-include='*' --numeric-owner --same-owner -xpf -) ||
    die "copying the image's tree failed"
ctr_ images unmount "$TMP/mnt" >/dev/null

if [[ $# -gt 0 ]]; then
    ctr_output "$OUT/run.out" ctr_ run --rm --snapshotter overlayfs "$REF" strata-pull-run "$@" 2>"$TMP/run.err" ||
        { cat "$TMP/run.err" >&2; die "ctr run failed"; }
fi
