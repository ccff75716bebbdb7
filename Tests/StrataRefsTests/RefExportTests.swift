import Foundation
import StrataContent
import StrataFS
import StrataGC
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// `strata ref` through the CLI: a container's changes lifted off an image built by umoci and
/// exported again; umoci and skopeo read the export, whose image layers are the image's own
/// blobs; a ref of blobs alone exports without unpacking; refs hold what they use against gc.
@Suite(.serialized) struct RefExportTests {
    static func strata(_ t: TempDirectory, _ args: [String]) async throws -> ToolResult {
        let r = try await Tool.strata(["--root", t.at("root")] + args)
        #expect(r.succeeded, "strata \(args.joined(separator: " ")): \(r.stderr)")
        return r
    }

    static func object(_ r: ToolResult) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
    }

    static func layers(_ layout: String, _ manifest: String) throws -> [String] {
        let m = try UmociImage.json(layout + "/blobs/sha256/" + manifest.dropFirst(7))
        return (m["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
    }

    @Test(arguments: LocalSnapshotter.backends)
    func exportedMergeReadsWithUmociAndSkopeoAndReusesTheImageBlobs(_ backend: String) async throws {
        guard UmociImage.requirements(), TestEnvironment.backendAvailable(backend) else { return }
        let t = TempDirectory("ref-export-\(backend)")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: UmociImage.sampleLayers)
        let sn = ["--snapshotter", backend]

        // Blobs alone: the image imported, not unpacked; its Diff from scratch exports as it is.
        let root = try StateRoot(path: t.at("root"))
        let target = try ImageImporter(store: root.content).importImage(from: image.layout, as: "v1")
        let blobsOnly = try Self.object(
            try await Self.strata(t, ["ref", "diff", "whole", "scratch", "image:v1", "--json"] + sn))
        #expect(blobsOnly["snapshot"] == nil && blobsOnly["diff"] as? String == "unmerge")
        let out = t.at("out")
        let plain = try Self.object(try await Self.strata(t, ["ref", "export", "whole", "\(out):whole", "--json"]))
        let (_, manifest) = try ImageGraph(content: root.content).manifest(of: target)
        #expect(try Self.layers(out, plain["digest"] as! String) == manifest.layers.map(\.digest.description))
        #expect(try root.snapshotter(backend).list().isEmpty, "an export of blobs unpacked something")

        // A container over the unpacked image, its changes lifted off as a Diff and merged back.
        _ = try await Self.strata(t, ["image", "unpack", image.layout, "v1"] + sn)
        let config = try JSONDecoder().decode(
            ImageConfigRootFS.self, from: Data(root.content.open(manifest.config.digest).readToEnd(limit: 1 << 20)))
        let chain = config.chainIDs
        let s = try root.snapshotter(backend)
        _ = try s.prepare("ctr", parent: chain.last!.description, labels: [:])
        let mnt = t.directory("ctr")
        try Mounter.mount(try s.mounts("ctr"), at: mnt)
        try await Tool.check(
            "sh", ["-c", "echo app > app; rm etc/two; mkdir -p usr/local; echo x > usr/local/x"], in: mnt)
        try Mounter.unmount(mnt)
        try s.commit("app", key: "ctr", labels: [:])
        let diff = try Self.object(
            try await Self.strata(t, ["ref", "diff", "changes", "image:v1", "snapshot:app", "--json"] + sn))
        #expect((diff["layers"] as? [Any])?.count == 1)
        let merged = try Self.object(
            try await Self.strata(t, ["ref", "merge", "rebuilt", "image:v1", "changes", "--json"] + sn))
        #expect(merged["build"] as? String == (backend == "overlay" ? "stacked" : "hardlinks"))
        let exported = try Self.object(
            try await Self.strata(t, ["ref", "export", "rebuilt", "\(out):rebuilt", "--mtime", "ns", "--json"]))
        let digest = exported["digest"] as! String
        let layers = try Self.layers(out, digest)
        #expect(layers.count == 4 && Array(layers.prefix(3)) == manifest.layers.map(\.digest.description))

        // umoci unpacks what the ref's snapshot holds; skopeo reads and copies it.
        try await Tool.check("umoci", ["unpack", "--image", "\(out):rebuilt", t.at("bundle")])
        let reference = try DirectorySnapshot.take(t.at("bundle/rootfs"), directoryTimes: false)
        _ = try s.view("check", parent: merged["snapshot"] as? String, labels: [:])
        let view = t.directory("view")
        try Mounter.mount(try s.mounts("check"), at: view)
        let tree = try DirectorySnapshot.take(view, directoryTimes: false)
        try Mounter.unmount(view)
        try s.remove("check")
        #expect(tree == reference)
        let inspected = try await Tool.check("skopeo", ["inspect", "oci:\(out):rebuilt"])
        #expect(inspected.stdout.contains(digest))
        try await Tool.check("skopeo", ["copy", "oci:\(out):rebuilt", "oci:\(t.at("copy")):copied"])

        // Refs hold their snapshots and blobs; removed, gc takes what only they held.
        if backend == "overlay" {
            #expect(throws: SnapshotError.hasChildren("app")) { try s.remove("app") }  // a stacked layer
        }
        _ = try await Self.strata(t, ["image", "rm", "v1"])
        _ = try GarbageCollector(root: root).collect()
        #expect(try s.stat(merged["snapshot"] as! String).kind == .committed)
        #expect(try root.content.info(Digest(parsing: layers[3])!).size > 0)
        _ = try await Self.strata(t, ["ref", "rm", "whole", "changes", "rebuilt"])
        _ = try GarbageCollector(root: root).collect()
        #expect(try s.list().map(\.name).sorted() == (chain.map(\.description) + ["app"]).sorted())
        try s.remove("app")
        _ = try GarbageCollector(root: root).collect()
        #expect(try s.list().isEmpty)
        #expect(try root.content.list().isEmpty)
    }
}
