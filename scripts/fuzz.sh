#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/ (sanitized: address + fuzzer) and runs them.
#   scripts/fuzz.sh [HARNESS...]          fuzz each (tar apply patch image filter; default all) for FUZZ_SECONDS
#                                         (default 300) in turn; new inputs go to Fuzz/.build/fuzz/H/corpus,
#                                         crashes to Fuzz/.build/fuzz/H/artifacts; fails if any harness crashed
#   scripts/fuzz.sh --smoke               CI: build; each harness must report its planted crash, fed directly and
#                                         found by fuzzing (proves the oracle and the coverage); then a short run
#                                         of each (FUZZ_SMOKE_SECONDS, default 15) must not crash
#   scripts/fuzz.sh --repro HARNESS FILE  runs one input (in the sandbox for apply and patch)
#   scripts/fuzz.sh --seeds               rewrites Fuzz/Corpus/H/ with the inputs Strata's own writers make
# apply and patch run as root in a private mount namespace, on a tmpfs mounted nodev,nosuid (the harness checks,
# then chroots into it, so their reports are symbolized afterwards: llvm-symbolizer is outside). Builds take the
# shared lock STRATA_BUILD_LOCK (default /tmp/strata-build.lock).
set -euo pipefail

invoked_from=$PWD
cd "$(dirname "$0")/../Fuzz"
all=(tar apply patch image filter)
lock=${STRATA_BUILD_LOCK:-/tmp/strata-build.lock}
# The harnesses' environment, set on their command lines only: SwiftPM rebuilds everything when the
# environment of a build changes (FUZZ_SECONDS included), so builds get PATH and HOME alone. The Swift
# backtracer hangs for minutes after a crash; ASan's leak check at exit needs /proc, which the chrooted
# harnesses do not have (leaks are not findings here).
harness_env=(SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}")

binary() { # tar -> .build/release/FuzzTar
    echo ".build/release/Fuzz$(tr '[:lower:]' '[:upper:]' <<<"${1:0:1}")${1:1}"
}

max_len() {
    case $1 in
    tar | apply | patch) echo 65536 ;;
    image) echo 16384 ;;
    filter) echo 1024 ;;
    esac
}

build() {
    local start=$SECONDS
    # SwiftPM's own flags link libFuzzer and the ASan runtime, but it hands swiftc its sanitizers in no
    # fixed order and the last -sanitize= wins: fuzzer last gives coverage without ASan, address last
    # ASan without coverage. The one combined flag, passed after them, gives both.
    flock "$lock" bash -c 'echo "fuzz: build lock taken after $(($(date +%s) - $1)) s" >&2 && shift && exec "$@"' \
        _ "$(date +%s)" env -i PATH="$PATH" HOME="$HOME" nice -n 5 swift build -c release --sanitize address --sanitize fuzzer \
        -Xswiftc -sanitize=address,fuzzer
    echo "fuzz: built in $((SECONDS - start)) s" >&2
}

# Runs harness $1 with the arguments that follow; apply and patch inside a fresh sandbox.
run() {
    local h=$1
    shift
    local bin
    bin=$(binary "$h")
    case $h in
    apply | patch)
        [[ $(id -u) -eq 0 ]] || {
            echo "fuzz: the $h harness needs root (a private mount namespace and a tmpfs)" >&2
            return 2
        }
        local sandbox rc=0
        sandbox=$(mktemp -d /tmp/strata-fuzz-sandbox.XXXXXX)
        unshare -m --propagation private -- bash -c \
            'mount -t tmpfs -o nodev,nosuid,mode=755,size=512m strata-fuzz "$1" && shift && exec "$@"' \
            _ "$sandbox" env "${harness_env[@]}" STRATA_FUZZ_SANDBOX="$sandbox" \
            ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}:symbolize=0" nice -n 10 "$bin" "$@" || rc=$?
        rmdir "$sandbox"
        return $rc
        ;;
    *) env "${harness_env[@]}" nice -n 10 "$bin" "$@" ;;
    esac
}

# Go's and CPython's tar test archives, copied under .build (the sandboxed harnesses chroot, so every
# path they read must be relative to the working directory).
tar_seeds() {
    local dir=.build/fuzz/seeds-tar
    mkdir -p "$dir"
    local go=/usr/lib/go-1.19/src/archive/tar/testdata py=/usr/lib/python3.11/test
    if [[ -d $go ]]; then cp "$go"/*.tar "$dir"/; else echo "fuzz: no $go (golang-1.19-src)" >&2; fi
    if [[ -f $py/testtar.tar ]]; then cp "$py"/testtar.tar "$py"/recursion.tar "$dir"/; else
        echo "fuzz: no $py/testtar.tar (libpython3.11-testsuite)" >&2
    fi
    echo "$dir"
}

# Fuzzes harness $1 for $2 seconds from its corpus and the seeds; logs to .build/fuzz/H/log.
fuzz() {
    local h=$1 seconds=$2 work=.build/fuzz/$1
    mkdir -p "$work/corpus" "$work/artifacts"
    local dirs=("$work/corpus" "Corpus/$h")
    # Every finding is replayed first: a fixed one must stay fixed.
    [[ -d Corpus/findings/$h ]] && dirs+=("Corpus/findings/$h")
    local extra=()
    if [[ $h == tar || $h == apply ]]; then
        dirs+=("$(tar_seeds)")
        extra+=(-dict=Dictionaries/tar.dict)
    fi
    echo "fuzz: $h for $seconds s (log $work/log)" >&2
    local rc=0
    run "$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$h")" -detect_leaks=0 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${extra[@]}" "${dirs[@]}" >"$work/log" 2>&1 || rc=$?
    grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|cov: ' "$work/log" | tail -n 2 >&2 || true
    if ((rc != 0)); then
        echo "fuzz: $h CRASHED (exit $rc):" >&2
        grep -E 'STRATA-FUZZ FINDING|ERROR: (libFuzzer|AddressSanitizer)|Fatal error|Test unit written' -A3 \
            "$work/log" | head -n 30 >&2 || true
        symbolize "$h" "$work/log" | head -n 12 >&2
        return $rc
    fi
    if grep -q 'Is the code instrumented for coverage' "$work/log"; then
        echo "fuzz: $h has no coverage (log $work/log)" >&2
        return 3
    fi
}

# The first stack of log $2 of harness $1, symbolized (the sandboxed harnesses cannot run llvm-symbolizer).
symbolize() {
    command -v llvm-symbolizer >/dev/null || return 0
    awk '/ERROR: (libFuzzer|AddressSanitizer)/ { f = 1 } f && /^ +#[0-9]+ 0x/ { print $3; n++ } n >= 40 { exit }' "$2" |
        sed 's/.*+//; s/)$//' | llvm-symbolizer --pretty-print --obj="$(binary "$1")" |
        grep -vE '^$|^(__sanitizer|fuzzer::|\?\?)' || true
}

# The planted crash of harness $1: fed directly, then found by fuzzing from nothing.
planted() {
    local h=$1 work=.build/fuzz/smoke-$1
    rm -rf "$work"
    mkdir -p "$work/empty" "$work/artifacts"
    printf 'PLNT planted input' >"$work/plnt"
    if STRATA_FUZZ_PLANT=1 run "$h" -detect_leaks=0 "$work/plnt" >"$work/feed.log" 2>&1 ||
        ! grep -q 'STRATA-FUZZ FINDING' "$work/feed.log" || ! grep -q 'deadly signal' "$work/feed.log"; then
        echo "fuzz: $h did not report its planted crash (log $work/feed.log)" >&2
        return 1
    fi
    if [[ $h == apply || $h == patch ]] && ! grep -q 'outside ROOT changed' "$work/feed.log"; then
        echo "fuzz: $h's oracle did not see the planted escape (log $work/feed.log)" >&2
        return 1
    fi
    local start=$SECONDS
    if STRATA_FUZZ_PLANT=1 run "$h" -max_total_time=120 -max_len=8 -detect_leaks=0 \
        -artifact_prefix="$work/artifacts/" "$work/empty" >"$work/find.log" 2>&1 ||
        ! grep -q 'STRATA-FUZZ FINDING' "$work/find.log"; then
        echo "fuzz: fuzzing $h did not find its planted crash in 120 s: no coverage? (log $work/find.log)" >&2
        return 1
    fi
    echo "fuzz: $h: planted crash reported, and found by fuzzing in $((SECONDS - start)) s" >&2
}

case ${1:-} in
--smoke)
    start=$SECONDS
    build
    for h in "${all[@]}"; do planted "$h"; done
    failed=()
    for h in "${all[@]}"; do fuzz "$h" "${FUZZ_SMOKE_SECONDS:-15}" || failed+=("$h"); done
    echo "fuzz: smoke took $((SECONDS - start)) s" >&2
    if ((${#failed[@]})); then
        echo "fuzz: crashed: ${failed[*]}" >&2
        exit 1
    fi
    ;;
--repro)
    build
    log=$(mktemp)
    rc=0
    # Relative to Fuzz/: the sandboxed harnesses chroot before they read it.
    run "$2" -detect_leaks=0 "$(realpath --relative-to=. "$(cd "$invoked_from" && realpath "$3")")" >"$log" 2>&1 ||
        rc=$?
    cat "$log"
    ((rc == 0)) || symbolize "$2" "$log"
    rm -f "$log"
    exit $rc
    ;;
--seeds)
    build
    for h in "${all[@]}"; do
        rm -rf "Corpus/$h"
        mkdir -p "Corpus/$h"
        env "${harness_env[@]}" STRATA_FUZZ_WRITE_SEEDS="Corpus/$h" "$(binary "$h")"
    done
    ;;
*)
    build
    failed=()
    for h in "${@:-${all[@]}}"; do fuzz "$h" "${FUZZ_SECONDS:-300}" || failed+=("$h"); done
    if ((${#failed[@]})); then
        echo "fuzz: crashed: ${failed[*]}" >&2
        exit 1
    fi
    ;;
esac
