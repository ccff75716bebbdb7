import Foundation
import StrataFS
import StrataGC
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// `strata image commit|inspect|tag|export|import` through the CLI: a container over an image
/// built by umoci is committed (its base found from its parent), the image keeps the base's
/// config, gains one layer and a history entry; exported as an OCI archive it reads with skopeo,
/// unpacks with umoci to the container's tree, and imports into a fresh root under its name.
@Suite(.serialized) struct ImageCommitTests {
    @Test(arguments: LocalSnapshotter.backends)
    func committedContainerIsAnImageOthersRead(_ backend: String) async throws {
        guard UmociImage.requirements(), TestEnvironment.backendAvailable(backend) else { return }
        let t = TempDirectory("image-commit-\(backend)")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: UmociImage.sampleLayers)
        try image.rewriteConfig { config in
            var c = config["config"] as? [String: Any] ?? [:]
            c["Env"] = ["STRATA_BASE=1"]
            config["config"] = c
        }
        let rootPath = t.at("root")
        let sn = ["--snapshotter", backend]
        _ = try await StrataCLI.json(rootPath, ["image", "unpack", image.layout, "v1", "--json"] + sn)
        let base = try await StrataCLI.json(rootPath, ["image", "inspect", "v1", "--json"])
        let baseLayers = (base["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        #expect(baseLayers.count == UmociImage.sampleLayers.count)

        // A container over the image's chain, changed through its mount.
        let root = try StateRoot(path: rootPath)
        let baseConfig = try root.content.open(
            Digest(parsing: (base["config"] as? [String: Any])?["digest"] as? String ?? "")!
        ).readToEnd(limit: 1 << 20)
        let chain = try JSONDecoder().decode(ImageConfigRootFS.self, from: Data(baseConfig)).chainIDs
        let s = try root.snapshotter(backend)
        _ = try s.prepare("ctr", parent: chain.last!.description, labels: [:])
        let mnt = t.directory("ctr")
        try Mounter.mount(try s.mounts("ctr"), at: mnt)
        try await Tool.check(
            "sh", ["-c", "echo app > app; rm etc/hosts; rm -r opaque; mkdir -p srv; echo s > srv/s"], in: mnt)
        let container = try DirectorySnapshot.take(mnt, directoryTimes: false)
        try Mounter.unmount(mnt)

        let committed = try await StrataCLI.json(
            rootPath, ["image", "commit", "ctr", "app:1", "--message", "the app", "--mtime", "ns", "--json"] + sn)
        let layer = committed["layer"] as? [String: Any] ?? [:]
        let manifest = committed["manifest"] as? [String: Any] ?? [:]
        #expect(manifest["mediaType"] as? String == MediaType.manifest)
        let inspected = try await StrataCLI.json(rootPath, ["image", "inspect", "app:1", "--json"])
        let layers = (inspected["layers"] as? [[String: Any]] ?? []).compactMap { $0["digest"] as? String }
        #expect(layers == baseLayers + [layer["digest"] as? String ?? "-"])
        let newDiffIDs = inspected["diffIDs"] as? [String] ?? []
        #expect(newDiffIDs.last == (layer["annotations"] as? [String: String])?[Annotations.uncompressed])
        let history = inspected["history"] as? [[String: Any]] ?? []
        #expect(history.last?["comment"] as? String == "the app")
        let config = try root.content.open(
            Digest(parsing: (inspected["config"] as? [String: Any])?["digest"] as? String ?? "")!
        ).readToEnd(limit: 1 << 20)
        let env =
            ((try JSONSerialization.jsonObject(with: Data(config)) as? [String: Any])?["config"]
            as? [String: Any])?["Env"] as? [String]
        #expect(env == ["STRATA_BASE=1"], "the base's config was not kept")

        // Tag, export; skopeo and umoci read the archive; a fresh root imports it by its name.
        _ = try await StrataCLI.json(rootPath, ["image", "tag", "app:1", "docker.io/strata/app:latest"])
        let archive = t.at("app.tar")
        _ = try await StrataCLI.json(rootPath, ["image", "export", "docker.io/strata/app:latest", archive])
        let skopeo = try await Tool.check("skopeo", ["inspect", "oci-archive:\(archive)"])
        #expect(skopeo.stdout.contains(manifest["digest"] as? String ?? "-"))
        try await Tool.check("skopeo", ["copy", "oci-archive:\(archive)", "oci:\(t.at("copy")):app"])
        try await Tool.check("umoci", ["unpack", "--image", "\(t.at("copy")):app", t.at("bundle")])
        let unpacked = try DirectorySnapshot.take(t.at("bundle/rootfs"), directoryTimes: false)
        let differing = Set(unpacked.entries.keys).union(container.entries.keys).filter {
            unpacked.entries[$0] != container.entries[$0]
        }
        #expect(
            differing.isEmpty,
            "umoci's unpack of the export differs from the container: \(differing.sorted().map { "\($0): \(unpacked.entries[$0] ?? "-") vs \(container.entries[$0] ?? "-")" })"
        )

        let fresh = t.at("fresh")
        let imported = try await StrataCLI.json(fresh, ["image", "import", archive, "--json"])
        #expect(imported["name"] as? String == "docker.io/strata/app:latest")
        let again = try await StrataCLI.json(fresh, ["image", "inspect", "docker.io/strata/app:latest", "--json"])
        #expect((again["manifest"] as? [String: Any])?["digest"] as? String == manifest["digest"] as? String)

        // The committed image needs its own layer only; removing the container leaves it whole.
        try s.remove("ctr")
        _ = try GarbageCollector(root: root).collect()
        #expect(try root.content.info(Digest(parsing: layer["digest"] as? String ?? "")!).size > 0)
    }

    @Test func commitRefusesWhatIsNotAContainerOverItsBase() async throws {
        let t = TempDirectory("image-commit-errors")
        let rootPath = t.at("root")
        let root = try StateRoot(path: rootPath)
        let s = try root.snapshotter("native")
        _ = try s.prepare("a", parent: nil, labels: [:])
        try s.commit("base", key: "a", labels: [:])
        _ = try s.prepare("over-base", parent: "base", labels: [:])
        let noImage = try await Tool.strata([
            "--root", rootPath, "image", "commit", "over-base", "x", "--snapshotter", "native",
        ])
        #expect(!noImage.succeeded && noImage.stderr.contains("name the base with --from"), "\(noImage.stderr)")
        let committedKey = try await Tool.strata([
            "--root", rootPath, "image", "commit", "base", "x", "--snapshotter", "native",
        ])
        #expect(!committedKey.succeeded && committedKey.stderr.contains("is not active"), "\(committedKey.stderr)")
        #expect(try root.content.images().isEmpty)
    }
}
