/// Byte offsets and sizes of the fields of a 512-byte tar header block.
enum TarField {
    static let block = 512
    static let name = 0..<100
    static let mode = 100..<108
    static let uid = 108..<116
    static let gid = 116..<124
    static let size = 124..<136
    static let mtime = 136..<148
    static let checksum = 148..<156
    static let typeflag = 156
    static let linkname = 157..<257
    static let magic = 257..<263
    static let version = 263..<265
    static let uname = 265..<297
    static let gname = 297..<329
    static let devMajor = 329..<337
    static let devMinor = 337..<345
    static let prefix = 345..<500
    // GNU's layout of the tail of the block.
    static let gnuAtime = 345..<357
    static let gnuSparse = 386..<482
    static let gnuIsExtended = 482
    static let gnuRealSize = 483..<495

    static let ustarMagic: [UInt8] = Array("ustar\0".utf8)
    static let ustarVersion: [UInt8] = [0x30, 0x30]
    static let gnuMagic: [UInt8] = Array("ustar ".utf8)

    /// Whether `x` fits an octal field of `width` bytes that keeps one byte for a NUL.
    static func fitsOctal(_ x: Int64, width: Int) -> Bool {
        x >= 0 && (width >= 22 || x < Int64(1) << Int64((width - 1) * 3))
    }

    static func isASCII(_ s: [UInt8]) -> Bool { s.allSatisfy { $0 < 0x80 } }

    /// Drops non-ASCII characters and NULs, as Go's tar writer does for the V7 fields of a PAX
    /// entry (whose real values live in PAX records).
    static func toASCII(_ s: [UInt8]) -> [UInt8] {
        if isASCII(s) && !s.contains(0) { return s }
        var out: [UInt8] = []
        for scalar in String(decoding: s, as: UTF8.self).unicodeScalars where scalar.value < 0x80 && scalar.value != 0 {
            out.append(UInt8(scalar.value))
        }
        return out
    }
}

/// A header block being filled in, with the formatting rules of Go's `archive/tar`.
struct HeaderBlock {
    var bytes = [UInt8](repeating: 0, count: TarField.block)

    mutating func setString(_ range: Range<Int>, _ s: [UInt8]) {
        let n = min(s.count, range.count)
        for i in 0..<n { bytes[range.lowerBound + i] = s[i] }
        if s.count < range.count { bytes[range.lowerBound + s.count] = 0 }
        if s.count > range.count && bytes[range.upperBound - 1] == 0x2F {
            var end = range.count
            while end > 0 && bytes[range.lowerBound + end - 1] == 0x2F { end -= 1 }
            bytes[range.lowerBound + end] = 0
        }
    }

    /// Zero-padded octal that leaves room for a NUL; a value that does not fit is written as 0.
    mutating func setOctal(_ range: Range<Int>, _ value: Int64) {
        let x = TarField.fitsOctal(value, width: range.count) ? value : 0
        var digits = Array(String(x, radix: 8).utf8)
        let pad = range.count - digits.count - 1
        if pad > 0 { digits.insert(contentsOf: repeatElement(0x30, count: pad), at: 0) }
        setString(range, digits)
    }

    mutating func setMagicAndChecksum(gnu: Bool = false) {
        if gnu {
            for (i, b) in TarField.gnuMagic.enumerated() { bytes[TarField.magic.lowerBound + i] = b }
            bytes[TarField.version.lowerBound] = 0x20
            bytes[TarField.version.lowerBound + 1] = 0
        } else {
            for (i, b) in TarField.ustarMagic.enumerated() { bytes[TarField.magic.lowerBound + i] = b }
            bytes[TarField.version.lowerBound] = 0x30
            bytes[TarField.version.lowerBound + 1] = 0x30
        }
        for i in TarField.checksum { bytes[i] = 0x20 }
        let sum = bytes.reduce(Int64(0)) { $0 + Int64($1) }
        setOctal(TarField.checksum.lowerBound..<TarField.checksum.lowerBound + 7, sum)
        bytes[TarField.checksum.upperBound - 1] = 0x20
    }
}
