import Foundation
import StrataStreams
import StrataTestSupport
import Testing

/// `strata content` and `strata lease` as users run them, resume included.
@Suite struct ContentCLITests {
    func json(_ line: Substring) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test func ingestResumesListsGetsAndRemoves() async throws {
        let t = TempDirectory("content-cli")
        var g = SeededGenerator(seed: 9)
        let bytes = g.bytes(2_000_000)
        #expect(FileManager.default.createFile(atPath: t.at("blob"), contents: Data(bytes)))
        let digest = Digest.sha256(bytes).description
        let root = ["--root", t.at("root")]
        let ingest = ["content", "ingest", "--ref", "cli", "--expected", digest, "--size", "\(bytes.count)"] + root

        // Interrupted: stdin ends early. The command fails, the ingest stays for a resume.
        let short = try await Tool.run(TestEnvironment.strataExecutable, ingest, input: Array(bytes.prefix(700_000)))
        #expect(short.status == 1)
        #expect(short.stderr == "strata: error: ingest cli: expected 2000000 bytes, got 700000\n")
        let active = try await Tool.strata(["content", "active", "--json"] + root)
        #expect(try json(active.stdout.split(separator: "\n")[0])["offset"] as? Int == 700_000)

        // Resumed from the file: only the rest is written, then checked and committed.
        let full = try await Tool.strata(ingest + [t.at("blob"), "--json", "--label", "k=v"])
        #expect(full.succeeded, "\(full.stderr)")
        #expect(try json(Substring(full.stdout))["digest"] as? String == digest)
        let list = try await Tool.strata(["content", "ls", "--json"] + root)
        let listed = try list.stdout.split(separator: "\n").map(json)
        #expect(listed.count == 1 && listed[0]["labels"] as? [String: String] == ["k": "v"])

        let get = try await Tool.strata(["content", "get", digest, "-o", t.at("out")] + root)
        #expect(get.succeeded, "\(get.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: t.at("out"))) == Data(bytes))

        #expect(try await Tool.strata(["content", "rm", digest] + root).succeeded)
        let info = try await Tool.strata(["content", "info", digest] + root)
        #expect(info.status == 1 && info.stderr == "strata: error: content \(digest): not found\n")
    }

    @Test func rootBeforeTheSubcommandAndLeases() async throws {
        let t = TempDirectory("lease-cli")
        let created = try await Tool.strata(["--root", t.at("root"), "lease", "create", "--id", "l1", "--label", "a=b"])
        #expect(created.succeeded && created.stdout == "l1\n", "\(created.stderr)")
        let list = try await Tool.strata(["lease", "ls", "--json", "--root", t.at("root")])
        let lease = try json(list.stdout.split(separator: "\n")[0])
        #expect((lease["lease"] as? [String: Any])?["id"] as? String == "l1")
        #expect(try await Tool.strata(["lease", "rm", "l1", "--root", t.at("root")]).succeeded)
        let again = try await Tool.strata(["lease", "rm", "l1", "--root", t.at("root")])
        #expect(again.status == 1 && again.stderr == "strata: error: lease l1: not found\n")
    }
}
