import StrataFS
import StrataLayers
import StrataStreams
import StrataTestSupport
import Testing

/// `MountsDiffer`: the overlay upper directory alone when the mounts prove it holds the changes,
/// both trees otherwise. Bind mounts are opened in place, so none of these mount anything.
@Suite struct MountsDifferTests {
    /// A layer `l1` under an upper directory `u` that adds one file and changes another.
    func layers() throws -> TempDirectory {
        let t = TempDirectory("mounts-differ")
        let l1 = try TreeBuilder(creating: t.at("l1"))
        try l1.directory("etc")
        try l1.file("etc/keep", "base")
        try l1.file("etc/same", "same")
        try l1.setAllTimes(fixedTime)
        let u = try TreeBuilder(creating: t.at("u"))
        try u.directory("etc")
        try u.file("etc/keep", "changed")
        try u.file("new", "new")
        try u.setAllTimes(fixedTime)
        _ = t.directory("scratch")
        return t
    }

    func differ(_ t: TempDirectory) throws -> MountsDiffer {
        MountsDiffer(trees: MountedTrees(scratch: try t.handle("scratch"), scratchPath: t.at("scratch")))
    }

    func names(_ source: ChangeSource) throws -> [String] {
        let sink = MemorySink()
        _ = try Differ(options: DiffOptions(compression: .none)).write(source, to: sink)
        return try listEntries(sink.bytes).map(\.name)
    }

    @Test func anActiveOverlaySnapshotOverItsParentsViewReadsItsUpperDirectory() throws {
        let t = try layers()
        let upper = [
            Mount(
                type: "overlay", source: "overlay",
                options: ["index=off", "upperdir=\(t.at("u"))", "lowerdir=\(t.at("l1"))"])
        ]
        let outcome = try differ(t).diff(upper: upper, over: MountsDiffer.mounts(ofLayers: [t.at("l1")]), names)
        #expect(outcome.method == .overlayUpper)
        #expect(outcome.upperDirectory == t.at("u"))
        #expect(outcome.result == ["etc/", "etc/keep", "new"])
    }

    @Test func mountsThatProveNothingAreWalkedAsTrees() throws {
        let t = try layers()
        // A bind mount of the upper directory is just a tree: every entry of it is compared.
        let upper = [Mount(type: "bind", source: t.at("u"), options: ["ro", "rbind"])]
        let outcome = try differ(t).diff(upper: upper, over: MountsDiffer.mounts(ofLayers: [t.at("l1")]), names)
        #expect(outcome.method == .trees)
        #expect(outcome.fallback == nil)
        // Over l1, the tree u lacks etc/same: a delete.
        #expect(outcome.result == ["etc/", "etc/keep", "etc/.wh.same", "new"])
    }

    @Test func anEmptyLowerIsTheEmptyTree() throws {
        let t = try layers()
        let upper = [Mount(type: "bind", source: t.at("l1"), options: ["rw", "rbind"])]
        let outcome = try differ(t).diff(upper: upper, over: [], names)
        #expect(outcome.method == .trees)
        #expect(outcome.result == ["etc/", "etc/keep", "etc/same"])
    }

    @Test func theLayersOfAParentAreABindOfOneOrAReadOnlyOverlayOfMany() {
        #expect(MountsDiffer.mounts(ofLayers: ["/a"]) == [Mount(type: "bind", source: "/a", options: ["ro", "rbind"])])
        let many = MountsDiffer.mounts(ofLayers: ["/b", "/a"])
        #expect(many.count == 1 && many[0].type == "overlay")
        #expect(many[0].options.contains("lowerdir=/b:/a") && many[0].options.contains("ro"))
        #expect(!many[0].options.contains { $0.hasPrefix("upperdir=") })
    }

    /// A directory renamed under `redirect_dir=on` leaves a redirect the upper directory alone
    /// cannot be read by: the upper is mounted read-only over its lowers (never with its work
    /// directory) and both trees are walked.
    @Test func anUpperDirectoryWithARedirectIsWalkedAsTrees() throws {
        guard
            TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) }),
            TestEnvironment.backendAvailable("overlay")
        else { return }
        let t = TempDirectory("mounts-differ-redirect")
        let l1 = try TreeBuilder(creating: t.at("l1"))
        try l1.directory("a")
        try l1.file("a/f", "f")
        try l1.setAllTimes(fixedTime)
        let u = try TreeBuilder(creating: t.at("u"))
        // What `mv /a /b` leaves with redirect_dir=on: b redirected to a, a whited out.
        try u.directory("b")
        try u.setXattr("b", "trusted.overlay.redirect", Array("/a".utf8))
        try u.node("a", type: .characterDevice, mode: 0o000)
        _ = t.directory("scratch")
        _ = t.directory("work")
        let upper = [
            Mount(
                type: "overlay", source: "overlay",
                options: ["workdir=\(t.at("work"))", "upperdir=\(t.at("u"))", "lowerdir=\(t.at("l1"))"])
        ]
        let outcome = try differ(t).diff(upper: upper, over: MountsDiffer.mounts(ofLayers: [t.at("l1")]), names)
        #expect(outcome.method == .trees)
        #expect(outcome.fallback?.contains("redirect") == true, "\(outcome.fallback ?? "no fallback")")
        #expect(outcome.result == [".wh.a", "b/", "b/f"])
        // Nothing was mounted over the work directory.
        #expect(try Handle.openDirectory(path: t.at("work")).sortedNames().isEmpty)
    }
}
