import CStrata
import SystemPackage

extension Handle {
    /// How `copyData` moved the bytes.
    public enum CopyMethod: Sendable {
        /// `FICLONE`: the copy shares the source's extents until either is written (xfs, btrfs).
        case reflink
        /// `copy_file_range`: the kernel copied (or, on some filesystems, shared) the bytes.
        case kernelCopy
        /// `read` and `write`, where the kernel can do neither.
        case readWrite
    }

    /// Copies all of `source`'s data into this new, empty file: a reflink where the filesystem
    /// can share extents, a kernel copy otherwise. Both offsets end at the end of the data.
    @discardableResult
    public func copyData(from source: Handle) throws(FSError) -> CopyMethod {
        switch retrying({ strata_ficlone(fd, source.fd) }) {
        case .success: return .reflink
        case .failure(.notSupported), .failure(.improperLink), .failure(.invalidArgument),
            .failure(.notPermitted), .failure(.badFileDescriptor), .failure(.inappropriateIOCTLForDevice):
            break
        case .failure(let e): throw fail("ioctl(FICLONE)", nil, e)
        }
        var copied = false
        while true {
            switch retrying({ strata_copy_file_range(source.fd, fd, 1 << 30) }) {
            case .success(0): return .kernelCopy
            case .success: copied = true
            case .failure(let e) where !copied && [.improperLink, .invalidArgument, .noFunction].contains(e):
                return try readWriteCopy(from: source)
            case .failure(let e): throw fail("copy_file_range", nil, e)
            }
        }
    }

    private func readWriteCopy(from source: Handle) throws(FSError) -> CopyMethod {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = try source.read(into: buffer)
            if n == 0 { return .readWrite }
            try write(UnsafeRawBufferPointer(rebasing: buffer[..<n]))
        }
    }
}
