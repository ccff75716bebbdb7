import StrataFS

extension TarWriter {
    /// Splits a long ASCII name into USTAR prefix (≤155) and name (≤100) at a slash.
    static func splitUSTAR(_ name: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        var length = name.count
        if length <= TarField.name.count || !TarField.isASCII(name) { return nil }
        if length > TarField.prefix.count + 1 {
            length = TarField.prefix.count + 1
        } else if name[length - 1] == PathName.slash {
            length -= 1
        }
        guard let i = name[..<length].lastIndex(of: PathName.slash) else { return nil }
        let nlen = name.count - i - 1
        if i <= 0 || nlen > TarField.name.count || nlen == 0 || i > TarField.prefix.count { return nil }
        return (Array(name[..<i]), Array(name[(i + 1)...]))
    }

    /// One PAX record, `"<len> <key>=<value>\n"`, where the length counts itself.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let base = key.utf8.count + value.count + 3
        var size = base + String(base).count
        if String(size).count + base != size { size = base + String(size).count }
        var out = Array("\(size) \(key)=".utf8)
        out.append(contentsOf: value)
        out.append(0x0A)
        return out
    }

    /// `sec` or `sec.fraction` with trailing zeros dropped, as Go formats PAX times.
    static func formatPAXTime(_ t: FileTime) -> [UInt8] {
        if t.nanoseconds == 0 { return Array(String(t.seconds).utf8) }
        var secs = t.seconds
        var nsecs = Int64(t.nanoseconds)
        var sign = ""
        if secs < 0 {
            sign = "-"
            secs = -(secs + 1)
            nsecs = 1_000_000_000 - nsecs
        }
        var frac = String(nsecs)
        frac = String(repeating: "0", count: 9 - frac.count) + frac
        while frac.hasSuffix("0") { frac.removeLast() }
        return Array("\(sign)\(secs).\(frac)".utf8)
    }

    /// `path.Join(dir, "PaxHeaders.0", base)` of Go, for the name of a PAX extended header.
    static func paxHeaderName(_ name: [UInt8]) -> [UInt8] {
        let split = name.lastIndex(of: PathName.slash).map { $0 + 1 } ?? 0
        var parts: [[UInt8]] = []
        let joined =
            Array(name[..<split]) + [PathName.slash] + Array("PaxHeaders.0".utf8) + [PathName.slash]
            + Array(name[split...])
        for p in joined.split(separator: PathName.slash, omittingEmptySubsequences: true) {
            if p.elementsEqual([PathName.dot]) { continue }
            if p.elementsEqual([PathName.dot, PathName.dot]) && !parts.isEmpty
                && parts.last! != [PathName.dot, PathName.dot]
            {
                parts.removeLast()
                continue
            }
            parts.append(Array(p))
        }
        var out: [UInt8] = name.first == PathName.slash ? [PathName.slash] : []
        out.append(contentsOf: Array(parts.joined(separator: [PathName.slash])))
        return out
    }
}
