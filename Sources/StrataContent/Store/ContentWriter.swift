import Crypto
import Foundation
import StrataDatabase
import StrataFS
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// Writes one blob into the store under an ingest ref: containerd's content `Writer`.
///
/// The bytes go to `ingest/<sha256(ref)>/data`, digested as they pass. A writer for a ref whose
/// ingest was interrupted resumes it: `offset` says where the caller continues (the bytes already
/// there are hashed again, as containerd does). Only one writer holds a ref at a time, across
/// processes. `commit` checks size and digest, then renames the data into `blobs/` read-only; a
/// digest mismatch discards the ingest. `close` without a commit leaves the ingest for a later
/// resume (or for `gc`).
public final class ContentWriter: ByteSink {
    public let ref: String
    /// Bytes written so far, those of a resumed ingest included.
    public private(set) var offset: Int64 = 0
    private var hasher = SHA256()
    private let store: ContentStore
    private var directory: Handle?
    private var data: Handle?
    let directoryName: [UInt8]
    private let lease: String?

    init(store: ContentStore, ref: String, total: Int64?, lease: String?) throws {
        let name = ContentWriter.ingestName(ref)
        let (dir, file) = try Self.openIngest(store, ref: ref, name: name, total: total, lease: lease)
        self.store = store
        self.ref = ref
        self.lease = lease
        directoryName = name
        directory = dir
        data = file
        try resume(file)
    }

    /// Creates or reopens the ingest directory, locks it, and opens its data file.
    private static func openIngest(_ store: ContentStore, ref: String, name: [UInt8], total: Int64?, lease: String?)
        throws -> (Handle, Handle)
    {
        guard (1...256).contains(ref.utf8.count), ref.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\u{7F}" })
        else { throw ContentError.invalidRef(ref) }
        try store.ingestDirectory.makeDirectoryIfMissing(name, mode: 0o700)
        let dir = try store.ingestDirectory.openDirectory(name)
        guard try dir.lock(wait: false) else { throw ContentError.locked(ref: ref) }
        if let lease { try Leases(store.metadata).add(lease, kind: .ingest, id: ref) }
        // The ref file's time is when the ingest started: written once, at the precise time.
        if try dir.statIfExists(Array("ref".utf8)) == nil {
            try writeSmallFile(dir, "ref", ref)
            let now = FileTime(nanosecondsSince1970: Timestamp.now())
            try dir.setTimes(Array("ref".utf8), access: now, modification: now)
        }
        if let total { try writeSmallFile(dir, "total", String(total)) }
        let file = try dir.open(Array("data".utf8), flags: O_RDWR | O_CREAT | O_NOFOLLOW, mode: 0o600)
        return (dir, file)
    }

    /// Hashes what an earlier writer left and positions at its end.
    private func resume(_ file: Handle) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try file.read(into: buffer)
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[..<n]))
            offset += Int64(n)
        }
    }

    /// The digest of the bytes written so far.
    public var digest: StrataStreams.Digest {
        StrataStreams.Digest(encoded: StrataStreams.Digest.hex(hasher.finalize()))
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let data else { throw ContentError.locked(ref: ref) }
        try data.write(bytes)
        hasher.update(bufferPointer: bytes)
        offset += Int64(bytes.count)
        try touch(data)
    }

    /// Sets the data's time to the precise time of the last write (the kernel's file times run
    /// a tick behind): the ingest's `updatedAt`, as containerd's clients check it.
    private func touch(_ data: Handle) throws {
        let now = FileTime(nanosecondsSince1970: Timestamp.now())
        try data.setTimes(access: now, modification: now)
    }

    /// Drops every byte written so far, those of a resumed ingest included: the writer starts
    /// again at offset 0 (containerd's `Truncate(0)`, a client restarting a download).
    public func truncate() throws {
        guard let data else { throw ContentError.locked(ref: ref) }
        try data.truncate(to: 0)
        try data.seek(to: 0)
        hasher = SHA256()
        offset = 0
        try touch(data)
    }

    /// Writes what `input` holds past the bytes this ingest already has (all of it for a new
    /// ingest): a regular file is read from `offset` on, a stream (stdin, a pipe) has its first
    /// `offset` bytes read and dropped.
    public func resume(from input: Handle) throws {
        if try input.stat().type == .regular {
            try input.seek(to: offset)
        } else {
            try HandleSource(input).skip(offset)
        }
        try HandleSource(input).copy(to: self)
    }

    /// Nothing to flush: bytes reach the file as they are written. `commit` makes them a blob.
    public func finish() throws {}

    /// What a commit whose size or digest is wrong does with the ingest.
    public enum OnMismatch: Sendable {
        /// Removes it (or, for too few bytes, keeps it for the rest): Strata's own writers.
        case discard
        /// Keeps it, for the client to resume, truncate or abort: containerd's contract.
        case keep
    }

    /// Makes the ingest a blob: checks `size` and `expected` when given, fsyncs, renames the data
    /// into place read-only, records it with `labels` (and in the writer's lease) in one
    /// transaction, and removes the ingest. The writer is closed afterwards, even on error.
    @discardableResult
    public func commit(
        size: Int64? = nil, expected: StrataStreams.Digest? = nil, labels: [String: String] = [:],
        onMismatch: OnMismatch = .discard
    ) throws -> ContentInfo {
        defer { close() }
        guard let data, let directory else { throw ContentError.locked(ref: ref) }
        try Labels.validate(labels)
        let size = size ?? offset
        guard size == offset else {
            if offset > size && onMismatch == .discard { discard() }
            throw ContentError.sizeMismatch(ref: ref, expected: size, actual: offset)
        }
        let actual = digest
        if let expected, expected != actual {
            if onMismatch == .discard { discard() }
            throw ContentError.digestMismatch(ref: ref, expected: expected, actual: actual)
        }
        try data.sync()
        FaultPoint.reach("ingest.synced")
        try data.changeMode(0o444)
        let blobName = ContentStore.name(actual)
        if try store.blobs.statIfExists(blobName) != nil {
            discard()
            throw ContentError.alreadyExists(actual)
        }
        try directory.rename(Array("data".utf8), to: blobName, in: store.blobs, noReplace: true)
        try store.blobs.sync()
        FaultPoint.reach("ingest.renamed")
        let info = try record(actual, size: size, labels: labels)
        FaultPoint.reach("ingest.recorded")
        discard()
        return info
    }

    /// The blob's record, labels and lease entries, in one transaction.
    private func record(_ digest: StrataStreams.Digest, size: Int64, labels: [String: String]) throws
        -> ContentInfo
    {
        let lease = lease
        let ref = ref
        let blobs = store.blobs
        let changes = labels.mapValues { Optional($0) }
        return try store.metadata.write { db in
            try ContentStore.record(db, digest, size: size, labels: changes)
            if let lease {
                try Leases.add(db, lease, kind: .content, id: digest.description)
                try Leases.remove(db, lease, kind: .ingest, id: ref)
            }
            let meta = try blobs.stat(ContentStore.name(digest))
            return try ContentStore.info(db, digest, fileSize: size, fileTime: meta)
        }
    }

    /// Releases the ingest, leaving it on disk for a later writer with the same ref.
    public func close() {
        data = nil
        directory = nil
    }

    /// Removes the ingest and closes the writer.
    public func abort() { discard() }

    private func discard() {
        try? store.ingestDirectory.removeAll(directoryName)
        close()
    }

    /// The ingest directory's name for `ref`: its SHA-256, as containerd's local store names it.
    static func ingestName(_ ref: String) -> [UInt8] {
        Array(StrataStreams.Digest.sha256(Array(ref.utf8)).encoded.utf8)
    }

    static func writeSmallFile(_ dir: Handle, _ name: String, _ text: String) throws {
        let f = try dir.open(Array(name.utf8), flags: O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o600)
        try Array(text.utf8).withUnsafeBytes { try f.write($0) }
    }
}

extension ContentStore {
    /// A writer for `ref`, resuming its ingest if one was left; `total` is the expected size, when
    /// known, shown by `ingests()`. With a `lease`, the ingest and then the blob are held by it.
    public func writer(ref: String, total: Int64? = nil, lease: String? = nil) throws -> ContentWriter {
        try ContentWriter(store: self, ref: ref, total: total, lease: lease)
    }

    /// Ingests in progress or left behind.
    public func ingests() throws -> [IngestStatus] {
        try ingestDirectory.sortedNames().compactMap { try status(ofIngest: $0) }
    }

    /// The ingest of `ref`, if there is one.
    public func ingest(ref: String) throws -> IngestStatus? {
        try status(ofIngest: ContentWriter.ingestName(ref)).flatMap { $0.ref == ref ? $0 : nil }
    }

    private func status(ofIngest name: [UInt8]) throws -> IngestStatus? {
        guard let dir = try? ingestDirectory.openDirectory(name),
            let started = try? dir.stat(Array("ref".utf8)), let ref = Self.ingestRef(dir)
        else { return nil }
        let data = try dir.statIfExists(Array("data".utf8))
        let total = (try? dir.open(Array("total".utf8), flags: O_RDONLY | O_NOFOLLOW))
            .flatMap { try? $0.readToEnd(limit: 64) }.flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
        return IngestStatus(
            ref: ref, offset: Int64(data?.size ?? 0), total: total, startedAt: started.modificationTime.date,
            updatedAt: (data ?? started).modificationTime.date)
    }

    /// Removes every ingest that no writer has open and whose ref is not in `keep` (or that a
    /// crash left without its ref file); returns how many.
    public func removeAbandonedIngests(keeping keep: Set<String>) throws -> Int {
        var removed = 0
        for name in try ingestDirectory.sortedNames() {
            guard let dir = try? ingestDirectory.openDirectory(name), try dir.lock(wait: false) else { continue }
            if let ref = Self.ingestRef(dir), keep.contains(ref) { continue }
            try ingestDirectory.removeAll(name)
            removed += 1
        }
        return removed
    }

    /// The ref an ingest directory was opened under; nil when a crash left it without one.
    static func ingestRef(_ dir: Handle) -> String? {
        (try? dir.open(Array("ref".utf8), flags: O_RDONLY | O_NOFOLLOW))
            .flatMap { try? $0.readToEnd(limit: 4096) }.map { String(decoding: $0, as: UTF8.self) }
    }

    /// Removes the ingest of `ref` unless a writer holds it.
    public func abortIngest(ref: String) throws {
        let name = ContentWriter.ingestName(ref)
        guard let dir = try? ingestDirectory.openDirectory(name) else { return }
        guard try dir.lock(wait: false) else { throw ContentError.locked(ref: ref) }
        try ingestDirectory.removeAll(name)
    }
}
