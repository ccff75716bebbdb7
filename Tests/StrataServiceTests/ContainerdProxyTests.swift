import Foundation
import StrataChanges
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

/// A real containerd 1.6 with `strata serve` as its snapshotter (and, in a second configuration,
/// as its content store too) runs a container with runc (`Tests/Interop/containerd-proxy.sh`):
/// the container's rootfs is the one containerd's own native snapshotter gives, and
/// `ctr snapshots diff` of its snapshot holds exactly the container's changes.
@Suite("containerd runs containers on strata serve", .serialized)
struct ContainerdProxyTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop/containerd-proxy.sh").path

    /// What the container's command changed, as layer entries.
    static let expectedEntries: Set<String> = [
        "data/", "data/sub/", "data/sub/file", "etc/", "etc/keep", "etc/new", "etc/.wh.remove-me", "root/",
        "root/link", "var/", "var/lib/", "var/lib/.wh.app",
    ]

    static func run(_ mode: String, into dir: String) async throws {
        let r = try await Tool.run(
            "env", ["STRATA_BIN=\(TestEnvironment.strataExecutable)", "bash", script, mode, dir])
        guard r.succeeded else { throw ToolFailure(command: "containerd-proxy.sh \(mode)", result: r) }
    }

    static func entries(_ layer: String) async throws -> Set<String> {
        let r = try await Tool.check("tar", ["-tzf", layer])
        return Set(r.stdout.split(separator: "\n").map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) })
    }

    @Test func containerRunsOnStrataAsOnContainerdsNativeSnapshotter() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["containerd", "ctr", "runc", "busybox", "python3", "tar", "timeout", "setsid"], root: true,
                fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let tmp = TempDirectory("proxy")
        let native = tmp.at("native")
        try await Self.run("native", into: native)
        #expect(try await Self.entries(native + "/diff.tar.gz") == Self.expectedEntries, "native snapshotter's diff")

        for mode in ["strata", "strata-content"] {
            let out = tmp.at(mode)
            try await Self.run(mode, into: out)
            let entries = try await Self.entries(out + "/diff.tar.gz")
            #expect(entries == Self.expectedEntries, "\(mode): ctr snapshots diff holds \(entries.sorted())")
            let d = try TreeVerifier(times: .ignore, xattrs: .all, owners: true).firstDifference(
                Handle.openDirectory(path: native + "/rootfs"), Handle.openDirectory(path: out + "/rootfs"))
            #expect(d == nil, "\(mode): the container's rootfs differs from native's: \(d ?? "")")

            // Strata's CLI reads the partition: the image's layer and the container's snapshot,
            // under containerd's namespace prefix.
            let snapshots = try String(contentsOfFile: out + "/strata-snapshots.txt", encoding: .utf8)
            #expect(snapshots.contains("strata-test/") && snapshots.contains("/c1\t"), "\(mode): \(snapshots)")
            let log = try String(contentsOfFile: out + "/serve.log", encoding: .utf8)
            #expect(!log.contains("error"), "\(mode): serve.log: \(log)")
            if mode == "strata-content" {
                // The diff containerd wrote went to Strata's content store.
                let digest = try await Tool.check("sha256sum", [out + "/diff.tar.gz"]).stdout.prefix(64)
                let content = try String(contentsOfFile: out + "/strata-content.txt", encoding: .utf8)
                #expect(content.contains("sha256:" + digest), "the diff blob is not in Strata's store: \(content)")
            }
        }
    }
}
