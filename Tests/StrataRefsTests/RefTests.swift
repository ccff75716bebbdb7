import Foundation
import StrataArchive
import StrataChanges
import StrataFS
import StrataLayers
import StrataOCI
import StrataRefs
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `strata ref`: Merge and Diff of snapshots. The law `Merge(A, Diff(A, B)) == B` over random
/// chains of changes made through real mounts (so overlayfs itself writes the whiteouts and opaque
/// directories), the unmerge reusing blobs, a Diff alone equal to its layers applied to scratch,
/// and the one case where unmerge and a simple diff differ.
@Suite(.serialized) struct RefTests {
    /// A state root with a chain of random commits `c0`..`c4` (each `cN` over an `mN` of random
    /// changes) and a branch `X` off `c1`.
    struct Chains {
        let t: TempDirectory
        let root: StateRoot
        let s: LocalSnapshotter

        init?(_ backend: String, seed: UInt64) async throws {
            guard TestEnvironment.backendAvailable(backend),
                TestEnvironment.requirementsMet(root: true, fail: { Issue.record(Comment(rawValue: $0)) })
            else { return nil }
            t = TempDirectory("ref-\(backend)-\(seed)")
            root = try StateRoot(path: t.at("root"))
            s = try root.snapshotter(backend)
            var gen = TreeGenerator(seed: seed)
            try commit("c0", over: nil) { t in
                try gen.populate(t, count: 50)
                // What the renames work on, out of the generator's sight.
                try t.directory("keep")
                for i in 1...4 {
                    try t.file("keep/file\(i)", "file \(i)")
                    for d in ["dir", "opaque"] {
                        try t.directory("keep/\(d)\(i)")
                        try t.file("keep/\(d)\(i)/old", "old \(i)")
                    }
                }
            }
            var branch = gen
            for i in 1...4 {
                try commit("m\(i)", over: "c\(i - 1)") { try gen.mutate($0, count: 10) }
                try await renameAndReplace(over: "m\(i)", as: "c\(i)", step: i)
                if i == 1 { branch = gen }  // what the generator knows of c1
            }
            try commit("X", over: "c1") { try branch.mutate($0, count: 10) }
        }

        /// Commits `key` over `parent` after `body` changed it through its mount.
        func commit(_ key: String, over parent: String?, _ body: (TreeBuilder) throws -> Void) throws {
            _ = try s.prepare(key + "-active", parent: parent, labels: [:])
            let target = t.directory("mnt-\(key)")
            try Mounter.mount(try s.mounts(key + "-active"), at: target)
            do {
                try body(TreeBuilder(root: Handle.openDirectory(path: target)))
                try Mounter.unmount(target)
            } catch {
                try? Mounter.unmount(target, detach: true)
                throw error
            }
            try s.commit(key, key: key + "-active", labels: [:])
        }

        /// Commits `key` over `parent` with the changes `TreeGenerator` does not make: a file and a
        /// directory renamed with mv (which copies a directory where overlayfs without redirect_dir
        /// refuses the rename), and a directory emptied and refilled (opaque on overlay).
        func renameAndReplace(over parent: String, as key: String, step i: Int) async throws {
            _ = try s.prepare(key + "-active", parent: parent, labels: [:])
            let target = t.directory("mnt-\(key)")
            try Mounter.mount(try s.mounts(key + "-active"), at: target)
            let script = """
                set -e
                mv keep/file\(i) keep/file\(i)-renamed
                mv keep/dir\(i) keep/dir\(i)-moved
                rm -rf keep/opaque\(i); mkdir keep/opaque\(i); echo new > keep/opaque\(i)/refilled
                """
            try await Tool.check("sh", ["-c", script], in: target)
            try Mounter.unmount(target)
            try s.commit(key, key: key + "-active", labels: [:])
        }

        /// The first difference between two snapshots' trees, nil when equal.
        func difference(_ a: String, _ b: String, hardlinks: Bool = true) throws -> String? {
            var comparison = TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true)
            comparison.hardlinks = hardlinks
            return try s.withTree(a) { ta in try s.withTree(b) { tb in try comparison.firstDifference(ta!, tb!) } }
        }
    }

    @Test(arguments: LocalSnapshotter.backends)
    func mergeOfTheDiffIsTheUpperAndUnmergeWritesNoBlob(_ backend: String) async throws {
        for seed: UInt64 in 1...4 {
            guard let c = try await Chains(backend, seed: seed) else { return }
            defer { withExtendedLifetime(c.t) {} }
            var refs = RefBuilder(root: c.root, snapshotter: c.s)
            refs.options = Self.exact
            let blobs = try c.root.content.list().count

            // Ancestor: the upper's own layers, no blob written, and the law holds.
            let d = try refs.diff("d", lower: .snapshot("c2"), upper: .snapshot("c4"))
            #expect(d.diff == .unmerge && d.layers.map(\.snapshot) == ["m3", "c3", "m4", "c4"])
            let m = try refs.merge("m", [.snapshot("c2"), .named("d")])
            #expect(m.build == (backend == "overlay" ? .stacked : .hardlinks))
            let law = try c.difference(m.snapshot!, "c4")
            #expect(law == nil, "\(backend) seed \(seed): Merge(A, Diff(A, B)) != B")
            #expect(try c.root.content.list().count == blobs, "an unmerge wrote a blob")

            // Not an ancestor (X branches off c1): one new layer, and the law holds.
            let e = try refs.diff("e", lower: .snapshot("c3"), upper: .snapshot("X"))
            #expect(e.diff == .simple && e.layers.count == 1)
            let n = try refs.merge("n", [.snapshot("c3"), .named("e")])
            // A walking differ sees no change that only joins or splits a hardlink group of equal
            // files (overlayfs splits one when it copies up a member), so groups are not compared.
            let simpleLaw = try c.difference(n.snapshot!, "X", hardlinks: false)
            #expect(simpleLaw == nil, "\(backend) seed \(seed): simple Merge(A, Diff(A, B)) != B")
            // From scratch, and of scratch: the upper itself.
            let whole = try refs.diff("whole", lower: .scratch, upper: .snapshot("X"))
            let again = try refs.merge("again", [.scratch, .named("whole")])
            #expect(try c.difference(again.snapshot!, "X") == nil)
            #expect(whole.layers.count == 4)

            // A Diff alone is its layers applied to the empty tree; exported twice, diffed once.
            let layout = c.t.at("layout")
            var exporter = RefExporter(root: c.root, snapshotter: c.s)
            exporter.options = Self.exact
            let first = try exporter.export("d", to: layout, tag: "d")
            #expect(first.layersWritten == 4)
            let second = try exporter.export("d", to: layout, tag: "d")
            #expect(second.layersWritten == 0 && second.manifest == first.manifest)
            let scratch = c.t.directory("applied")
            for digest in try Self.layerDigests(layout, first.manifest) {
                _ = try Applier().apply(
                    HandleSource(c.root.content.open(digest)), to: Handle.openDirectory(path: scratch))
            }
            let alone = try c.s.withTree(d.snapshot!) { tree in
                try TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true).firstDifference(
                    tree!, Handle.openDirectory(path: scratch))
            }
            #expect(
                alone == nil, "\(backend) seed \(seed): the Diff alone is not its layers on scratch: \(alone ?? "")")

            // Rebased onto another tree, the Diff is its layers applied there.
            let rebased = try refs.merge("rebased", [.snapshot("X"), .named("d")])
            let applied = c.t.directory("rebased")
            try c.s.withTree("X") { x in
                var copy = TreeCopy()
                try copy.copy(from: x!, to: Handle.openDirectory(path: applied))
            }
            for digest in try Self.layerDigests(layout, first.manifest) {
                _ = try Applier().apply(
                    HandleSource(c.root.content.open(digest)), to: Handle.openDirectory(path: applied))
            }
            var comparison = TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true)
            comparison.hardlinks = false
            let rebase = try c.s.withTree(rebased.snapshot!) { tree in
                try comparison.firstDifference(tree!, Handle.openDirectory(path: applied))
            }
            #expect(rebase == nil, "\(backend) seed \(seed): the rebased Diff is not its layers on X: \(rebase ?? "")")
        }
    }

    /// A path added in one layer and deleted in a later one: the unmerge carries the deletion,
    /// the simple diff does not, which shows when they are merged onto a tree that has the path.
    @Test(arguments: LocalSnapshotter.backends)
    func unmergeKeepsIntermediateDeletesTheSimpleDiffDoesNot(_ backend: String) async throws {
        guard let c = try await Chains(backend, seed: 9) else { return }
        defer { withExtendedLifetime(c.t) {} }
        try c.commit("A", over: nil) { try $0.file("keep", "k") }
        try c.commit("B1", over: "A") { t in
            try t.directory("tmp")
            try t.file("tmp/x", "x")
        }
        try c.commit("B", over: "B1") { try $0.remove("tmp/x") }
        try c.commit("C", over: nil) { t in
            try t.directory("tmp")
            try t.file("tmp/x", "theirs")
        }
        let refs = RefBuilder(root: c.root, snapshotter: c.s)
        let unmerge = try refs.diff("unmerge", lower: .snapshot("A"), upper: .snapshot("B"))
        let simple = try refs.diff("simple", lower: .snapshot("A"), upper: .snapshot("B"), simple: true)
        #expect(unmerge.diff == .unmerge && simple.diff == .simple)
        for (name, diff) in [("u", "unmerge"), ("s", "simple")] {
            let m = try refs.merge("law-" + name, [.snapshot("A"), .named(diff)])
            #expect(try c.difference(m.snapshot!, "B") == nil)
        }
        // B's layer alone deletes tmp/x in a tmp/ no other layer of the stack has: overlayfs would
        // list the whiteout as an entry unless the directory is merged.
        let alone = try refs.diff("alone", lower: .snapshot("B1"), upper: .snapshot("B"))
        #expect(try c.s.withTree(alone.snapshot!) { try $0!.openDirectory(Array("tmp".utf8)).sortedNames() } == [])
        // A layer listed again counts at its last place: A, A-edit, A gives A's file back.
        try c.commit("A-edit", over: "A") { try $0.file("keep", "edited") }
        let aba = try refs.merge("aba", [.snapshot("A-edit"), .snapshot("A")])
        #expect(
            try c.s.withTree(aba.snapshot!) { try $0!.open(Array("keep".utf8), flags: O_RDONLY).readToEnd(limit: 64) }
                == Array("k".utf8))
        // Two chains over one base, one deleting a directory, the other a file in it: the
        // directory ends up empty, its whiteout hidden.
        try c.commit("P", over: nil) { t in
            try t.directory("d")
            try t.file("d/x", "x")
        }
        try c.commit("Pb", over: "P") { try $0.remove("d") }
        try c.commit("Pc", over: "P") { try $0.remove("d/x") }
        let both = try refs.merge("both", [.snapshot("Pb"), .snapshot("Pc")])
        #expect(try c.s.withTree(both.snapshot!) { try $0!.openDirectory(Array("d".utf8)).sortedNames() } == [])
        let onUnmerge = try refs.merge("on-u", [.snapshot("C"), .named("unmerge")])
        let onSimple = try refs.merge("on-s", [.snapshot("C"), .named("simple")])
        #expect(try c.s.withTree(onUnmerge.snapshot!) { try $0!.openDirectory(Array("tmp".utf8)).sortedNames() } == [])
        #expect(
            try c.s.withTree(onSimple.snapshot!) { try $0!.openDirectory(Array("tmp".utf8)).sortedNames() }
                == [Array("x".utf8)])
    }

    /// Layers that carry everything the trees are compared on: nanosecond times, every xattr.
    static let exact = DiffOptions(compression: .none, xattrs: .all, nanosecondTimes: true)

    static func layerDigests(_ layout: String, _ manifest: Descriptor) throws -> [Digest] {
        let path = layout + "/blobs/sha256/" + manifest.digest.encoded
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        let layers = (object as? [String: Any])?["layers"] as? [[String: Any]] ?? []
        return layers.compactMap { ($0["digest"] as? String).flatMap(Digest.init(parsing:)) }
    }
}
