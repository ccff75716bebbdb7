#!/usr/bin/env bash
# Regenerates Sources/StrataContainerdAPI/ (containerd's gRPC API, messages, clients and servers)
# from containerd's protos.
#
# Inputs: the protos of containerd 1.6 that Debian's golang-github-containerd-containerd-dev installs
# under /usr/share/gocode (read there, never copied into this repository), and Protos/, the side
# messages for fields containerd 2.x added. Tools: Debian's protobuf-compiler, and the protoc plugins
# of swift-protobuf and grpc-swift-protobuf, built here from scripts/protoc-plugins (once: the first
# build takes about ten minutes). CI never runs this: the generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
gocode=/usr/share/gocode/src
[[ -d $gocode/github.com/containerd/containerd/api ]] || need+=(golang-github-containerd-containerd-dev)
if ((${#need[@]})); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

scratch=.build-protoc
for product in protoc-gen-swift protoc-gen-grpc-swift-2; do
    swift build -c release --package-path scripts/protoc-plugins --scratch-path "$scratch" --product "$product"
done
bin=$(swift build -c release --package-path scripts/protoc-plugins --scratch-path "$scratch" --show-bin-path)

out=Sources/StrataContainerdAPI
rm -rf "$out"
mkdir -p "$out"
api=github.com/containerd/containerd/api
protos=(
    "$api/types/mount.proto"
    "$api/types/descriptor.proto"
    "$api/types/metrics.proto"
    "$api/types/task/task.proto"
    "$api/services/snapshots/v1/snapshots.proto"
    "$api/services/content/v1/content.proto"
    "$api/services/diff/v1/diff.proto"
    "$api/services/containers/v1/containers.proto"
    "$api/services/tasks/v1/tasks.proto"
    "$api/services/images/v1/images.proto"
    "$api/services/leases/v1/leases.proto"
)
includes=(-I "$gocode" -I "$gocode/github.com/gogo/protobuf" -I /usr/include -I Protos)
protoc "${includes[@]}" \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift="$bin/protoc-gen-grpc-swift-2" \
    --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=DropPath \
    --grpc-swift_out="$out" --grpc-swift_opt=Visibility=Public,FileNaming=DropPath,Server=true,Client=true \
    "${protos[@]}"
protoc "${includes[@]}" --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=DropPath \
    strata_containerd_v2.proto
# The type protos have no services: their gRPC files, empty, are dropped.
grep -L "ServiceDescriptor" "$out"/*.grpc.swift | xargs -r rm
# Generated code keeps its generator's formatting.
grep -L "swift-format-ignore-file" "$out"/*.swift | xargs -r sed -i "1i // swift-format-ignore-file"
ls "$out"
