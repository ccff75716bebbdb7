import Foundation
import StrataStore
import StrataTestSupport
import Testing

/// Several `strata` processes preparing and committing snapshots on one state root at once: every
/// command succeeds (SQLite's WAL and busy timeout serialise the writers) and the records agree.
@Suite struct ConcurrentProcessesTests {
    @Test func parallelPreparesAndCommitsKeepTheRecordsWhole() async throws {
        let t = TempDirectory("concurrent")
        let root = ["--root", t.at("root"), "--snapshotter", "native"]
        _ = try StateRoot(path: t.at("root"))  // created once, as a daemon's root would be
        try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var failures: [String] = []
                    for i in 0..<5 {
                        for args in [
                            ["snapshot", "prepare", "w\(worker)-\(i)"],
                            ["snapshot", "commit", "c\(worker)-\(i)", "w\(worker)-\(i)"],
                        ] {
                            let r = try await Tool.strata(args + root)
                            if !r.succeeded { failures.append("\(args): \(r.stderr)") }
                        }
                    }
                    return failures
                }
            }
            for try await failures in group { #expect(failures.isEmpty, "\(failures)") }
        }
        let list = try await Tool.strata(["snapshot", "ls", "--json"] + root)
        #expect(list.stdout.split(separator: "\n").count == 20)
        #expect(!list.stdout.contains("\"Active\""))
    }
}
