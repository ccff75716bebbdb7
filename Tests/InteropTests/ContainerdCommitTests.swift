import Foundation
import StrataChanges
import StrataFS
import StrataTestSupport
import Testing

/// `strata containerd commit` and `strata containerd diff` against a real, private containerd 1.6
/// (`Tests/Interop/containerd-commit.sh`, run once): a running container on containerd's
/// overlayfs snapshotter is paused while its upper directory is diffed and resumed after; a gc
/// forced while the commit holds its blobs, and another once it is done, leaves them in place;
/// the committed image runs, and containerd unpacks it to the container's merged view (owners,
/// modes, times to the second, every xattr, hardlinks); a stopped container on the native
/// snapshotter is committed by comparing trees, to the same effect; with --no-pause a write made
/// while the diff runs is reported; `ctr images push` pushes the committed image to a registry.
@Suite("strata containerd commit", .serialized)
struct ContainerdCommitTests {
    static let script = Interop.scriptsDirectory + "/containerd-commit.sh"

    struct Descriptor: Decodable {
        var digest: String
        var size: Int
        var mediaType: String
    }

    struct Layer: Decodable {
        var digest: String
        var size: Int
        var mediaType: String
        var diffID: String
    }

    /// `strata containerd commit --json`.
    struct Commit: Decodable {
        var image: String
        var manifest: Descriptor
        var config: Descriptor
        var layer: Layer
        var method: String
        var snapshotter: String
        var snapshot: String
        var paused: Bool
        var lease: String?
        var changedDuringDiff: [String]?
    }

    /// `strata containerd diff --json`.
    struct Diff: Decodable {
        var layer: Layer
        var method: String
        var snapshotter: String
        var snapshot: String
        var lease: String?
    }

    /// What c1 changed, as the entries of an overlay-upper layer (whiteouts for the deletions; the
    /// directory replaced by a file is the file alone; etc/link-target, copied up unchanged, is not
    /// there).
    static let expectedDiffEntries: Set<String> = [
        "data/", "data/sub/", "data/sub/file", "etc/", "etc/cap-me", "etc/hl/", "etc/hl/three", "etc/keep",
        "etc/new", "etc/.wh.remove-me", "opt/", "opt/dir", "root/", "root/link", "tmp/", "tmp/ready", "var/",
        "var/lib/", "var/lib/.wh.app",
    ]

    static func decode<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            Issue.record("\(path): \(error): \(String(decoding: data, as: UTF8.self))")
            throw error
        }
    }

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func commitsARunningContainerAsContainerdUnpacksIt() async throws {
        guard
            Interop.requirements(
                tools: [
                    "containerd", "ctr", "runc", "busybox", "python3", "tar", "timeout", "setsid", "mountpoint",
                    "umount", "docker-registry",
                ], root: true)
        else { return }
        let tmp = TempDirectory("ctrd-commit")
        let out = tmp.at("out")
        let r = try await Tool.run(
            "env", ["STRATA_BIN=\(TestEnvironment.strataExecutable)", "bash", Self.script, out])
        guard r.succeeded else { throw CommandFailed(command: "containerd-commit.sh \(out)", result: r) }
        let withEverything = TreeVerifier(times: .seconds, xattrs: .all, owners: true)

        // Paused while held at "diffed", running before and after.
        #expect(try Self.lines(out + "/status.txt") == ["RUNNING", "PAUSED", "RUNNING"])
        let commit = try Self.decode(Commit.self, out + "/commit.json")
        #expect(commit.method == "overlay-upper")
        #expect(commit.paused)
        #expect(commit.snapshotter == "overlayfs")
        #expect(commit.snapshot == "c1")
        #expect(commit.image == "docker.io/strata/committed:1")
        #expect((commit.changedDuringDiff ?? []).isEmpty, "c1 sleeps: nothing changes while it is diffed")

        // The second commit's blobs survived a gc while only its lease held them, and another once
        // only the image referred to them.
        let commit2 = try Self.decode(Commit.self, out + "/commit2.json")
        let held = Set(try Self.lines(out + "/content-held.txt"))
        let after = Set(try Self.lines(out + "/content.txt"))
        for (what, digest) in [
            ("layer", commit2.layer.digest), ("config", commit2.config.digest), ("manifest", commit2.manifest.digest),
        ] {
            #expect(held.contains(digest), "the \(what) \(digest) did not survive a gc while the commit was held")
            #expect(after.contains(digest), "the \(what) \(digest) did not survive a gc after the commit")
        }

        // The images are there, and the committed one runs.
        let images = Set(try Self.lines(out + "/images.txt"))
        #expect(images.isSuperset(of: ["docker.io/strata/committed:1", "docker.io/strata/committed:2"]), "\(images)")
        #expect(!images.contains("docker.io/strata/committed:4"), "a commit stopped by a signal made an image")
        #expect(try String(contentsOfFile: out + "/run.txt", encoding: .utf8) == "changed\n")

        // containerd's unpack of the image is the container's merged view.
        let committed = out + "/committed"
        try Interop.expectSameTree(committed, out + "/merged", withEverything, "committed image vs c1's merged view")
        // ... and that view holds what the comparison is about.
        #expect(try Interop.xattrs(committed, "data/sub/file")["user.strata"] == Array("hello".utf8))
        #expect(try Interop.xattrs(committed, "etc/cap-me")[XattrPolicy.capabilityName]?.count == 20)
        #expect(try Interop.stat(committed, "opt/dir").type == .regular)
        #expect(try Interop.stat(committed, "root/link").type == .symlink)
        let one = try Interop.stat(committed, "etc/hl/one")
        let two = try Interop.stat(committed, "etc/hl/two")
        #expect(one.inode == two.inode && one.linkCount == 2, "etc/hl/one and two should stay one file")
        #expect(try Interop.stat(committed, "etc/hl/three").linkCount == 1, "etc/hl/three was written: its own file")

        // --no-pause: the task ran on, and the file it wrote while the diff ran is reported.
        let nopause = try Self.decode(Commit.self, out + "/nopause.json")
        #expect(!nopause.paused)
        #expect(try Self.lines(out + "/nopause-status.txt") == ["RUNNING"])
        #expect(nopause.changedDuringDiff?.contains("/etc/during") == true, "\(nopause.changedDuringDiff ?? [])")

        // SIGTERM while c1 was paused: the commit stopped (143) with c1 running again and no image.
        #expect(try Self.lines(out + "/signal-exit.txt") == ["143"])
        #expect(try Self.lines(out + "/signal-status.txt") == ["PAUSED", "RUNNING"])

        // ctr images push sends the committed image: the registry serves its manifest for the tag.
        #expect(try Self.lines(out + "/pushed.txt") == [commit.manifest.digest])

        // The native snapshotter: no upper directory, so trees are compared.
        let native = try Self.decode(Commit.self, out + "/native.json")
        #expect(native.method == "trees")
        #expect(native.snapshotter == "native")
        #expect(!native.paused, "c3 has exited: nothing to pause")
        #expect(images.contains("docker.io/strata/native:1"), "\(images)")
        try Interop.expectSameTree(
            out + "/native-committed", out + "/native-merged", withEverything, "native: committed image vs c3's tree")
        #expect(try Interop.stat(out + "/native-committed", "srv/file").type == .regular)

        // strata containerd diff: the upper directory's changes, written where -o said.
        let diff = try Self.decode(Diff.self, out + "/diff.json")
        #expect(diff.method == "overlay-upper")
        #expect(diff.snapshotter == "overlayfs")
        let sum = try await Tool.check("sha256sum", [out + "/diff.tar.gz"]).stdout.prefix(64)
        #expect(diff.layer.digest == "sha256:" + sum, "diff.json's layer is not the file written")
        let tarFile = tmp.at("diff.tar")
        try await Interop.decompress(out + "/diff.tar.gz", to: tarFile)
        let listing = try await Tool.check("tar", ["-tf", tarFile])
        let entries = Set(
            listing.stdout.split(separator: "\n").map { $0.hasPrefix("./") ? String($0.dropFirst(2)) : String($0) }
        ).subtracting(["", "."])
        #expect(entries == Self.expectedDiffEntries, "diff.tar.gz holds \(entries.sorted())")
    }
}
