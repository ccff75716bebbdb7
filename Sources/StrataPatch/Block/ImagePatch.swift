import Foundation
import StrataFS
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// What a block-level patch of a disk or VM image holds (`PatchManifest.image`).
public struct ImageDelta: Codable, Sendable {
    /// The target's size, and the SHA-256 of its bytes (holes read as zeros).
    public var size: Int64
    public var target: Digest
    /// Changed 4 KiB blocks, coalesced into runs, each with its frame.
    public var runs: [Run]
    /// Ranges that are holes in the target: punched, so the result is as sparse.
    public var holes: [Run]

    public struct Run: Codable, Sendable {
        public var offset: Int64
        public var length: Int64
        public var frame: Int?
    }
}

/// Block-level patches of disk and VM images: the 4 KiB blocks of the target's data that differ
/// from the base at the same offset, and the target's holes (found with `SEEK_DATA`/`SEEK_HOLE`),
/// so the rebuilt image is byte-identical and as sparse. The base's identity is the SHA-256 of
/// its bytes.
public enum ImagePatch {
    public static let blockSize = 4096

    /// Writes the patch from image `base` to image `target` into `output`.
    public static func create(base: Handle, target: Handle, to output: Handle) throws -> PatchCreator.Summary {
        let old = try MappedFile(base, populate: false)
        let new = try MappedFile(target, populate: false)
        let writer = try PatchWriter(output)
        var runs: [ImageDelta.Run] = []
        var run: (start: Int, end: Int)?
        func close() throws {
            guard let r = run else { return }
            let frame = try writer.frame { try $0.write(UnsafeRawBufferPointer(rebasing: new.bytes[r.start..<r.end])) }
            runs.append(ImageDelta.Run(offset: Int64(r.start), length: Int64(r.end - r.start), frame: frame))
            run = nil
        }
        let (data, holes) = try extents(target, size: new.bytes.count)
        for extent in data {
            var b = extent.lowerBound
            while b < extent.upperBound {
                let e = min(b + blockSize, extent.upperBound)
                if !same(old.bytes, new.bytes, b, e) {
                    if let r = run, r.end == b {
                        run = (r.start, e)
                    } else {
                        try close()
                        run = (b, e)
                    }
                } else {
                    try close()
                }
                b = e
            }
            try close()
        }
        let delta = ImageDelta(
            size: Int64(new.bytes.count), target: try digest(target, size: new.bytes.count), runs: runs,
            holes: holes.map { ImageDelta.Run(offset: Int64($0.lowerBound), length: Int64($0.count)) })
        var manifest = PatchManifest(
            base: try digest(base, size: old.bytes.count), expectations: [], operations: [], frames: [])
        manifest.image = delta
        return PatchCreator.Summary(try writer.finish(manifest), size: writer.offset)
    }

    /// Turns the image at `path` into the patch's target: rebuilt beside it, checked, renamed over.
    public static func apply(_ patch: PatchReader, to path: String) throws {
        guard let delta = patch.manifest.image else { throw PatchError.unsupported("the patch is not an image patch") }
        let path = URL(fileURLWithPath: path).resolvingSymlinksInPath().path  // the image, not a link to it
        let file = try Handle.openFile(path: path)
        let baseSize = Int64(try file.stat().size)
        try check(delta, baseSize: baseSize, patch)
        let found = try digest(file, size: Int(baseSize))
        guard found == patch.manifest.base else {
            throw PatchError.wrongBase(path: path, expected: "an image with \(patch.manifest.base)", found: "\(found)")
        }
        let url = URL(fileURLWithPath: path)
        let dir = try Handle.openDirectory(path: url.deletingLastPathComponent().path)
        let name = Array(url.lastPathComponent.utf8)
        try dir.writeAtomically(name, mode: try file.stat().permissions, readable: true) { out in
            try file.seek(to: 0)  // SEEK_DATA/SEEK_HOLE moved it
            _ = try out.copyData(from: file)
            try out.truncate(to: delta.size)
            for r in delta.runs {
                guard let frame = r.frame else { continue }  // `check` refuses such runs
                let sink = PositionedSink(out, at: r.offset)
                try patch.frame(frame, into: sink)
                guard sink.offset == r.offset + r.length else {
                    throw PatchError.damaged("a run's frame has the wrong size")
                }
            }
            try out.truncate(to: delta.size)  // no run may leave bytes past the target's end
            for h in delta.holes where h.length > 0 { try out.punchHole(at: h.offset, length: h.length) }
            let owner = try file.stat()
            try out.changeOwner(uid: owner.uid, gid: owner.gid)
            guard try digest(out, size: Int(delta.size)) == delta.target else {
                throw PatchError.contentMismatch(path)
            }
            FaultPoint.reach("patch.image.staged")
        }
    }

    /// How far a target may grow past both its base and its last run: as holes, which cost a
    /// truncate and a hash of zeros each, so a few bytes of manifest cannot declare exabytes.
    public static let maxGrowth: Int64 = 64 << 30

    /// The manifest's runs and holes must lie inside the target, in order, each run's frame of
    /// the run's size; the target no larger than its base or its data allow (`maxGrowth`).
    static func check(_ delta: ImageDelta, baseSize: Int64, _ patch: PatchReader) throws {
        guard delta.size >= 0 else { throw PatchError.damaged("image size \(delta.size)") }
        var end: Int64 = 0
        for r in delta.runs {
            guard r.offset >= end, r.length >= 0, r.offset <= delta.size, r.length <= delta.size - r.offset else {
                throw PatchError.damaged("run \(r.offset)+\(r.length) is out of order or outside the image")
            }
            guard let frame = r.frame, try patch.frameInfo(frame).size == r.length else {
                throw PatchError.damaged("run \(r.offset)+\(r.length): no frame, or a frame of another size")
            }
            end = r.offset + r.length
        }
        for h in delta.holes {
            guard h.offset >= 0, h.length >= 0, h.offset <= delta.size, h.length <= delta.size - h.offset else {
                throw PatchError.damaged("hole \(h.offset)+\(h.length) is outside the image")
            }
        }
        guard delta.size - max(baseSize, end) <= maxGrowth else {
            throw PatchError.damaged(
                "the image would grow to \(delta.size) bytes, more than \(maxGrowth) past its base and data")
        }
    }

    /// Removes what a killed apply to the image at `path` left: its rebuilt copy, never renamed
    /// over the image (which is still the base). Returns how many were removed.
    @discardableResult
    public static func recover(_ path: String) throws -> Int {
        let url = URL(fileURLWithPath: path)
        let dir = try Handle.openDirectory(path: url.deletingLastPathComponent().path)
        let prefix = Array(".\(url.lastPathComponent).strata-".utf8)
        var removed = 0
        for name in try dir.sortedNames() where name.starts(with: prefix) {
            try dir.unlink(name)
            removed += 1
        }
        return removed
    }

    /// Whether bytes `b..<e` of the target equal the base's (past the base's end: zeros).
    private static func same(_ old: UnsafeRawBufferPointer, _ new: UnsafeRawBufferPointer, _ b: Int, _ e: Int) -> Bool {
        let shared = max(0, min(e, old.count) - b)
        if shared > 0 && memcmp(old.baseAddress! + b, new.baseAddress! + b, shared) != 0 { return false }
        return new[(b + shared)..<e].allSatisfy { $0 == 0 }
    }

    /// The file's data and hole ranges, block-aligned.
    static func extents(_ file: Handle, size: Int) throws -> (data: [Range<Int>], holes: [Range<Int>]) {
        var data: [Range<Int>] = []
        var holes: [Range<Int>] = []
        var at: Int64 = 0
        while at < Int64(size) {
            guard let start = try file.nextData(from: at) else { break }
            if start > at { holes.append(Int(at)..<Int(start)) }
            let end = min(try file.nextHole(from: start), Int64(size))
            data.append(Int(start)..<Int(end))
            at = end
        }
        if at < Int64(size) { holes.append(Int(at)..<size) }
        return (data, holes)
    }

    /// SHA-256 of the file's `size` bytes, holes fed as zeros without reading them.
    static func digest(_ file: Handle, size: Int) throws -> Digest {
        let sink = DigestingSink(nil)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        let (data, _) = try extents(file, size: size)
        var at = 0
        for extent in data + [size..<size] {
            while at < extent.lowerBound {
                let n = min(zeros.count, extent.lowerBound - at)
                try zeros.withUnsafeBytes { try sink.write(UnsafeRawBufferPointer(rebasing: $0[..<n])) }
                at += n
            }
            while at < extent.upperBound {
                let n = try file.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<min(buffer.count, extent.upperBound - at)]),
                    at: Int64(at))
                guard n > 0 else { throw PatchError.damaged("the file shrank while read") }
                try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
                at += n
            }
        }
        return sink.digest
    }
}

/// Writes a stream at increasing offsets of a file (`pwrite`).
final class PositionedSink: ByteSink {
    let file: Handle
    private(set) var offset: Int64

    init(_ file: Handle, at offset: Int64) {
        self.file = file
        self.offset = offset
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try file.write(bytes, at: offset)
        offset += Int64(bytes.count)
    }

    func finish() throws {}
}
