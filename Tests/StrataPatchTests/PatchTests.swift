import Foundation
import StrataChanges
import StrataFS
import StrataLayers
import StrataPatch
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `strata patch`: deltas rebuild every kind of edit, a patch applied to a copy of its base gives
/// its target over generated trees, a wrong base is refused untouched, and an apply killed at
/// each journal step or at random is finished or undone by `patch recover`.
@Suite(.serialized) struct PatchTests {
    /// The edits of a large file the deltas must find.
    enum Edit: String, CaseIterable {
        case inPlace = "in-place"
        case appended
        case truncated
        case inserted
        case cut

        func apply(_ b: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
            var t = b
            switch self {
            case .inPlace:
                for _ in 0..<5 {
                    let at = Int.random(in: 0..<(b.count - 100), using: &g)
                    t.replaceSubrange(at..<(at + 100), with: g.bytes(100))
                }
            case .appended: t += g.bytes(70_000)
            case .truncated: t = Array(b.prefix(b.count / 3))
            case .inserted: t.insert(contentsOf: g.bytes(12_345), at: b.count / 2)
            case .cut: t = Array(b[..<(b.count / 4)] + b[(b.count / 2)...])
            }
            return t
        }
    }

    @Test func deltasRebuildEveryEditAndStaySmall() throws {
        var g = SeededGenerator(seed: 3)
        let base = g.bytes(3 << 20)
        for edit in Edit.allCases {
            let name = edit.rawValue
            let target = edit.apply(base, &g)
            let ops = base.withUnsafeBytes { b in target.withUnsafeBytes { Delta.encode(base: b, target: $0) } }
            var rebuilt: [UInt8] = []
            try base.withUnsafeBytes { b in try Delta.decode(ops, base: b) { rebuilt.append(contentsOf: $0) } }
            #expect(rebuilt == target, "\(name): the delta does not rebuild the target")
            #expect(ops.count < 100_000, "\(name): \(ops.count) bytes of delta for a small edit")
        }
    }

    /// A base tree with large files, and a target: random changes of every kind plus each edit.
    static func trees(_ t: TempDirectory, seed: UInt64) throws -> (base: String, target: String) {
        var gen = TreeGenerator(seed: seed)
        var g = SeededGenerator(seed: seed)
        let base = try TreeBuilder(creating: t.at("base"))
        try gen.populate(base, count: 60)
        var large: [String: [UInt8]] = [:]
        for edit in Edit.allCases {
            large[edit.rawValue] = g.bytes(Int.random(in: (1 << 20)...(3 << 20), using: &g))
            try base.file("large-\(edit.rawValue)", large[edit.rawValue]!)
        }
        var copy = TreeCopy()
        try copy.copy(from: base.root, to: Handle.openDirectory(path: t.directory("target")))
        let target = TreeBuilder(root: try Handle.openDirectory(path: t.at("target")))
        try gen.mutate(target, count: 25)
        for edit in Edit.allCases {
            try target.file("large-\(edit.rawValue)", edit.apply(large[edit.rawValue]!, &g))
            try target.setTime("large-\(edit.rawValue)", FileTime(seconds: 1_700_000_000))
        }
        return (t.at("base"), t.at("target"))
    }

    static func copyOf(_ path: String, _ t: TempDirectory, as name: String) throws -> String {
        var copy = TreeCopy()
        try copy.copy(from: Handle.openDirectory(path: path), to: Handle.openDirectory(path: t.directory(name)))
        return t.at(name)
    }

    static func difference(_ a: String, _ b: String) throws -> String? {
        try TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true).firstDifference(
            Handle.openDirectory(path: a), Handle.openDirectory(path: b))
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func applyToACopyOfTheBaseGivesTheTarget(_ seed: UInt64) throws {
        let t = TempDirectory("patch-\(seed)")
        let (base, target) = try Self.trees(t, seed: seed)
        let summary = try AtomicFile.write(to: t.at("p.patch")) {
            try PatchCreator().create(
                base: Handle.openDirectory(path: base), target: Handle.openDirectory(path: target), to: $0)
        }
        #expect(summary.deltas >= Edit.allCases.count - 1, "\(summary)")  // a truncation may go whole
        #expect(summary.size < summary.wholeBytes, "\(summary)")
        let root = try Self.copyOf(base, t, as: "root")
        try PatchApplier(root: root).apply(PatchReader(path: t.at("p.patch")))
        let diff = try Self.difference(root, target)
        #expect(diff == nil, "seed \(seed): \(diff ?? "")")
        #expect(!FileManager.default.fileExists(atPath: t.at(".strata-patch-root")))
    }

    /// Large files edited in place, appended, truncated, with bytes inserted or cut: the patch is
    /// at most a tenth of the changed files whole (what a layer carries).
    @Test func largeEditsCostATenthOfTheWholeFiles() throws {
        let t = TempDirectory("patch-large")
        var g = SeededGenerator(seed: 21)
        let base = try TreeBuilder(creating: t.at("base"))
        let target = try TreeBuilder(creating: t.at("target"))
        for edit in Edit.allCases where edit != .truncated {
            let bytes = g.bytes(4 << 20)
            try base.file(edit.rawValue, bytes)
            try target.file(edit.rawValue, edit.apply(bytes, &g))
            // Written within one clock tick, an in-place edit would keep size and mtime, which the
            // comparer (as containerd's, and rsync's quick check) takes as unchanged.
            try target.setTime(edit.rawValue, FileTime(seconds: 1_700_000_000))
        }
        let summary = try AtomicFile.write(to: t.at("p.patch")) {
            try PatchCreator().create(base: base.root, target: target.root, to: $0)
        }
        #expect(summary.deltas == 4, "\(summary)")
        #expect(summary.size * 10 < summary.wholeBytes, "\(summary)")
    }

    /// A container's active snapshot against its image's: `snapshot:KEY` on both sides.
    @Test func snapshotsPatchLikeDirectories() async throws {
        guard TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) }) else { return }
        let t = TempDirectory("patch-snapshots")
        let root = try StateRoot(path: t.at("state"))
        let s = try root.snapshotter()
        var gen = TreeGenerator(seed: 31)
        _ = try s.prepare("image-a", parent: nil, labels: [:])
        try s.withTree("image-a") { try gen.populate(TreeBuilder(root: $0!), count: 60) }
        try s.commit("image", key: "image-a", labels: [:])
        _ = try s.prepare("ctr", parent: "image", labels: [:])
        let mnt = t.directory("ctr")
        try Mounter.mount(try s.mounts("ctr"), at: mnt)
        do {
            try gen.mutate(TreeBuilder(root: Handle.openDirectory(path: mnt)), count: 25)
            try Mounter.unmount(mnt)
        } catch {
            try? Mounter.unmount(mnt, detach: true)
            throw error
        }
        let base = t.directory("base")
        try s.withTree("image") { image in
            var copy = TreeCopy()
            try copy.copy(from: image!, to: Handle.openDirectory(path: base))
        }
        let made = try await Tool.strata([
            "patch", "create", "--root", t.at("state"), "snapshot:image", "snapshot:ctr", "-o", t.at("p.patch"),
        ])
        #expect(made.succeeded, "\(made.stderr)")
        let copy = try Self.copyOf(base, t, as: "root")
        try PatchApplier(root: copy).apply(PatchReader(path: t.at("p.patch")))
        let diff = try s.withTree("ctr") { ctr in
            try TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true).firstDifference(
                Handle.openDirectory(path: copy), ctr!)
        }
        #expect(diff == nil, "\(diff ?? "")")
    }

    /// ROOT a bind mount of a directory on its parent's filesystem: same device, another mount,
    /// so no rename crosses from beside it; the staging goes inside.
    @Test func applyIntoABindMountStagesInsideIt() throws {
        guard TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) }) else { return }
        let t = TempDirectory("patch-bind")
        let (base, target) = try Self.trees(t, seed: 41)
        _ = try AtomicFile.write(to: t.at("p.patch")) {
            try PatchCreator().create(
                base: Handle.openDirectory(path: base), target: Handle.openDirectory(path: target), to: $0)
        }
        let source = try Self.copyOf(base, t, as: "source")
        let root = t.directory("root")
        try Mounter.mount([Mount(type: "bind", source: source, options: ["rbind", "rw"])], at: root)
        defer { try? Mounter.unmount(root, detach: true) }
        try PatchApplier(root: root).apply(PatchReader(path: t.at("p.patch")))
        let diff = try Self.difference(root, target)
        #expect(diff == nil, "\(diff ?? "")")
    }

    @Test func aWrongBaseIsRefusedNamingThePathAndNothingChanges() async throws {
        let t = TempDirectory("patch-wrong")
        let (base, target) = try Self.trees(t, seed: 5)
        let made = try await Tool.strata(["patch", "create", base, target, "-o", t.at("p.patch"), "--json"])
        #expect(made.succeeded, "\(made.stderr)")
        let root = try Self.copyOf(base, t, as: "root")
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: root + "/large-inserted")))
        bytes[10] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/large-inserted"))
        let before = try Self.copyOf(root, t, as: "before")
        let r = try await Tool.strata(["patch", "apply", t.at("p.patch"), root])
        #expect(
            !r.succeeded && r.stderr.contains("/large-inserted") && r.stderr.contains("not the patch's base"),
            "\(r.stderr)")
        #expect(try Self.difference(root, before) == nil)
        // Applied the other way round (the target as base), it is refused too.
        let wrongWay = try await Tool.strata(["patch", "apply", t.at("p.patch"), target])
        #expect(!wrongWay.succeeded)
    }

    static func strata(_ args: [String], fault: String? = nil) async throws -> ToolResult {
        try await Tool.run(
            "env", (fault.map { ["STRATA_FAULT=\($0)"] } ?? []) + [TestEnvironment.strataExecutable] + args)
    }

    @Test func applyKilledAtEachJournalStepRecoversToBaseOrTarget() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["env", "sh", "sleep"], fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("patch-crash")
        let (base, target) = try Self.trees(t, seed: 11)
        let made = try await Tool.strata(["patch", "create", base, target, "-o", t.at("p.patch"), "--json"])
        #expect(made.succeeded, "\(made.stderr)")
        let steps = try PatchReader(path: t.at("p.patch")).manifest.operations.count
        let points =
            ["patch.staged", "patch.journaled", "patch.committed"]
            + [1, 2, steps / 2, steps].map { "patch.step#\($0)" }
        for (n, point) in points.enumerated() {
            let root = try Self.copyOf(base, t, as: "root-\(n)")
            let killed = try await Self.strata(["patch", "apply", t.at("p.patch"), root], fault: point)
            #expect(killed.status == 128 + 9, "\(point): \(killed.status) \(killed.stderr)")
            let recovered = try await Tool.strata(["patch", "recover", root, "--json"])
            #expect(recovered.succeeded, "\(recovered.stderr)")
            let expected = point == "patch.staged" ? base : target
            #expect(recovered.stdout.contains(point == "patch.staged" ? "rolled-back" : "rolled-forward"))
            let diff = try Self.difference(root, expected)
            #expect(diff == nil, "\(point): \(diff ?? "")")
        }
        // Random SIGKILLs: whatever the moment, after recovery ROOT is the base or the target.
        var g = SeededGenerator(seed: 13)
        for n in 0..<6 {
            let root = try Self.copyOf(base, t, as: "random-\(n)")
            let delay = String(format: "%.3f", Double(UInt64.random(in: 0...150, using: &g)) / 1000)
            let script = "\"$@\" >/dev/null 2>&1 & pid=$!; sleep \(delay); kill -9 $pid 2>/dev/null; wait $pid; true"
            try await Tool.check(
                "sh", ["-c", script, "sh", TestEnvironment.strataExecutable, "patch", "apply", t.at("p.patch"), root])
            #expect(try await Tool.strata(["patch", "recover", root]).succeeded)
            let toBase = try Self.difference(root, base)
            let toTarget = try Self.difference(root, target)
            #expect(
                toBase == nil || toTarget == nil,
                "random kill \(n): neither base (\(toBase ?? "")) nor target (\(toTarget ?? ""))")
        }
    }
}

/// `patch create --block`: disk images rebuilt byte for byte, as sparse as the target.
@Suite struct ImagePatchTests {
    @Test(arguments: [Int64(96 << 20), 40 << 20])
    func blockPatchRebuildsTheImageByteForByteAndKeepsItsHoles(_ targetSize: Int64) async throws {
        let t = TempDirectory("image")
        var g = SeededGenerator(seed: UInt64(targetSize))
        let base = try Handle.openFile(path: t.at("base.img"), flags: O_RDWR | O_CREAT, mode: 0o644)
        try base.truncate(to: 64 << 20)
        for mb in [3, 10, 11, 40, 41, 63] {
            try g.bytes(1 << 20).withUnsafeBytes { try base.write($0, at: Int64(mb) << 20) }
        }
        try await Tool.check("cp", ["--sparse=always", t.at("base.img"), t.at("target.img")])
        let target = try Handle.openFile(path: t.at("target.img"), flags: O_RDWR)
        for _ in 0..<20 {
            let block = Int64.random(in: 0..<(16 << 8), using: &g) * 4096
            try g.bytes(4096).withUnsafeBytes { try target.write($0, at: block) }
        }
        try target.punchHole(at: 40 << 20, length: 1 << 20)
        try target.truncate(to: targetSize)
        if targetSize > 64 << 20 { try g.bytes(4096).withUnsafeBytes { try target.write($0, at: 90 << 20) } }
        let made = try await Tool.strata([
            "patch", "create", "--block", t.at("base.img"), t.at("target.img"), "-o", t.at("i.patch"), "--json",
        ])
        #expect(made.succeeded, "\(made.stderr)")
        #expect(try Handle.openFile(path: t.at("i.patch")).stat().size < 200_000)
        try await Tool.check("cp", ["--sparse=always", t.at("base.img"), t.at("root.img")])
        let applied = try await Tool.strata(["patch", "apply", t.at("i.patch"), t.at("root.img")])
        #expect(applied.succeeded, "\(applied.stderr)")
        try await Tool.check("cmp", [t.at("root.img"), t.at("target.img")])
        let (rootMeta, targetMeta) = (try Handle.openFile(path: t.at("root.img")).stat(), try target.stat())
        #expect(rootMeta.allocatedBytes <= targetMeta.allocatedBytes + (1 << 20), "holes lost")
        // Killed before its rename, an apply leaves the image as it was and a copy that recover
        // removes.
        try await Tool.check("cp", ["--sparse=always", t.at("base.img"), t.at("killed.img")])
        let killed = try await Tool.run(
            "env",
            [
                "STRATA_FAULT=patch.image.staged", TestEnvironment.strataExecutable, "patch", "apply",
                t.at("i.patch"), t.at("killed.img"),
            ])
        #expect(killed.status == 128 + 9)
        try await Tool.check("cmp", [t.at("killed.img"), t.at("base.img")])
        let recovered = try await Tool.strata(["patch", "recover", t.at("killed.img")])
        #expect(recovered.stdout.contains("rolled-back"), "\(recovered.stdout) \(recovered.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path).filter { $0.hasPrefix(".killed") }.isEmpty)
        // Applied again, the image is no longer the base: refused, untouched.
        let again = try await Tool.strata(["patch", "apply", t.at("i.patch"), t.at("root.img")])
        #expect(!again.succeeded && again.stderr.contains("not the patch's base"))
        try await Tool.check("cmp", [t.at("root.img"), t.at("target.img")])
    }
}
