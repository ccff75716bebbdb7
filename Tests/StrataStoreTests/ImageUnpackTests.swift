import Foundation
import StrataArchive
import StrataFS
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// `strata image unpack`: an image built by umoci, imported and unpacked into chain snapshots on
/// both backends, gives the root filesystem umoci's own unpack gives; a wrong diffID commits
/// nothing; other tools read the store's layout.
@Suite(.serialized) struct ImageUnpackTests {
    static func strata(_ t: TempDirectory, _ args: [String]) async throws -> ToolResult {
        try await Tool.strata(["--root", t.at("root")] + args)
    }

    @Test(arguments: LocalSnapshotter.backends)
    func unpackedChainIsUmocisRootAndPrepareWritesOverIt(_ backend: String) async throws {
        guard UmociImage.requirements(), TestEnvironment.backendAvailable(backend) else { return }
        let t = TempDirectory("unpack-\(backend)")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: UmociImage.sampleLayers)
        let r = try await Self.strata(t, ["image", "unpack", "--snapshotter", backend, image.layout, "v1", "--json"])
        #expect(r.succeeded, "\(r.stderr)")
        let result = try JSONDecoder().decode(ImageUnpacker.Result.self, from: Data(r.stdout.utf8))
        #expect(result.layers.map(\.applied) == [true, true, true])
        let again = try await Self.strata(
            t, ["image", "unpack", "--snapshotter", backend, image.layout, "v1", "--json"])
        #expect(
            try JSONDecoder().decode(ImageUnpacker.Result.self, from: Data(again.stdout.utf8)).layers.map(\.applied)
                == [false, false, false])

        let root = try StateRoot(path: t.at("root"))
        let s = try root.snapshotter(backend)
        #expect(try s.list().map(\.name).sorted() == result.layers.map(\.chainID.description).sorted())
        // umoci keeps a directory's mtime when a layer adds to it without listing it; containerd and
        // Strata do not, so directory times are left out of the comparison.
        let reference = try DirectorySnapshot.take(try await image.unpackByUmoci(t), directoryTimes: false)
        _ = try s.view("check", parent: result.chainID.description, labels: [:])
        let view = t.directory("view")
        try Mounter.mount(try s.mounts("check"), at: view)
        let unpacked = try DirectorySnapshot.take(view, directoryTimes: false)
        try Mounter.unmount(view)
        #expect(unpacked == reference)

        // The containerd flow: a writable snapshot on the chain, and its diff holds only the change.
        let prepared = try await Self.strata(
            t, ["snapshot", "prepare", "--snapshotter", backend, "ctr", result.chainID.description])
        #expect(prepared.succeeded, "\(prepared.stderr)")
        let tree = try await Self.strata(t, ["snapshot", "tree", "--snapshotter", backend])
        let chain = result.layers.map(\.chainID.description)
        #expect(
            tree.stdout.split(separator: "\n") == [
                chain[0][...], "  \\_ \(chain[1])", "    \\_ \(chain[2])", "      \\_ check", "      \\_ ctr",
            ])
        let mnt = t.directory("ctr")
        try Mounter.mount(try s.mounts("ctr"), at: mnt)
        try Data("x".utf8).write(to: URL(fileURLWithPath: mnt + "/etc/added"))
        try Mounter.unmount(mnt)
        let (layer, _) = try SnapshotDiffer(root: root, snapshotter: s, options: .init(compression: .none)).diff("ctr")
        #expect(try tarEntryNames(HandleSource(root.content.open(layer.digest))) == ["etc/", "etc/added"])
    }

    @Test func wrongDiffIDCommitsNothingForThatLayer() async throws {
        guard UmociImage.requirements() else { return }
        let t = TempDirectory("diffid")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: Array(UmociImage.sampleLayers.prefix(2)))
        try image.rewriteConfig { config in
            var rootfs = config["rootfs"] as! [String: Any]
            var ids = rootfs["diff_ids"] as! [String]
            ids[1] = Digest.sha256(Array("not this layer".utf8)).description
            rootfs["diff_ids"] = ids
            config["rootfs"] = rootfs
        }
        let r = try await Self.strata(t, ["image", "unpack", "--snapshotter", "native", image.layout, "v1"])
        #expect(!r.succeeded)
        #expect(r.stderr.contains("diffID mismatch") && r.stderr.contains("discarded"), "\(r.stderr)")
        let root = try StateRoot(path: t.at("root"))
        let keys = try root.snapshotter("native").list().map(\.name)
        #expect(keys.count == 1 && !keys[0].hasPrefix("extract-"), "\(keys)")  // the first layer only
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.at("root/snapshots/native")).count == 1)
    }

    @Test func archivesImportAndOtherToolsReadTheStore() async throws {
        guard UmociImage.requirements() else { return }
        let t = TempDirectory("archive")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: Array(UmociImage.sampleLayers.prefix(1)))
        try await Tool.check("tar", ["-C", image.layout, "-czf", t.at("image.tar.gz"), "."])
        let r = try await Self.strata(
            t,
            [
                "image", "unpack", "--snapshotter", "native", t.at("image.tar.gz"), "imported", "--from", "v1",
            ])
        #expect(r.succeeded, "\(r.stderr)")
        let ls = try await Self.strata(t, ["image", "ls", "--json"])
        #expect(ls.stdout.contains("\"imported\""))
        let layout = t.at("root/content")
        let inspected = try await Tool.check("skopeo", ["inspect", "oci:\(layout):imported"])
        #expect(inspected.stdout.contains("\"Layers\""))
        try await Tool.check("skopeo", ["copy", "oci:\(layout):imported", "oci:\(t.at("copy")):copied"])
        let listed = try await Tool.check("umoci", ["ls", "--layout", layout])
        #expect(listed.stdout.contains("imported"))
        try await Tool.check("umoci", ["unpack", "--image", "\(layout):imported", t.at("bundle")])
        let missing = try await Self.strata(t, ["image", "unpack", t.at("image.tar.gz"), "other", "--from", "nope"])
        #expect(!missing.succeeded && missing.stderr.contains("no image named nope"))
    }
}
