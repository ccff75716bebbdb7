import Foundation
import StrataTestSupport
import Testing

/// containerd's own conformance suites (`snapshots/testsuite`, `content/testsuite`, through its
/// proxy clients), its Diff service client, raw wire calls with bad input, and the server's life
/// (SIGTERM drain, SIGKILL restart, live and stale sockets), all in
/// `Tests/ContainerdConformance`: Go, built offline in GOPATH mode against the containerd 1.6
/// sources Debian installs. One run per snapshot backend; every subtest must pass, none skip.
@Suite("containerd's conformance suites against strata serve", .serialized)
struct ContainerdConformanceTests {
    static let goPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ContainerdConformance").path
    /// Go's build cache, kept with the package's other build products.
    static let goCache = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/go-cache").path
    static let gocode = "/usr/share/gocode/src/github.com/containerd/containerd/snapshots/testsuite"

    /// The subtests containerd 1.6's suites run: all of them must report PASS, but Rename,
    /// which the suite itself skips for every snapshotter; `TestSnapshotterSuiteRename` runs its
    /// check instead.
    static let snapshotterSubtests = 20
    static let contentSubtests = 12
    static let skippedBySuite = "--- SKIP: TestSnapshotterSuite/Rename "

    @Test(arguments: ["overlay", "native"])
    func everySubtestPasses(backend: String) async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["go", "mount", "umount"], root: true, fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        guard FileManager.default.fileExists(atPath: Self.gocode) else {
            let message = "requires golang-github-containerd-containerd-dev (containerd's Go sources)"
            if TestEnvironment.isCI { Issue.record(Comment(rawValue: message)) } else { print("SKIPPED: " + message) }
            return
        }
        if backend == "overlay" && !TestEnvironment.hasOverlay {
            if TestEnvironment.isCI {
                Issue.record("overlayfs is not available")
            } else {
                print("SKIPPED: no overlayfs")
            }
            return
        }
        let r = try await Tool.run(
            "env",
            [
                "GOPATH=/usr/share/gocode", "GO111MODULE=off", "GOFLAGS=", "GOCACHE=\(Self.goCache)",
                "STRATA_SNAPSHOTTER=\(backend)",
                "STRATA_BIN=\(TestEnvironment.strataExecutable)", "go", "test", "-count=1", "-v", "-timeout", "20m",
                ".",
            ], in: Self.goPackage)
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let passed = lines.filter { $0.hasPrefix("--- PASS:") }
        let notPassed = lines.filter {
            $0.hasPrefix("--- FAIL:") || ($0.hasPrefix("--- SKIP:") && !$0.hasPrefix(Self.skippedBySuite))
        }
        #expect(
            r.succeeded && notPassed.isEmpty,
            "go test (\(backend)): \(notPassed)\n\(r.stdout.suffix(6000))\n\(r.stderr)")
        let snapshotter = passed.filter { $0.hasPrefix("--- PASS: TestSnapshotterSuite/") }.count
        let content = passed.filter { $0.hasPrefix("--- PASS: TestContentSuite/") }.count
        #expect(snapshotter == Self.snapshotterSubtests, "snapshotter suite subtests passed: \(snapshotter)")
        #expect(content == Self.contentSubtests, "content suite subtests passed: \(content)")
        for test in [
            "TestSnapshotterSuiteRename", "TestDiffServiceAgreesWithTheWalkingDiffer", "TestContainerd2Fields",
            "TestDiffServiceUnknownMediaTypeIsUnimplemented", "TestDiffApplyPassesPayloadsToStreamProcessors",
            "TestSnapshotsBadInputOverTheWire", "TestContentBadInputOverTheWire", "TestSigtermDrainsCallsInFlight",
            "TestRestartAfterSigkill", "TestLiveSocketAndRootAreRefused", "TestClientPingsAreAnsweredHoweverMany",
            "TestDiffServiceReadsContainerdOverlayfsUpperDirectories",
        ] {
            #expect(passed.contains { $0.hasPrefix("--- PASS: \(test) ") }, "\(test) did not pass")
        }
    }
}
