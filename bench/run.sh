#!/usr/bin/env bash
# Strata beside GNU tar, containerd (ctr) and umoci on the same trees and the same changes.
# Prints a table of medians and ratios. Never part of CI or the test command.
#
#   bench/run.sh [--source DIR] [--no-debootstrap] [--runs N] [--work DIR] [--skip-containerd] [--skip-umoci]
#                [--merge-only] [--patch-only] [--grpc-only] [--grpc-seconds N] [--registry-only]
#                [--processors-only] [--commit-only]
#
# Two trees, one table each: a copy of a system directory (--source, default /usr), then a
# Debian minimal root made with `debootstrap --variant=minbase` (skipped when debootstrap cannot
# reach a mirror, or with --no-debootstrap). A third table measures `strata ref merge` on a
# generated tree (bench/gentree.py); --merge-only runs that one alone. A fourth measures `strata
# patch` on large files edited in place, shifted and appended (bench/patchset.py) beside rsync's
# batch mode; --patch-only runs that one alone. A fifth loads `strata serve` (overlay and native)
# and a private containerd's own native snapshotter and content store with 16 concurrent clients
# (bench/grpcload, Go, built offline against Debian's containerd sources) for --grpc-seconds
# (default 60); --grpc-only runs that one alone. A sixth pushes and pulls the copy of --source as a
# one-layer gzip image through Debian's docker-registry on loopback: Strata beside `skopeo copy`
# and `ctr images fetch/pull --plain-http`, each on an empty registry, root or daemon;
# --registry-only runs that one alone. A seventh applies a zstd layer of --source into tmpfs
# through containerd's processor chain: an external `zstd -d` declared as a stream processor
# beside the built-in zstd, and the chain beside a plain tar apply; --processors-only runs it alone.
# `strata containerd diff` and `commit` on containerd's own overlayfs snapshotter, beside `ctr
# snapshots diff`, are rows of each tree's table; --commit-only measures them alone on --source.
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
DEBOOTSTRAP=1
MERGE_ONLY=0
PATCH_ONLY=0
GRPC_ONLY=0
GRPC_SECONDS=60
REGISTRY_ONLY=0
PROCESSORS_ONLY=0
COMMIT_ONLY=0
while (($#)); do
    case $1 in
    --source) SOURCE=$2; shift 2 ;;
    --no-debootstrap) DEBOOTSTRAP=0; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --skip-containerd) CONTAINERD=0; shift ;;
    --skip-umoci) UMOCI=0; shift ;;
    --merge-only) MERGE_ONLY=1; shift ;;
    --patch-only) PATCH_ONLY=1; shift ;;
    --grpc-only) GRPC_ONLY=1; shift ;;
    --grpc-seconds) GRPC_SECONDS=$2; shift 2 ;;
    --registry-only) REGISTRY_ONLY=1; shift ;;
    --processors-only) PROCESSORS_ONLY=1; shift ;;
    --commit-only) COMMIT_ONLY=1; shift ;;
    *) echo "usage: $0 [--source DIR] [--no-debootstrap] [--runs N] [--work DIR] [--skip-containerd] [--skip-umoci] [--merge-only] [--patch-only] [--grpc-only] [--grpc-seconds N] [--registry-only] [--processors-only] [--commit-only]" >&2; exit 2 ;;
    esac
done
[[ $(id -u) -eq 0 ]] || { echo "bench: run as root (containerd, tmpfs, file owners)" >&2; exit 1; }

need=()
for t in umoci:umoci containerd:containerd ctr:containerd zstd:zstd /usr/bin/time:time gzip:gzip rsync:rsync \
    go:golang-go docker-registry:docker-registry skopeo:skopeo; do
    command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t##*:}")
done
((DEBOOTSTRAP)) && ! command -v debootstrap >/dev/null && need+=(debootstrap)
[[ -d /usr/share/gocode/src/github.com/containerd/containerd/snapshots ]] ||
    need+=(golang-github-containerd-containerd-dev)
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
declare -A T RD
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

# ---------------------------------------------------------------- one tree
TMPFS=$WORK/tmpfs
mkdir -p "$TMPFS"
mountpoint -q "$TMPFS" || mount -t tmpfs -o size=75% strata-bench "$TMPFS"
trap 'umount "$TMPFS" 2>/dev/null || true' EXIT
TABLES=$WORK/tables.md
: >"$TABLES"

# bench_snapshot_diff D: the same image (the base layer) unpacked by Strata, an Active snapshot
# over it holding the W2 changes (mutate.py in the mounted snapshot), and `strata snapshot diff`
# into the content store, overlay (from the upper directory alone) and native (from the copy's
# evidence); `ctr snapshots diff` likewise stores its layer (and copies it to stdout, here
# /dev/null). containerd then unpacks the image plus the overlay diff, which must give the merged
# view (compared by treesum.py). Each state root is removed when done: a copy of /usr is large.
bench_snapshot_diff() {
    local D=$1 R=$1/strata-root mnt=$1/strata-mnt backend chain
    rm -rf "$R" "$D/oci-strata" && mkdir -p "$mnt"
    python3 "$ROOT/scripts/oci-archive.py" "$D/base.tar" none application/vnd.oci.image.layer.v1.tar amd64 \
        docker.io/strata/base:latest "$D/oci-strata" "$D/oci-strata.tar" >/dev/null
    rm -f "$D/oci-strata.tar"
    for backend in overlay native; do
        say "strata: snapshot diff of a $backend snapshot holding the W2 changes"
        chain=$("$S" --root "$R" image unpack --snapshotter $backend "$D/oci-strata" base 2>>"$LOG")
        "$S" --root "$R" snapshot prepare --snapshotter $backend "w2-$backend" "$chain" >/dev/null
        "$S" --root "$R" mount --snapshotter $backend "w2-$backend" "$mnt"
        python3 "$HERE/mutate.py" "$mnt" >>"$LOG"
        [[ $backend == overlay ]] && python3 "$HERE/treesum.py" "$mnt" >"$D/merged.sum"
        umount "$mnt"
        median "snap_diff_$backend" "$S" --root "$R" snapshot diff --snapshotter $backend "w2-$backend" \
            --compression none
        "$S" --root "$R" snapshot diff --snapshotter $backend "w2-$backend" --compression none \
            -o "$D/snap-$backend.tar" >/dev/null
        rm -rf "$R"
    done
    rm -rf "$D/oci-strata"
    say "containerd: unpack of the image plus the overlay snapshot diff"
    rm -rf "$D/by-containerd"
    bash "$ROOT/Tests/Interop/containerd-unpack.sh" "$D/base.tar,$D/snap-overlay.tar" "$D/by-containerd" >>"$LOG" 2>&1
    python3 "$HERE/treesum.py" "$D/by-containerd" >"$D/containerd.sum"
    if cmp -s "$D/merged.sum" "$D/containerd.sum"; then SNAP_CHECK=same; else SNAP_CHECK=DIFFERENT; fi
    say "  containerd's unpack vs the merged view: $SNAP_CHECK"
    rm -rf "$D/by-containerd"
}

# bench_containerd_commit D: containerd's own overlayfs snapshotter, the image of $D/base.tar, and
# the W2 change set made in an Active snapshot (for `ctr snapshots diff` and `strata containerd
# diff`) and in a container's snapshot (for `strata containerd commit`, which has no task to pause);
# each timed, and the bytes read by the command and by containerd counted once.
bench_containerd_commit() {
    local D=$1
    say "containerd: snapshots diff of an overlay snapshot holding the W2 changes"
    ctrd_start "$D/containerd"
    ctrd_import "$D/base.tar" base
    ctrd_prepare_with_changes base w2-active
    median ctr_diff ctrd_diff w2-active
    read -r RD[ctr_diff] RD[ctr_diff_ctrd] < <(ctrd_read_bytes ctr --address "$CTRD_DIR/c.sock" \
        --namespace "$CTRD_NS" snapshots --snapshotter overlayfs diff \
        --media-type application/vnd.oci.image.layer.v1.tar w2-active)
    say "strata: containerd diff and commit of the W2 changes in containerd's own overlayfs snapshots"
    local A=(--address "$CTRD_DIR/c.sock" --namespace "$CTRD_NS" --compression none)
    median ctrd_strata_diff "$S" containerd diff w2-active "${A[@]}"
    read -r RD[strata_diff] RD[strata_diff_ctrd] < <(ctrd_read_bytes "$S" containerd diff w2-active "${A[@]}")
    ctrd_container_with_changes base w2-container
    median ctrd_strata_commit "$S" containerd commit w2-container docker.io/strata/w2:latest "${A[@]}"
    read -r RD[strata_commit] RD[strata_commit_ctrd] < <(ctrd_read_bytes "$S" containerd commit w2-container \
        docker.io/strata/w2:latest "${A[@]}")
    ctrd_stop
}

# containerd_commit_rows: bench_containerd_commit's table rows.
containerd_commit_rows() {
    MB() { echo "scale=1; $1 / 1000000" | bc -l; }
    echo "| W2 \`strata containerd diff\` of containerd's own overlayfs snapshot vs \`ctr snapshots diff\` of it | ${T[ctrd_strata_diff]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[ctrd_strata_diff]}") |"
    echo "| W2 \`strata containerd commit\` (diff, config, manifest, image) vs \`ctr snapshots diff\` alone | ${T[ctrd_strata_commit]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[ctrd_strata_commit]}") |"
    echo "| bytes read by \`strata containerd diff\` + by containerd, vs \`ctr snapshots diff\` + containerd | $(MB "${RD[strata_diff]}") + $(MB "${RD[strata_diff_ctrd]}") MB | $(MB "${RD[ctr_diff]}") + $(MB "${RD[ctr_diff_ctrd]}") MB | $(ratio "$((RD[ctr_diff] + RD[ctr_diff_ctrd]))" "$((RD[strata_diff] + RD[strata_diff_ctrd]))") |"
    echo "| bytes read by \`strata containerd commit\` + by containerd | $(MB "${RD[strata_commit]}") + $(MB "${RD[strata_commit_ctrd]}") MB | | |"
}

# bench_tree SOURCE NAME: builds the W2 and W2ns pairs from SOURCE under $WORK/NAME, measures
# everything, and appends its table to $TABLES.
bench_tree() {
    local source=$1 D=$WORK/$2
    T=()
    mkdir -p "$D"
    make_pair() {  # make_pair KIND: W2 (whole seconds) or W2ns (nanosecond mtimes)
        local kind=$1 dir=$D/$1
        [[ -d $dir/upper ]] && return
        say "building $kind trees from $source"
        rm -rf "$dir" && mkdir -p "$dir"
        cp -a "$source" "$dir/lower"
        [[ $kind == W2ns ]] && python3 "$HERE/nstimes.py" "$dir/lower" >>"$LOG"
        cp -a "$dir/lower" "$dir/upper"
        python3 "$HERE/mutate.py" "$dir/upper" >>"$LOG"
    }
    make_pair W2
    make_pair W2ns
    local entries
    entries=$(find "$D/W2/lower" | wc -l)
    say "== $source: $entries entries per side"

    say "change detection (W2ns)"
    median find find "$D/W2ns/lower" "$D/W2ns/upper" -printf '%s %T@ %m\n'
    median changes_ns "$S" changes "$D/W2ns/lower" "$D/W2ns/upper"
    /usr/bin/time -f '%M' -o "$D/rss" "$S" changes --stats "$D/W2ns/lower" "$D/W2ns/upper" >/dev/null 2>"$D/stats"
    local rss_mb read_ns read_w2
    rss_mb=$(($(tail -1 "$D/rss") / 1024))
    read_ns=$(grep -o 'content bytes compared: [0-9]*' "$D/stats" | awk '{print $4}')

    say "diff --compression none"
    median diff_w2 "$S" diff "$D/W2/lower" "$D/W2/upper" -o "$D/w2.tar" --compression none
    median diff_w2ns "$S" diff "$D/W2ns/lower" "$D/W2ns/upper" -o "$D/w2ns.tar" --compression none --mtime ns
    "$S" changes --stats "$D/W2/lower" "$D/W2/upper" >/dev/null 2>"$D/stats-w2"
    read_w2=$(grep -o 'content bytes compared: [0-9]*' "$D/stats-w2" | awk '{print $4}')

    say "compression of the whole lower tree"
    median layer_none "$S" diff "$WORK/empty" "$D/W2/lower" -o "$D/base.tar" --compression none
    median gzip_strata "$S" diff "$WORK/empty" "$D/W2/lower" -o "$D/base.tar.gz"
    median zstd_strata "$S" diff "$WORK/empty" "$D/W2/lower" -o "$D/base.tar.zst" --compression zstd
    median zstd_cli sh -c "zstd -q -3 -T2 -c '$D/base.tar' > '$D/base.cli.zst'"
    local runs_saved=$RUNS
    RUNS=1 # zlib takes minutes on a whole /usr: once is enough for a ratio
    median gzip_zlib6 sh -c "gzip -6 -c '$D/base.tar' > '$D/base.zlib6.gz'"
    RUNS=$runs_saved
    local size_tar size_gz size_zlib size_zst size_cli
    size_tar=$(stat -c %s "$D/base.tar")
    size_gz=$(stat -c %s "$D/base.tar.gz")
    size_zlib=$(stat -c %s "$D/base.zlib6.gz")
    size_zst=$(stat -c %s "$D/base.tar.zst")
    size_cli=$(stat -c %s "$D/base.cli.zst")

    say "apply into tmpfs"
    BEFORE="rm -rf '$TMPFS/t'; mkdir '$TMPFS/t'"
    median apply_tar "$S" apply "$D/base.tar" "$TMPFS/t"
    median tar_x tar -xf "$D/base.tar" -C "$TMPFS/t"
    median apply_gz "$S" apply "$D/base.tar.gz" "$TMPFS/t"
    median tar_xz tar -xzf "$D/base.tar.gz" -C "$TMPFS/t"
    BEFORE=
    median gunzip sh -c "gzip -dc '$D/base.tar.gz' > /dev/null"
    median inflate_strata "$S" apply --dry-run "$D/base.tar.gz" "$TMPFS"
    rm -rf "$TMPFS/t"

    if ((CONTAINERD)); then
        bench_containerd_commit "$D"
        rm -rf "$D/containerd"
        bench_snapshot_diff "$D"
        say "containerd: unpack of the base layer into tmpfs"
        BEFORE="ctrd_unpack_setup '$D/base.tar.gz' '$TMPFS/ctrd'"
        median ctr_unpack ctrd_unpack
        BEFORE=
        ctrd_stop
        rm -rf "$TMPFS/ctrd"
    fi

    if ((UMOCI)); then
        say "umoci: repack of a bundle holding the W2 changes"
        local U=$D/umoci
        if [[ ! -f $U/bundle.ready ]]; then
            rm -rf "$U" && mkdir -p "$U"
            umoci init --layout "$U/layout" >>"$LOG" 2>&1
            umoci new --image "$U/layout:base" >>"$LOG" 2>&1
            umoci unpack --image "$U/layout:base" "$U/bundle" >>"$LOG" 2>&1
            cp -a "$D/W2/lower/." "$U/bundle/rootfs/"
            umoci repack --image "$U/layout:base" "$U/bundle" >>"$LOG" 2>&1
            python3 "$HERE/mutate.py" "$U/bundle/rootfs" >>"$LOG"
            mkdir -p "$U/state" && cp -a "$U/bundle/"*.mtree "$U/bundle/umoci.json" "$U/state/"
            touch "$U/bundle.ready"
        fi
        BEFORE="cp -a '$U/state/.' '$U/bundle/'"
        median umoci_repack umoci repack --image "$U/layout:w2" "$U/bundle"
        BEFORE=
    fi

    mb() { echo "scale=1; $1 / 1000000" | bc -l; }
    {
        echo
        echo "### $source: $entries entries per tree, $(mb "$size_tar") MB as a tar"
        echo
        echo "| measure | Strata | other tool | ratio (other / Strata) |"
        echo "|---|---|---|---|"
        echo "| W2ns change detection vs \`find\` stat floor | ${T[changes_ns]} s | find ${T[find]} s | $(ratio "${T[find]}" "${T[changes_ns]}") |"
        echo "| W2ns change detection: content bytes read, peak memory | ${read_ns:-?} B, ${rss_mb} MB | | |"
        if ((CONTAINERD)); then
            echo "| W2 diff, uncompressed, vs \`ctr snapshots diff\` | ${T[diff_w2]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[diff_w2]}") |"
            echo "| W2ns diff (\`--mtime ns\`) vs containerd's W2 diff | ${T[diff_w2ns]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[diff_w2ns]}") |"
            echo "| W2 \`snapshot diff\` of an overlay snapshot (its upper directory) vs \`ctr snapshots diff\` | ${T[snap_diff_overlay]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[snap_diff_overlay]}") |"
            echo "| W2 \`snapshot diff\` of a native snapshot (its copy's evidence) vs \`ctr snapshots diff\` | ${T[snap_diff_native]} s | ctr ${T[ctr_diff]} s | $(ratio "${T[ctr_diff]}" "${T[snap_diff_native]}") |"
            containerd_commit_rows
            echo "| containerd's unpack of the image + the overlay snapshot diff, vs the merged view | $SNAP_CHECK | | |"
        fi
        ((UMOCI)) && echo "| W2 diff, uncompressed, vs \`umoci repack\` | ${T[diff_w2]} s | umoci ${T[umoci_repack]} s | $(ratio "${T[umoci_repack]}" "${T[diff_w2]}") |"
        echo "| W2 content compared (both sides) | $(mb "${read_w2:-0}") MB, $(echo "scale=2; ${read_w2:-0} / ${T[diff_w2]} / 1000000000" | bc -l) GB/s | | |"
        echo "| whole tree to layer, uncompressed | ${T[layer_none]} s, $(mb "$size_tar") MB | | |"
        echo "| whole tree to gzip layer (default level 6 = ISA-L 2) vs \`gzip -6\` of the tar | ${T[gzip_strata]} s, $(mb "$size_gz") MB | ${T[gzip_zlib6]} s, $(mb "$size_zlib") MB | $(ratio "${T[gzip_zlib6]}" "${T[gzip_strata]}") (size $(ratio "$size_gz" "$size_zlib")) |"
        echo "| whole tree to zstd layer (level 3, 2 workers) vs \`zstd -3 -T2\` of the tar | ${T[zstd_strata]} s, $(mb "$size_zst") MB | ${T[zstd_cli]} s, $(mb "$size_cli") MB | $(ratio "${T[zstd_cli]}" "${T[zstd_strata]}") |"
        echo "| apply uncompressed layer into tmpfs vs \`tar -xf\` | ${T[apply_tar]} s | tar ${T[tar_x]} s | $(ratio "${T[tar_x]}" "${T[apply_tar]}") |"
        echo "| apply gzip layer into tmpfs vs \`tar -xzf\` | ${T[apply_gz]} s | tar ${T[tar_xz]} s | $(ratio "${T[tar_xz]}" "${T[apply_gz]}") |"
        echo "| gzip decompression alone vs \`gzip -d\` | ${T[inflate_strata]} s | gzip ${T[gunzip]} s | $(ratio "${T[gunzip]}" "${T[inflate_strata]}") |"
        ((CONTAINERD)) && echo "| apply gzip layer into tmpfs vs containerd's unpack (\`ctr snapshots unpack\`) | ${T[apply_gz]} s | ctr ${T[ctr_unpack]} s | $(ratio "${T[ctr_unpack]}" "${T[apply_gz]}") |"
        true
    } >>"$TABLES"
}

# bench_ref_merge: `strata ref merge` of a base of 100,000 entries and 10 Diff refs, each the
# change set of one chain over that base (gentree.py), on both backends: time and file data written (regular files with a
# single link in the snapshot directories the merge made: 0 means nothing was copied). Beside it,
# what getting the same tree costs by unpacking the 11 layers: GNU tar into tmpfs, and
# containerd's `ctr snapshots unpack` of them as one image.
bench_ref_merge() {
    local D=$WORK/merge R=$WORK/merge/root mnt=$WORK/merge/mnt backend i refs layers entries
    rm -rf "$D" && mkdir -p "$mnt"
    for backend in overlay native; do
        say "ref merge ($backend): 10 chains over a 100,000-entry base"
        st() { "$S" --root "$R" "$@"; }
        st snapshot prepare --snapshotter $backend base-a >/dev/null
        st mount --snapshotter $backend base-a "$mnt"
        python3 "$HERE/gentree.py" "$mnt" --entries 100000
        umount "$mnt"
        st snapshot commit --snapshotter $backend base base-a
        refs=()
        for i in $(seq 1 10); do
            st snapshot prepare --snapshotter $backend "c$i-a" base >/dev/null
            st mount --snapshotter $backend "c$i-a" "$mnt"
            python3 "$HERE/gentree.py" "$mnt" --chain "$i"
            umount "$mnt"
            st snapshot commit --snapshotter $backend "c$i" "c$i-a"
            st ref diff --snapshotter $backend "d$i" snapshot:base "snapshot:c$i" >/dev/null
            refs+=("d$i")
        done
        refs=(snapshot:base "${refs[@]}")
        BEFORE="'$S' --root '$R' ref rm merged >/dev/null 2>&1 || true; '$S' --root '$R' gc >/dev/null"
        median "merge_$backend" "$S" --root "$R" ref merge --snapshotter $backend merged "${refs[@]}"
        eval "$BEFORE"
        BEFORE=
        ls "$R/snapshots/$backend" | sort >"$D/ids-before"
        st ref merge --snapshotter $backend merged "${refs[@]}" --json >"$D/merged-$backend.json"
        local made=()
        for i in $(ls "$R/snapshots/$backend" | sort | comm -13 "$D/ids-before" -); do made+=("$R/snapshots/$backend/$i"); done
        T[merge_data_$backend]=$(find "${made[@]}" -type f -links 1 -printf '%s\n' | awk '{s += $1} END {print s + 0}')
        T[merge_entries_$backend]=$(find "${made[@]}" | wc -l)
        say "  file data written: ${T[merge_data_$backend]} B in ${T[merge_entries_$backend]} new entries"
        if [[ $backend == overlay ]]; then
            local v=$D/view
            mkdir -p "$v"
            st snapshot view --snapshotter overlay merged-view "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot"])' "$D/merged-overlay.json")" >/dev/null
            st mount --snapshotter overlay merged-view "$v"
            entries=$(find "$v" | wc -l)
            umount "$v"
            st snapshot diff --snapshotter overlay base --compression none -o "$D/base.tar" >/dev/null
            layers=$D/base.tar
            for i in $(seq 1 10); do
                st snapshot diff --snapshotter overlay "c$i" --compression none -o "$D/c$i.tar" >/dev/null
                layers+=",$D/c$i.tar"
            done
        fi
        rm -rf "$R"
    done
    say "GNU tar: the 11 layers extracted into tmpfs"
    BEFORE="rm -rf '$TMPFS/m'; mkdir '$TMPFS/m'"
    median merge_tar sh -c "for f in \$(echo '$layers' | tr , ' '); do tar -xf \$f -C '$TMPFS/m'; done"
    BEFORE=
    rm -rf "$TMPFS/m"
    if ((CONTAINERD)); then
        say "containerd: unpack of the 11 layers as one image"
        mctrd_setup() {
            ctrd_stop
            rm -rf "$TMPFS/mctrd"
            ctrd_start "$TMPFS/mctrd"
            python3 "$ROOT/scripts/oci-archive.py" "$layers" none application/vnd.oci.image.layer.v1.tar amd64 \
                docker.io/strata/merge:latest "$TMPFS/mctrd/oci" "$TMPFS/mctrd/merge.oci.tar" >/dev/null
            ctr_ images import --snapshotter overlayfs --platform linux/amd64 --no-unpack "$TMPFS/mctrd/merge.oci.tar" >/dev/null
            CTRD_MANIFEST=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['manifests'][0]['digest'])" \
                "$TMPFS/mctrd/oci/index.json")
        }
        BEFORE=mctrd_setup
        median merge_ctr ctrd_unpack
        BEFORE=
        ctrd_stop
        rm -rf "$TMPFS/mctrd"
    fi
    rm -rf "$D"
    {
        echo
        echo "### ref merge: 10 layer chains over a 100,000-entry base ($entries entries merged)"
        echo
        echo "| measure | Strata | other tool | ratio (other / Strata) |"
        echo "|---|---|---|---|"
        echo "| \`ref merge\` on overlay (stacked lower directories) vs the 11 layers extracted by GNU tar | ${T[merge_overlay]} s, ${T[merge_data_overlay]} B of file data, ${T[merge_entries_overlay]} new entries | tar ${T[merge_tar]} s | $(ratio "${T[merge_tar]}" "${T[merge_overlay]}") |"
        ((CONTAINERD)) && echo "| \`ref merge\` on overlay vs containerd's unpack of the 11 layers (\`ctr snapshots unpack\`) | ${T[merge_overlay]} s | ctr ${T[merge_ctr]} s | $(ratio "${T[merge_ctr]}" "${T[merge_overlay]}") |"
        echo "| \`ref merge\` on native (hard links) vs the 11 layers extracted by GNU tar | ${T[merge_native]} s, ${T[merge_data_native]} B of file data, ${T[merge_entries_native]} new entries | tar ${T[merge_tar]} s | $(ratio "${T[merge_tar]}" "${T[merge_native]}") |"
        true
    } >>"$TABLES"
}

# bench_patch: `strata patch create` of three 512 MiB files (one with 256 4 KiB writes in place,
# one with 1 MiB inserted in the middle, one with 1 MiB appended: 3 MiB of new bytes) beside
# `rsync --only-write-batch` run the right way (from TARGET onto BASE, so the batch turns BASE
# into TARGET; --no-whole-file, or rsync would send local files whole), and the gzip OCI layer of
# the same change. Each patch is applied to a copy of BASE and checked against TARGET.
bench_patch() {
    local D=$WORK/patch
    rm -rf "$D" && mkdir -p "$D"
    say "patch: three 512 MiB files, edited in place, shifted and appended"
    python3 "$HERE/patchset.py" base "$D/base"
    cp -a "$D/base" "$D/target"
    python3 "$HERE/patchset.py" edit "$D/target"
    median patch_create "$S" patch create "$D/base" "$D/target" -o "$D/p.patch"
    BEFORE="rm -f '$D/batch' '$D/batch.sh'"
    median rsync_batch rsync -aHAX --numeric-ids --delete --no-whole-file --only-write-batch="$D/batch" \
        "$D/target/" "$D/base/"
    BEFORE=
    "$S" diff "$D/base" "$D/target" -o "$D/layer.tar.gz" >/dev/null
    BEFORE="rm -rf '$D/root'; cp -a '$D/base' '$D/root'"
    median patch_apply "$S" patch apply "$D/p.patch" "$D/root"
    median rsync_read rsync -aHAX --numeric-ids --delete --read-batch="$D/batch" "$D/root/"
    BEFORE=
    rm -rf "$D/root" && cp -a "$D/base" "$D/root"
    "$S" patch apply "$D/p.patch" "$D/root" >/dev/null
    if diff -r "$D/root" "$D/target" >/dev/null; then PATCH_CHECK=same; else PATCH_CHECK=DIFFERENT; fi
    local sp sb sl
    sp=$(stat -c %s "$D/p.patch")
    sb=$(stat -c %s "$D/batch")
    sl=$(stat -c %s "$D/layer.tar.gz")
    rm -rf "$D"
    mb() { echo "scale=2; $1 / 1000000" | bc -l; }
    {
        echo
        echo "### patch: three 512 MiB files edited in place, shifted and appended (3.1 MB of new bytes)"
        echo
        echo "| measure | Strata | other tool | ratio (other / Strata) |"
        echo "|---|---|---|---|"
        echo "| patch size vs \`rsync --only-write-batch\` batch | $(mb "$sp") MB | rsync $(mb "$sb") MB | $(ratio "$sb" "$sp") |"
        echo "| patch size vs the gzip OCI layer of the same change | $(mb "$sp") MB | layer $(mb "$sl") MB | $(ratio "$sl" "$sp") |"
        echo "| \`patch create\` vs rsync writing its batch | ${T[patch_create]} s | rsync ${T[rsync_batch]} s | $(ratio "${T[rsync_batch]}" "${T[patch_create]}") |"
        echo "| \`patch apply\` (staged, checked, journaled) vs \`rsync --read-batch\` | ${T[patch_apply]} s | rsync ${T[rsync_read]} s | $(ratio "${T[rsync_read]}" "${T[patch_apply]}") |"
        echo "| the applied copy of BASE vs TARGET | $PATCH_CHECK | | |"
        true
    } >>"$TABLES"
}

# bench_grpc: 16 clients for GRPC_SECONDS against strata serve (each backend) and against a
# private containerd's own native snapshotter and content store, the same calls through the same
# Go clients (bench/grpcload). Latencies are per call, end to end over the unix socket.
bench_grpc() {
    local D=$WORK/grpc out
    rm -rf "$D" && mkdir -p "$D"
    (cd "$HERE/grpcload" && GOPATH=/usr/share/gocode GO111MODULE=off go build -o "$D/grpcload" .)
    declare -gA GRPC
    for backend in overlay native; do
        say "grpc: strata serve ($backend), 16 clients for $GRPC_SECONDS s"
        "$S" serve --root "$D/strata-$backend" --address "$D/s.sock" --snapshotter "$backend" 2>>"$LOG" &
        local pid=$!
        for _ in $(seq 100); do [[ -S $D/s.sock ]] && break; sleep 0.1; done
        GRPC[$backend]=$("$D/grpcload" -address "$D/s.sock" -duration "${GRPC_SECONDS}s")
        kill -TERM "$pid" && wait "$pid" || say "strata serve did not exit 0 after SIGTERM"
        rm -rf "$D/strata-$backend"
    done
    if ((CONTAINERD)); then
        say "grpc: containerd's native snapshotter and content store, 16 clients for $GRPC_SECONDS s"
        ctrd_start "$D/containerd"
        GRPC[containerd]=$("$D/grpcload" -address "$D/containerd/c.sock" -snapshotter native \
            -namespace grpcload -duration "${GRPC_SECONDS}s")
        ctrd_stop
    fi
    printf '%s\n' "${GRPC[@]}" >>"$LOG"
    field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); v=d
for k in sys.argv[2].split("."): v=v.get(k, 0) if isinstance(v, dict) else 0
print(len(v) if isinstance(v, list) else v if v is not None else 0)' "$1" "$2"; }
    {
        echo
        echo "### strata serve under load: 16 clients, ${GRPC_SECONDS} s, each looping Prepare (over a 100-file base), Stat, Commit, Remove, and a 1 MiB content Write then Delete"
        echo
        echo "| measure | Strata overlay | Strata native | containerd native | ratio (containerd / Strata overlay) |"
        echo "|---|---|---|---|---|"
        for call in prepare commit stat remove write; do
            for p in p50ms p99ms; do
                local o n c
                o=$(field "${GRPC[overlay]}" "$call.$p")
                n=$(field "${GRPC[native]}" "$call.$p")
                c=$(field "${GRPC[containerd]:-{\}}" "$call.$p")
                echo "| $call ${p%ms} (ms) | $o | $n | $c | $(ratio "$c" "$o") |"
            done
        done
        for m in writeMiBPerSecond prepare.count errors leftovers; do
            echo "| $m | $(field "${GRPC[overlay]}" $m) | $(field "${GRPC[native]}" $m) | $(field "${GRPC[containerd]:-{\}}" $m) | |"
        done
        true
    } >>"$TABLES"
    rm -rf "$D"
}

# bench_registry SOURCE: SOURCE as a one-layer gzip image (made by Strata), pushed and pulled
# through a private docker-registry on loopback. Each push goes to an empty registry; each pull
# into an empty root, OCI layout or containerd. "pull + unpack" ends with the image's tree in
# snapshots (Strata: overlay; containerd: overlayfs), and the two trees are compared (treesum.py).
# The registry's storage and every pulling side live in tmpfs: the virtio disk's throughput
# drifts by 3x between minutes here, which would swamp the clients' own costs.
bench_registry() {
    local D=$WORK/registry src=$1 port ref image=docker.io/strata/bench:1
    rm -rf "$D" && mkdir -p "$D"
    say "registry: $src as a one-layer gzip image"
    "$S" diff "$WORK/empty" "$src" -o "$D/layer.tar.gz" --compression gzip >>"$LOG" 2>&1
    python3 "$ROOT/scripts/oci-archive.py" "$D/layer.tar.gz" gzip application/vnd.oci.image.layer.v1.tar+gzip \
        amd64 "$image" "$D/oci" "$D/image.tar" >/dev/null
    rm -f "$D/layer.tar.gz"
    "$S" --root "$D/strata" image import "$D/image.tar" >>"$LOG" 2>&1
    rm -f "$D/image.tar"
    REGISTRY_SIZE=$(du -sb "$D/oci/blobs" | cut -f1)
    port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
    ref=127.0.0.1:$port/bench/image:1
    printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n  secret: bench\n' \
        "$TMPFS/registry" "$port" >"$D/registry.yml"
    REGISTRY_PID=
    registry_fresh() {
        if [[ -n $REGISTRY_PID ]]; then kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null || true; fi
        rm -rf "$TMPFS/registry"
        docker-registry serve "$D/registry.yml" >>"$LOG" 2>&1 &
        REGISTRY_PID=$!
        for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
        say "docker-registry did not start"; return 1
    }
    BEFORE='registry_fresh; sync'
    median reg_push_strata "$S" --root "$D/strata" push "$image" "$ref"
    median reg_push_skopeo skopeo copy --dest-tls-verify=false "oci:$D/oci:1" "docker://$ref"
    # Each run starts with the previous one's files deleted and written back: a 6 GB tree still
    # being flushed would slow the next run down.
    BEFORE='rm -rf "$TMPFS/pull"; sync'
    median reg_pull_strata "$S" --root "$TMPFS/pull" pull "$ref"
    median reg_pull_skopeo skopeo copy --src-tls-verify=false "docker://$ref" "oci:$TMPFS/pull:1"
    median reg_unpack_strata "$S" --root "$TMPFS/pull" pull --unpack --snapshotter overlay "$ref"
    local chain
    chain=$("$S" --root "$TMPFS/pull" pull --unpack --snapshotter overlay --json "$ref" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["unpack"]["chainID"])')
    "$S" --root "$TMPFS/pull" snapshot view --snapshotter overlay check "$chain" >/dev/null
    mkdir -p "$D/mnt"
    "$S" --root "$TMPFS/pull" mount --snapshotter overlay check "$D/mnt"
    python3 "$HERE/treesum.py" "$D/mnt" >"$D/strata.sum"
    umount "$D/mnt"
    rm -rf "$TMPFS/pull"
    if ((CONTAINERD)); then
        BEFORE='ctrd_stop; rm -rf "$TMPFS/ctrd"; sync; ctrd_start "$TMPFS/ctrd"'
        median reg_pull_ctr ctr_ content fetch --plain-http "$ref"
        median reg_unpack_ctr ctr_ images pull --plain-http --snapshotter overlayfs "$ref"
        ctr_ images mount --snapshotter overlayfs "$ref" "$D/mnt" >/dev/null
        python3 "$HERE/treesum.py" "$D/mnt" >"$D/containerd.sum"
        ctr_ images unmount "$D/mnt" >/dev/null
        ctrd_stop
        rm -rf "$TMPFS/ctrd"
        if cmp -s "$D/strata.sum" "$D/containerd.sum"; then REG_CHECK=same; else REG_CHECK=DIFFERENT; fi
    fi
    BEFORE=
    kill "$REGISTRY_PID" 2>/dev/null
    wait "$REGISTRY_PID" 2>/dev/null || true
    rm -rf "$TMPFS/registry"
    {
        echo
        echo "### push and pull through docker-registry on loopback: $src as one gzip layer, $((REGISTRY_SIZE / 1000000)) MB of blobs (seconds, median of $RUNS)"
        echo
        echo "| operation | Strata | skopeo copy | containerd (ctr) | skopeo / Strata | containerd / Strata |"
        echo "|---|---|---|---|---|---|"
        echo "| push (to an empty registry) | ${T[reg_push_strata]} | ${T[reg_push_skopeo]} | | $(ratio "${T[reg_push_skopeo]}" "${T[reg_push_strata]}") | |"
        echo "| pull (blobs into an empty store) | ${T[reg_pull_strata]} | ${T[reg_pull_skopeo]} | ${T[reg_pull_ctr]:--} | $(ratio "${T[reg_pull_skopeo]}" "${T[reg_pull_strata]}") | $( ((CONTAINERD)) && ratio "${T[reg_pull_ctr]}" "${T[reg_pull_strata]}") |"
        echo "| pull + unpack into snapshots | ${T[reg_unpack_strata]} | | ${T[reg_unpack_ctr]:--} | | $( ((CONTAINERD)) && ratio "${T[reg_unpack_ctr]}" "${T[reg_unpack_strata]}") |"
        echo "| unpacked trees (treesum.py) | ${REG_CHECK:-not compared} | | | | |"
        true
    } >>"$TABLES"
    rm -rf "$D"
}

# bench_processors SOURCE: a zstd layer of SOURCE applied into tmpfs four ways: detected from its
# bytes (the built-in zstd), with its media type through the chain (still the built-in), through
# an external `zstd -d` declared as a stream processor, and, for the floor, the plain tar.
bench_processors() {
    local D=$WORK/processors src=$1 type=application/vnd.oci.image.layer.v1.tar
    rm -rf "$D" && mkdir -p "$D"
    say "processors: $src as a zstd layer and a plain tar"
    "$S" diff "$WORK/empty" "$src" -o "$D/layer.tar.zst" --compression zstd >>"$LOG" 2>&1
    "$S" diff "$WORK/empty" "$src" -o "$D/layer.tar" --compression none >>"$LOG" 2>&1
    printf '[stream_processors."zstd-cli"]\n  accepts = ["%s+zstd"]\n  returns = "%s"\n  path = "zstd"\n  args = ["-d", "-c", "-q"]\n' \
        "$type" "$type" >"$D/strata.toml"
    printf '[stream_processors.identity]\n  accepts = ["%s+identity"]\n  returns = "%s"\n  path = "cat"\n' \
        "$type" "$type" >>"$D/strata.toml"
    BEFORE="rm -rf '$TMPFS/p'; mkdir '$TMPFS/p'"
    median proc_tar "$S" apply "$D/layer.tar" "$TMPFS/p"
    median proc_identity "$S" apply "$D/layer.tar" "$TMPFS/p" --media-type "$type+identity" --config "$D/strata.toml"
    median proc_detect "$S" apply "$D/layer.tar.zst" "$TMPFS/p"
    median proc_chain "$S" apply "$D/layer.tar.zst" "$TMPFS/p" --media-type "$type+zstd"
    median proc_external "$S" apply "$D/layer.tar.zst" "$TMPFS/p" --media-type "$type+zstd" --config "$D/strata.toml"
    BEFORE=
    median proc_zstd_cli sh -c "zstd -d -c -q '$D/layer.tar.zst' > /dev/null"
    rm -rf "$TMPFS/p"
    {
        echo
        echo "### stream processors: a zstd layer of $src ($(($(stat -c %s "$D/layer.tar") / 1000000)) MB as a tar) applied into tmpfs (seconds, median of $RUNS)"
        echo
        echo "| apply | seconds | ratio to the built-in zstd |"
        echo "|---|---|---|"
        echo "| built-in zstd, detected from the bytes (no media type) | ${T[proc_detect]} | 1.00 |"
        echo "| built-in zstd through the chain (\`--media-type ...+zstd\`) | ${T[proc_chain]} | $(ratio "${T[proc_chain]}" "${T[proc_detect]}") |"
        echo "| external \`zstd -d\` declared as a stream processor | ${T[proc_external]} | $(ratio "${T[proc_external]}" "${T[proc_detect]}") |"
        echo "| the plain tar (no decompression: the floor) | ${T[proc_tar]} | $(ratio "${T[proc_tar]}" "${T[proc_detect]}") |"
        echo "| the plain tar through an external \`cat\` (the chain's own cost: two pipes, one process) | ${T[proc_identity]} | $(ratio "${T[proc_identity]}" "${T[proc_detect]}") |"
        echo "| \`zstd -d\` alone to /dev/null | ${T[proc_zstd_cli]} | |"
        true
    } >>"$TABLES"
    rm -rf "$D"
}

# shellcheck source=containerd.sh
((CONTAINERD || COMMIT_ONLY)) && source "$HERE/containerd.sh"
if ((COMMIT_ONLY)); then
    D=$WORK/commit
    T=()
    rm -rf "$D" && mkdir -p "$D"
    say "building the image tree from $SOURCE"
    cp -a "$SOURCE" "$D/lower"
    "$S" diff "$WORK/empty" "$D/lower" -o "$D/base.tar" --compression none >>"$LOG"
    rm -rf "$D/lower"
    bench_containerd_commit "$D"
    {
        echo
        echo "### $SOURCE: \`strata containerd\` on containerd's overlayfs snapshots, the W2 change set"
        echo
        echo "| measure | Strata | other tool | ratio (other / Strata) |"
        echo "|---|---|---|---|"
        containerd_commit_rows
    } >>"$TABLES"
    rm -rf "$D"
    cat "$TABLES"
    exit 0
fi
if ((PROCESSORS_ONLY)); then
    bench_processors "$SOURCE"
    cat "$TABLES"
    exit 0
fi
if ((REGISTRY_ONLY)); then
    bench_registry "$SOURCE"
    cat "$TABLES"
    exit 0
fi
if ((GRPC_ONLY)); then
    bench_grpc
    cat "$TABLES"
    exit 0
fi
if ((PATCH_ONLY)); then
    bench_patch
    cat "$TABLES"
    exit 0
fi
if ((MERGE_ONLY)); then
    bench_ref_merge
    cat "$TABLES"
    exit 0
fi
bench_tree "$SOURCE" "$(basename "$SOURCE")"
bench_ref_merge
bench_patch
bench_grpc
bench_registry "$SOURCE"
bench_processors "$SOURCE"
if ((DEBOOTSTRAP)); then
    ROOTFS=$WORK/debian-root
    if [[ ! -x $ROOTFS/usr/bin/dpkg ]]; then
        say "debootstrap: a Debian minimal root"
        rm -rf "$ROOTFS"
        codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
        debootstrap --variant=minbase "$codename" "$ROOTFS" >>"$LOG" 2>&1 || {
            say "debootstrap failed (no mirror reachable?): the Debian root table is skipped, see $LOG"
            rm -rf "$ROOTFS"
        }
    fi
    [[ -d $ROOTFS ]] && bench_tree "$ROOTFS" debian
fi

# ---------------------------------------------------------------- tables
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo
echo "Strata benchmark: $(nproc) cores ($cpu), median of $RUNS runs"
cat "$TABLES"
echo
echo "log: $LOG"
