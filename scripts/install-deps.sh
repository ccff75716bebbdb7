#!/usr/bin/env bash
# Installs what Strata needs on Debian, only when it is missing.
#   install-deps.sh         build dependencies (libisal, libzstd, libsqlite3, pkg-config)
#   install-deps.sh --test  also the tools the tests drive (GNU tar, python3, zstd, xz, containerd, util-linux,
#                           umoci, skopeo, xfsprogs, runc, busybox-static, docker-registry, apache2-utils, Go
#                           and containerd's Go sources; the tar test archives of Go and CPython, fuzzing seeds)
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
for lib in libisal:libisal-dev libzstd:libzstd-dev sqlite3:libsqlite3-dev; do
    if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists "${lib%%:*}"; then
        missing+=("${lib##*:}")
    fi
done
if [[ ${1:-} == --test ]]; then
    for tool in tar:tar python3:python3 zstd:zstd containerd:containerd ctr:containerd mount:mount \
        mountpoint:util-linux setsid:util-linux timeout:coreutils truncate:coreutils umoci:umoci skopeo:skopeo \
        mkfs.xfs:xfsprogs losetup:mount go:golang-go runc:runc busybox:busybox-static \
        docker-registry:docker-registry htpasswd:apache2-utils openssl:openssl xz:xz-utils pgrep:procps; do
        command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool##*:}")
    done
    # containerd's conformance suites and Go clients, built offline in GOPATH mode.
    [[ -d /usr/share/gocode/src/github.com/containerd/containerd/snapshots/testsuite ]] ||
        missing+=(golang-github-containerd-containerd-dev)
    # Go's and CPython's tar test archives: seeds for the fuzzing harnesses (scripts/fuzz.sh).
    [[ -d /usr/lib/go-1.19/src/archive/tar/testdata ]] || missing+=(golang-1.19-src)
    [[ -f /usr/lib/python3.11/test/testtar.tar ]] || missing+=(libpython3.11-testsuite)
fi

if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    echo "install-deps: installing ${missing[*]}" >&2
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
