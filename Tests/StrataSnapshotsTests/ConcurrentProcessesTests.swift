import Foundation
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// Several `strata` processes preparing, writing, diffing and committing snapshots on one state
/// root at once, with a `gc` running among them: every command succeeds (SQLite's WAL and busy
/// timeout serialise the writers, the root lock keeps gc apart) and the stores agree with
/// themselves afterwards.
@Suite struct ConcurrentProcessesTests {
    @Test(arguments: LocalSnapshotter.backends)
    func parallelPreparesDiffsAndCommitsKeepTheStoresWhole(_ backend: String) async throws {
        guard let (t, _, _) = try SnapshotterConformanceTests.openRoot(backend) else { return }
        defer { withExtendedLifetime(t) {} }
        let root = ["--root", t.at("root"), "--snapshotter", backend]
        let rounds = 4
        try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var failures: [String] = []
                    func run(_ args: [String]) async throws {
                        let r = try await Tool.strata(args)
                        if !r.succeeded { failures.append("\(args): \(r.stderr)") }
                    }
                    let mnt = t.directory("mnt-\(worker)")
                    for i in 0..<rounds {
                        let key = "w\(worker)-\(i)"
                        try await run(["snapshot", "prepare"] + root + [key] + (i == 0 ? [] : ["c\(worker)-\(i - 1)"]))
                        try await run(["mount"] + root + [key, mnt])
                        try Data("\(worker) \(i)".utf8).write(to: URL(fileURLWithPath: "\(mnt)/file-\(i)"))
                        try await run(["umount", mnt])
                        try await run(["snapshot", "diff"] + root + [key, "--label", "containerd.io/gc.root=yes"])
                        try await run(["snapshot", "commit"] + root + ["c\(worker)-\(i)", key])
                    }
                    return failures
                }
            }
            group.addTask {
                var failures: [String] = []
                for _ in 0..<3 {
                    let r = try await Tool.strata(["gc", "--root", t.at("root"), "--wait", "120"])
                    if !r.succeeded { failures.append("gc: \(r.stderr)") }
                }
                return failures
            }
            for try await failures in group { #expect(failures.isEmpty, "\(failures)") }
        }
        let list = try await Tool.strata(["snapshot", "ls", "--json"] + root)
        #expect(list.stdout.split(separator: "\n").count == 4 * rounds)
        #expect(!list.stdout.contains("\"Active\""))
        let blobs = t.at("root/content/blobs/sha256")
        let names = try FileManager.default.contentsOfDirectory(atPath: blobs)
        #expect(names.count == 4 * rounds)  // one layer per round, each kept by its gc.root label
        for name in names {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: blobs + "/" + name))
            #expect(Digest.sha256(Array(bytes)).encoded == name)
        }
        let dirs = try FileManager.default.contentsOfDirectory(atPath: t.at("root/snapshots/\(backend)"))
        #expect(dirs.count == 4 * rounds, "\(dirs)")
    }
}
