import Foundation
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// The registry client against failures: the registry killed mid-push and restarted, a proxy
/// that flips a byte of every layer it serves, a pull killed by SIGKILL and run again; and
/// cross-repository mounts. The faults go through `Tests/Interop/registry-proxy.py`, which can
/// also slow a transfer down so that a test can act half-way.
@Suite(.serialized) struct RegistryFaultTests {
    static let proxyScript = RegistryTests.repositoryRoot + "/Tests/Interop/registry-proxy.py"

    /// A proxy on a free port in front of `registry`, logging to `log`.
    static func proxy(_ registry: TestRegistry, log: String, _ options: [String]) async throws -> LoopbackServer {
        let port = try await LoopbackServer.freePort()
        return try await LoopbackServer(
            port: port, command: ["python3", proxyScript, port, registry.address, log] + options)
    }

    /// The proxy's log: one object per request.
    static func requests(_ log: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    static func requirements(root: Bool = false) -> Bool {
        TestEnvironment.requirementsMet(
            tools: ["docker-registry", "python3"], root: root, fail: { Issue.record(Comment(rawValue: $0)) })
    }

    /// Every stored blob's bytes hash to its name, and no ingest is left.
    static func expectVerifiedStore(_ root: String) throws {
        let content = try StateRoot(path: root).content
        for info in try content.list() {
            let bytes = try content.open(info.digest).readToEnd(limit: 1 << 30)
            #expect(Digest.sha256(bytes) == info.digest, "blob \(info.digest) is corrupt")
        }
        #expect(try content.ingests().isEmpty)
    }

    @Test func pushResumesAfterTheRegistryRestarts() async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("registry-restart")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let log = t.at("proxy.log")
        // 40 MB/s: the 80 MB layer takes about two seconds, time to stop the registry half-way.
        let proxy = try await Self.proxy(registry, log: log, ["--rate", "40000000"])
        let root = t.at("root")
        let image = try await RegistryTests.oneFileImage(t, root: root, name: "big", randomBytes: 80_000_000)
        let target = "127.0.0.1:\(proxy.port)/faults/big:1"
        let push = try await Background(
            [TestEnvironment.strataExecutable, "--root", root, "push", image, target, "--json"], output: t.at("push"))

        // The registry dies once it has acknowledged a chunk of the layer (while the proxy reads
        // the next), and comes back a second later. (Killed in the middle of a chunk instead, it
        // forgets the session, whose signed offset no longer matches its data; the push then
        // starts the blob again, which the client also does.)
        let acknowledgedAChunk = try await Background.until {
            Self.requests(log).contains { $0["method"] as? String == "PATCH" && $0["status"] as? Int == 202 }
        }
        #expect(acknowledgedAChunk, "the registry never acknowledged a chunk")
        registry.stop()
        try await Task.sleep(for: .seconds(1))
        try await registry.start()
        let (out, err) = try await push.wait()
        let result = Self.json(out)
        #expect(result["uploaded"] as? Int == 2, "push: \(out) \(err)")

        // It resumed: the registry was asked where the session stood, and nothing it had
        // acknowledged was sent again.
        let requests = Self.requests(log)
        let asked = requests.contains {
            $0["method"] as? String == "GET" && ($0["path"] as? String ?? "").contains("/blobs/uploads/")
                && $0["status"] as? Int == 204
        }
        let trail = requests.map { "\($0["method"] ?? "") \($0["status"] ?? "") \($0["sent"] ?? "")" }
        #expect(asked, "no upload status was asked for: \(trail)")
        let failed = requests.filter { $0["status"] as? Int == 502 }
        #expect(!failed.isEmpty, "no request met the stopped registry")
        let acknowledged = requests.filter {
            ["PATCH", "PUT"].contains($0["method"] as? String ?? "") && [201, 202].contains($0["status"] as? Int ?? 0)
        }.reduce(0) { $0 + ($1["sent"] as? Int ?? 0) }
        #expect(acknowledged <= 80_000_000 + 10_000, "\(acknowledged) bytes acknowledged for an 80 MB push")

        // The result is whole: a fresh root pulls it, every digest checked.
        let fresh = t.at("fresh")
        let pulled = try await StrataCLI.json(fresh, ["pull", "\(registry.address)/faults/big:1", "--json"])
        #expect(pulled["downloaded"] as? Int == 2, "\(pulled)")
        try Self.expectVerifiedStore(fresh)
    }

    @Test func wrongBytesAreRefusedAndNothingCorruptIsStored() async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("registry-flip")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let root = t.at("root")
        let image = try await RegistryTests.oneFileImage(t, root: root, name: "flip", randomBytes: 3_000_000)
        _ = try await StrataCLI.json(root, ["push", image, "\(registry.address)/faults/flip:1"])
        let log = t.at("proxy.log")
        let proxy = try await Self.proxy(registry, log: log, ["--flip"])

        let fresh = t.at("fresh")
        let r = try await Tool.strata(["--root", fresh, "pull", "127.0.0.1:\(proxy.port)/faults/flip:1"])
        #expect(!r.succeeded, "a pull of flipped bytes succeeded")
        #expect(r.stderr.contains("expected digest") && r.stderr.contains("nothing was stored"), "\(r.stderr)")
        let flipped = Self.requests(log).filter { ($0["received"] as? Int ?? 0) > 4096 }
            .compactMap { ($0["path"] as? String)?.split(separator: "/").last.map(String.init) }
        #expect(flipped.count >= 1 && flipped.allSatisfy { r.stderr.contains($0) }, "\(r.stderr) \(flipped)")
        let content = try StateRoot(path: fresh).content
        for d in flipped {
            #expect((try? content.info(Digest(parsing: d)!)) == nil, "the corrupt blob \(d) was stored")
        }
        try Self.expectVerifiedStore(fresh)
        let images = try await Tool.strata(["--root", fresh, "image", "ls", "--json"])
        #expect(images.stdout.isEmpty, "an image was named: \(images.stdout)")
    }

    @Test func aPullKilledHalfWayResumes() async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("registry-kill")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let root = t.at("root")
        let image = try await RegistryTests.oneFileImage(t, root: root, name: "kill", randomBytes: 60_000_000)
        _ = try await StrataCLI.json(root, ["push", image, "\(registry.address)/faults/kill:1"])
        let log = t.at("proxy.log")
        let proxy = try await Self.proxy(registry, log: log, ["--rate", "20000000"])
        let source = "127.0.0.1:\(proxy.port)/faults/kill:1"

        let fresh = t.at("fresh")
        let pull = try await Background(
            [TestEnvironment.strataExecutable, "--root", fresh, "pull", source], output: t.at("pull"))
        let ingests = fresh + "/ingest"
        let halfWay = try await Background.until {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: ingests)) ?? []
            return names.contains {
                let size = (try? FileManager.default.attributesOfItem(atPath: "\(ingests)/\($0)/data"))?[.size]
                return ((size as? NSNumber)?.intValue ?? 0) >= 10_000_000
            }
        }
        #expect(halfWay, "the layer's ingest never reached 10 MB")
        pull.kill(SIGKILL)
        _ = try await pull.wait()

        let again = try await StrataCLI.json(fresh, ["pull", source, "--json"])
        #expect(again["downloaded"] as? Int == 1, "\(again)")  // the config was already stored
        let resumed = Self.requests(log).filter {
            ($0["range"] as? String).flatMap { Int($0.dropFirst("bytes=".count).dropLast()) } ?? 0 >= 10_000_000
        }
        #expect(resumed.count == 1 && resumed.first?["status"] as? Int == 206, "\(Self.requests(log))")
        try Self.expectVerifiedStore(fresh)
    }

    /// A blob in another repository of the registry (known from a pull or a push) is mounted,
    /// not sent.
    @Test func blobsInAnotherRepositoryAreMounted() async throws {
        guard Self.requirements() else { return }
        let t = TempDirectory("registry-mount")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let root = t.at("root")
        let image = try await RegistryTests.oneFileImage(t, root: root, name: "m", randomBytes: 2_000_000)
        let first = try await StrataCLI.json(root, ["push", image, "\(registry.address)/one/m:1", "--json"])
        #expect(first["uploaded"] as? Int == 2)
        let second = try await StrataCLI.json(root, ["push", image, "\(registry.address)/two/m:1", "--json"])
        #expect(second["mounted"] as? Int == 2 && second["uploaded"] as? Int == 0, "\(second)")

        // A pulled image knows its source repository too.
        let fresh = t.at("fresh")
        _ = try await StrataCLI.json(fresh, ["pull", "\(registry.address)/two/m:1", "--name", "m"])
        let third = try await StrataCLI.json(fresh, ["push", "m", "\(registry.address)/three/m:1", "--json"])
        #expect(third["mounted"] as? Int == 2 && third["uploaded"] as? Int == 0, "\(third)")
        let check = try await StrataCLI.json(t.at("check"), ["pull", "\(registry.address)/three/m:1", "--json"])
        #expect(check["downloaded"] as? Int == 2, "\(check)")
    }
}
