import StrataStreams
import StrataTestSupport
import Testing

/// The CLI on damaged or hostile layers: `strata apply` exits non-zero with one
/// `strata: error: ...` line that says what was wrong, and nothing outside ROOT changes.
@Suite struct BadInputTests {
    /// Writes `layer` into the sandbox (outside root), records the host, runs `strata apply`.
    func apply(_ layer: [UInt8], _ label: String, _ extra: [String] = []) async throws -> (Sandbox, ToolResult) {
        let box = try Sandbox(label)
        try box.host.file("layer.bin", layer)
        try box.recordHost()
        let r = try await Tool.strata(["apply", box.hostPath + "/layer.bin", box.rootPath] + extra)
        return (box, r)
    }

    /// Exit status, one error line mentioning every text, host unchanged.
    func expectFailure(
        _ box: Sandbox, _ r: ToolResult, mentions: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(r.status != 0, "strata apply succeeded: \(r.stdout)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.hasSuffix("\n"), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let line = lines.first.map(String.init) ?? ""
        #expect(line.hasPrefix("strata: error: "), "stderr: \(r.stderr)", sourceLocation: sourceLocation)
        for text in mentions {
            #expect(line.contains(text), "error line lacks \"\(text)\": \(line)", sourceLocation: sourceLocation)
        }
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout)", sourceLocation: sourceLocation)
        try box.expectHostUnchanged(sourceLocation: sourceLocation)
    }

    static func sample() throws -> [UInt8] {
        try Layer.tar([.dir("data/"), .file("data/big", bytes: Layer.noise(64 * 1024)), .file("data/small", "s")])
    }

    /// Rewrites a header's checksum field after an edit (6 octal digits, NUL, space).
    static func fixChecksum(_ tar: inout [UInt8], header at: Int) {
        for i in at + 148..<at + 156 { tar[i] = 0x20 }
        let sum = tar[at..<at + 512].reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: 0x30, count: 6 - digits.count) + digits + [0, 0x20]
        tar.replaceSubrange(at + 148..<at + 156, with: field)
    }

    @Test func truncatedTarInsideEntryData() async throws {
        let (box, r) = try await apply(Array(try Self.sample().prefix(1024 + 5000)), "trunc-data")
        try expectFailure(box, r, mentions: ["data/big", "ends inside"])
    }

    @Test func truncatedTarInsideHeader() async throws {
        let (box, r) = try await apply(Array(try Self.sample().prefix(512 + 300)), "trunc-header")
        try expectFailure(box, r, mentions: ["truncated"])
    }

    @Test func corruptHeaderField() async throws {
        var tar = try Layer.tar([.file("victim", "x"), .file("other", "y")])
        tar.replaceSubrange(100..<108, with: Array("0009999\u{0}".utf8))  // mode: not octal
        Self.fixChecksum(&tar, header: 0)
        let (box, r) = try await apply(tar, "corrupt-header")
        try expectFailure(box, r, mentions: ["bad mode field", "victim"])
        #expect(try DirectorySnapshot.take(box.rootPath).entries.keys.sorted() == ["etc", "etc/passwd"])
    }

    @Test func badHeaderChecksum() async throws {
        var tar = try Layer.tar([.file("first", "hello"), .file("second", "x")])
        tar[1024] ^= 0x01  // "second" header's name, checksum not updated
        let (box, r) = try await apply(tar, "checksum")
        try expectFailure(box, r, mentions: ["bad checksum", "1024"])
        #expect(try box.entry("second") == nil)
    }

    /// Every byte of the gzip trailer (CRC-32, then ISIZE) is checked.
    @Test(arguments: 1...8)
    func gzipTrailerCorrupted(_ fromEnd: Int) async throws {
        var gz = try Layer.compress(try Self.sample(), .gzip)
        gz[gz.count - fromEnd] ^= 0x5A
        let (box, r) = try await apply(gz, "gzip-crc")
        try expectFailure(box, r, mentions: ["gzip", fromEnd > 4 ? "CRC" : "length"])
    }

    @Test(arguments: ["half", "trailer", "header"])
    func truncatedGzip(_ cut: String) async throws {
        let gz = try Layer.compress(try Self.sample(), .gzip)
        let keep = cut == "half" ? gz.count / 2 : cut == "trailer" ? gz.count - 4 : 10
        let (box, r) = try await apply(Array(gz.prefix(keep)), "gzip-trunc")
        try expectFailure(box, r, mentions: ["truncated gzip"])
    }

    @Test(arguments: ["half", "last"])
    func truncatedZstd(_ cut: String) async throws {
        let zs = try Layer.compress(try Self.sample(), .zstd)
        let keep = cut == "half" ? zs.count / 2 : zs.count - 1
        let (box, r) = try await apply(Array(zs.prefix(keep)), "zstd-trunc")
        try expectFailure(box, r, mentions: ["truncated zstd"])
    }

    @Test func unknownCompressionXZ() async throws {
        let xz: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00] + Layer.noise(2000)
        let (box, r) = try await apply(xz, "xz")
        try expectFailure(box, r, mentions: ["xz", "compression"])
        #expect(try DirectorySnapshot.take(box.rootPath).entries.keys.sorted() == ["etc", "etc/passwd"])
    }

    @Test func wrongExpectedDiffID() async throws {
        let wrong = "sha256:" + String(repeating: "0", count: 64)
        let tar = try Self.sample()
        let (box, r) = try await apply(tar, "diffid", ["--expect-diffid", wrong])
        try expectFailure(box, r, mentions: ["diffID mismatch", wrong, Digest.sha256(tar).description])
    }

    /// Escaping names and symlinks are confined (containerd semantics: cleaned, not refused);
    /// the hardlink to a host-only file then fails, naming the entry.
    @Test func escapingLayerFailsOnHostOnlyLinkTarget() async throws {
        let tar = try Layer.tar([
            .file("../../x", "x"), .symlink("esc", "../../.."), .file("esc/y", "y"),
            .link("steal", "esc/../../../perm400"),
        ])
        let (box, r) = try await apply(tar, "escape-fail")
        try expectFailure(box, r, mentions: ["entry steal", "No such file"])
        #expect(try box.text("x") == "x")
        #expect(try box.text("y") == "y")
    }

    @Test func escapingLayerIsConfined() async throws {
        let tar = try Layer.tar([
            .file("../../x", "x"), .symlink("esc", "../../.."), .file("esc/y", "y"), .file("esc/etc/passwd", "pwned"),
        ])
        let (box, r) = try await apply(tar, "escape-ok")
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout == Digest.sha256(tar).description + "\n")
        #expect(try box.text("x") == "x")
        #expect(try box.text("y") == "y")
        #expect(try box.text("etc/passwd") == "pwned")
        try box.expectHostUnchanged()
    }
}
