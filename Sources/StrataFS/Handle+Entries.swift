import CStrata

/// One name in a directory, with the type `getdents64` reported (which may be unknown).
public struct DirectoryEntry: Sendable, Hashable {
    public var name: [UInt8]
    /// The `d_type` hint; `DT_UNKNOWN` (0) on filesystems that do not fill it.
    public var kind: UInt8

    public static let directoryKind: UInt8 = 4
}

extension Handle {
    /// Every name in this directory except `.` and `..`, sorted bytewise: the order of a tar
    /// walk, and of containerd's.
    public func sortedNames() throws(FSError) -> [[UInt8]] {
        try entries().map(\.name).sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Every name in this directory except `.` and `..`, in the order the filesystem gives.
    ///
    /// Reads with `getdents64` in 64 KiB batches; names are raw bytes, never decoded.
    public func entries() throws(FSError) -> [DirectoryEntry] {
        var result: [DirectoryEntry] = []
        _ = strata_lseek(fd, 0, 0)
        let bufSize = 64 * 1024
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bufSize, alignment: 8)
        defer { buf.deallocate() }
        while true {
            let n: Int
            switch retrying({ strata_getdents64(fd, buf.baseAddress, bufSize) }) {
            case .success(let v): n = v
            case .failure(let e): throw fail("getdents64", nil, e)
            }
            if n == 0 { break }
            var off = 0
            while off < n {
                // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; }
                let reclen = Int(buf.loadUnaligned(fromByteOffset: off + 16, as: UInt16.self))
                let dtype = buf.load(fromByteOffset: off + 18, as: UInt8.self)
                let nameStart = off + 19
                var nameEnd = nameStart
                while nameEnd < off + reclen && buf[nameEnd] != 0 { nameEnd += 1 }
                let name = Array(buf[nameStart..<nameEnd])
                if !(name == [0x2E] || name == [0x2E, 0x2E]) {
                    result.append(DirectoryEntry(name: name, kind: dtype))
                }
                off += reclen
            }
        }
        return result
    }
}
