import StrataFS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Compares two files' bytes in 1 MiB reads and stops at the first difference.
public struct ContentComparer: Sendable {
    static let chunk = 1 << 20
    private static let compared = Atomic<Int>(0)

    /// Bytes of file content read by every comparison in this process, both sides counted:
    /// shows that a diff of nanosecond-time trees reads no content at all.
    public static var bytesCompared: Int { compared.load(ordering: .relaxed) }

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
            Self.compared.wrappingAdd(ra + rb, ordering: .relaxed)
            if ra != rb { return false }
            if ra == 0 { return true }
            if memcmp(bufA.baseAddress!, bufB.baseAddress!, ra) != 0 { return false }
            if ra < n { return true }
        }
    }
}
