import FuzzSupport
import StrataArchive
import StrataCompression
import StrataFS
import StrataLayers
import StrataStreams

/// Made on the first input: enters the sandbox (see `Sentinel`) and records the sentinel tree.
private let sentinel = Sentinel(harness: "FuzzApply")

/// The whole apply path, as `strata apply` and the Diff service run it: compression detection
/// (gzip, zstd, plain), the digests, the tar reader and the tar applier, into ROOT inside the
/// sentinel tree. Errors are rejected layers; a change outside ROOT, a trap or a sanitizer report
/// is a finding. ROOT is emptied after every input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    sentinel.run(data, size) {
        let root = try Handle.openDirectory(path: Sentinel.root)
        _ = try Applier(options: ApplyOptions(), expectedDiffID: nil).apply(MemorySource(bytes(data, size)), to: root)
    }
}

/// `LLVMFuzzerInitialize`: the seed mode, layers `Differ` writes from trees.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    Seeds.handle("FuzzApply") { dir in
        let scratch = scratchDirectory("apply-seeds")
        let lower = try TreeBuilder(creating: scratch + "/lower")
        try lower.directory("etc")
        try lower.file("etc/passwd", "root:x:0:0\n")
        try lower.directory("d")
        try lower.file("d/gone", "bye")
        try lower.directory("opaque")
        try lower.file("opaque/old", "old")
        let upper = try TreeBuilder(creating: scratch + "/upper")
        try upper.directory("etc")
        try upper.file("etc/passwd", "root:x:0:0\nuser:x:1000:1000\n")
        try upper.symlink("etc/link", to: "../etc/passwd")
        try upper.hardlink("etc/hard", to: "etc/passwd")
        try upper.node("etc/fifo", type: .fifo)
        try upper.node("null", type: .characterDevice, major: 1, minor: 3)
        try upper.directory("d")
        try upper.directory("opaque")
        try upper.file("opaque/new", "new")
        try upper.sparseFile("sparse", size: 20_000, content: Array("hole".utf8), at: 12_288)
        try upper.file(String(repeating: "long", count: 40), [UInt8](repeating: 7, count: 3000), mode: 0o4755)
        try upper.chown("etc/passwd", uid: 4_000_000, gid: 7)
        try upper.setAllTimes(FileTime(seconds: 1_700_000_000, nanoseconds: 123))
        for compression in [Compression.none, .gzip, .zstd] {
            var options = DiffOptions(compression: compression, nanosecondTimes: true)
            options.xattrs = .all
            let sink = MemorySink()
            _ = try Differ(options: options).write(lower: lower.root, upper: upper.root, to: sink)
            Seeds.save(sink.bytes, dir, "diff-\(compression).layer")
            let whole = MemorySink()
            _ = try Differ(options: options).write(lower: nil, upper: upper.root, to: whole)
            Seeds.save(whole.bytes, dir, "base-\(compression).layer")
        }
    }
    return 0
}
