import Foundation
import StrataArchive
import StrataChanges
import StrataFS
import StrataLayers
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// `strata snapshot diff` (CreateDiff) on both backends: the layer of a snapshot's changes,
/// applied onto its parent's tree, gives the snapshot's merged view, and holds only real changes:
/// the copy-ups (overlay) or touches (native) that changed nothing are left out.
@Suite(.serialized) struct SnapshotDiffTests {
    typealias Support = SnapshotterConformanceTests

    /// A capability set (`cap_net_bind_service+p`) in the kernel's v2 xattr format.
    static let capability = "0000000200040000000000000000000000000000"

    /// The parent's tree: one entry per edge case, named after it.
    static let base = """
        set -e
        for f in noop-open noop-chmod noop-rewrite inplace recreate owner mtime cap file2dir file2link; do
          echo "content of $f" > $f
        done
        chmod 640 noop-chmod
        mkdir dir-renamed refill opaque dir2file
        echo a > dir-renamed/a; echo b > refill/b; echo c > refill/c; echo o > opaque/o; echo d > dir2file/d
        echo linked > linked; ln linked linked-old
        echo pair > pair-a; ln pair-a pair-b
        dd if=/dev/urandom of=big bs=1M count=2 status=none
        touch -d '2020-02-02 02:02:02' big
        """

    /// What a container does: every edge case of the issue, and the changes that must show.
    static let mutate = """
        set -e
        exec 3>>noop-open; exec 3>&-
        chmod 640 noop-chmod
        cp -p noop-rewrite .ref; cat .ref > noop-rewrite; touch -r .ref noop-rewrite; rm .ref
        cp -p inplace .ref; printf 'CONTENT' | dd of=inplace conv=notrunc status=none; touch -r .ref inplace; rm .ref
        cp -p recreate .ref; rm recreate; cp -p .ref recreate; rm .ref
        mv dir-renamed dir-moved
        rm refill/*; echo new > refill/new
        rm -rf opaque; mkdir opaque; echo new > opaque/new
        rm file2dir; mkdir file2dir; rm -r dir2file; echo now-a-file > dir2file; rm file2link; ln -s big file2link
        chown 1000:1000 owner
        touch -d '2001-01-01 00:00:00.5' mtime
        python3 -c "import os; os.setxattr('cap', 'security.capability', bytes.fromhex('\(capability)'))"
        ln linked linked2
        chmod 644 pair-a
        """

    @Test(arguments: LocalSnapshotter.backends)
    func layerAppliedOnParentGivesTheMergedViewWithOnlyRealChanges(_ backend: String) async throws {
        guard TestEnvironment.requirementsMet(tools: ["python3", "dd"], fail: { Issue.record(Comment(rawValue: $0)) }),
            let (t, root, s) = try Support.openRoot(backend)
        else { return }
        defer { withExtendedLifetime(t) {} }  // the state root lives in it
        _ = try s.prepare("base", parent: nil, labels: [:])
        try await mounted(s, "base", t) { try await Tool.check("sh", ["-c", Self.base], in: $0) }
        try s.commit("image", key: "base", labels: [:])
        _ = try s.prepare("container", parent: "image", labels: [:])
        // The merged view, copied whole (hardlinks too) while mounted.
        let merged = t.directory("merged")
        try await mounted(s, "container", t) { dir in
            try await Tool.check("sh", ["-c", Self.mutate], in: dir)
            var copy = TreeCopy()
            try copy.copy(from: Handle.openDirectory(path: dir), to: Handle.openDirectory(path: merged))
        }

        var differ = SnapshotDiffer(
            root: root, snapshotter: s, options: DiffOptions(compression: .none, nanosecondTimes: true))
        let (layer, method) = try differ.diff("container")
        #expect(method == (backend == "overlay" ? .overlayUpper : .evidence))
        let names = try Self.entryNames(root, layer)
        for noop in ["noop-open", "noop-chmod", "noop-rewrite", "recreate", "big"] {
            #expect(!names.contains(noop), "\(backend): \(noop) changed nothing but is in the layer")
        }
        for changed in [
            "inplace", "dir-moved/", "dir-moved/a", ".wh.dir-renamed", "refill/new", "opaque/new", "file2dir/",
            "dir2file", "file2link", "owner", "mtime", "cap", "linked", "linked2",
        ] {
            #expect(names.contains(changed), "\(backend): \(changed) is missing from the layer \(names)")
        }
        if backend == "overlay" {
            #expect(names.contains("opaque/.wh..wh..opq") && !names.contains("opaque/.wh.o"))
            // The copy-up separated pair-a from pair-b: unchanged bytes, but a change all the same.
            #expect(names.contains("pair-a") && !names.contains("pair-b"))
        }

        // The layer on a copy of the image is the container's merged view.
        let applied = t.directory("applied")
        try s.withTree("image") { image in
            var copy = TreeCopy()
            try copy.copy(from: image!, to: Handle.openDirectory(path: applied))
        }
        _ = try Applier().apply(HandleSource(root.content.open(layer.digest)), to: Handle.openDirectory(path: applied))
        let difference = try TreeVerifier(times: .nanoseconds, xattrs: .capability, owners: true)
            .firstDifference(Handle.openDirectory(path: applied), Handle.openDirectory(path: merged))
        #expect(difference == nil, "\(backend): the applied layer differs from the merged view: \(difference ?? "")")
        // Stored with its diffID and collectable (no lease).
        #expect(try root.content.info(layer.digest).labels[Annotations.uncompressed] == layer.digest.description)
        differ.labels = ["containerd.io/gc.root": "yes"]
        #expect(try differ.diff("container").0 == layer)  // the same bytes again: kept, relabelled
        #expect(try root.content.info(layer.digest).labels["containerd.io/gc.root"] == "yes")
    }

    @Test(arguments: LocalSnapshotter.backends)
    func diffAgainstAnotherSnapshotWalksBothTrees(_ backend: String) async throws {
        guard let (t, root, s) = try Support.openRoot(backend) else { return }
        defer { withExtendedLifetime(t) {} }
        _ = try s.prepare("a", parent: nil, labels: [:])
        try await mounted(s, "a", t) { try await Tool.check("sh", ["-c", "echo 1 > one; echo 2 > two"], in: $0) }
        try s.commit("A", key: "a", labels: [:])
        _ = try s.prepare("b", parent: "A", labels: [:])
        try await mounted(s, "b", t) { try await Tool.check("sh", ["-c", "echo 3 > three; rm one"], in: $0) }
        try s.commit("B", key: "b", labels: [:])
        _ = try s.prepare("c", parent: "B", labels: [:])
        try await mounted(s, "c", t) { try await Tool.check("sh", ["-c", "echo 4 > four; rm two"], in: $0) }
        let differ = SnapshotDiffer(root: root, snapshotter: s, options: DiffOptions(compression: .none))
        let (own, _) = try differ.diff("c")
        #expect(try Self.entryNames(root, own) == ["four", ".wh.two"].sorted())
        let (whole, method) = try differ.diff("c", against: .snapshot("A"))
        #expect(method == .trees)
        #expect(try Self.entryNames(root, whole) == [".wh.one", ".wh.two", "four", "three"].sorted())
        let (ownB, _) = try differ.diff("B", against: .parent)
        #expect(try Self.entryNames(root, ownB) == [".wh.one", "three"].sorted())
        let (fromScratch, _) = try differ.diff("B", against: .scratch)
        #expect(try Self.entryNames(root, fromScratch) == ["three", "two"])
    }

    @Test func cliStoresTheLayerAndWritesTheFile() async throws {
        guard let (t, _, s) = try Support.openRoot("native") else { return }
        defer { withExtendedLifetime(t) {} }
        _ = try s.prepare("k", parent: nil, labels: [:])
        try await mounted(s, "k", t) { try await Tool.check("sh", ["-c", "echo hi > hello"], in: $0) }
        let r = try await Tool.strata([
            "--root", t.at("root"), "snapshot", "diff", "--snapshotter", "native", "k", "-o", t.at("layer.tgz"),
            "--json",
        ])
        #expect(r.succeeded, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let digest = try #require(object?["digest"] as? String)
        #expect(
            Digest.sha256(Array(try Data(contentsOf: URL(fileURLWithPath: t.at("layer.tgz"))))).description == digest)
        let info = try await Tool.strata(["--root", t.at("root"), "content", "info", digest])
        #expect(info.succeeded && info.stdout.contains("containerd.io/uncompressed"))
        let committed = try await Tool.strata([
            "--root", t.at("root"), "snapshot", "commit", "--snapshotter", "native", "--json", "K", "k",
        ])
        #expect(committed.stdout.contains("\"kind\":\"Committed\""), "\(committed.stdout) \(committed.stderr)")
        let removed = try await Tool.strata([
            "--root", t.at("root"), "snapshot", "rm", "--snapshotter", "native", "--json", "K",
        ])
        #expect(removed.stdout == "{\"removed\":[\"K\"]}\n")
        let missing = try await Tool.strata(["--root", t.at("root"), "snapshot", "diff", "nope", "-o", t.at("x")])
        #expect(!missing.succeeded && missing.stderr.contains("nope"))
        #expect(!FileManager.default.fileExists(atPath: t.at("x")))
    }

    // MARK: Helpers

    @discardableResult
    func mounted<R>(_ s: LocalSnapshotter, _ key: String, _ t: TempDirectory, _ body: (String) async throws -> R)
        async throws -> R
    {
        let target = t.directory("mnt-\(key)")
        try Mounter.mount(try s.mounts(key), at: target)
        do {
            let r = try await body(target)
            try Mounter.unmount(target)
            return r
        } catch {
            try? Mounter.unmount(target, detach: true)
            throw error
        }
    }

    /// The entry names of a stored uncompressed layer, sorted.
    static func entryNames(_ root: StateRoot, _ layer: Descriptor) throws -> [String] {
        try tarEntryNames(HandleSource(try root.content.open(layer.digest)))
    }
}
