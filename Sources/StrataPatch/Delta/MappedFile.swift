import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// A regular file mapped read-only, whole: what the delta encoder and decoder read. An empty file
/// maps nothing.
final class MappedFile {
    let bytes: UnsafeRawBufferPointer

    /// `populate` faults every page in at once (a file read whole); off for sparse images, whose
    /// holes are never touched.
    init(_ file: Handle, populate: Bool = true) throws {
        let size = Int(try file.stat().size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0), file.fd, 0),
            p != MAP_FAILED
        else {
            throw FSError("mmap", path: file.displayPath, errno: .init(rawValue: errno))
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit { if let p = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: p), bytes.count) } }
}
