import Foundation
import GRPCCore
import StrataContainerdAPI
import StrataContent
import StrataFS
import StrataOCI
import StrataStreams
import SwiftProtobuf

/// containerd's content store through its Content API: documents read whole (bounded by their
/// `DocumentLimit` before a byte is read), blobs written under a lease and committed only whole,
/// against the digest and size they were computed with.
public struct ContainerdContent: Sendable {
    public let client: ContainerdClient

    public init(_ client: ContainerdClient) { self.client = client }

    /// The bytes of the JSON document `d` (a manifest, index or config), checked against its
    /// digest; refused unread past its `DocumentLimit`, and when containerd returns a different
    /// length or digest.
    public func document(_ d: Descriptor) async throws -> [UInt8] {
        let limit = Int64(DocumentLimit.bytes(for: d.mediaType))
        guard (0...limit).contains(d.size) else {
            throw ContentError.invalidImage(
                "\(d.digest) (\(d.mediaType)) is \(d.size) bytes, not within the \(limit >> 20) MiB allowed for it")
        }
        let request = Containerd_Services_Content_V1_ReadContentRequest.with { $0.digest = d.digest.description }
        let bytes = try await client.call("Content.Read", "content \(d.digest)") {
            try await client.content.read(request, metadata: client.metadata()) { response in
                var bytes: [UInt8] = []
                for try await chunk in response.messages {
                    guard chunk.offset == Int64(bytes.count), Int64(bytes.count + chunk.data.count) <= d.size else {
                        throw ContentError.invalidImage(
                            "\(d.digest): containerd sent bytes at \(chunk.offset) past the \(d.size) declared")
                    }
                    bytes.append(contentsOf: chunk.data)
                }
                return bytes
            }
        }
        guard Int64(bytes.count) == d.size, Digest.sha256(bytes) == d.digest else {
            throw ContentError.invalidImage("\(d.digest): containerd's bytes do not match its descriptor")
        }
        return bytes
    }

    /// Writes `bytes` as the blob `d` under `lease`.
    public func write(_ bytes: [UInt8], as d: Descriptor, labels: [String: String] = [:], lease: ContainerdLease)
        async throws
    {
        try await write(as: d, labels: labels, lease: lease) { offset, count in
            Data(bytes[Int(offset)..<Int(offset) + count])
        }
    }

    /// Writes the first `d.size` bytes of `file` as the blob `d` under `lease`.
    public func write(file: Handle, as d: Descriptor, labels: [String: String] = [:], lease: ContainerdLease)
        async throws
    {
        try await write(as: d, labels: labels, lease: lease) { offset, count in
            var data = Data(count: count)
            let n = try data.withUnsafeMutableBytes { try file.readFully(into: $0, at: offset) }
            guard n == count else { throw FSError("read", path: "(layer file)", errno: .ioError) }
            return data
        }
    }

    /// Streams a blob through containerd's `Content.Write`: a fresh ingest ref, 1 MiB writes at
    /// their offsets, then a commit against `d`'s size and digest with `labels`. A blob already
    /// stored is added to `lease` instead (its commit says AlreadyExists).
    private func write(
        as d: Descriptor, labels: [String: String], lease: ContainerdLease,
        chunk: @escaping @Sendable (Int64, Int) throws -> Data
    ) async throws {
        let ref = "strata-\(d.digest.encoded.prefix(16))-\(UInt64.random(in: 0...UInt64.max))"
        let size = d.size
        let chunkSize: Int64 = 1 << 20
        do {
            try await client.call("Content.Write", "content \(d.digest)") {
                try await client.content.write(
                    metadata: client.metadata(lease: lease.id),
                    requestProducer: { writer in
                        var offset: Int64 = 0
                        repeat {
                            let count = Int(min(chunkSize, size - offset))
                            let data = try chunk(offset, count)
                            let last = offset + Int64(count) == size
                            try await writer.write(
                                .with {
                                    $0.action = last ? .commit : .write
                                    $0.ref = ref
                                    $0.total = size
                                    $0.expected = d.digest.description
                                    $0.offset = offset
                                    $0.data = data
                                    if last { $0.labels = labels }
                                })
                            offset += Int64(count)
                        } while offset < size
                    },
                    onResponse: { response in
                        for try await _ in response.messages {}
                    })
            }
        } catch let e as ContainerdError where e.isAlreadyExists {
            try await lease.hold(content: d.digest.description, client)
            if !labels.isEmpty { try await label(d.digest, labels) }
        }
    }

    /// Sets `labels` on the stored blob `digest`, leaving its others.
    public func label(_ digest: Digest, _ labels: [String: String]) async throws {
        let request = Containerd_Services_Content_V1_UpdateRequest.with {
            $0.info = .with {
                $0.digest = digest.description
                $0.labels = labels
            }
            $0.updateMask = .with { $0.paths = labels.keys.sorted().map { "labels.\($0)" } }
        }
        _ = try await client.call("Content.Update", "content \(digest)") {
            try await client.content.update(request, metadata: client.metadata())
        }
    }
}
