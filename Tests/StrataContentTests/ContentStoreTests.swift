import Foundation
import StrataArchive
import StrataContent
import StrataDatabase
import StrataFS
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// The content store's contract, after containerd's content test suite: blobs appear whole and
/// read-only under their digest, ingests resume, one writer per ref, checks before commit.
@Suite struct ContentStoreTests {
    let temp = TempDirectory("content")
    let root: StateRoot

    init() throws { root = try StateRoot(path: temp.at("root")) }

    var store: ContentStore { root.content }

    func ingest(_ bytes: [UInt8], ref: String, expected: Digest? = nil, labels: [String: String] = [:]) throws
        -> ContentInfo
    {
        let w = try store.writer(ref: ref)
        try w.write(bytes)
        return try w.commit(size: Int64(bytes.count), expected: expected ?? Digest.sha256(bytes), labels: labels)
    }

    @Test func committedBlobIsWholeReadOnlyAndInTheLayout() throws {
        var g = SeededGenerator(seed: 1)
        let bytes = g.bytes(3 << 20)
        let info = try ingest(bytes, ref: "a", labels: ["containerd.io/uncompressed": "sha256:x"])
        #expect(info.digest == Digest.sha256(bytes) && info.size == Int64(bytes.count))
        #expect(try store.info(info.digest) == info)
        #expect(try store.list().map(\.digest) == [info.digest])
        #expect(try HandleSource(store.open(info.digest)).readToEnd() == bytes)
        let blobPath = temp.at("root/content/blobs/sha256/" + info.digest.encoded)
        let mode = try Handle.openFile(path: blobPath).stat().permissions
        #expect(mode == 0o444)
        let layout = try String(contentsOfFile: temp.at("root/content/oci-layout"), encoding: .utf8)
        #expect(layout.contains(#""imageLayoutVersion":"1.0.0""#))
        #expect(try store.ingests().isEmpty)
    }

    @Test func interruptedIngestResumesAtItsOffset() throws {
        var g = SeededGenerator(seed: 2)
        let bytes = g.bytes(5_000_000)
        let first = try store.writer(ref: "resume-me", total: Int64(bytes.count))
        try first.write(Array(bytes[..<1_234_567]))
        first.close()
        #expect(try store.ingests().map(\.offset) == [1_234_567])
        #expect(try store.ingests().first?.total == Int64(bytes.count))
        let second = try store.writer(ref: "resume-me")
        #expect(second.offset == 1_234_567)
        try second.write(Array(bytes[1_234_567...]))
        let info = try second.commit(size: Int64(bytes.count), expected: Digest.sha256(bytes))
        #expect(try HandleSource(store.open(info.digest)).readToEnd() == bytes)
    }

    @Test func oneWriterPerRef() throws {
        let w = try store.writer(ref: "busy")
        #expect(throws: ContentError.locked(ref: "busy")) { try store.writer(ref: "busy") }
        w.close()
        _ = try store.writer(ref: "busy")
    }

    @Test func digestMismatchDiscardsTheIngest() throws {
        let wrong = Digest.sha256(Array("other".utf8))
        let w = try store.writer(ref: "bad")
        try w.write(Array("data".utf8))
        #expect(
            throws: ContentError.digestMismatch(ref: "bad", expected: wrong, actual: Digest.sha256(Array("data".utf8)))
        ) {
            try w.commit(expected: wrong)
        }
        #expect(try store.list().isEmpty)
        #expect(try store.ingests().isEmpty)
    }

    @Test func shortIngestIsKeptForResume() throws {
        let w = try store.writer(ref: "short")
        try w.write(Array("abc".utf8))
        #expect(throws: ContentError.sizeMismatch(ref: "short", expected: 10, actual: 3)) { try w.commit(size: 10) }
        #expect(try store.ingests().map(\.ref) == ["short"])
        #expect(try store.list().isEmpty)
    }

    @Test func secondCommitOfTheSameBytesIsAlreadyExists() throws {
        let bytes = Array("same".utf8)
        let info = try ingest(bytes, ref: "one")
        #expect(throws: ContentError.alreadyExists(info.digest)) { try ingest(bytes, ref: "two") }
        #expect(try store.ingests().isEmpty)
        #expect(try HandleSource(store.open(info.digest)).readToEnd() == bytes)
    }

    @Test func labelsSetAndRemoved() throws {
        let info = try ingest(Array("l".utf8), ref: "l", labels: ["a": "1", "b": "2"])
        let after = try store.label(info.digest, ["a": nil, "c": "3"])
        #expect(after.labels == ["b": "2", "c": "3"])
        #expect(try store.info(info.digest).labels == ["b": "2", "c": "3"])
        let missing = Digest.sha256(Array("missing".utf8))
        #expect(throws: ContentError.notFound(missing)) { try store.label(missing, ["a": "1"]) }
    }

    @Test func deleteRemovesBlobAndRecord() throws {
        let info = try ingest(Array("gone".utf8), ref: "d", labels: ["k": "v"])
        try store.delete(info.digest)
        #expect(throws: ContentError.notFound(info.digest)) { try store.info(info.digest) }
        #expect(throws: ContentError.notFound(info.digest)) { try store.delete(info.digest) }
        // The same bytes stored again start with no labels.
        #expect(try ingest(Array("gone".utf8), ref: "d2").labels.isEmpty)
    }

    @Test func leaseHoldsTheIngestThenTheBlob() throws {
        let lease = try root.leases.create()
        let w = try store.writer(ref: "leased", lease: lease.id)
        #expect(try root.leases.resources(lease.id) == [LeaseResource(kind: .ingest, id: "leased")])
        try w.write(Array("held".utf8))
        let info = try w.commit()
        #expect(try root.leases.resources(lease.id) == [LeaseResource(kind: .content, id: info.digest.description)])
        #expect(throws: LeaseError.notFound("nope")) { try store.writer(ref: "x", lease: "nope") }
        try root.leases.remove(lease.id)
        #expect(try root.leases.list().isEmpty)
    }

    @Test func storeIsSharedAcrossOpeners() throws {
        let info = try ingest(Array("shared".utf8), ref: "s", labels: ["k": "v"])
        let again = try StateRoot(path: temp.at("root"))
        #expect(try again.content.info(info.digest) == info)
    }
}
