import StrataChanges
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

/// One `strata diff` configuration whose layer GNU tar must read.
struct StrataLayerCase: Sendable, CustomTestStringConvertible {
    var seed: UInt64
    /// Diff against an empty lower (a base layer) or against a mutated pair (whiteouts and all).
    var emptyLower: Bool
    var compression: String
    /// `--xattrs all --mtime ns` instead of the containerd-compatible defaults.
    var allXattrsNanoseconds: Bool

    var options: [String] {
        ["--compression", compression] + (allXattrsNanoseconds ? ["--xattrs", "all", "--mtime", "ns"] : [])
    }

    var testDescription: String {
        "seed \(seed), \(emptyLower ? "empty lower" : "mutated pair"), \(compression)\(allXattrsNanoseconds ? ", all xattrs + ns" : "")"
    }

    static let all: [StrataLayerCase] = [
        StrataLayerCase(seed: 11, emptyLower: true, compression: "none", allXattrsNanoseconds: false),
        StrataLayerCase(seed: 12, emptyLower: true, compression: "gzip", allXattrsNanoseconds: true),
        StrataLayerCase(seed: 13, emptyLower: true, compression: "zstd", allXattrsNanoseconds: false),
        StrataLayerCase(seed: 14, emptyLower: true, compression: "none", allXattrsNanoseconds: true),
        StrataLayerCase(seed: 21, emptyLower: false, compression: "none", allXattrsNanoseconds: true),
        StrataLayerCase(seed: 22, emptyLower: false, compression: "gzip", allXattrsNanoseconds: false),
        StrataLayerCase(seed: 23, emptyLower: false, compression: "zstd", allXattrsNanoseconds: true),
    ]
}

@Suite("Strata → GNU tar")
struct StrataToGNUTarTests {
    @Test(arguments: StrataLayerCase.all)
    func strataLayerReadsCleanlyWithGNUTar(_ c: StrataLayerCase) async throws {
        var tools = ["tar", "od", "head"]
        if c.compression != "none" { tools.append(c.compression) }
        guard Interop.requirements(tools: tools) else { return }
        let tmp = TempDirectory("togtar")
        let lower = c.emptyLower ? tmp.directory("lower") : tmp.at("lower")
        let upper = tmp.at("upper")
        try Interop.generatePair(
            seed: c.seed, count: 60, mutations: c.emptyLower ? 0 : 40, lower: c.emptyLower ? nil : lower, upper: upper)
        let layer = tmp.at("layer")
        try await Interop.diff(lower, upper, to: layer, c.options)

        let tar = tmp.at("layer.tar")
        try await Interop.decompress(layer, to: tar)
        let listing = try await Tool.run("tar", ["-tvf", tar])
        #expect(listing.status == 0, "tar -tvf exited \(listing.status): \(listing.stderr)")
        #expect(listing.stderr.isEmpty, "tar -tvf warned: \(listing.stderr)")
        #expect(!listing.stdout.isEmpty)
        // Every entry listed with a sane type, and the whiteouts of a mutated pair are plain files.
        for line in listing.stdout.split(separator: "\n") {
            #expect("-dlhcbp".contains(line.first ?? "?"), "unexpected listing line: \(line)")
        }

        // A base layer extracts cleanly (exit 0, no warnings) to the upper tree.
        guard c.emptyLower else { return }
        let extracted = tmp.directory("extracted")
        let x = try await Tool.run(
            "tar",
            [
                "-x", "--xattrs", "--xattrs-include=*", "--same-owner", "--numeric-owner", "-p", "-f", tar, "-C",
                extracted,
            ])
        #expect(x.status == 0 && x.stderr.isEmpty, "tar -x exited \(x.status): \(x.stderr)")
        let comparison = TreeVerifier(
            times: c.allXattrsNanoseconds ? .nanoseconds : .seconds,
            xattrs: c.allXattrsNanoseconds ? .all : .capability,
            owners: TestEnvironment.isRoot)
        try Interop.expectSameTree(upper, extracted, comparison, c.testDescription)
    }
}
