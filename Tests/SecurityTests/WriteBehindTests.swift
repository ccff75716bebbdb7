import StrataArchive
import StrataFS
import StrataLayers
import StrataStreams
import StrataTestSupport
import Testing

/// Regular files are written by background threads behind the thread that reads the stream
/// (`ApplyOptions.writers`). Whatever later entries do to a file still being written, the result
/// must be the one of applying every entry in stream order, and a failed write must fail the
/// apply, naming its entry, with nothing written after it returns.
@Suite struct WriteBehindTests {
    static let big = Layer.noise(6 << 20, seed: 7)

    /// Applies `layer` with the given number of writers; the root's snapshot, without the
    /// sandbox's own `etc`.
    func unpack(_ layer: [UInt8], writers: Int, _ label: String) throws -> (Sandbox, DirectorySnapshot) {
        let box = try Sandbox(label)
        try box.recordHost()
        var options = ApplyOptions()
        options.writers = writers
        _ = try Applier(options: options).apply(MemorySource(layer), to: box.root)
        try box.expectHostUnchanged()
        return (box, try DirectorySnapshot.take(box.rootPath, excluding: "etc"))
    }

    static let cases: [(String, [Entry])] = [
        // The hardlink's header metadata lands on the inode after the file's own.
        ("hardlink", [.file("a", bytes: big, mode: 0o600), .link("b", "a", mode: 0o755), .file("c", "c")]),
        // A later entry replaces the path while the first file's data is still queued.
        ("replaced", [.file("x", bytes: big, mode: 0o600), .file("x", "second", mode: 0o640)]),
        ("by-directory", [.file("d", bytes: big), .dir("d/", mode: 0o700), .file("d/in", "in")]),
        ("whiteout", [.file("y", bytes: big), .file(".wh.y"), .file("z", bytes: Array(big.prefix(3 << 20)))]),
        (
            "opaque",
            [
                .dir("o/"), .file("o/big", bytes: big), .file("o/.wh..wh..opq"), .file("o/kept", "k"),
                .link("l", "o/kept"),
            ]
        ),
        ("many", (0..<300).map { .file("f\($0)", bytes: Array(big.prefix($0 * 997)), mode: 0o600 + Int64($0 % 8)) }),
    ]

    @Test(arguments: cases.indices)
    func sameTreeAsApplyingInOrder(_ index: Int) throws {
        let (label, entries) = Self.cases[index]
        let layer = try Layer.tar(entries)
        let (_, inOrder) = try unpack(layer, writers: 0, label + "-0")
        for writers in [1, 3] {
            let (box, behind) = try unpack(layer, writers: writers, label + "-\(writers)")
            #expect(behind == inOrder, "writers: \(writers)")
            if label == "hardlink" {
                #expect(try box.entry("a")?.permissions == 0o755)
                #expect(try box.contents("a") == Self.big)
                #expect(try box.sameFile("a", "b"))
            }
        }
    }

    /// A write that fails on a background thread (here: over the file size limit) fails the
    /// apply with one error naming the entry, and the CLI exits non-zero.
    @Test func failedBackgroundWriteNamesTheEntry() async throws {
        let box = try Sandbox("write-fails")
        try box.host.file("layer.tar", try Layer.tar([.file("small", "s"), .file("data/huge", bytes: Self.big)]))
        try box.recordHost()
        // Ignored SIGXFSZ makes a write past `ulimit -f` fail with EFBIG instead of killing.
        let script = "trap '' XFSZ; ulimit -f 2048; exec \"$0\" apply \"$1\" \"$2\""
        let r = try await Tool.run(
            "/bin/sh", ["-c", script, TestEnvironment.strataExecutable, box.hostPath + "/layer.tar", box.rootPath])
        #expect(r.status == 1, "stdout: \(r.stdout) stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("strata: error: entry data/huge: "), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("too large"), "stderr: \(r.stderr)")
        try box.expectHostUnchanged()
    }
}
