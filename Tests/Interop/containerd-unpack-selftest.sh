#!/usr/bin/env bash
# Self-test for containerd-unpack.sh (root only). Builds sample layers with
# python tarfile and GNU tar, in tar / gzip / zstd, unpacks each with a real
# containerd and compares the result with a GNU-tar reference unpack.
# Also checks: sequential re-runs, concurrent runs, native snapshotter,
# failure exit codes, no leftover daemons/mounts/temp dirs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
UNPACK=$HERE/containerd-unpack.sh
TREE="python3 $HERE/interop_tree.py"
W=$(mktemp -d /tmp/strata-selftest.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
cd "$W"
fail=0
ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
leftovers() {
    compgen -G '/tmp/strata-ctrd.*' >/dev/null && bad "leftover temp dirs: $(ls -d /tmp/strata-ctrd.*)"
    grep -q strata-ctrd /proc/self/mountinfo && bad "leftover mounts" || true
    pgrep -f 'containerd --config /tmp/strata-ctrd' >/dev/null && bad "leftover daemon" || true
    [[ -e /opt/containerd || -e /run/containerd || -e /var/lib/containerd ]] && bad "touched system containerd dirs" || true
}

$TREE make-python py.tar
$TREE make-src src
tar --format=posix --xattrs --xattrs-include='*' --numeric-owner -C src -cf gnu.tar .
for b in py gnu; do
    gzip -9 -c $b.tar >$b.tar.gz
    zstd -q -c $b.tar >$b.tar.zst
    $TREE reference $b.tar ref-$b
done

check() {  # check LAYER REFDIR EXTRA_ENV...
    local layer=$1 ref=$2 out; shift 2
    out=out-$(echo "$layer$*" | tr -c 'a-zA-Z0-9\n' _)
    local t0=$(date +%s.%N)
    if env "$@" "$UNPACK" "$layer" "$out" 2>"$out.err"; then
        local t1=$(date +%s.%N)
        if $TREE compare "$ref" "$out" >"$out.diff"; then
            ok "$layer $* ($(printf '%.2f' "$(echo "$t1 - $t0" | bc)") s)"
        else bad "$layer $*: tree differs"; cat "$out.diff"; fi
    else bad "$layer $*: exit $?"; cat "$out.err"; fi
}

for b in py gnu; do
    for ext in tar tar.gz tar.zst; do check $b.$ext ref-$b; done
done
check gnu.tar.gz ref-gnu STRATA_SNAPSHOTTER=native
check py.tar.zst ref-py STRATA_TMPFS=1
leftovers

# twice in a row into the same OUT_DIR
"$UNPACK" py.tar.zst again && "$UNPACK" py.tar.zst again && $TREE compare ref-py again >/dev/null \
    && ok "sequential re-run" || bad "sequential re-run"

# concurrent daemons
pids=()
for i in 1 2 3 4; do "$UNPACK" gnu.tar.gz conc$i 2>conc$i.err & pids+=($!); done
for i in 1 2 3 4; do
    if wait "${pids[$((i-1))]}" && $TREE compare ref-gnu conc$i >/dev/null; then ok "concurrent run $i"
    else bad "concurrent run $i"; cat conc$i.err; fi
done
leftovers

# SIGTERM at various points must still clean up
for d in 0.1 0.25 0.4; do
    "$UNPACK" gnu.tar.gz intr 2>/dev/null & p=$!
    sleep $d; kill -TERM $p 2>/dev/null || true; wait $p || true
done
ok "SIGTERM runs"
leftovers

# failures must be non-zero with a message
head -c 3000 /dev/urandom >garbage.bin
printf '\x1f\x8b\x08garbage' >badgz.bin
for f in garbage.bin badgz.bin /nonexistent; do
    if "$UNPACK" "$f" outfail 2>fail.err; then bad "accepted $f"
    elif [[ -s fail.err ]]; then ok "rejects $f: $(grep -m1 'error:' fail.err)"
    else bad "no message for $f"; fi
done
"$UNPACK" 2>/dev/null && bad "no-arg usage" || ok "usage error"
leftovers

[[ $fail -eq 0 ]] && echo "ALL PASSED" || { echo "SOME FAILED"; exit 1; }
