import StrataChanges
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

/// Layers written by `strata diff`, unpacked by a real containerd (through
/// `Tests/Interop/containerd-unpack.sh`, one private daemon per layer: four runs in all) and
/// by `strata apply`. containerd leaves the snapshot root's own metadata alone and drops trusted.*
/// xattrs (TreeVerifier skips the root, TreeGenerator makes no trusted.*); times are compared
/// to the second, owners included.
@Suite("Strata → containerd", .serialized)
struct StrataToContainerdTests {
    static let unpackScript = Interop.scriptsDirectory + "/containerd-unpack.sh"

    struct Case: Sendable, CustomTestStringConvertible {
        var seed: UInt64
        var compression: String
        /// The policy the layers are written with (and so the xattrs they carry).
        var xattrs: XattrPolicy
        var options: [String] {
            ["--compression", compression] + (xattrs == .all ? ["--xattrs", "all", "--mtime", "ns"] : [])
        }
        var testDescription: String { "\(compression), xattrs \(xattrs.rawValue)" }
    }

    static let cases = [
        Case(seed: 31, compression: "gzip", xattrs: .capability),
        Case(seed: 32, compression: "zstd", xattrs: .all),
    ]

    /// Unpacks `layer` with containerd into `out`.
    static func containerdUnpack(_ layer: String, into out: String) async throws {
        let r = try await Tool.run("bash", [unpackScript, layer, out])
        guard r.succeeded else { throw CommandFailed(command: "containerd-unpack.sh \(layer) \(out)", result: r) }
    }

    @Test(arguments: cases)
    func containerdUnpacksStrataLayersAsStrataApplies(_ c: Case) async throws {
        var tools = ["containerd", "ctr", "python3", "tar", "mountpoint", "umount", "timeout", "setsid"]
        if c.compression == "zstd" { tools.append("zstd") }
        guard Interop.requirements(tools: tools, root: true) else { return }
        let tmp = TempDirectory("ctrd")
        let empty = tmp.directory("empty")
        let lower = tmp.at("lower")
        let upper = tmp.at("upper")
        try Interop.generatePair(seed: c.seed, count: 50, mutations: 30, lower: lower, upper: upper)
        let withOwners = TreeVerifier(times: .seconds, xattrs: .all, owners: true)

        // 1. A base layer (empty lower → lower): containerd, strata apply and the source tree agree.
        let base = tmp.at("base.layer")
        try await Interop.diff(empty, lower, to: base, c.options)
        let baseByContainerd = tmp.at("base-containerd")
        let baseByStrata = tmp.directory("base-strata")
        try await Self.containerdUnpack(base, into: baseByContainerd)
        try await Interop.apply(base, onto: baseByStrata)
        try Interop.expectSameTree(baseByContainerd, baseByStrata, withOwners, "base layer: containerd vs strata apply")
        try Interop.expectSameTree(
            lower, baseByContainerd, TreeVerifier(times: .seconds, xattrs: c.xattrs, owners: true),
            "base layer: source tree vs containerd")

        // 2. The diff of the mutated pair (whiteouts, replacements), each unpacked onto an empty
        //    directory: containerd and strata apply agree, and no whiteout file survives.
        let changes = tmp.at("changes.layer")
        try await Interop.diff(lower, upper, to: changes, c.options)
        let listing = try await Tool.check("bash", ["-c", "tar -tf \"$1\" | grep -c '\\.wh\\.' || true", "-", changes])
        #expect(
            Int(listing.stdout.split(separator: "\n").first ?? "") ?? 0 > 0, "the mutated pair should give whiteouts")
        let changesByContainerd = tmp.at("changes-containerd")
        let changesByStrata = tmp.directory("changes-strata")
        try await Self.containerdUnpack(changes, into: changesByContainerd)
        try await Interop.apply(changes, onto: changesByStrata)
        try Interop.expectSameTree(
            changesByContainerd, changesByStrata, withOwners, "changes layer: containerd vs strata apply")
        let leftovers = try await Interop.sh("find \(Interop.q(changesByStrata)) -name '.wh.*' | head -5")
        #expect(leftovers.stdout.isEmpty, "whiteout files left by strata apply: \(leftovers.stdout)")
    }

    /// `strata snapshot diff` of an overlay (or native) container over an image: containerd,
    /// given the image's layer and the diff's, unpacks the container's merged view.
    @Test func containerdStacksASnapshotDiffOverItsImage() async throws {
        guard Interop.requirements(tools: ["containerd", "ctr", "python3", "tar", "mountpoint", "umount"], root: true)
        else { return }
        let tmp = TempDirectory("ctrd-snapshot")
        defer { withExtendedLifetime(tmp) {} }
        let root = ["--root", tmp.at("root")]
        func mounted(_ key: String, _ body: (Handle) throws -> Void) async throws -> String {
            let mnt = tmp.directory("mnt-" + key)
            try await Interop.strata(root + ["mount", key, mnt])
            try body(try Handle.openDirectory(path: mnt))
            return mnt
        }
        var g = TreeGenerator(seed: 41)
        g.userXattrs = false
        try await Interop.strata(root + ["snapshot", "prepare", "image-key"])
        let imageMount = try await mounted("image-key") { try g.populate(TreeBuilder(root: $0), count: 80) }
        try await Interop.strata(["umount", imageMount])
        try await Interop.strata(root + ["snapshot", "commit", "image", "image-key"])
        try await Interop.strata(root + ["snapshot", "diff", "image", "-o", tmp.at("image.layer")])
        try await Interop.strata(root + ["snapshot", "prepare", "container", "image"])
        let merged = try await mounted("container") { try g.mutate(TreeBuilder(root: $0), count: 40) }
        let diff = try await Interop.strata(
            root + [
                "snapshot", "diff", "container", "-o", tmp.at("container.layer"), "--compression", "zstd", "--json",
            ])
        #expect(diff.stdout.contains("\"method\""))
        let out = tmp.at("by-containerd")
        try await Self.containerdUnpack(tmp.at("image.layer") + "," + tmp.at("container.layer"), into: out)
        try Interop.expectSameTree(
            merged, out, TreeVerifier(times: .seconds, xattrs: .capability, owners: true),
            "containerd's unpack of image + diff vs the container's merged view")
        try await Interop.strata(["umount", merged])
    }
}
