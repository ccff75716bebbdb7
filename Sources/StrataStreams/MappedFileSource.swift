#if canImport(Glibc)
    import Glibc
#endif

/// Reads a regular file through read-only mappings of `window` bytes, each handed on as a chunk:
/// its bytes go from the page cache to the consumer without a copy.
///
/// Only for files that do not shrink while read (blobs in a content store are immutable): a
/// mapping of bytes cut off by a truncation faults on access.
public final class MappedFileSource: ChunkSource {
    private let fd: Int32
    private let size: Int64
    private let window: Int
    private var offset: Int64 = 0
    private var cursor = ChunkCursor()

    /// `fd` stays open (and owned by the caller) while this source is read.
    public init(fd: Int32, size: Int64, window: Int = 8 << 20) {
        self.fd = fd
        self.size = size
        self.window = window
    }

    public func nextChunk() throws -> Chunk? { try cursor.takeRest() ?? mapNext() }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try cursor.read(into: buffer, next: mapNext)
    }

    /// Maps the next window, populated; nil past the end of the file.
    private func mapNext() throws -> Chunk? {
        guard offset < size else { return nil }
        let length = Int(min(Int64(window), size - offset))
        let p = mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, off_t(offset))
        guard let p, p != MAP_FAILED else { throw MappingError(errno: errno) }
        _ = madvise(p, length, MADV_SEQUENTIAL)
        offset += Int64(length)
        return Chunk(wrapping: UnsafeMutableRawBufferPointer(start: p, count: length)) { m in
            _ = munmap(m.baseAddress, m.count)
        }
    }

    struct MappingError: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "mmap: \(String(cString: strerror(errno)))" }
    }
}
