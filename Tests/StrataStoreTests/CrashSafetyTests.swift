import Foundation
import StrataContent
import StrataFS
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// Crash safety: `STRATA_FAULT` kills strata (SIGKILL) at each durable step of ingest, unpack,
/// commit and remove, and random SIGKILLs interrupt unpacks; after `gc` the stores are
/// consistent (every blob matches its digest, every snapshot directory has a record and every
/// record a directory, no ingest, temporary lease or leftover remains), and running the command
/// again gives exactly the image's root filesystem, so no half-applied snapshot was committed.
@Suite(.serialized) struct CrashSafetyTests {
    static let unpackPoints = [
        "ingest.synced", "ingest.renamed", "ingest.recorded", "atomic.synced", "snapshot.populated",
        "snapshot.renamed", "unpack.applied", "snapshot.committed",
    ]
    static let layers = [
        "mkdir -p etc lib; echo one > etc/a; for i in $(seq 1 50); do echo $i > lib/f$i; done",
        "rm etc/a; echo two > etc/b; rm -r lib; mkdir lib; echo new > lib/g",
    ]

    static func requirements() -> Bool {
        TestEnvironment.requirementsMet(tools: ["umoci", "env", "sh", "sleep"], root: true) {
            Issue.record(Comment(rawValue: $0))
        }
    }

    static var backend: String { TestEnvironment.hasOverlay ? "overlay" : "native" }

    static func strata(_ root: String, _ args: [String], fault: String? = nil) async throws -> ToolResult {
        try await Tool.run(
            "env",
            (fault.map { ["STRATA_FAULT=\($0)"] } ?? []) + [TestEnvironment.strataExecutable, "--root", root] + args)
    }

    @Test(arguments: unpackPoints)
    func unpackKilledAtEachDurableStep(_ point: String) async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("crash-\(point)")
        defer { withExtendedLifetime(t) {} }
        let image = try await UmociImage.build(in: t, layers: Self.layers)
        let root = t.at("root")
        let args = ["image", "unpack", "--snapshotter", Self.backend, image.layout, "v1"]
        let killed = try await Self.strata(root, args, fault: point)
        #expect(killed.status == 128 + 9, "\(point): \(killed.status) \(killed.stderr)")
        try await Self.checkConsistent(root)
        let again = try await Self.strata(root, args)
        #expect(again.succeeded, "\(point): \(again.stderr)")
        try await Self.checkUnpacked(t, image)
    }

    @Test(arguments: ["snapshot.committed", "snapshot.unrecorded", "snapshot.remove-renamed"])
    func commitAndRemoveKilledAtEachDurableStep(_ point: String) async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("crash-\(point)")
        defer { withExtendedLifetime(t) {} }
        let root = t.at("root")
        let b = ["--snapshotter", Self.backend]
        #expect(try await Self.strata(root, ["snapshot", "prepare"] + b + ["a"]).succeeded)
        let step =
            point == "snapshot.committed" ? ["snapshot", "commit"] + b + ["A", "a"] : ["snapshot", "rm"] + b + ["a"]
        let killed = try await Self.strata(root, step, fault: point)
        #expect(killed.status == 128 + 9, "\(point): \(killed.stderr)")
        try await Self.checkConsistent(root)
        let ls = try await Self.strata(root, ["snapshot", "ls"] + b)
        // The step's transaction had committed before each point: it took effect, whole.
        #expect(ls.stdout.contains(point == "snapshot.committed" ? "A" : "KEY") && !ls.stdout.contains("\ta\t"))
    }

    @Test func randomKillsDuringUnpack() async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("crash-random")
        defer { withExtendedLifetime(t) {} }
        let many =
            "mkdir d; for i in $(seq 1 1500); do echo $i > d/$i; done; dd if=/dev/urandom of=big bs=1M count=8 status=none"
        let image = try await UmociImage.build(in: t, layers: [many] + Self.layers)
        let root = t.at("root")
        var g = SeededGenerator(seed: 7)
        let command = [
            TestEnvironment.strataExecutable, "--root", root, "image", "unpack", "--snapshotter", Self.backend,
            image.layout, "v1",
        ]
        for _ in 0..<6 {
            let delay = String(format: "%.3f", Double(UInt64.random(in: 0...400, using: &g)) / 1000)
            let script = "\"$@\" >/dev/null 2>&1 & pid=$!; sleep \(delay); kill -9 $pid 2>/dev/null; wait $pid; true"
            try await Tool.check("sh", ["-c", script, "sh"] + command)
            try await Self.checkConsistent(root)
        }
        #expect(try await Self.strata(root, Array(command.dropFirst(3))).succeeded)
        try await Self.checkUnpacked(t, image)
    }

    // MARK: Checks

    /// Runs gc, then checks every store against its own records.
    static func checkConsistent(_ root: String) async throws {
        let gc = try await strata(root, ["gc", "--json", "--wait", "5"])
        #expect(gc.succeeded, "gc: \(gc.stderr)")
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: root + "/content/blobs/sha256") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: root + "/content/blobs/sha256/" + name))
            #expect(Digest.sha256(Array(bytes)).encoded == name, "blob \(name) does not match its digest")
        }
        #expect(try fm.contentsOfDirectory(atPath: root + "/content").filter { $0.hasPrefix(".") }.isEmpty)
        #expect(try fm.contentsOfDirectory(atPath: root + "/ingest").isEmpty, "an ingest outlived gc")
        let ls = try await strata(root, ["snapshot", "ls", "--json", "--snapshotter", backend])
        let keys = ls.stdout.split(separator: "\n").count
        #expect(!ls.stdout.contains("extract-"), "an unpack's Active snapshot outlived gc")
        let dirs = (try? fm.contentsOfDirectory(atPath: root + "/snapshots/" + backend)) ?? []
        #expect(
            dirs.allSatisfy { Int64($0) != nil } && dirs.count == keys,
            "snapshot directories \(dirs) for \(keys) records")
        let leases = try await strata(root, ["lease", "ls", "--json"])
        #expect(leases.stdout.isEmpty, "a lease outlived its process: \(leases.stdout)")
    }

    /// The unpacked chain's top, viewed, is umoci's unpack of the image.
    static func checkUnpacked(_ t: TempDirectory, _ image: UmociImage) async throws {
        let reference = try DirectorySnapshot.take(try await image.unpackByUmoci(t), directoryTimes: false)
        let root = try StateRoot(path: t.at("root"))
        let s = try root.snapshotter(backend)
        let top = try root.content.image("v1")
        let (_, manifest) = try ImageGraph(content: root.content).manifest(of: top.target)
        #expect(try s.list().count == manifest.layers.count)
        let chain = try #require(try s.list().first { info in try s.list().allSatisfy { $0.parent != info.name } })
        _ = try s.view("check", parent: chain.name, labels: [:])
        let view = t.directory("view")
        try Mounter.mount(try s.mounts("check"), at: view)
        defer { try? Mounter.unmount(view, detach: true) }
        #expect(try DirectorySnapshot.take(view, directoryTimes: false) == reference)
    }
}
