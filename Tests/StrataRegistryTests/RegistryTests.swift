import Foundation
import StrataFS
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataTestSupport
import Testing

/// `strata push` and `strata pull` against a real registry: Debian's `docker-registry`
/// (distribution 2.8), started on 127.0.0.1 with its own config and storage. An image built by
/// umoci (one layer larger than a chunk, so it goes up in PATCHes) is pushed, pushed again
/// (nothing sent), pulled into a fresh root and unpacked to umoci's tree; skopeo reads what
/// Strata pushed, and Strata pulls what skopeo pushed.
@Suite(.serialized) struct RegistryTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// The tree a `pull --unpack --json` result's chain gives in `root`, through a View.
    static func unpackedTree(_ pulled: [String: Any], root: String, snapshotter: String, _ t: TempDirectory) throws
        -> DirectorySnapshot
    {
        let chain = (pulled["unpack"] as? [String: Any])?["chainID"] as? String ?? "-"
        let s = try StateRoot(path: root).snapshotter(snapshotter)
        _ = try s.view("check", parent: chain, labels: [:])
        let view = t.directory("view-\(UUID().uuidString)")
        try Mounter.mount(try s.mounts("check"), at: view)
        defer { try? Mounter.unmount(view) }
        return try DirectorySnapshot.take(view, directoryTimes: false)
    }

    /// A one-layer image holding the file `name` (its content the name, or `randomBytes` random
    /// bytes; the layer uncompressed), imported into `root` as `docker.io/strata/NAME:1`.
    static func oneFileImage(_ t: TempDirectory, root: String, name: String, randomBytes: Int? = nil) async throws
        -> String
    {
        let tree = t.directory("tree-\(name)")
        if let randomBytes {
            try await Tool.check("sh", ["-c", "head -c \(randomBytes) /dev/urandom > '\(tree)/\(name)'"])
        } else {
            try name.write(toFile: tree + "/" + name, atomically: true, encoding: .utf8)
        }
        let layer = t.at("\(name).layer")
        _ = try await StrataCLI.json(root, ["diff", t.directory("empty"), tree, "-o", layer, "--compression", "none"])
        let image = "docker.io/strata/\(name):1"
        try await Tool.check(
            "python3",
            [
                repositoryRoot + "/scripts/oci-archive.py", layer, "none", MediaType.layer, "amd64", image,
                t.at("\(name)-oci"), t.at("\(name).tar"),
            ])
        _ = try await StrataCLI.json(root, ["image", "import", t.at("\(name).tar")])
        return image
    }

    @Test func pushPullRoundTripsAndInteroperatesWithSkopeo() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["docker-registry", "umoci", "skopeo", "python3"], root: true,
                fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("registry")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let image = try await UmociImage.build(
            in: t, layers: UmociImage.sampleLayers + ["head -c 24000000 /dev/urandom > big"])
        let reference = try await image.unpackByUmoci(t)
        let root = t.at("root")
        _ = try await StrataCLI.json(root, ["image", "import", image.layout, "v1"])
        let target = "\(registry.address)/strata/test:v1"

        let pushed = try await StrataCLI.json(root, ["push", "v1", target, "--json"])
        let blobs = UmociImage.sampleLayers.count + 2  // the layers and the config
        #expect(pushed["uploaded"] as? Int == blobs && pushed["present"] as? Int == 0, "\(pushed)")
        let again = try await StrataCLI.json(root, ["push", "v1", target, "--json"])
        #expect(again["uploaded"] as? Int == 0 && again["present"] as? Int == blobs, "\(again)")
        let digest = (pushed["target"] as? [String: Any])?["digest"] as? String ?? "-"

        // A fresh root pulls it: same digests, and unpacked, umoci's tree.
        let fresh = t.at("fresh")
        let pulled = try await StrataCLI.json(fresh, ["pull", target, "--unpack", "--snapshotter", "native", "--json"])
        let pull = pulled
        #expect((pull["target"] as? [String: Any])?["digest"] as? String == digest)
        #expect(pull["downloaded"] as? Int == blobs)
        let tree = try Self.unpackedTree(pull, root: fresh, snapshotter: "native", t)
        #expect(tree == (try DirectorySnapshot.take(reference, directoryTimes: false)))

        // skopeo reads what Strata pushed; Strata pulls what skopeo pushed.
        let inspected = try await Tool.check("skopeo", ["inspect", "--tls-verify=false", "docker://\(target)"])
        #expect(inspected.stdout.contains(digest))
        try await Tool.check(
            "skopeo", ["copy", "--src-tls-verify=false", "docker://\(target)", "oci:\(t.at("by-skopeo")):v1"])
        try await Tool.check("umoci", ["unpack", "--image", "\(t.at("by-skopeo")):v1", t.at("by-skopeo-bundle")])
        #expect(
            try DirectorySnapshot.take(t.at("by-skopeo-bundle") + "/rootfs", directoryTimes: false)
                == DirectorySnapshot.take(reference, directoryTimes: false))
        try await Tool.check(
            "skopeo",
            ["copy", "--dest-tls-verify=false", "oci:\(image.layout):v1", "docker://\(registry.address)/other/img:s"])
        let fromSkopeo = try await StrataCLI.json(t.at("third"), ["pull", "\(registry.address)/other/img:s", "--json"])
        #expect(fromSkopeo["downloaded"] as? Int == blobs)

        // A digest reference pulls the same image; a missing tag is an error naming it.
        let byDigest = try await StrataCLI.json(
            t.at("fourth"), ["pull", "\(registry.address)/strata/test@\(digest)", "--json"])
        #expect((byDigest["target"] as? [String: Any])?["digest"] as? String == digest)
        let missing = try await Tool.strata(["--root", t.at("fifth"), "pull", "\(registry.address)/strata/test:nope"])
        #expect(!missing.succeeded && missing.stderr.contains("manifests/nope"), "\(missing.stderr)")
    }

    /// Basic auth: no credentials, or wrong ones, give an error naming the registry and what it
    /// refused; `--username` with `--password-stdin`, or `~/.docker/config.json`, get through.
    @Test func basicAuthNeedsTheRightCredentials() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["docker-registry", "htpasswd", "python3"], root: false,
                fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("registry-auth")
        defer { withExtendedLifetime(t) {} }
        let passwords = t.at("htpasswd")
        try await Tool.check("sh", ["-c", "htpasswd -Bbn strata 's3cret' > '\(passwords)'"])
        let registry = try await TestRegistry(
            t, auth: "\nauth:\n  htpasswd:\n    realm: strata-test\n    path: \(passwords)\n")
        let root = t.at("root")
        let image = try await Self.oneFileImage(t, root: root, name: "x")
        let target = "\(registry.address)/private/x:1"
        let strataBinary = TestEnvironment.strataExecutable

        let anonymous = try await Tool.run(strataBinary, ["--root", root, "push", image, target])
        #expect(
            !anonymous.succeeded && anonymous.stderr.contains("registry \(registry.address)"), "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("user name and password"), "\(anonymous.stderr)")
        let wrong = try await Tool.run(
            strataBinary,
            ["--root", root, "push", image, target, "--username", "strata", "--password-stdin"],
            input: Array("wrong\n".utf8))
        #expect(!wrong.succeeded && wrong.stderr.contains("refused the credentials"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("wrong"), "the password was printed")
        let right = try await Tool.run(
            strataBinary,
            ["--root", root, "push", image, target, "--username", "strata", "--password-stdin"],
            input: Array("s3cret\n".utf8))
        #expect(right.succeeded, "\(right.stderr)")

        // Credentials from a docker config file.
        let dockerConfig = t.directory("docker")
        let auth = Data("strata:s3cret".utf8).base64EncodedString()
        try #"{"auths": {"\#(registry.address)": {"auth": "\#(auth)"}}}"#.write(
            toFile: dockerConfig + "/config.json", atomically: true, encoding: .utf8)
        let pulled = try await Tool.run(
            "env", ["DOCKER_CONFIG=\(dockerConfig)", strataBinary, "--root", t.at("fresh"), "pull", target])
        #expect(pulled.succeeded, "\(pulled.stderr)")
    }

    /// Token auth (distribution's token spec): the registry's Bearer challenge sends the client to
    /// a token service, which grants a JWT for the repository's scope to the right credentials.
    @Test func tokenAuthGetsABearerTokenForTheRepositoryScope() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["docker-registry", "openssl", "python3"], root: false,
                fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("registry-token")
        defer { withExtendedLifetime(t) {} }
        let tokens = try await TokenServer(t)
        let registry = try await TestRegistry(t, auth: tokens.registryConfig(service: "strata-registry"))
        let root = t.at("root")
        let image = try await Self.oneFileImage(t, root: root, name: "y")
        let target = "\(registry.address)/tokens/y:1"
        let strataBinary = TestEnvironment.strataExecutable

        let anonymous = try await Tool.run(strataBinary, ["--root", root, "push", image, target])
        #expect(!anonymous.succeeded && anonymous.stderr.contains("refused anonymous access"), "\(anonymous.stderr)")
        let wrong = try await Tool.run(
            strataBinary,
            ["--root", root, "push", image, target, "--username", "strata", "--password-stdin"],
            input: Array("nope\n".utf8))
        #expect(!wrong.succeeded && wrong.stderr.contains("refused the credentials"), "\(wrong.stderr)")
        let right = try await Tool.run(
            strataBinary,
            ["--root", root, "push", image, target, "--username", "strata", "--password-stdin"],
            input: Array("s3cret\n".utf8))
        #expect(right.succeeded, "\(right.stderr)")
        let pulled = try await Tool.run(
            strataBinary,
            ["--root", t.at("fresh"), "pull", target, "--username", "strata", "--password-stdin"],
            input: Array("s3cret\n".utf8))
        #expect(pulled.succeeded, "\(pulled.stderr)")
    }

    /// `pull --unpack` applies a layer while the ones above it still download: with the top
    /// layer slowed down by a proxy, the bottom layer's snapshot is committed while the top
    /// layer's ingest is still open.
    @Test func pullUnpacksWhileLaterLayersDownload() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["docker-registry", "umoci", "python3"], root: true,
                fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("registry-overlap")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let image = try await UmociImage.build(
            in: t, layers: ["echo small > small", "head -c 40000000 /dev/urandom > big"])
        let root = t.at("root")
        _ = try await StrataCLI.json(root, ["image", "import", image.layout, "v1"])
        _ = try await StrataCLI.json(root, ["push", "v1", "\(registry.address)/strata/overlap:1"])
        let proxy = try await RegistryFaultTests.proxy(registry, log: t.at("proxy.log"), ["--rate", "10000000"])

        let fresh = t.at("fresh")
        let pull = try await Background(
            [
                TestEnvironment.strataExecutable, "--root", fresh, "pull", "--unpack", "--snapshotter", "native",
                "127.0.0.1:\(proxy.port)/strata/overlap:1",
            ], output: t.at("pull"))
        var committedWhilePulling = false
        while pull.isRunning && !committedWhilePulling {
            let r = try await Tool.strata(["--root", fresh, "snapshot", "ls", "--snapshotter", "native", "--json"])
            let downloading = !((try? FileManager.default.contentsOfDirectory(atPath: fresh + "/ingest")) ?? []).isEmpty
            committedWhilePulling = r.stdout.contains("\"Committed\"") && downloading
            try await Task.sleep(for: .milliseconds(100))
        }
        let (out, err) = try await pull.wait()
        #expect(committedWhilePulling, "no layer was unpacked before the download ended: \(out) \(err)")
        #expect(out.contains("sha256:"), "pull: \(out) \(err)")
    }

    /// A multi-platform image (an OCI index of an amd64 and an arm64 manifest) goes up as both
    /// manifests by digest and the index under the tag, with their media types; a pull picks
    /// the manifest of `--platform` and fetches only its blobs.
    @Test func anIndexIsPushedWholeAndPulledByPlatform() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["docker-registry", "skopeo", "python3"], root: false,
                fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let t = TempDirectory("registry-index")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        var manifests: [String: String] = [:]
        for arch in ["amd64", "arm64"] {
            let tree = t.directory("tree-\(arch)")
            try arch.write(toFile: tree + "/arch", atomically: true, encoding: .utf8)
            let layer = t.at("\(arch).layer")
            _ = try await StrataCLI.json(
                t.at("scratch"), ["diff", t.directory("empty"), tree, "-o", layer, "--compression", "none"])
            try await Tool.check(
                "python3",
                [
                    Self.repositoryRoot + "/scripts/oci-archive.py", layer, "none", MediaType.layer, arch,
                    "docker.io/strata/multi:\(arch)", t.at("oci-\(arch)"), t.at("\(arch).tar"),
                ])
        }
        // One layout whose image is an index of the two manifests.
        let merge = """
            import json, os, shutil, sys, hashlib
            out = sys.argv[1]
            os.makedirs(out + "/blobs/sha256", exist_ok=True)
            entries = []
            for src in sys.argv[2:]:
                for b in os.listdir(src + "/blobs/sha256"):
                    shutil.copy(src + "/blobs/sha256/" + b, out + "/blobs/sha256/" + b)
                m = json.load(open(src + "/index.json"))["manifests"][0]
                entries.append({k: m[k] for k in ("mediaType", "digest", "size", "platform")})
            index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                                "manifests": entries}).encode()
            d = hashlib.sha256(index).hexdigest()
            open(out + "/blobs/sha256/" + d, "wb").write(index)
            json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": "sha256:" + d, "size": len(index),
                "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}, open(out + "/index.json", "w"))
            open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
            for e in entries: print(e["platform"]["architecture"], e["digest"])
            print("index", "sha256:" + d)
            """
        let merged = try await Tool.check(
            "python3", ["-c", merge, t.at("multi"), t.at("oci-amd64"), t.at("oci-arm64")])
        for line in merged.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { manifests[String(parts[0])] = String(parts[1]) }
        }
        let target = "\(registry.address)/strata/multi:1"
        // Imported for this platform only, the index cannot go up whole: a clear error, nothing sent.
        let partial = t.at("partial")
        _ = try await StrataCLI.json(partial, ["image", "import", t.at("multi"), "multi"])
        let refused = try await Tool.strata(["--root", partial, "push", "multi", target])
        #expect(!refused.succeeded && refused.stderr.contains("cannot be pushed whole"), "\(refused.stderr)")
        #expect(refused.stderr.contains("linux/arm64") || refused.stderr.contains("linux/amd64"), "\(refused.stderr)")

        let root = t.at("root")
        _ = try await StrataCLI.json(root, ["image", "import", t.at("multi"), "multi", "--all-platforms"])
        let pushed = try await StrataCLI.json(root, ["push", "multi", target, "--json"])
        #expect((pushed["target"] as? [String: Any])?["digest"] as? String == manifests["index"])
        #expect(pushed["uploaded"] as? Int == 4, "\(pushed)")  // two layers, two configs
        let raw = try await Tool.check("skopeo", ["inspect", "--raw", "--tls-verify=false", "docker://\(target)"])
        #expect(raw.stdout.contains("application/vnd.oci.image.index.v1+json"), "\(raw.stdout)")

        let pulled = try await StrataCLI.json(t.at("fresh"), ["pull", target, "--platform", "linux/arm64", "--json"])
        #expect((pulled["manifest"] as? [String: Any])?["digest"] as? String == manifests["arm64"], "\(pulled)")
        #expect((pulled["target"] as? [String: Any])?["digest"] as? String == manifests["index"])
        #expect(pulled["downloaded"] as? Int == 2, "\(pulled)")  // arm64's layer and config only
        let all = try await StrataCLI.json(t.at("all"), ["pull", target, "--all-platforms", "--json"])
        #expect(all["downloaded"] as? Int == 4, "\(all)")
    }
}
