import Foundation
import StrataProcessors
import StrataTestSupport
import Testing

/// containerd's stream processors, driven through `strata apply --media-type` with real tools as
/// the external processors: `xz -d` for a `+xz` type, an external `zstd -d` against the
/// built-in zstd, `openssl enc -d` reading its key from descriptor 3 (`--payload`), a two-step
/// chain; and every way a processor can fail, each leaving the target as it was and no process
/// behind.
@Suite(.serialized) struct StreamProcessorTests {
    static let tar = "application/vnd.oci.image.layer.v1.tar"

    /// A layer (uncompressed) of a small tree, its diffID, the tree, and an empty target.
    struct Fixture {
        let t = TempDirectory("processors")
        var layer: String { t.at("layer.tar") }
        var diffID = ""
        var tree: DirectorySnapshot?

        static func make() async throws -> Fixture {
            var f = Fixture()
            let src = f.t.directory("src")
            try await Tool.check(
                "sh",
                [
                    "-c",
                    "mkdir -p a/b && echo one > a/one && head -c 3000000 /dev/urandom > a/b/data && ln -s one a/link",
                ], in: src)
            let r = try await Tool.strata([
                "diff", f.t.directory("empty"), src, "-o", f.layer, "--compression", "none", "--mtime", "ns", "--json",
            ])
            #expect(r.succeeded, "\(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            f.diffID = json?["digest"] as? String ?? "-"
            f.tree = try DirectorySnapshot.take(src, directoryTimes: false)
            return f
        }

        /// Writes `toml` as the config and returns its path.
        func config(_ toml: String) throws -> String {
            let path = t.at("strata-\(UUID().uuidString).toml")
            try toml.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// `strata apply` of `blob` as `mediaType` into a fresh target; the result and the target.
        func apply(_ blob: String, _ mediaType: String, _ extra: [String] = []) async throws -> (ToolResult, String) {
            let target = t.directory("target-\(UUID().uuidString)")
            try "keep".write(toFile: target + "/existing", atomically: true, encoding: .utf8)
            let r = try await Tool.strata(["apply", blob, target, "--media-type", mediaType, "--json"] + extra)
            return (r, target)
        }

        func diffID(of r: ToolResult) -> String? {
            (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["diffID"] as? String
        }

        /// The chain's steps the apply reports.
        func steps(of r: ToolResult) -> [String] {
            (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["processors"]
                as? [String] ?? []
        }

        /// The target holds the layer's tree (and the file it had).
        func expectApplied(_ target: String) throws {
            try FileManager.default.removeItem(atPath: target + "/existing")
            let got = try DirectorySnapshot.take(target, directoryTimes: false)
            let differing = got.entries.filter { tree?.entries[$0.key] != $0.value }.keys.sorted()
            #expect(got == tree, "differ: \(differing) \(got.entries.count) vs \(tree?.entries.count ?? 0)")
        }

        /// The target holds only what it had.
        func expectUnchanged(_ target: String) throws {
            #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["existing"])
        }
    }

    static func requirements() -> Bool {
        TestEnvironment.requirementsMet(
            tools: ["xz", "zstd", "openssl", "pgrep"], root: false, fail: { Issue.record(Comment(rawValue: $0)) })
    }

    /// No process whose command line holds `marker` is left.
    static func expectNoProcess(_ marker: String) async throws {
        let r = try await Tool.run("pgrep", ["-f", marker])
        #expect(r.stdout.isEmpty, "processes left: \(r.stdout)")
    }

    static func declare(_ id: String, accepts: String, returns: String = tar, _ path: String, _ args: [String])
        -> String
    {
        let list = args.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            [stream_processors."\(id)"]
              accepts = ["\(accepts)"]
              returns = "\(returns)"
              path = "\(path)"
              args = [\(list)]
              env = ["STRATA_TEST=1"]

            """
    }

    @Test func xzThroughAnExternalProcessor() async throws {
        guard Self.requirements() else { return }
        let f = try await Fixture.make()
        try await Tool.check("sh", ["-c", "xz -c '\(f.layer)' > '\(f.layer).xz'"])
        let config = try f.config(Self.declare("xz", accepts: Self.tar + "+xz", "xz", ["-d", "-c"]))
        let (r, target) = try await f.apply(f.layer + ".xz", Self.tar + "+xz", ["--config", config])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(f.diffID(of: r) == f.diffID)
        try f.expectApplied(target)
    }

    @Test func externalZstdMatchesTheBuiltInByteForByte() async throws {
        guard Self.requirements() else { return }
        let f = try await Fixture.make()
        try await Tool.check("sh", ["-c", "zstd -q -c '\(f.layer)' > '\(f.layer).zst'"])
        let config = try f.config(
            Self.declare("zstd-external", accepts: Self.tar + "+zstd", "zstd", ["-d", "-c", "-q"]))
        let (external, t1) = try await f.apply(f.layer + ".zst", Self.tar + "+zstd", ["--config", config])
        let (builtIn, t2) = try await f.apply(f.layer + ".zst", Self.tar + "+zstd")
        #expect(external.succeeded && builtIn.succeeded, "\(external.stderr) \(builtIn.stderr)")
        // Equal diffIDs: the two tar streams are the same bytes.
        #expect(f.diffID(of: external) == f.diffID && f.diffID(of: builtIn) == f.diffID)
        #expect(f.steps(of: external) == ["zstd-external"] && f.steps(of: builtIn) == ["zstd"])
        try f.expectApplied(t1)
        try f.expectApplied(t2)
    }

    /// The key comes on descriptor 3 (`openssl -pass fd:3`): decrypt, then the built-in gzip;
    /// decrypt, then an external xz. A wrong key fails cleanly.
    @Test func decryptionKeyOnDescriptor3AndTwoStepChains() async throws {
        guard Self.requirements() else { return }
        let f = try await Fixture.make()
        let key = f.t.at("key")
        let wrong = f.t.at("wrong")
        try "correct horse battery staple".write(toFile: key, atomically: true, encoding: .utf8)
        try "wrong".write(toFile: wrong, atomically: true, encoding: .utf8)
        let l = f.layer
        try await Tool.check(
            "sh",
            [
                "-c",
                "gzip -c '\(l)' > '\(l).gz' && xz -c '\(l)' > '\(l).xz' && "
                    + "openssl enc -aes-256-ctr -pbkdf2 -pass 'file:\(key)' -in '\(l).gz' -out '\(l).gz.enc' && "
                    + "openssl enc -aes-256-ctr -pbkdf2 -pass 'file:\(key)' -in '\(l).xz' -out '\(l).xz.enc'",
            ])
        let decrypt = ["enc", "-d", "-aes-256-ctr", "-pbkdf2", "-pass", "fd:3"]
        let config = try f.config(
            Self.declare(
                "decrypt-gzip", accepts: Self.tar + "+gzip+encrypted", returns: Self.tar + "+gzip", "openssl", decrypt)
                + Self.declare(
                    "decrypt-xz", accepts: Self.tar + "+xz+encrypted", returns: Self.tar + "+xz", "openssl", decrypt)
                + Self.declare("xz", accepts: Self.tar + "+xz", "xz", ["-d", "-c"]))

        let (gz, t1) = try await f.apply(
            l + ".gz.enc", Self.tar + "+gzip+encrypted", ["--config", config, "--payload", "decrypt-gzip=\(key)"])
        #expect(gz.succeeded, "\(gz.stderr)")
        #expect(f.diffID(of: gz) == f.diffID && f.steps(of: gz) == ["decrypt-gzip", "gzip"])
        try f.expectApplied(t1)
        let (xz, t2) = try await f.apply(
            l + ".xz.enc", Self.tar + "+xz+encrypted", ["--config", config, "--payload", "decrypt-xz=\(key)"])
        #expect(xz.succeeded, "\(xz.stderr)")
        #expect(f.diffID(of: xz) == f.diffID && f.steps(of: xz) == ["decrypt-xz", "xz"])
        try f.expectApplied(t2)

        let (bad, t3) = try await f.apply(
            l + ".gz.enc", Self.tar + "+gzip+encrypted", ["--config", config, "--payload", "decrypt-gzip=\(wrong)"])
        #expect(!bad.succeeded)
        #expect(bad.stderr.contains("stream processor decrypt-gzip"), "\(bad.stderr)")
        try f.expectUnchanged(t3)
        try await Self.expectNoProcess("aes-256-ctr -pbkdf2 -pass fd:3")
    }

    @Test(arguments: [
        ("exits", "echo the key is gone >&2; exit 3", "exited with status 3", "the key is gone"),
        ("killed", "echo dying >&2; kill -9 $$", "killed by signal 9", "dying"),
        ("garbage", "cat >/dev/null; head -c 5000 /dev/urandom", "wrote an invalid stream", ""),
        ("hangs", "sleep 317; true", "still running after 1.0 s", ""),
        ("stops", "head -c 1000 >/dev/null; head -c 1024 /dev/zero", "exited before reading all its input", ""),
    ])
    func aFailingProcessorFailsCleanly(_ name: String, script: String, says: String, stderr: String) async throws {
        guard Self.requirements() else { return }
        let f = try await Fixture.make()
        let marker = "strata-processor-test-\(name)-\(UUID().uuidString)"
        let config = try f.config(
            Self.declare("p-\(name)", accepts: Self.tar + "+test", "sh", ["-c", script + " # " + marker]))
        let started = Date()
        let (r, target) = try await f.apply(
            f.layer, Self.tar + "+test", ["--config", config, "--processor-timeout", "1"])
        #expect(!r.succeeded)
        #expect(r.stderr.contains("stream processor p-\(name)") && r.stderr.contains(says), "\(r.stderr)")
        #expect(stderr.isEmpty || r.stderr.contains(stderr), "\(r.stderr)")
        #expect(Date().timeIntervalSince(started) < 30)
        try f.expectUnchanged(target)
        try await Self.expectNoProcess(marker)
        try await Self.expectNoProcess("sleep 317")
    }

    @Test func anUnknownMediaTypeNamesWhatIsConfigured() async throws {
        guard Self.requirements() else { return }
        let f = try await Fixture.make()
        let config = try f.config(Self.declare("xz", accepts: Self.tar + "+xz", "xz", ["-d", "-c"]))
        let (r, target) = try await f.apply(f.layer, Self.tar + "+lz4", ["--config", config])
        #expect(!r.succeeded)
        #expect(r.stderr.contains("no stream processor for media type \(Self.tar)+lz4"), "\(r.stderr)")
        #expect(r.stderr.contains("configured: \(Self.tar)+xz"), "\(r.stderr)")
        try f.expectUnchanged(target)
        let (missing, _) = try await f.apply(
            f.layer, Self.tar + "+xz", ["--config", config, "--payload", "nope=\(f.layer)"])
        #expect(!missing.succeeded && missing.stderr.contains("no stream processor nope"), "\(missing.stderr)")
    }

    /// A `[stream_processors]` section as containerd's docs show it reads as it is; a broken
    /// file names its line.
    @Test func containerdsConfigShapeParses() throws {
        let toml = """
            version = 2
            [plugins."io.containerd.grpc.v1.cri"]
              sandbox_image = "ignored"
            [stream_processors]
              [stream_processors."io.containerd.ocicrypt.decoder.v1.tar.gzip"]
                accepts = ["application/vnd.oci.image.layer.v1.tar+gzip+encrypted"]
                returns = "application/vnd.oci.image.layer.v1.tar+gzip"
                path = "ctd-decoder"
                args = ["--decryption-keys-path", "/etc/containerd/ocicrypt/keys"]
                env = ["OCICRYPT_KEYPROVIDER_CONFIG=/etc/containerd/ocicrypt/ocicrypt_keyprovider.conf"]
            """
        let p = try StreamProcessors(toml: toml, source: "containerd.toml")
        #expect(p.processors.count == 1)
        let d = p.processors[0]
        #expect(d.id == "io.containerd.ocicrypt.decoder.v1.tar.gzip" && d.path == "ctd-decoder")
        #expect(d.returns == "application/vnd.oci.image.layer.v1.tar+gzip" && d.args.count == 2 && d.env.count == 1)
        #expect(p.processor(accepting: "application/vnd.oci.image.layer.v1.tar+gzip+encrypted") == d)
        #expect(throws: ProcessorError.self) {
            try StreamProcessors(toml: "[stream_processors\nx = 1", source: "bad.toml")
        }
        #expect(throws: ProcessorError.self) {
            try StreamProcessors(toml: "[stream_processors.x]\naccepts = [\"a\"]\n", source: "nopath.toml")
        }
    }

    /// The write side: `strata diff --compressor ID` encodes the tar stream with a declared
    /// processor (gzip -1, zstd -19 here); the blob digest is its output's, the media type its
    /// `returns`, the diffID the tar stream's. A compressor that fails leaves no file.
    @Test func externalCompressorsWriteLayers() async throws {
        guard Self.requirements() else { return }
        let f = try await Fixture.make()
        let src = f.t.at("src")
        let config = try f.config(
            Self.declare("gzip-fast", accepts: Self.tar, returns: Self.tar + "+gzip", "gzip", ["-c", "-1"])
                + Self.declare("zstd-max", accepts: Self.tar, returns: Self.tar + "+zstd", "zstd", ["-19", "-c", "-q"])
                + Self.declare(
                    "broken", accepts: Self.tar, returns: Self.tar + "+gzip", "sh", ["-c", "echo no disk >&2; exit 4"]))
        for (id, type) in [("gzip-fast", "+gzip"), ("zstd-max", "+zstd")] {
            let out = f.t.at("layer-\(id)")
            let r = try await Tool.strata([
                "diff", f.t.at("empty"), src, "-o", out, "--mtime", "ns", "--compressor", id, "--config", config,
                "--json",
            ])
            #expect(r.succeeded, "\(r.stderr)")
            let d = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
            #expect(d["mediaType"] as? String == Self.tar + type)
            #expect((d["annotations"] as? [String: String])?["containerd.io/uncompressed"] == f.diffID)
            let sum = try await Tool.check("sha256sum", [out])
            #expect((d["digest"] as? String)?.dropFirst("sha256:".count) == sum.stdout.prefix(64))
            let (applied, target) = try await f.apply(out, Self.tar + type)
            #expect(applied.succeeded && f.diffID(of: applied) == f.diffID, "\(applied.stderr)")
            try f.expectApplied(target)
        }
        let out = f.t.at("layer-broken")
        let r = try await Tool.strata([
            "diff", f.t.at("empty"), src, "-o", out, "--compressor", "broken", "--config", config,
        ])
        #expect(
            !r.succeeded && r.stderr.contains("stream processor broken") && r.stderr.contains("no disk"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// `image unpack` takes each layer's media type from its descriptor and the processors from
    /// the state root's `strata.toml`; a processor that fails commits nothing.
    @Test func imageUnpackUsesTheRootsProcessors() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["xz", "python3"], root: true, fail: { Issue.record(Comment(rawValue: $0)) })
        else { return }
        let f = try await Fixture.make()
        let script =
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path + "/scripts/oci-archive.py"
        try await Tool.check("sh", ["-c", "xz -c '\(f.layer)' > '\(f.layer).xz'"])
        try await Tool.check(
            "python3",
            [
                script, f.layer + ".xz", "xz", Self.tar + "+xz", "amd64", "docker.io/strata/xz:1", f.t.at("oci"),
                f.t.at("xz.tar"),
            ])
        for (name, declared, works) in [
            ("good", Self.declare("xz", accepts: Self.tar + "+xz", "xz", ["-d", "-c"]), true),
            (
                "bad",
                Self.declare("xz-broken", accepts: Self.tar + "+xz", "sh", ["-c", "echo corrupt key >&2; exit 2"]),
                false
            ),
        ] {
            let root = f.t.directory("root-\(name)")
            try declared.write(toFile: root + "/strata.toml", atomically: true, encoding: .utf8)
            let r = try await Tool.strata([
                "--root", root, "image", "unpack", f.t.at("oci"), "docker.io/strata/xz:1", "--snapshotter", "native",
                "--json",
            ])
            let ls = try await Tool.strata(["--root", root, "snapshot", "ls", "--snapshotter", "native", "--json"])
            #expect(ls.succeeded, "\(ls.stderr)")
            if works {
                #expect(r.succeeded, "\(r.stderr)")
                let chain =
                    (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["chainID"]
                    as? String ?? "-"
                _ = try await Tool.strata(["--root", root, "snapshot", "view", "--snapshotter", "native", "v", chain])
                let mnt = f.t.directory("mnt")
                try await Tool.check(
                    TestEnvironment.strataExecutable, ["--root", root, "mount", "--snapshotter", "native", "v", mnt])
                let got = try DirectorySnapshot.take(mnt, directoryTimes: false)
                try await Tool.check(TestEnvironment.strataExecutable, ["umount", mnt])
                #expect(got == f.tree)
            } else {
                #expect(!r.succeeded && r.stderr.contains("stream processor xz-broken"), "\(r.stderr)")
                #expect(r.stderr.contains("corrupt key"), "\(r.stderr)")
                #expect(!ls.stdout.contains("\"Committed\"") && !ls.stdout.contains("\"Active\""), "\(ls.stdout)")
            }
        }
    }
}
