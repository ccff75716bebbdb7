#!/usr/bin/env bash
# Strata beside GNU tar, containerd (ctr) and umoci on the same trees and the same changes.
# Prints a table of medians and ratios. Never part of CI or the test command.
#
#   bench/run.sh [--source DIR | --debootstrap] [--runs N] [--work DIR] [--skip-containerd] [--skip-umoci]
#
# Needs root (containerd, tmpfs, owners), ~40 GB of disk under --work and ~16 GB of memory for a
# copy of /usr. Installs what it needs from Debian (umoci, containerd, zstd, time, debootstrap).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
SOURCE=/usr
RUNS=3
WORK=/var/tmp/strata-bench
CONTAINERD=1
UMOCI=1
DEBOOTSTRAP=0
while (($#)); do
    case $1 in
    --source) SOURCE=$2; shift 2 ;;
    --debootstrap) DEBOOTSTRAP=1; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --skip-containerd) CONTAINERD=0; shift ;;
    --skip-umoci) UMOCI=0; shift ;;
    *) echo "usage: $0 [--source DIR | --debootstrap] [--runs N] [--work DIR] [--skip-containerd] [--skip-umoci]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "bench: run as root (containerd, tmpfs, file owners)" >&2; exit 1; }

need=()
for t in umoci:umoci containerd:containerd ctr:containerd zstd:zstd /usr/bin/time:time gzip:gzip; do
    command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t##*:}")
done
((DEBOOTSTRAP)) && ! command -v debootstrap >/dev/null && need+=(debootstrap)
if ((${#need[@]})); then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
"$ROOT/scripts/install-deps.sh"
(cd "$ROOT" && swift build -c release >/dev/null)
S=$ROOT/.build/release/strata
mkdir -p "$WORK/empty"
WORK=$(cd "$WORK" && pwd)
LOG=$WORK/bench.log
: >"$LOG"

say() { printf '%s\n' "$*" >&2; }

# ---------------------------------------------------------------- timing
# median NAME CMD...: runs CMD $RUNS times, prints the median wall time in seconds.
declare -A T
median() {
    local name=$1 i t0 t1
    shift
    local times=()
    for ((i = 0; i < RUNS; i++)); do
        [[ -n ${BEFORE:-} ]] && eval "$BEFORE"
        t0=$(date +%s.%N)
        "$@" >>"$LOG" 2>&1
        t1=$(date +%s.%N)
        times+=("$(echo "$t1 - $t0" | bc -l)")
    done
    T[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
    say "  $name: ${T[$name]} s (runs: ${times[*]})"
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }

# ---------------------------------------------------------------- trees
if ((DEBOOTSTRAP)); then
    SOURCE=$WORK/debian-root
    [[ -d $SOURCE/usr ]] || debootstrap --variant=minbase stable "$SOURCE" >>"$LOG" 2>&1
fi
make_pair() {  # make_pair KIND: W2 (whole seconds) or W2ns (nanosecond mtimes)
    local kind=$1 dir=$WORK/$1
    [[ -d $dir/upper ]] && return
    say "building $kind trees from $SOURCE"
    rm -rf "$dir" && mkdir -p "$dir"
    cp -a "$SOURCE" "$dir/lower"
    [[ $kind == W2ns ]] && python3 "$HERE/nstimes.py" "$dir/lower" >>"$LOG"
    cp -a "$dir/lower" "$dir/upper"
    python3 "$HERE/mutate.py" "$dir/upper" >>"$LOG"
}
make_pair W2
make_pair W2ns
ENTRIES=$(find "$WORK/W2/lower" | wc -l)
say "trees: $ENTRIES entries per side"

# ---------------------------------------------------------------- change detection
say "change detection (W2ns)"
median find find "$WORK/W2ns/lower" "$WORK/W2ns/upper" -printf '%s %T@ %m\n'
median changes_ns "$S" changes "$WORK/W2ns/lower" "$WORK/W2ns/upper"
/usr/bin/time -f '%M' -o "$WORK/rss" "$S" changes --stats "$WORK/W2ns/lower" "$WORK/W2ns/upper" >/dev/null 2>"$WORK/stats"
RSS_MB=$(( $(cat "$WORK/rss" | tail -1) / 1024 ))
READ_NS=$(grep -o 'content bytes compared: [0-9]*' "$WORK/stats" | awk '{print $4}')

# ---------------------------------------------------------------- diff
say "diff --compression none"
median diff_w2 "$S" diff "$WORK/W2/lower" "$WORK/W2/upper" -o "$WORK/w2.tar" --compression none
median diff_w2ns "$S" diff "$WORK/W2ns/lower" "$WORK/W2ns/upper" -o "$WORK/w2ns.tar" --compression none --mtime ns
"$S" changes --stats "$WORK/W2/lower" "$WORK/W2/upper" >/dev/null 2>"$WORK/stats-w2"
READ_W2=$(grep -o 'content bytes compared: [0-9]*' "$WORK/stats-w2" | awk '{print $4}')

# ---------------------------------------------------------------- compression
say "compression of the whole lower tree"
median layer_none "$S" diff "$WORK/empty" "$WORK/W2/lower" -o "$WORK/base.tar" --compression none
median gzip_strata "$S" diff "$WORK/empty" "$WORK/W2/lower" -o "$WORK/base.tar.gz"
median zstd_strata "$S" diff "$WORK/empty" "$WORK/W2/lower" -o "$WORK/base.tar.zst" --compression zstd
RUNS_SAVED=$RUNS RUNS=1  # zlib takes minutes on a whole /usr: once is enough for a ratio
median gzip_zlib6 sh -c "gzip -6 -c '$WORK/base.tar' > '$WORK/base.zlib6.gz'"
RUNS=$RUNS_SAVED
SIZE_TAR=$(stat -c %s "$WORK/base.tar")
SIZE_GZ=$(stat -c %s "$WORK/base.tar.gz")
SIZE_ZLIB=$(stat -c %s "$WORK/base.zlib6.gz")
SIZE_ZST=$(stat -c %s "$WORK/base.tar.zst")

# ---------------------------------------------------------------- apply into tmpfs
say "apply into tmpfs"
TMPFS=$WORK/tmpfs
mkdir -p "$TMPFS"
mountpoint -q "$TMPFS" || mount -t tmpfs -o size=75% strata-bench "$TMPFS"
trap 'umount "$TMPFS" 2>/dev/null || true' EXIT
BEFORE="rm -rf '$TMPFS/t'; mkdir '$TMPFS/t'"
median apply_tar "$S" apply "$WORK/base.tar" "$TMPFS/t"
median tar_x tar -xf "$WORK/base.tar" -C "$TMPFS/t"
median apply_gz "$S" apply "$WORK/base.tar.gz" "$TMPFS/t"
median tar_xz tar -xzf "$WORK/base.tar.gz" -C "$TMPFS/t"
BEFORE=
median gunzip sh -c "gzip -dc '$WORK/base.tar.gz' > /dev/null"
median inflate_strata "$S" apply --dry-run "$WORK/base.tar.gz" "$TMPFS"
rm -rf "$TMPFS/t"

# ---------------------------------------------------------------- containerd
if ((CONTAINERD)); then
    # shellcheck source=containerd.sh
    source "$HERE/containerd.sh"
    say "containerd: snapshots diff of an overlay snapshot holding the W2 changes"
    ctrd_start "$WORK/containerd"
    ctrd_import "$WORK/base.tar" base
    ctrd_prepare_with_changes base w2-active
    median ctr_diff ctrd_diff w2-active
    ctrd_stop
    say "containerd: unpack of the base layer into tmpfs"
    BEFORE="ctrd_unpack_setup '$WORK/base.tar.gz' '$TMPFS/ctrd'"
    median ctr_unpack ctrd_unpack
    BEFORE=
    ctrd_stop
    rm -rf "$TMPFS/ctrd"
fi

# ---------------------------------------------------------------- umoci
if ((UMOCI)); then
    say "umoci: repack of a bundle holding the W2 changes"
    U=$WORK/umoci
    if [[ ! -f $U/bundle.ready ]]; then
        rm -rf "$U" && mkdir -p "$U"
        umoci init --layout "$U/layout" >>"$LOG" 2>&1
        umoci new --image "$U/layout:base" >>"$LOG" 2>&1
        umoci unpack --image "$U/layout:base" "$U/bundle" >>"$LOG" 2>&1
        cp -a "$WORK/W2/lower/." "$U/bundle/rootfs/"
        umoci repack --image "$U/layout:base" "$U/bundle" >>"$LOG" 2>&1
        python3 "$HERE/mutate.py" "$U/bundle/rootfs" >>"$LOG"
        mkdir -p "$U/state" && cp -a "$U/bundle/"*.mtree "$U/bundle/umoci.json" "$U/state/"
        touch "$U/bundle.ready"
    fi
    BEFORE="cp -a '$U/state/.' '$U/bundle/'"
    median umoci_repack umoci repack --image "$U/layout:w2" "$U/bundle"
    BEFORE=
fi

# ---------------------------------------------------------------- table
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
mb() { echo "scale=1; $1 / 1000000" | bc -l; }
echo
echo "Strata benchmark: $ENTRIES entries per tree (copy of $SOURCE), $(nproc) cores ($cpu), median of $RUNS runs"
echo
echo "| measure | Strata | other tool | ratio (other / Strata) |"
echo "|---|---|---|---|"
echo "| W2ns change detection vs \`find\` stat floor | ${T[changes_ns]} s | find ${T[find]} s | $(ratio "${T[find]}" "${T[changes_ns]}") |"
echo "| W2ns change detection: content bytes read, peak memory | ${READ_NS:-?} B, ${RSS_MB} MB | | |"
if ((CONTAINERD)); then
    echo "| W2 diff, uncompressed, vs \`ctr snapshots diff\` | ${T[diff_w2]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[diff_w2]}") |"
    echo "| W2ns diff (\`--mtime ns\`) vs containerd's W2 diff | ${T[diff_w2ns]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[diff_w2ns]}") |"
fi
((UMOCI)) && echo "| W2 diff, uncompressed, vs \`umoci repack\` | ${T[diff_w2]} s | umoci ${T[umoci_repack]} s | $(ratio "${T[umoci_repack]}" "${T[diff_w2]}") |"
echo "| W2 content compared (both sides) | $(mb "${READ_W2:-0}") MB, $(echo "scale=2; ${READ_W2:-0} / ${T[diff_w2]} / 1000000000" | bc -l) GB/s | | |"
echo "| whole tree to layer, uncompressed | ${T[layer_none]} s, $(mb "$SIZE_TAR") MB | | |"
echo "| whole tree to gzip layer (default level 6 = ISA-L 2) vs \`gzip -6\` of the tar | ${T[gzip_strata]} s, $(mb "$SIZE_GZ") MB | ${T[gzip_zlib6]} s, $(mb "$SIZE_ZLIB") MB | $(ratio "${T[gzip_zlib6]}" "${T[gzip_strata]}") (size $(ratio "$SIZE_GZ" "$SIZE_ZLIB")) |"
echo "| whole tree to zstd layer (level 3, 2 workers) | ${T[zstd_strata]} s, $(mb "$SIZE_ZST") MB | | |"
echo "| apply uncompressed layer into tmpfs vs \`tar -xf\` | ${T[apply_tar]} s | tar ${T[tar_x]} s | $(ratio "${T[tar_x]}" "${T[apply_tar]}") |"
echo "| apply gzip layer into tmpfs vs \`tar -xzf\` | ${T[apply_gz]} s | tar ${T[tar_xz]} s | $(ratio "${T[tar_xz]}" "${T[apply_gz]}") |"
echo "| gzip decompression alone vs \`gzip -d\` | ${T[inflate_strata]} s | gzip ${T[gunzip]} s | $(ratio "${T[gunzip]}" "${T[inflate_strata]}") |"
((CONTAINERD)) && echo "| apply gzip layer into tmpfs vs containerd's unpack (\`ctr snapshots unpack\`) | ${T[apply_gz]} s | ctr ${T[ctr_unpack]} s | $(ratio "${T[ctr_unpack]}" "${T[apply_gz]}") |"
echo
echo "log: $LOG"
umount "$TMPFS" 2>/dev/null || true
