import Foundation
import StrataStore
import StrataTestSupport
import Testing

/// What containerd creates through `strata serve` lives in `ROOT/containerd`: `strata gc` never
/// collects it, Strata's commands read it with `--containerd` (optionally one namespace's keys)
/// and cannot change it.
@Suite("containerd's partition of a state root")
struct ContainerdPartitionTests {
    @Test func gcKeepsItTheCLIReadsItAndChangesNothing() async throws {
        let tmp = TempDirectory("partition")
        let root = tmp.at("root")
        do {
            let partition = try StateRoot.containerdPartition(of: root, create: true)
            let s = try partition.snapshotter("native")
            _ = try s.prepare("ns1/1/a", parent: nil, labels: ["containerd.io/snapshot.ref": "a"])
            _ = try s.prepare("ns2/2/b", parent: nil, labels: [:])
            let w = try partition.content.writer(ref: "ns1/3/blob")
            try Array("held by containerd".utf8).withUnsafeBytes { try w.write($0) }
            try w.commit()
        }
        try await Tool.strata(["--root", root, "gc"]).expectSuccess()

        let ns1 = try await Tool.strata([
            "snapshot", "ls", "--root", root, "--snapshotter", "native", "--containerd", "--containerd-namespace",
            "ns1",
        ]).expectSuccess()
        #expect(ns1.stdout.contains("ns1/1/a") && !ns1.stdout.contains("ns2/2/b"), "\(ns1.stdout)")
        let all = try await Tool.strata(["snapshot", "ls", "--root", root, "--snapshotter", "native", "--containerd"])
            .expectSuccess()
        #expect(all.stdout.contains("ns1/1/a") && all.stdout.contains("ns2/2/b"), "\(all.stdout)")
        let own = try await Tool.strata(["snapshot", "ls", "--root", root, "--snapshotter", "native"]).expectSuccess()
        #expect(!own.stdout.contains("ns1/1/a"), "the root's own snapshots include containerd's: \(own.stdout)")
        let blobs = try await Tool.strata(["content", "ls", "--root", root, "--containerd", "--json"]).expectSuccess()
        #expect(blobs.stdout.split(separator: "\n").count == 1, "\(blobs.stdout)")

        // Changing it is refused: no option names it, and its path is not a root of Strata's.
        let rm = try await Tool.strata(["snapshot", "rm", "--root", root, "--containerd", "ns1/1/a"])
        #expect(!rm.succeeded)
        for args in [["gc"], ["snapshot", "prepare", "--snapshotter", "native", "x"]] {
            let r = try await Tool.strata(["--root", root + "/containerd"] + args)
            #expect(!r.succeeded && r.stderr.contains("belongs to containerd"), "\(args): \(r.stderr)")
        }
        let after = try StateRoot.containerdPartition(of: root, create: false)
        #expect(try after.snapshotter("native").list().map(\.name) == ["ns1/1/a", "ns2/2/b"])
        #expect(try after.content.list().count == 1)
    }

    @Test func readingARootWithoutAPartitionSaysSo() async throws {
        let tmp = TempDirectory("partition")
        let r = try await Tool.strata(["snapshot", "ls", "--root", tmp.at("root"), "--containerd"])
        #expect(!r.succeeded && r.stderr.contains("has no containerd partition"), "\(r.stderr)")
    }
}

extension ToolResult {
    @discardableResult
    func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation) -> ToolResult {
        #expect(succeeded, "exit \(status): \(stderr)", sourceLocation: sourceLocation)
        return self
    }
}
