import StrataArchive
import StrataChanges
import StrataFS
import StrataLayers
import StrataStreams
import StrataTestSupport
import Testing

/// `--overlay-upper`: applying into an overlayfs upper directory, then mounting the overlay,
/// gives the same tree as applying onto a copy of the lower (containerd's `TestOverlayApply`).
@Suite(.serialized) struct OverlayApplyTests {
    func requirements() -> Bool {
        TestEnvironment.requirementsMet(tools: ["mount", "umount"], root: true) { Issue.record(Comment(rawValue: $0)) }
            && (TestEnvironment.hasOverlay
                || {
                    Issue.record("overlayfs is not available")
                    return false
                }())
    }

    func mountOverlay(_ t: TempDirectory, lowers: [String], upper: String) async throws -> String {
        let work = t.directory("work")
        let merged = t.directory("merged")
        try await Tool.check(
            "mount",
            [
                "-t", "overlay", "overlay", "-o",
                "lowerdir=\(lowers.joined(separator: ":")),upperdir=\(upper),workdir=\(work)", merged,
            ])
        return merged
    }

    @Test(arguments: 1...3 as ClosedRange<UInt64>)
    func overlayOfAppliedUpperEqualsUpper(_ seed: UInt64) async throws {
        guard requirements() else { return }
        let t = TempDirectory("overlay")
        var g = TreeGenerator(seed: seed)
        try g.populate(TreeBuilder(creating: t.at("upper")), count: 100)
        try g.mutate(TreeBuilder(root: t.handle("upper")), count: 50)
        var l = TreeGenerator(seed: seed)
        try l.populate(TreeBuilder(creating: t.at("lower")), count: 100)
        _ = try Differ(options: DiffOptions(compression: .gzip)).write(
            lower: t.at("lower"), upper: t.at("upper"), output: t.at("layer"))
        let diffDir = t.directory("diff")
        var options = ApplyOptions()
        options.overlayLowers = [try t.handle("lower")]
        _ = try Applier(options: options).apply(
            HandleSource(Handle.openFile(path: t.at("layer"))), to: Handle.openDirectory(path: diffDir))
        let merged = try await mountOverlay(t, lowers: [t.at("lower")], upper: diffDir)
        let difference: String?
        do {
            difference = try TreeVerifier(times: .seconds).firstDifference(
                Handle.openDirectory(path: merged), t.handle("upper"))
        } catch {
            try await Tool.check("umount", [merged])
            throw error
        }
        try await Tool.check("umount", [merged])
        #expect(difference == nil, "seed \(seed): \(difference ?? "")")
    }

    /// The names at the top, in `opq` and in `keep/sub`; every handle is closed on return so the
    /// overlay can be unmounted.
    static func listings(_ merged: String) throws -> ([String], [String], [String]) {
        let m = try Handle.openDirectory(path: merged)
        let names = try m.entries().map { PathName.display($0.name) }.sorted()
        let opq = try m.openDirectory(Array("opq".utf8)).entries().map { PathName.display($0.name) }
        let sub = try m.openDirectory(Array("keep".utf8)).openDirectory(Array("sub".utf8)).entries()
            .map { PathName.display($0.name) }.sorted()
        return (names, opq, sub)
    }

    /// Whiteouts become 0/0 character devices, opaque markers the opaque xattr, and a parent the
    /// layer does not carry copies its owner and mode from the lower.
    @Test func whiteoutsOpaqueAndCopiedParents() async throws {
        guard requirements() else { return }
        let t = TempDirectory("overlay-marks")
        let lower = try TreeBuilder(creating: t.at("lower"))
        try lower.directory("keep", mode: 0o750)
        try lower.directory("keep/sub", mode: 0o711)
        try lower.file("keep/sub/old", "old")
        try lower.file("gone", "x")
        try lower.directory("opq")
        try lower.file("opq/hidden", "h")
        let sink = MemorySink()
        let w = TarWriter(sink)
        let reg = TarHeader.Kind.regular.rawValue
        try w.writeHeader(TarHeader(name: Array(".wh.gone".utf8), typeflag: reg))
        try w.writeHeader(TarHeader(name: Array("opq/.wh..wh..opq".utf8), typeflag: reg))
        try w.writeHeader(TarHeader(name: Array("opq/new".utf8), typeflag: reg, mode: 0o644))
        try w.writeHeader(TarHeader(name: Array("keep/sub/added".utf8), typeflag: reg, mode: 0o600))
        try w.close()
        let upperDir = t.directory("diff")
        var options = ApplyOptions()
        options.overlayLowers = [try t.handle("lower")]
        _ = try Applier(options: options).apply(MemorySource(sink.bytes), to: Handle.openDirectory(path: upperDir))
        let up = try Handle.openDirectory(path: upperDir)
        let gone = try up.stat(Array("gone".utf8))
        #expect(gone.type == .characterDevice && gone.rdevMajor == 0 && gone.rdevMinor == 0)
        #expect(try up.xattr(Array("opq".utf8), key: "trusted.overlay.opaque") == Array("y".utf8))
        #expect(try up.stat(Array("keep".utf8)).permissions == 0o750)
        #expect(try up.openDirectory(Array("keep".utf8)).stat(Array("sub".utf8)).permissions == 0o711)
        let merged = try await mountOverlay(t, lowers: [t.at("lower")], upper: upperDir)
        let (names, opq, sub) = try Self.listings(merged)
        try await Tool.check("umount", [merged])
        #expect(names == ["keep", "opq"])
        #expect(opq == ["new"])
        #expect(sub == ["added", "old"])
    }
}
