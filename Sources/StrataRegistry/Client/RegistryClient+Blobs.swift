import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StrataContent
import StrataFS
import StrataOCI
import StrataStreams

extension RegistryClient {
    /// Whether the repository has the blob (`HEAD`).
    public func blobExists(_ repository: String, _ digest: Digest) async throws -> Bool {
        let u = url(repository, "blobs/\(digest)")
        let r = try await send(scope: Self.scope(repository, push: true)) {
            Self.request(.HEAD, u)
        }
        switch r.status.code {
        case 200: return true
        case 404: return false
        default: _ = try await Self.expect(r, [200], "HEAD", u)
        }
        return false
    }

    /// How a blob reached the repository.
    public enum Upload: Sendable {
        /// Sent, in one PUT or in chunks.
        case uploaded
        /// Mounted from another repository of the registry (nothing sent).
        case mounted(from: String)
    }

    /// Puts a stored blob into `repository`: mounted from the first of `mountFrom` (repositories
    /// of this registry said to hold it) when the registry agrees, else sent, in one PUT when
    /// small or in PATCH chunks. When a request fails for a transient reason (`retrying`), the
    /// upload asks the registry where its session stands and continues from that offset; a
    /// session the registry no longer knows (404 on the status or on a chunk) starts over.
    public func upload(
        _ repository: String, _ blob: Descriptor, from file: Handle, mountFrom: [String] = [],
        onProgress: (@Sendable (Int64) -> Void)? = nil
    ) async throws -> Upload {
        let scope = Self.scope(repository, push: true, from: mountFrom)
        var location: String?
        var offset: Int64 = 0
        var sources = mountFrom[...]
        var resuming = false
        return try await retrying {
            if resuming, let here = location {
                if let status = try await uploadStatus(here, scope: scope) {
                    (location, offset) = status
                } else {
                    (location, offset) = (nil, 0)
                }
            }
            resuming = true
            while location == nil {
                switch try await openUpload(repository, blob.digest, mountFrom: sources.first, scope: scope) {
                case .mounted(let from):
                    onProgress?(blob.size)
                    return .mounted(from: from)
                case .session(let opened):
                    location = opened
                    offset = 0
                    if !sources.isEmpty { sources = sources.dropFirst() }
                }
            }
            do {
                return try await send(file, blob, from: offset, at: &location, scope: scope, onProgress)
            } catch RegistryError.status(_, _, 404, _) {
                // The registry forgot the session (restarted without its state, or it expired):
                // a new one, at once.
                (location, offset, resuming) = (nil, 0, false)
                throw SessionLost()
            }
        }
    }

    /// The session was lost; `retrying` runs the upload again from a new one.
    struct SessionLost: Error {}

    /// Sends the blob from `offset` into the session at `location` (PATCH chunks, then the PUT
    /// with the digest), moving `location` along as the registry answers.
    private func send(
        _ file: Handle, _ blob: Descriptor, from start: Int64, at location: inout String?, scope: String,
        _ onProgress: (@Sendable (Int64) -> Void)?
    ) async throws -> Upload {
        var offset = start
        while blob.size - offset > Int64(chunkSize) {
            let chunk = try Self.read(file, at: offset, count: chunkSize)
            let here = location!
            let r = try await Self.expect(
                try await send(scope: scope) {
                    Self.request(.PATCH, here, body: chunk, type: "application/octet-stream")
                }, [202], "PATCH", here)
            location = r.headers.first(name: "Location").map { absolute($0, from: here) } ?? here
            offset += Int64(chunk.readableBytes)
            onProgress?(offset)
        }
        let rest = Int(blob.size - offset)
        let body = try Self.read(file, at: offset, count: rest)
        let finish = location! + (location!.contains("?") ? "&" : "?") + "digest=" + blob.digest.description
        _ = try await Self.expect(
            try await send(scope: scope) {
                Self.request(.PUT, finish, body: body, type: "application/octet-stream")
            }, [201], "PUT", finish)
        onProgress?(blob.size)
        return .uploaded
    }

    private enum Opened {
        case mounted(String)
        case session(String)
    }

    /// `POST .../blobs/uploads/`, asking to mount `digest` from `source` when given: 201 is a
    /// mount, 202 an upload session (a registry that would not mount opens one instead).
    private func openUpload(_ repository: String, _ digest: Digest, mountFrom source: String?, scope: String)
        async throws -> Opened
    {
        var start = url(repository, "blobs/uploads/")
        if let source { start += "?mount=\(digest)&from=\(source)" }
        let here = start
        let r = try await Self.expect(
            try await send(scope: scope) {
                Self.request(.POST, here, headers: ["Content-Length": "0"])
            }, [201, 202], "POST", here)
        if r.status.code == 201, let source { return .mounted(source) }
        guard let location = r.headers.first(name: "Location").map({ absolute($0, from: here) }) else {
            throw RegistryError.protocolViolation("POST \(here): no Location for the upload")
        }
        return .session(location)
    }

    /// Where an upload session stands: its location and the bytes the registry has; nil when
    /// the registry no longer knows the session (404, or a 400 for a state it cannot read), or
    /// holds nothing of it, or says so in a way that cannot be read: then a new session.
    private func uploadStatus(_ location: String, scope: String) async throws -> (String, Int64)? {
        let r = try await send(scope: scope) { HTTPClientRequest(url: location) }
        if [400, 404].contains(r.status.code) {
            _ = try? await r.body.collect(upTo: 1 << 16)
            return nil
        }
        _ = try await Self.expect(r, [204], "GET", location)
        // `Range: 0-END` says the registry holds bytes 0...END. distribution answers `0-0` for an
        // empty session as for a one-byte one, so 0 (or anything unreadable) starts over.
        let parts = (r.headers.first(name: "Range") ?? "").split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "0", let end = Int64(parts[1]), end > 0 else { return nil }
        return (r.headers.first(name: "Location").map { absolute($0, from: location) } ?? location, end + 1)
    }

    private static func read(_ file: Handle, at offset: Int64, count: Int) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(count)
        var done = 0
        while done < count {
            let n = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { out in
                try file.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: out[..<(count - done)]), at: offset + Int64(done))
            }
            guard n > 0 else { throw RegistryError.protocolViolation("blob file ended at \(offset + Int64(done))") }
            done += n
        }
        return buffer
    }

    /// Downloads blob `d` into `writer` (resuming at its offset with a Range request, also after
    /// a transient failure), checking size and digest as it commits. A redirect to another origin
    /// is followed without credentials. Bytes whose digest is wrong are discarded with the ingest.
    public func download(
        _ repository: String, _ d: Descriptor, into writer: ContentWriter,
        onProgress: (@Sendable (Int64) -> Void)? = nil
    ) async throws {
        // An ingest already whole (a run killed between its last byte and its commit) needs no
        // request; one longer than the blob holds wrong bytes and starts again.
        if writer.offset > d.size { try writer.truncate() }
        let target =
            writer.offset == d.size
            ? url(repository, "blobs/\(d.digest)")
            : try await retrying { try await fetch(repository, d, into: writer, onProgress: onProgress) }
        do {
            try writer.commit(size: d.size, expected: d.digest, labels: [:])
        } catch ContentError.alreadyExists {
        } catch ContentError.digestMismatch(_, let expected, let actual) {
            throw RegistryError.digestMismatch(url: target, expected: expected, actual: actual)
        }
    }

    /// Appends the rest of blob `d` to `writer`; returns the URL it came from.
    private func fetch(
        _ repository: String, _ d: Descriptor, into writer: ContentWriter, onProgress: (@Sendable (Int64) -> Void)?
    ) async throws -> String {
        var target = url(repository, "blobs/\(d.digest)")
        let scope = Self.scope(repository, push: false)
        var response: HTTPClientResponse
        var hops = 0
        while true {
            let offset = writer.offset
            let here = target
            response = try await send(scope: scope) {
                Self.request(.GET, here, headers: offset > 0 ? ["Range": "bytes=\(offset)-"] : [:])
            }
            guard [301, 302, 303, 307, 308].contains(response.status.code), hops < 5,
                let next = response.headers.first(name: "Location")
            else { break }
            _ = try? await response.body.collect(upTo: 1 << 16)
            target = absolute(next, from: here)
            hops += 1
        }
        if response.status.code == 416 {
            // The registry says the offset is past the blob: start it again.
            _ = try? await response.body.collect(upTo: 1 << 16)
            try writer.truncate()
            throw RegistryError.status(method: "GET", url: target, status: 416, body: "")
        }
        let r = try await Self.expect(response, [200, 206], "GET", target)
        if r.status.code == 200 && writer.offset > 0 { try writer.truncate() }
        for try await chunk in r.body {
            guard writer.offset + Int64(chunk.readableBytes) <= d.size else {
                try writer.truncate()
                throw RegistryError.protocolViolation("\(target): more than the \(d.size) bytes the descriptor gives")
            }
            try chunk.withUnsafeReadableBytes { try writer.write($0) }
            onProgress?(writer.offset)
        }
        return target
    }

    /// The manifest or index `reference` names, checked against its digest (the one asked for,
    /// or the registry's `Docker-Content-Digest`); refused past `DocumentLimit.manifest` (4 MiB),
    /// before more than that is read.
    public func manifest(_ repository: String, _ reference: String) async throws -> (Descriptor, [UInt8]) {
        let u = url(repository, "manifests/\(reference)")
        let r = try await Self.expect(
            try await send(scope: Self.scope(repository, push: false)) {
                Self.request(.GET, u, headers: ["Accept": Self.manifestTypes.joined(separator: ", ")])
            }, [200], "GET", u)
        let body: [UInt8]
        do {
            body = Array(buffer: try await r.body.collect(upTo: DocumentLimit.manifest))
        } catch is NIOTooManyBytesError {
            throw RegistryError.protocolViolation(
                "GET \(u): the manifest is larger than the \(DocumentLimit.manifest >> 20) MiB allowed")
        }
        let actual = Digest.sha256(body)
        let expected = Digest(parsing: reference) ?? r.headers.first(name: "Docker-Content-Digest").flatMap(Digest.init)
        if let expected, expected != actual {
            throw RegistryError.digestMismatch(url: u, expected: expected, actual: actual)
        }
        let mediaType =
            r.headers.first(name: "Content-Type").map { String($0.split(separator: ";")[0]) }
            ?? MediaType.manifest
        return (Descriptor(mediaType: mediaType, digest: actual, size: Int64(body.count)), body)
    }

    /// Puts a manifest or index under `reference` (a tag, or its digest).
    public func putManifest(_ repository: String, _ reference: String, _ d: Descriptor, _ bytes: [UInt8]) async throws {
        let u = url(repository, "manifests/\(reference)")
        _ = try await Self.expect(
            try await send(scope: Self.scope(repository, push: true)) {
                Self.request(.PUT, u, body: ByteBuffer(bytes: bytes), type: d.mediaType)
            }, [201], "PUT", u)
    }

    /// A request of `method` to `url` with `headers`; a body goes with its Content-Type and
    /// Content-Length.
    static func request(
        _ method: HTTPMethod, _ url: String, headers: [String: String] = [:], body: ByteBuffer? = nil,
        type: String? = nil
    ) -> HTTPClientRequest {
        var q = HTTPClientRequest(url: url)
        q.method = method
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { q.headers.add(name: name, value: value) }
        if let body {
            if let type { q.headers.add(name: "Content-Type", value: type) }
            q.headers.add(name: "Content-Length", value: String(body.readableBytes))
            q.body = .bytes(body)
        }
        return q
    }

    /// What a pull accepts: OCI and Docker schema 2 manifests and indexes.
    static let manifestTypes = [
        MediaType.manifest, MediaType.index, MediaType.dockerManifest, MediaType.dockerManifestList,
    ]
}
