import StrataArchive
import StrataChanges
import StrataCompression
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

/// The central property: apply(copy of LOWER, diff(LOWER, UPPER)) == UPPER, over generated trees
/// with every entry type, hardlink groups, xattrs, long and non-ASCII names, sparse and large
/// files, deep nesting, subtree deletes and type replacements.
@Suite struct RoundTripTests {
    struct Mode: Sendable, CustomStringConvertible {
        var xattrs: XattrPolicy
        var nanoseconds: Bool
        var compression: Compression
        var description: String { "\(xattrs)/\(nanoseconds ? "ns" : "s")/\(compression)" }
    }

    static let modes = [
        Mode(xattrs: .capability, nanoseconds: false, compression: .gzip),
        Mode(xattrs: .all, nanoseconds: true, compression: .zstd),
        Mode(xattrs: .all, nanoseconds: false, compression: .none),
    ]

    @Test(arguments: modes, 1...6 as ClosedRange<UInt64>)
    func applyOfDiffRebuildsUpper(_ mode: Mode, _ seed: UInt64) throws {
        let t = TempDirectory("roundtrip")
        var upperGen = TreeGenerator(seed: seed)
        try upperGen.populate(TreeBuilder(creating: t.at("upper")), count: 120)
        try upperGen.mutate(TreeBuilder(root: t.handle("upper")), count: 60)
        for side in ["lower", "applied"] {
            var g = TreeGenerator(seed: seed)
            try g.populate(TreeBuilder(creating: t.at(side)), count: 120)
        }
        let options = DiffOptions(compression: mode.compression, xattrs: mode.xattrs, nanosecondTimes: mode.nanoseconds)
        let descriptor = try Differ(options: options).write(
            lower: t.at("lower"), upper: t.at("upper"), output: t.at("layer"))
        var unpack = ApplyOptions()
        unpack.xattrs = mode.xattrs
        let result = try Applier(options: unpack, expectedDiffID: descriptor.uncompressedDigest).apply(
            layer: t.at("layer"), root: t.at("applied"))
        #expect(result.digest == descriptor.digest)
        #expect(result.size == descriptor.size)
        let comparison = TreeVerifier(
            times: mode.nanoseconds ? .nanoseconds : .seconds, xattrs: mode.xattrs, owners: TestEnvironment.isRoot)
        let difference = try comparison.firstDifference(t.handle("applied"), t.handle("upper"))
        #expect(difference == nil, "seed \(seed) \(mode): \(difference ?? "")")
        // A diff of the result against the upper tree is empty: nothing was lost or added.
        if mode.nanoseconds {
            var c = Collector()
            try TreeComparer(xattrPolicy: mode.xattrs).compare(
                lower: t.handle("applied"), upper: t.handle("upper"), into: &c)
            #expect(c.lines.filter { !$0.hasPrefix("U ") }.isEmpty, "seed \(seed): \(c.lines.prefix(5))")
        }
    }

    @Test func emptyLowerIsABaseLayer() throws {
        let t = TempDirectory("base")
        var g = TreeGenerator(seed: 99)
        try g.populate(TreeBuilder(creating: t.at("upper")), count: 80)
        mkdirEmpty(t.at("applied"))
        let d = try Differ(options: DiffOptions(xattrs: .all, nanosecondTimes: true)).write(
            lower: nil, upper: t.at("upper"), output: t.at("layer"))
        _ = try Applier(expectedDiffID: d.uncompressedDigest).apply(layer: t.at("layer"), root: t.at("applied"))
        let difference = try TreeVerifier(times: .nanoseconds, xattrs: .all, owners: TestEnvironment.isRoot)
            .firstDifference(t.handle("applied"), t.handle("upper"))
        #expect(difference == nil, "\(difference ?? "")")
    }

    @Test func sparseFilesStaySparse() throws {
        let t = TempDirectory("sparse")
        let b = try TreeBuilder(creating: t.at("upper"))
        try b.sparseFile("big", size: 64 << 20, content: Array(repeating: 7, count: 4096), at: 32 << 20)
        mkdirEmpty(t.at("applied"))
        _ = try Differ().write(lower: nil, upper: t.at("upper"), output: t.at("layer"))
        _ = try Applier().apply(layer: t.at("layer"), root: t.at("applied"))
        let meta = try t.handle("applied").stat(Array("big".utf8))
        #expect(meta.size == 64 << 20)
        #expect(try TreeVerifier().firstDifference(t.handle("applied"), t.handle("upper")) == nil)
    }
}

func mkdirEmpty(_ path: String) {
    _ = try? TreeBuilder(creating: path)
}
