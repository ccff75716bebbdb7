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
    /// can share extents, a kernel copy otherwise. Holes stay holes: only the ranges `SEEK_DATA`
    /// and `SEEK_HOLE` find are copied, then the file is sized as the source (`copy_file_range`
    /// alone writes zeros into an ext4 file, so a sparse 10 GiB image would become 10 GiB on
    /// disk). Positioned calls only: this file's offset is not used (the seeks move the source's).
    @discardableResult
    public func copyData(from source: Handle) throws(FSError) -> CopyMethod {
        switch retrying({ strata_ficlone(fd, source.fd) }) {
        case .success: return .reflink
        case .failure(.notSupported), .failure(.improperLink), .failure(.invalidArgument),
            .failure(.notPermitted), .failure(.badFileDescriptor), .failure(.inappropriateIOCTLForDevice):
            break
        case .failure(let e): throw fail("ioctl(FICLONE)", nil, e)
        }
        let size = Int64(try source.stat().size)
        var method = CopyMethod.kernelCopy
        var offset: Int64 = 0
        while offset < size, let data = try source.nextData(from: offset) {
            let end = min(try source.nextHole(from: data), size)
            if method == .kernelCopy, try !kernelCopy(from: source, data..<end) { method = .readWrite }
            if method == .readWrite { try readWriteCopy(from: source, data..<end) }
            offset = end
        }
        try truncate(to: size)
        return method
    }

    /// `copy_file_range` of `range`; false, with nothing copied, where the kernel cannot do it
    /// between these two files.
    private func kernelCopy(from source: Handle, _ range: Range<Int64>) throws(FSError) -> Bool {
        var at = range.lowerBound
        while at < range.upperBound {
            let count = Int(min(range.upperBound - at, 1 << 30))
            switch retrying({ strata_copy_file_range_at(source.fd, at, fd, at, count) }) {
            case .success(0): throw fail("copy_file_range", nil, .ioError)  // the source shrank
            case .success(let n): at += Int64(n)
            case .failure(let e)
            where at == range.lowerBound && [.improperLink, .invalidArgument, .noFunction].contains(e):
                return false
            case .failure(let e): throw fail("copy_file_range", nil, e)
            }
        }
        return true
    }

    private func readWriteCopy(from source: Handle, _ range: Range<Int64>) throws(FSError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var at = range.lowerBound
        while at < range.upperBound {
            let want = Int(min(range.upperBound - at, Int64(buffer.count)))
            let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<want]), at: at)
            guard n > 0 else { throw fail("read", nil, .ioError) }  // the source shrank
            try write(UnsafeRawBufferPointer(rebasing: buffer[..<n]), at: at)
            at += Int64(n)
        }
    }
}
