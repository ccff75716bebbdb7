import CStrata
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

extension Handle {
    /// Reads up to `buffer.count` bytes; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        guard buffer.count > 0 else { return 0 }
        switch retrying({ strata_read(fd, buffer.baseAddress, buffer.count) }) {
        case .success(let n): return n
        case .failure(let e): throw fail("read", nil, e)
        }
    }

    /// Reads until `buffer` is full or the file ends; returns the bytes read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer) throws(FSError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads from `offset` until `buffer` is full or the file ends; returns the bytes read.
    public func readFully(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(FSError) -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// The rest of a small file (a document, a note): `EFBIG` past `limit` bytes.
    public func readToEnd(limit: Int) throws(FSError) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: limit + 1, alignment: 1)
        defer { buffer.deallocate() }
        let n = try readFully(into: buffer)
        if n > limit { throw fail("read", nil, .fileTooLarge) }
        return Array(buffer[..<n])
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(FSError) -> Int {
        switch retrying({ strata_pread(fd, buffer.baseAddress, buffer.count, offset) }) {
        case .success(let n): return n
        case .failure(let e): throw fail("read", nil, e)
        }
    }

    /// Writes all of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FSError) {
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            switch retrying({ strata_write(fd, rest.baseAddress, rest.count) }) {
            case .success(let n): done += n
            case .failure(let e): throw fail("write", nil, e)
            }
        }
    }

    /// Writes all of `bytes` at `offset` without moving the file position.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws(FSError) {
        var done = 0
        while done < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[done...])
            switch retrying({ strata_pwrite(fd, rest.baseAddress, rest.count, offset + Int64(done)) }) {
            case .success(let n): done += n
            case .failure(let e): throw fail("write", nil, e)
            }
        }
    }

    public func truncate(to size: Int64) throws(FSError) {
        if case .failure(let e) = retrying({ strata_ftruncate(fd, size) }) { throw fail("ftruncate", nil, e) }
    }

    public func sync() throws(FSError) {
        if case .failure(let e) = retrying({ strata_fsync(fd) }) { throw fail("fsync", nil, e) }
    }

    /// Flushes the whole filesystem holding this file or directory (`syncfs`): containerd's
    /// `sync_fs` after an apply.
    public func syncFilesystem() throws(FSError) {
        if case .failure(let e) = retrying({ strata_syncfs(fd) }) { throw fail("syncfs", nil, e) }
    }

    /// Moves the file offset to `offset` (`lseek` with `SEEK_SET`).
    public func seek(to offset: Int64) throws(FSError) {
        if case .failure(let e) = retrying({ strata_lseek(fd, offset, 0 /* SEEK_SET */) }) {
            throw fail("lseek", nil, e)
        }
    }

    /// The offset of the next data at or after `offset` (`SEEK_DATA`), or nil past the last data.
    public func nextData(from offset: Int64) throws(FSError) -> Int64? {
        switch retrying({ strata_lseek(fd, offset, 3 /* SEEK_DATA */) }) {
        case .success(let o): return o
        case .failure(.noSuchAddressOrDevice): return nil
        case .failure(let e): throw fail("lseek", nil, e)
        }
    }

    /// Makes `length` bytes at `offset` a hole (`FALLOC_FL_PUNCH_HOLE`, size kept).
    public func punchHole(at offset: Int64, length: Int64) throws(FSError) {
        if case .failure(let e) = retrying({ strata_punch_hole(fd, offset, length) }) {
            throw fail("punch hole", nil, e)
        }
    }

    /// The offset of the next hole at or after `offset` (`SEEK_HOLE`).
    public func nextHole(from offset: Int64) throws(FSError) -> Int64 {
        switch retrying({ strata_lseek(fd, offset, 4 /* SEEK_HOLE */) }) {
        case .success(let o): return o
        case .failure(let e): throw fail("lseek", nil, e)
        }
    }

    public func setTimes(access: FileTime, modification: FileTime) throws(FSError) {
        let r = retrying {
            strata_futimens(
                fd, access.seconds, Int(access.nanoseconds), modification.seconds, Int(modification.nanoseconds))
        }
        if case .failure(let e) = r { throw fail("futimens", nil, e) }
    }
}
