import Foundation
import StrataFS
import StrataTestSupport
import Testing

/// The `strata` command as users run it: output formats, exit codes, the demo.
@Suite struct CLITests {
    func json(_ s: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    @Test func demoVerifiesTheRoundTrip() async throws {
        let r = try await Tool.strata(["demo", "--json"])
        #expect(r.succeeded, "\(r.stderr)")
        let d = try json(r.stdout)
        #expect(d["mediaType"] as? String == "application/vnd.oci.image.layer.v1.tar+gzip")
    }

    @Test func diffApplyAndChangesSpeakJSON() async throws {
        let t = try pair(
            "cli", base: { b in try b.file("keep", "k") },
            change: { b in
                try b.file("new", "n")
                try b.remove("keep")
            })
        let diff = try await Tool.strata([
            "diff", t.at("lower"), t.at("upper"), "-o", t.at("layer"), "--compression", "zstd", "--mtime", "ns",
            "--json",
        ])
        #expect(diff.succeeded, "\(diff.stderr)")
        let d = try json(diff.stdout)
        #expect(Set(d.keys) == ["mediaType", "digest", "size", "annotations"])
        let diffID = try #require((d["annotations"] as? [String: String])?["containerd.io/uncompressed"])
        let apply = try await Tool.strata(["apply", t.at("layer"), t.at("lower"), "--expect-diffid", diffID, "--json"])
        #expect(apply.succeeded, "\(apply.stderr)")
        #expect(try json(apply.stdout)["diffID"] as? String == diffID)
        let changes = try await Tool.strata(["changes", t.at("lower"), t.at("upper")])
        #expect(changes.stdout == "")  // lower now equals upper
    }

    @Test func changesPrintsDockerDiffLines() async throws {
        let t = try pair(
            "changes",
            base: { b in
                try b.directory("etc")
                try b.file("etc/passwd", "root")
                try b.file("etc/gone", "x")
            },
            change: { b in
                try b.file("etc/passwd", "root and more")
                try b.remove("etc/gone")
                try b.file("added", "")
            })
        let r = try await Tool.strata(["changes", t.at("lower"), t.at("upper")])
        #expect(r.stdout == "A /added\nD /etc/gone\nC /etc/passwd\n")
        let j = try await Tool.strata(["changes", "--json", t.at("lower"), t.at("upper")])
        let lines = j.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        let first = try json(lines[0])
        #expect(first["kind"] as? String == "add")
        #expect(first["path"] as? String == "/added")
        #expect(first["type"] as? String == "regular")
    }

    @Test(arguments: [
        ["diff", "/nonexistent-lower", "/nonexistent-upper", "-o", "/tmp/x"],
        ["diff", "/", "/", "-o", "/tmp/x", "--level", "12"],
        ["diff", "/", "/", "-o", "/tmp/x", "--compression", "brotli"],
        ["apply", "/nonexistent-layer", "/tmp"],
        ["apply", "/etc/hostname", "/tmp", "--expect-diffid", "md5:1234"],
    ])
    func badArgumentsFail(_ args: [String]) async throws {
        let r = try await Tool.strata(args)
        #expect(!r.succeeded)
        #expect(!r.stderr.isEmpty)
    }

    @Test func missingDirectoryIsNamed() async throws {
        let r = try await Tool.strata(["diff", "/nonexistent-lower", "/tmp", "-o", "/tmp/strata-never"])
        #expect(r.stderr.contains("/nonexistent-lower"))
        #expect(r.stderr.hasPrefix("strata: error:"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/strata-never"))
    }
}

/// Options that exist for checking and measuring: `changes --stats`, `apply --dry-run`.
@Suite struct CLIMeasureTests {
    @Test func statsShowNoContentReadForNanosecondTrees() async throws {
        let t = try pair("stats", base: { b in try b.file("f", "same") }, change: { b in try b.file("g", "new") })
        for side in ["lower", "upper"] {
            try TreeBuilder(root: t.handle(side)).setTime("f", FileTime(seconds: 1_600_000_000, nanoseconds: 5))
        }
        let r = try await Tool.strata(["changes", "--stats", t.at("lower"), t.at("upper")])
        #expect(r.stdout == "A /g\n")
        #expect(r.stderr.contains("events: 1, content bytes compared: 0"))
    }

    @Test func dryRunChecksWithoutWriting() async throws {
        let t = try pair("dryrun", base: { _ in }, change: { b in try b.file("new", "n") })
        let diff = try await Tool.strata(["diff", t.at("lower"), t.at("upper"), "-o", t.at("layer")])
        #expect(diff.succeeded)
        let empty = t.directory("empty")
        let r = try await Tool.strata(["apply", "--dry-run", t.at("layer"), empty])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("sha256:"))
        #expect(try Handle.openDirectory(path: empty).entries().isEmpty)
    }
}
