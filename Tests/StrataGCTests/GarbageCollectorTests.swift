import Foundation
import StrataFS
import StrataGC
import StrataLayers
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// `strata gc`: containerd's roots and edges. Images hold their blobs and unpacked chain, user
/// snapshots and leases hold what they name, `containerd.io/gc.root` holds anything; the rest
/// (unleased blobs, leased snapshots whose lease went, expired leases, abandoned ingests,
/// leftovers of crashes) is removed.
@Suite(.serialized) struct GarbageCollectorTests {
    static func blob(_ root: StateRoot, _ text: String, lease: String? = nil, labels: [String: String] = [:]) throws
        -> Digest
    {
        let w = try root.content.writer(ref: "blob-\(text)", lease: lease)
        try w.write(Array(text.utf8))
        return try w.commit(labels: labels).digest
    }

    @Test func rootsAndEdgesDecideWhatStays() async throws {
        guard
            TestEnvironment.requirementsMet(tools: ["umoci"], root: true, fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("gc")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: ["mkdir etc; echo base > etc/hosts"])
        let root = try StateRoot(path: t.at("root"))
        let s = try root.snapshotter("native")
        let unpacked = try root.withLease(nil) { lease in
            let target = try ImageImporter(store: root.content, lease: lease).importImage(
                from: image.layout, as: "img", source: "v1")
            return try ImageUnpacker(root: root, snapshotter: s, lease: lease).unpack(target)
        }
        let chain = unpacked.chainID.description
        let imageBlobs = Set(try root.content.list().map(\.digest))

        _ = try s.prepare("user", parent: chain, labels: [:])  // a user's: a root
        let temporary = try root.leases.create()
        _ = try s.leased(temporary.id).prepare("leased", parent: chain, labels: [:])
        try root.leases.remove(temporary.id)  // its snapshot is now unreachable

        let kept = try root.leases.create()
        let unleased = try Self.blob(root, "unleased")
        let held = try Self.blob(root, "held", lease: kept.id)
        let rooted = try Self.blob(root, "rooted", labels: [Annotations.gcRoot: "true"])
        let expiring = try root.leases.create(expiresIn: 0.001)
        let expired = try Self.blob(root, "expired", lease: expiring.id)
        let (diff, _) = try SnapshotDiffer(root: root, snapshotter: s).diff("user")

        let abandoned = try root.content.writer(ref: "abandoned")
        try abandoned.write(Array("half".utf8))
        abandoned.close()
        let resumable = try root.content.writer(ref: "resumable", lease: kept.id)
        try resumable.write(Array("half".utf8))
        resumable.close()
        try FileManager.default.createDirectory(
            atPath: t.at("root/snapshots/native/new-1-2"), withIntermediateDirectories: false)
        #expect(FileManager.default.createFile(atPath: t.at("root/content/.index.json.strata-1-2"), contents: Data()))
        usleep(10_000)

        let report = try GarbageCollector(root: root).collect()
        #expect(report.blobs == 3 && report.snapshots == 1 && report.ingests == 1, "\(report)")
        #expect(report.leases == 1 && report.temporaryDirectories == 2, "\(report)")
        let stored = Set(try root.content.list().map(\.digest))
        #expect(stored == imageBlobs.union([held, rooted]))
        #expect(!stored.contains(unleased) && !stored.contains(expired) && !stored.contains(diff.digest))
        #expect(try s.list().map(\.name).sorted() == [chain, "user"].sorted())
        #expect(try root.content.ingests().map(\.ref) == ["resumable"])

        // Without the image and the user's snapshot, the chain and the image's blobs go too.
        try root.content.removeImage("img")
        try s.remove("user")
        let second = try GarbageCollector(root: root).collect()
        #expect(second.snapshots == 1 && second.blobs == imageBlobs.count, "\(second)")
        #expect(Set(try root.content.list().map(\.digest)) == [held, rooted])
        #expect(try s.list().isEmpty)
    }

    @Test func cliPrintsWhatWasFreed() async throws {
        let t = TempDirectory("gc-cli")
        defer { withExtendedLifetime(t) {} }
        let ingest = try await Tool.run(
            TestEnvironment.strataExecutable, ["--root", t.at("root"), "content", "ingest", "--ref", "r"],
            input: Array("collect me".utf8))
        #expect(ingest.succeeded, "\(ingest.stderr)")
        let r = try await Tool.strata(["--root", t.at("root"), "gc", "--json"])
        #expect(r.succeeded, "\(r.stderr)")
        let report = try JSONDecoder().decode(GarbageCollector.Report.self, from: Data(r.stdout.utf8))
        #expect(report.blobs == 1 && report.blobBytes == 10)
    }
}
