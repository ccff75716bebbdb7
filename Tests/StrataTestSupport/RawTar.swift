/// Hand-made tar bytes for inputs no honest writer makes: PAX records with NUL bytes or absurd
/// numbers, base-256 ids. Each header is written field by field, checksummed, unchecked.
public enum RawTar {
    /// One header block. `numbers` overrides a numeric field with raw bytes (e.g. base-256).
    public static func header(
        _ name: String, type: UInt8 = 0x30, size: Int = 0, mode: Int = 0o644, linkname: String = "",
        numbers: [Range<Int>: [UInt8]] = [:]
    ) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ at: Int, _ bytes: [UInt8]) { for (i, c) in bytes.enumerated() { b[at + i] = c } }
        func octal(_ at: Int, _ width: Int, _ v: Int) {
            let digits = Array(String(v, radix: 8).utf8)
            put(at, [UInt8](repeating: 0x30, count: width - 1 - digits.count) + digits)
        }
        put(0, Array(name.utf8.prefix(100)))
        octal(100, 8, mode)
        octal(108, 8, 0)
        octal(116, 8, 0)
        octal(124, 12, size)
        octal(136, 12, 1_700_000_000)
        b[156] = type
        put(157, Array(linkname.utf8.prefix(100)))
        put(257, Array("ustar\0".utf8) + Array("00".utf8))
        for (range, bytes) in numbers { put(range.lowerBound, bytes) }
        for i in 148..<156 { b[i] = 0x20 }
        let sum = b.reduce(0) { $0 + Int($1) }
        let digits = Array(String(sum, radix: 8).utf8)
        put(148, [UInt8](repeating: 0x30, count: 6 - digits.count) + digits + [0, 0x20])
        return b
    }

    /// A PAX record `"LEN key=value\n"` with its length computed (value as raw bytes).
    public static func record(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [0x0A]
        var length = body.count + 1
        while String(length).utf8.count + body.count != length { length += 1 }
        return Array(String(length).utf8) + body
    }

    /// A PAX extended header entry carrying `records` (already formatted).
    public static func pax(_ records: [[UInt8]]) -> [UInt8] {
        let data = records.flatMap { $0 }
        return header("PaxHeaders/x", type: 0x78, size: data.count) + padded(data)
    }

    public static func padded(_ data: [UInt8]) -> [UInt8] {
        data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// The two zero blocks that end an archive.
    public static let end = [UInt8](repeating: 0, count: 1024)

    /// GNU base-256 for a numeric field of `width` bytes.
    public static func base256(_ v: Int64, width: Int) -> [UInt8] {
        var out = [UInt8](repeating: v < 0 ? 0xFF : 0, count: width)
        var x = v
        for i in stride(from: width - 1, through: 1, by: -1) {
            out[i] = UInt8(truncatingIfNeeded: x)
            x >>= 8
        }
        out[0] = v < 0 ? 0xFF : 0x80
        return out
    }

    public static let uidField = 108..<116
    public static let gidField = 116..<124
}
