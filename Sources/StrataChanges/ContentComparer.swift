import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// Compares two files' bytes in 1 MiB reads and stops at the first difference.
public struct ContentComparer {
    static let chunk = 1 << 20

    public init() {}

    /// Whether the two files hold the same bytes.
    public func equal(_ aDir: Handle, _ aName: [UInt8], _ bDir: Handle, _ bName: [UInt8], size: UInt64) throws -> Bool {
        let a = try aDir.open(aName, flags: O_RDONLY | O_NOFOLLOW)
        let b = try bDir.open(bName, flags: O_RDONLY | O_NOFOLLOW)
        let n = Int(min(UInt64(Self.chunk), max(size, 1)))
        let bufA = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 64)
        let bufB = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 64)
        defer {
            bufA.deallocate()
            bufB.deallocate()
        }
        while true {
            let ra = try a.readFully(into: bufA)
            let rb = try b.readFully(into: bufB)
            if ra != rb { return false }
            if ra == 0 { return true }
            if memcmp(bufA.baseAddress!, bufB.baseAddress!, ra) != 0 { return false }
            if ra < n { return true }
        }
    }
}
