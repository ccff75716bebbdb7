import Foundation
import GRPCCore
import Logging
import StrataChanges
import StrataContainerd
import StrataContainerdAPI
import StrataFS
import StrataLayers
import StrataProcessors
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

@testable import StrataService

/// The Diff service given another snapshotter's overlay mounts (containerd's overlayfs: an
/// Active snapshot's `upperdir` over its parent's `lowerdir` list) diffs the upper directory
/// alone, says so in its log, and writes the layer that turns the parent's tree into the
/// snapshot's: applied onto a copy of the lowers' merged tree it gives the merged upper.
@Suite(.serialized) struct ForeignOverlayDiffTests {
    /// Keeps the service's log lines.
    final class Lines: LogHandler, @unchecked Sendable {
        private let lock = NSLock()
        private var kept: [String] = []
        var all: [String] { lock.withLock { kept } }
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lock.withLock { kept.append(event.message.description) } }
    }

    static func overlay(_ options: [String]) -> ProtoMount {
        ProtoMount(Mount(type: "overlay", source: "overlay", options: options))
    }

    @Test func containerdOverlayMountsAreDiffedFromTheUpperDirectory() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["mount", "umount", "cp", "sh"], root: true,
                fail: {
                    Issue.record(Comment(rawValue: $0))
                }), TestEnvironment.backendAvailable("overlay")
        else { return }
        let t = TempDirectory("foreign-diff")
        defer { withExtendedLifetime(t) {} }
        // Two parent layers, laid out as containerd's overlayfs snapshotter keeps them.
        let (l1, l2, u, w, m) = (
            t.directory("l1"), t.directory("l2"), t.directory("u"), t.directory("w"), t.directory("m")
        )
        try await Tool.check(
            "sh",
            [
                "-c",
                """
                cd \(l1) && mkdir -p etc dir gone/deep opq replace && echo hosts > etc/hosts && echo a > dir/a \
                && echo b > dir/b && echo x > gone/deep/x && echo o > opq/o && echo r > replace/r
                cd \(l2) && mkdir etc && echo keep > etc/keep && echo two > two
                """,
            ])
        let lowers = "lowerdir=\(l2):\(l1)"
        try await Tool.withMount(["-t", "overlay", "overlay", "-o", "\(lowers),upperdir=\(u),workdir=\(w)"], at: m) {
            try await Tool.check(
                "sh",
                [
                    "-c",
                    """
                    cd \(m) && echo changed > etc/hosts && rm dir/a && rm -rf gone && rm -rf opq && mkdir opq \
                    && echo new > opq/n && rm -rf replace && echo file > replace && ln -s etc/keep link \
                    && mkdir -p new/sub && echo f > new/sub/f && chmod 700 dir && touch two && rm etc/keep
                    """,
                ])
        }

        let root = try StateRoot(path: t.at("root"))
        let lines = Lines()
        let pool = BlockingPool(threads: 2)
        let service = DiffService(
            root: root, snapshotter: try root.snapshotter("native"), pool: pool, gate: CleanupGate(),
            trees: MountedTrees(
                scratch: try Handle.openDirectory(path: t.directory("scratch")), scratchPath: t.at("scratch")),
            logger: Logger(label: "diff") { _ in lines }, processors: StreamProcessors())
        let request = Containerd_Services_Diff_V1_DiffRequest.with {
            $0.left = [Self.overlay([lowers])]
            $0.right = [Self.overlay(["workdir=\(w)", "upperdir=\(u)", lowers, "index=off"])]
        }
        let response = try await service.diff(request: request, context: Self.context())
        try await pool.shutdown()
        #expect(lines.all.contains { $0.contains("overlay upper directory \(u)") }, "\(lines.all)")

        // The layer applied onto a copy of the parents' merged tree gives the snapshot's.
        let applied = t.directory("applied")
        try await withMounted(t, "lowerdir=\(l2):\(l1)") { try await Tool.check("cp", ["-a", $0 + "/.", applied]) }
        guard let digest = Digest(parsing: response.diff.digest) else {
            Issue.record("the layer's digest \(response.diff.digest) does not parse")
            return
        }
        _ = try Applier().apply(file: root.content.open(digest), to: Handle.openDirectory(path: applied))
        try await withMounted(t, "lowerdir=\(u):\(l2):\(l1)") { merged in
            let difference = try TreeVerifier(times: .seconds).firstDifference(
                Handle.openDirectory(path: applied), Handle.openDirectory(path: merged))
            #expect(difference == nil)
        }
    }

    /// Mounts a read-only overlay with `options` for `body`.
    func withMounted(_ t: TempDirectory, _ options: String, _ body: (String) async throws -> Void) async throws {
        let at = t.directory("view-\(UInt32.random(in: 0...UInt32.max))")
        try await Tool.withMount(["-t", "overlay", "overlay", "-o", options + ",ro"], at: at) { try await body(at) }
    }

    static func context() -> ServerContext {
        ServerContext(
            descriptor: MethodDescriptor(fullyQualifiedService: "containerd.services.diff.v1.Diff", method: "Diff"),
            remotePeer: "test", localPeer: "test", cancellation: .init())
    }
}
