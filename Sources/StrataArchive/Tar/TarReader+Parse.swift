import StrataFS

extension TarReader {
    /// Decodes one header block, verifying its checksum.
    static func parse(_ b: [UInt8], at offset: Int64) throws -> TarHeader {
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (i, byte) in b.enumerated() {
            let v = TarField.checksum.contains(i) ? 0x20 : byte
            unsigned += Int64(v)
            signed += Int64(Int8(bitPattern: v))
        }
        let stored: Int64
        // A bad checksum still names the entry the block says it is, for the message only.
        let claimed = { PathName.displayShowingNUL(cString(b[TarField.name])) }
        do { stored = try number(b[TarField.checksum]) } catch {
            throw TarError.badChecksum(offset: offset, entry: claimed())
        }
        guard stored == unsigned || stored == signed else {
            throw TarError.badChecksum(offset: offset, entry: claimed())
        }
        let magic = Array(b[TarField.magic])
        let isUSTAR = magic == TarField.ustarMagic
        let isGNU = magic == TarField.gnuMagic
        var name = cString(b[TarField.name])
        if isUSTAR {
            let prefix = cString(b[TarField.prefix])
            if !prefix.isEmpty { name = prefix + [PathName.slash] + name }
        }
        func field(_ r: Range<Int>, _ what: String) throws -> Int64 {
            do { return try number(b[r]) } catch {
                throw TarError.invalidHeader(offset: offset, "bad \(what) field in entry \(PathName.display(name))")
            }
        }
        var h = TarHeader(
            name: name, typeflag: b[TarField.typeflag], mode: try field(TarField.mode, "mode") & 0o7777,
            uid: try field(TarField.uid, "uid"), gid: try field(TarField.gid, "gid"),
            size: try field(TarField.size, "size"),
            modificationTime: FileTime(seconds: try field(TarField.mtime, "mtime")),
            linkname: cString(b[TarField.linkname]))
        guard h.size >= 0 else {
            throw TarError.invalidHeader(offset: offset, "negative size in entry \(h.nameString)")
        }
        if isUSTAR || isGNU {
            h.uname = cString(b[TarField.uname])
            h.gname = cString(b[TarField.gname])
            h.devMajor = try field(TarField.devMajor, "device major")
            h.devMinor = try field(TarField.devMinor, "device minor")
        }
        if isGNU, b[TarField.gnuAtime.lowerBound] != 0, let a = try? number(b[TarField.gnuAtime]) {
            h.accessTime = FileTime(seconds: a)
        }
        return h
    }

    /// The bytes of a NUL-terminated field.
    static func cString(_ s: some Collection<UInt8>) -> [UInt8] {
        Array(s.prefix { $0 != 0 })
    }

    /// A numeric field: octal (spaces and NULs around it allowed) or GNU base-256.
    static func number(_ f: ArraySlice<UInt8>) throws -> Int64 {
        guard let first = f.first else { return 0 }
        if first & 0x80 != 0 {
            // Base-256: two's complement big-endian, the first byte's top bit a marker.
            var v: Int64 = (first & 0x40) != 0 ? -1 : 0
            var bytes = Array(f)
            bytes[0] &= 0x7F
            if (first & 0x40) != 0 { bytes[0] |= 0x80 }
            for byte in bytes {
                guard v >> 55 == 0 || v >> 55 == -1 else { throw TarError.invalidHeader(offset: 0, "number overflows") }
                v = v << 8 | Int64(byte)
            }
            return v
        }
        var v: Int64 = 0
        var seenDigit = false
        var ended = false
        for c in f {
            switch c {
            case 0x30...0x37:
                guard !ended else { throw TarError.invalidHeader(offset: 0, "bad number") }
                guard v < Int64.max >> 3 else { throw TarError.invalidHeader(offset: 0, "number overflows") }
                v = v << 3 | Int64(c - 0x30)
                seenDigit = true
            case 0x20, 0x00:
                if seenDigit { ended = true }
            default:
                throw TarError.invalidHeader(offset: 0, "bad number")
            }
        }
        return v
    }

    /// Splits PAX extended-header data into its records, with Go's `archive/tar` rules: a key is
    /// non-empty and holds no NUL; the values of `path`, `linkpath`, `uname`, `gname` and
    /// `GNU.sparse.name` hold no NUL (a name cut at its NUL by the kernel is not the name the
    /// cleaning saw). Errors name the entry: `entry`, or the record's own `path` once it is read.
    static func parsePAX(_ data: [UInt8], entry: String) throws -> [(key: String, value: [UInt8])] {
        var out: [(key: String, value: [UInt8])] = []
        var named = entry
        var i = 0
        while i < data.count {
            if data[i] == 0 { break }  // some writers pad with NULs
            let rest = data.count - i
            guard let sp = data[i...].prefix(20).firstIndex(of: 0x20), sp > i,
                data[i..<sp].allSatisfy({ (0x30...0x39).contains($0) }),
                let len = Int(String(decoding: data[i..<sp], as: UTF8.self)), len <= rest, len > sp - i + 1,
                data[i + len - 1] == 0x0A,
                let eq = data[(sp + 1)..<(i + len)].firstIndex(of: 0x3D)
            else { throw TarError.invalidPAX(entry: named, "malformed record at byte \(i)") }
            let keyBytes = data[(sp + 1)..<eq]
            let value = Array(data[(eq + 1)..<(i + len - 1)])
            guard !keyBytes.isEmpty, !keyBytes.contains(0) else {
                throw TarError.invalidPAX(entry: named, "record at byte \(i) has an empty key or a key with a NUL byte")
            }
            let key = String(decoding: keyBytes, as: UTF8.self)
            if Self.nameKeys.contains(key) && value.contains(0) {
                let shown = key == "path" || key == "GNU.sparse.name" ? PathName.displayShowingNUL(value) : named
                throw TarError.invalidPAX(
                    entry: shown, "\(key) \"\(PathName.displayShowingNUL(value))\" holds a NUL byte")
            }
            if key == "path" { named = PathName.display(value) }
            out.append((key, value))
            i += len
        }
        return out
    }

    /// PAX records whose values are names, which may hold no NUL.
    static let nameKeys: Set<String> = ["path", "linkpath", "uname", "gname", "GNU.sparse.name"]

    /// Folds PAX records into a header.
    static func apply(_ records: [(key: String, value: [UInt8])], to h: inout TarHeader) throws {
        var sparseOffsets: [Int64] = []
        var sparseLengths: [Int64] = []
        func int(_ v: [UInt8], _ key: String) throws -> Int64 {
            guard let n = Int64(String(decoding: v, as: UTF8.self)), n >= 0 else {
                throw TarError.invalidPAX(entry: h.nameString, "\(key) is not a number")
            }
            return n
        }
        for r in records {
            switch r.key {
            case "path": h.name = r.value
            case "linkpath": h.linkname = r.value
            case "size": h.size = try int(r.value, r.key)
            case "uid": h.uid = try int(r.value, r.key)
            case "gid": h.gid = try int(r.value, r.key)
            case "uname": h.uname = r.value
            case "gname": h.gname = r.value
            case "mtime": h.modificationTime = try parseTime(r.value, entry: h.nameString)
            case "atime": h.accessTime = try parseTime(r.value, entry: h.nameString)
            case "GNU.sparse.name": h.name = r.value
            case "GNU.sparse.realsize", "GNU.sparse.size":
                h.sparseRealSize = try int(r.value, r.key)
                if h.sparseMap == nil { h.sparseMap = [] }
            case "GNU.sparse.offset": sparseOffsets.append(try int(r.value, r.key))
            case "GNU.sparse.numbytes": sparseLengths.append(try int(r.value, r.key))
            case "GNU.sparse.map":
                let nums = try r.value.split(separator: 0x2C).map { try int(Array($0), r.key) }
                guard nums.count % 2 == 0 else { throw TarError.invalidPAX(entry: h.nameString, "odd GNU.sparse.map") }
                h.sparseMap = stride(from: 0, to: nums.count, by: 2).map { (nums[$0], nums[$0 + 1]) }
            default:
                if r.key.hasPrefix(TarHeader.xattrPrefix) { h.paxRecords.append(r) }
            }
        }
        if !sparseOffsets.isEmpty {
            guard sparseOffsets.count == sparseLengths.count else {
                throw TarError.invalidPAX(entry: h.nameString, "GNU sparse 0.0 offsets and sizes differ in number")
            }
            h.sparseMap = Array(zip(sparseOffsets, sparseLengths)).map { (offset: $0.0, length: $0.1) }
        }
    }

    /// A PAX time: seconds with an optional fraction, possibly negative. Seconds beyond ±2^62
    /// are refused (no time arithmetic on them can then overflow).
    static func parseTime(_ v: [UInt8], entry: String) throws -> FileTime {
        let s = String(decoding: v, as: UTF8.self)
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let secs = Int64(parts[0]), secs.magnitude <= 1 << 62 else {
            throw TarError.invalidPAX(entry: entry, "bad time \(s)")
        }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let digits = String(parts[1].prefix(9))
            guard digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }),
                let f = Int64(digits + String(repeating: "0", count: 9 - digits.count))
            else { throw TarError.invalidPAX(entry: entry, "bad time \(s)") }
            nanos = f
        }
        if s.hasPrefix("-") && nanos > 0 {
            return FileTime(seconds: secs - 1, nanoseconds: UInt32(1_000_000_000 - nanos))
        }
        return FileTime(seconds: secs, nanoseconds: UInt32(nanos))
    }
}
