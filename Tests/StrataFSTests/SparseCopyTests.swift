import StrataFS
import StrataTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `Handle.copyData` keeps holes: where the filesystem cannot share extents (this temp
/// directory's ext4), only the source's data ranges are copied.
@Suite struct SparseCopyTests {
    @Test func aCopyOfASparseGibibyteAllocatesNoMoreThanItsData() throws {
        let t = TempDirectory("sparse-copy")
        let b = try TreeBuilder(root: t.handle("."))
        let data = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        let tail = Array("end".utf8)
        try b.sparseFile("source", size: 1 << 30, content: data, at: 512 << 20)
        let dir = try t.handle(".")
        let source = try dir.open(Array("source".utf8), flags: O_RDWR)
        try tail.withUnsafeBytes { try source.write($0, at: (1 << 30) - 3) }
        let copy = try dir.open(Array("copy".utf8), flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o644)
        let method = try copy.copyData(from: source)

        let meta = try copy.stat()
        #expect(meta.size == 1 << 30)
        let allocated = meta.allocatedBytes
        let sourceAllocated = try source.stat().allocatedBytes
        // A reflink shares the source's extents; a copy allocates its data (and a block or two of
        // the file's own) and no more: never the gibibyte copy_file_range alone writes on ext4.
        if method != .reflink { #expect(allocated <= sourceAllocated + (64 << 10), "allocated \(allocated) bytes") }
        #expect(allocated < 4 << 20, "allocated \(allocated) bytes for 1 MiB of data")

        var buffer = [UInt8](repeating: 0xFF, count: 1 << 20)
        _ = try buffer.withUnsafeMutableBytes { try copy.readFully(into: $0, at: 512 << 20) }
        #expect(buffer == data)
        _ = try buffer.withUnsafeMutableBytes { try copy.readFully(into: $0, at: 0) }
        #expect(buffer.allSatisfy { $0 == 0 }, "a hole reads as zeros")
        var end = [UInt8](repeating: 0, count: 3)
        _ = try end.withUnsafeMutableBytes { try copy.readFully(into: $0, at: (1 << 30) - 3) }
        #expect(end == tail)
    }

    @Test func aFileOfDataOnlyIsCopiedWhole() throws {
        let t = TempDirectory("dense-copy")
        let b = try TreeBuilder(root: t.handle("."))
        let data = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        try b.file("source", data)
        let dir = try t.handle(".")
        let source = try dir.open(Array("source".utf8), flags: O_RDONLY)
        let copy = try dir.open(Array("copy".utf8), flags: O_RDWR | O_CREAT | O_EXCL, mode: 0o644)
        try copy.copyData(from: source)
        #expect(try copy.stat().size == UInt64(data.count))
        var buffer = [UInt8](repeating: 0, count: data.count)
        _ = try buffer.withUnsafeMutableBytes { try copy.readFully(into: $0, at: 0) }
        #expect(buffer == data)
    }
}
