import Foundation
import StrataCompression
import StrataFS
import StrataPatch
import StrataStreams
import StrataTestSupport
import Testing

/// Issue 23: patches and journals from outside. ROOT sits at TMP/a/b/root beside a `victim`
/// directory, and everything outside ROOT is compared before and after: before the fix a journal
/// planted in ROOT chmodded and emptied `victim`, a frame decompressed without bound, and an
/// image patch declared exabytes.
@Suite struct HostilePatchTests {
    struct Sentinel {
        let t: TempDirectory
        let root: String
        let before: DirectorySnapshot

        init(_ label: String) throws {
            t = TempDirectory(label)
            for d in ["a", "a/b", "a/b/victim", "a/b/root", "a/b/root/data"] { _ = t.directory(d) }
            try Data("secret".utf8).write(to: URL(fileURLWithPath: t.at("a/b/victim/secret")))
            try Data("inside".utf8).write(to: URL(fileURLWithPath: t.at("a/b/root/data/file")))
            chmod(t.at("a/b/victim"), 0o700)
            root = t.at("a/b/root")
            before = try DirectorySnapshot.take(t.path, excluding: "a/b/root", directoryTimes: false)
        }

        func expectOutsideUnchanged(sourceLocation: SourceLocation = #_sourceLocation) throws {
            let after = try DirectorySnapshot.take(t.path, excluding: "a/b/root", directoryTimes: false)
            #expect(after == before, "outside ROOT changed", sourceLocation: sourceLocation)
        }

        /// Plants a staging with `journal` (JSON text) at `staging` (relative to TMP), private to
        /// this user as Strata's own is, so that only the journal's content is judged.
        func plant(_ journal: String, at staging: String) throws {
            for d in [staging, staging + "/staged", staging + "/trash"] {
                _ = t.directory(d)
                chmod(t.at(d), 0o700)
            }
            try Data(journal.utf8).write(to: URL(fileURLWithPath: t.at(staging + "/journal.json")))
            chmod(t.at(staging + "/journal.json"), 0o600)
        }
    }

    /// What a container would write: attributes for `../victim`, a delete of `../victim/secret`.
    static let hostileJournal = """
        {"root":[0,0],"operations":[
          {"kind":"attributes","path":"/../victim","type":"directory","mode":511,"uid":1234,"gid":1234},
          {"kind":"delete","path":"/../victim/secret"}],
         "keepTimes":[]}
        """

    @Test func aJournalPlantedInsideRootIsRefusedSayingWhatToRemove() async throws {
        let s = try Sentinel("patch-planted")
        try s.plant(Self.hostileJournal, at: "a/b/root/.strata-patch")
        let r = try await Tool.strata(["patch", "recover", s.root])
        #expect(r.status == 1, "\(r.stdout)\(r.stderr)")
        #expect(
            r.stderr.contains("root/.strata-patch was not made by strata") && r.stderr.contains("remove it"),
            "\(r.stderr)")
        try s.expectOutsideUnchanged()
        // An apply recovers first: it must refuse the same way, before doing anything.
        _ = s.t.directory("p-base")
        _ = s.t.directory("p-target")
        let made = try await Tool.strata(["patch", "create", s.t.at("p-base"), s.t.at("p-target"), "-o", s.t.at("p")])
        #expect(made.succeeded, "\(made.stderr)")
        let before = try DirectorySnapshot.take(s.t.path, excluding: "a/b/root", directoryTimes: false)
        let applied = try await Tool.strata(["patch", "apply", s.t.at("p"), s.root])
        #expect(applied.status == 1 && applied.stderr.contains("remove it"), "\(applied.stderr)")
        #expect(try DirectorySnapshot.take(s.t.path, excluding: "a/b/root", directoryTimes: false) == before)
        #expect(FileManager.default.fileExists(atPath: s.t.at("a/b/victim/secret")))
        #expect(FileManager.default.fileExists(atPath: s.root + "/data/file"))
    }

    /// Where Strata does stage (beside ROOT), the journal is still checked like a patch before
    /// any step runs: no path with `..`, `.`, an empty component or a NUL.
    @Test(arguments: ["/../victim", "/data/../../victim", "/./data", "//data", "/data/\\u0000"])
    func aJournalNamingPathsOutsideRootIsNotRolledForward(_ path: String) async throws {
        let s = try Sentinel("patch-journal")
        try s.plant(
            Self.hostileJournal.replacingOccurrences(of: "/../victim", with: path), at: "a/b/.strata-patch-root")
        let r = try await Tool.strata(["patch", "recover", s.root])
        #expect(r.status == 1 && r.stderr.contains("cannot be trusted"), "\(path): \(r.stderr)")
        try s.expectOutsideUnchangedExceptStaging()
        #expect(FileManager.default.fileExists(atPath: s.root + "/data/file"))
    }

    /// A journal that is not a private regular file of this user's is not even read: a FIFO
    /// would block recovery (holding ROOT's lock) forever.
    @Test(arguments: ["fifo", "writable"])
    func aJournalStrataDidNotWriteIsNotRead(_ kind: String) async throws {
        let s = try Sentinel("patch-not-ours")
        try s.plant(
            Self.hostileJournal.replacingOccurrences(of: "/../victim", with: "/data"), at: "a/b/.strata-patch-root")
        let journal = s.t.at("a/b/.strata-patch-root/journal.json")
        if kind == "fifo" {
            unlink(journal)
            mkfifo(journal, 0o600)
        } else {
            chmod(journal, 0o666)
        }
        let r = try await Tool.strata(["patch", "recover", s.root])
        #expect(r.status == 1 && r.stderr.contains("not a private file"), "\(kind): \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: s.root + "/data/file"))
    }

    /// A frame that decompresses to far more than it declares stops at the declared size.
    @Test func aFrameStopsAtItsDeclaredSize() async throws {
        let s = try Sentinel("patch-bomb")
        let bomb = try Self.zstd([UInt8](repeating: 0, count: 256 << 20))
        let identity = Digest.sha256(Array("[]".utf8))
        let ten = Digest.sha256([UInt8](repeating: 0, count: 10))
        let manifest = """
            {"version":1,"base":"\(identity)","expectations":[],
             "operations":[{"kind":"replace","path":"/data/bomb","type":"regular","mode":420,"frame":0,"size":10,"sha256":"\(ten)"}],
             "frames":[{"offset":16,"length":\(bomb.count),"size":10,"sha256":"\(ten)"}]}
            """
        let elsewhere = TempDirectory("patch-bomb-file")
        try Data(Self.patchFile(frames: bomb, manifest: manifest)).write(to: URL(fileURLWithPath: elsewhere.at("p")))
        let r = try await Tool.strata(["patch", "apply", elsewhere.at("p"), s.root])
        #expect(r.status == 1 && r.stderr.contains("more than the 10 bytes it declares"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.root + "/data/bomb"))
        try s.expectOutsideUnchanged()
    }

    /// Sizes at Int64's edge are refused, not trapped on: a file of Int64.max bytes, an image
    /// run of Int64.max bytes.
    @Test(arguments: ["file", "run"])
    func sizesAtTheEdgeAreRefused(_ what: String) async throws {
        let t = TempDirectory("patch-edge")
        let max = Int64.max
        let zero = Digest.sha256([UInt8]())
        let manifest =
            what == "file"
            ? """
            {"version":1,"base":"\(Digest.sha256(Array("[]".utf8)))","expectations":[],
             "operations":[{"kind":"replace","path":"/f","type":"regular","mode":420,"frame":0,"size":\(max),"sha256":"\(zero)"}],
             "frames":[{"offset":16,"length":0,"size":\(max),"sha256":"\(zero)"}]}
            """
            : """
            {"version":1,"base":"\(zero)","expectations":[],"operations":[],
             "frames":[{"offset":16,"length":0,"size":\(max),"sha256":"\(zero)"}],
             "image":{"size":\(max),"target":"\(zero)","runs":[{"offset":0,"length":\(max),"frame":0}],"holes":[]}}
            """
        try Data(Self.patchFile(frames: [], manifest: manifest)).write(to: URL(fileURLWithPath: t.at("p")))
        let target = what == "file" ? t.directory("root") : t.at("disk.img")
        if what == "run" { try Data().write(to: URL(fileURLWithPath: target)) }
        let r = try await Tool.strata(["patch", "apply", t.at("p"), target])
        // The file: refused by its size; the run: by the filesystem's own limit or its short frame.
        let why = what == "file" ? "the patch is damaged" : "strata: error: "
        #expect(
            r.status == 1 && r.stderr.hasPrefix("strata: error: ") && r.stderr.contains(why), "\(what): \(r.stderr)")
    }

    /// The fuzzer's first finding (Fuzz/Corpus/findings/patch): a manifest length above Int64.max
    /// trapped the reader.
    @Test func aManifestLengthPastInt64IsRefused() async throws {
        let t = TempDirectory("patch-length")
        var bytes = Self.patchFile(frames: [], manifest: "{}")
        bytes.replaceSubrange((bytes.count - 24)..<(bytes.count - 16), with: [UInt8](repeating: 0xFF, count: 8))
        try Data(bytes).write(to: URL(fileURLWithPath: t.at("p")))
        _ = t.directory("root")
        let r = try await Tool.strata(["patch", "apply", t.at("p"), t.at("root")])
        #expect(r.status == 1 && r.stderr.contains("is not a Strata patch"), "\(r.stderr)")
    }

    /// A delta's copies stop at the size of the file it rebuilds.
    @Test func deltaOutputStopsAtTheOperationsSize() throws {
        let base = [UInt8](repeating: 7, count: 1 << 20)
        var copy: [UInt8] = [0]
        copy += withUnsafeBytes(of: UInt64(0).littleEndian, Array.init)
        copy += withUnsafeBytes(of: UInt64(base.count).littleEndian, Array.init)
        let ops = Array(repeating: copy, count: 100_000).flatMap { $0 }  // 1.7 MB asking for 100 GiB
        var written = 0
        #expect(throws: DeltaError.tooLong(limit: 3 << 20)) {
            try base.withUnsafeBytes { b in try Delta.decode(ops, base: b, limit: 3 << 20) { written += $0.count } }
        }
        #expect(written == 3 << 20)
    }

    /// An image patch cannot declare a target exabytes long (a truncate and a hash of zeros).
    @Test func anImagePatchCannotDeclareAnImmenseTarget() async throws {
        let t = TempDirectory("patch-image-size")
        let image = [UInt8](repeating: 1, count: 1 << 20)
        try Data(image).write(to: URL(fileURLWithPath: t.at("disk.img")))
        let size = Int64(1) << 60
        let manifest = """
            {"version":1,"base":"\(Digest.sha256(image))","expectations":[],"operations":[],"frames":[],
             "image":{"size":\(size),"target":"\(Digest.sha256(image))","runs":[],"holes":[{"offset":\(1 << 20),"length":\(size - (1 << 20))}]}}
            """
        try Data(Self.patchFile(frames: [], manifest: manifest)).write(to: URL(fileURLWithPath: t.at("p")))
        let r = try await Tool.strata(["patch", "apply", t.at("p"), t.at("disk.img")])
        #expect(r.status == 1 && r.stderr.contains("would grow"), "\(r.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: t.at("disk.img"))) == Data(image))
        #expect(try FileManager.default.contentsOfDirectory(atPath: t.path).sorted() == ["disk.img", "p"])
    }

    static func zstd(_ bytes: [UInt8]) throws -> [UInt8] {
        let sink = MemorySink()
        let c = try Compression.zstd.compressor(level: 3, into: sink)
        try c.write(bytes)
        try c.finish()
        return sink.bytes
    }

    /// A patch file around `frames` (the bytes after the header) and a manifest's JSON.
    static func patchFile(frames: [UInt8], manifest: String) -> [UInt8] {
        let json = Array(manifest.utf8)
        return Array("STRATA-PATCH-v1\n".utf8) + frames + json
            + withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + Array("STRATA-PATCH-END".utf8)
    }
}

extension HostilePatchTests.Sentinel {
    /// Outside ROOT unchanged but for the planted staging (which recovery must leave alone).
    func expectOutsideUnchangedExceptStaging(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let after = try DirectorySnapshot.take(t.path, excluding: "a/b/root", directoryTimes: false)
        let planted = { (k: String) in k.hasPrefix("a/b/.strata-patch-root") }
        #expect(
            after.entries.filter { !planted($0.key) } == before.entries.filter { !planted($0.key) },
            "outside ROOT changed", sourceLocation: sourceLocation)
    }
}
