import StrataFS
import StrataStreams

/// Writes a tar stream with the exact header choices of Go's `archive/tar` as containerd uses
/// it, so that the same entries give the same bytes (and the same diffID) as containerd.
///
/// Headers are USTAR whenever USTAR can hold them (long names split into prefix and name), and
/// PAX (`x` entries named `<dir>/PaxHeaders.0/<base>`, records sorted by key) when a name, link or
/// number does not fit, when records such as `SCHILY.xattr.*` are present, or when a nanosecond
/// mtime must be kept. The archive ends with two zero blocks and no further padding.
public final class TarWriter {
    private let sink: ByteSink
    private let buffer: UnsafeMutableRawBufferPointer
    private var used = 0
    private var remaining: Int64 = 0
    private var padding = 0
    private var currentName: [UInt8] = []
    /// Bytes of tar written so far.
    public private(set) var offset: Int64 = 0

    public init(_ sink: ByteSink, bufferSize: Int = 1 << 20) {
        self.sink = sink
        buffer = .allocate(byteCount: max(bufferSize, 4096), alignment: 64)
    }

    deinit { buffer.deallocate() }

    /// Writes a header. With `allowNanoseconds`, a mtime with a sub-second part forces PAX (Go's
    /// `FormatPAX`); without it the caller has already truncated the time.
    public func writeHeader(_ h: TarHeader, allowNanoseconds: Bool = false) throws {
        try finishEntry()
        var pax: [String: [UInt8]] = [:]
        var ustar = true
        let name = h.name
        if !TarField.isASCII(name) || name.count > TarField.name.count {
            if Self.splitUSTAR(name) == nil { ustar = false }
            pax["path"] = name
        }
        if !TarField.isASCII(h.linkname) || h.linkname.count > TarField.linkname.count {
            ustar = false
            pax["linkpath"] = h.linkname
        }
        for (value, key, width) in [(h.uid, "uid", 8), (h.gid, "gid", 8), (h.size, "size", 12)]
        where !TarField.fitsOctal(value, width: width) {
            ustar = false
            pax[key] = Array(String(value).utf8)
        }
        for (value, what) in [(h.devMajor, "device major"), (h.devMinor, "device minor"), (h.mode, "mode")]
        where !TarField.fitsOctal(value, width: 8) {
            throw TarError.fieldTooLong(
                entry: h.nameString, String(describing: what) + " \(value) does not fit a tar header")
        }
        let mtime = h.modificationTime
        let mtimeFits = TarField.fitsOctal(mtime.seconds, width: 12)
        if !mtimeFits || (allowNanoseconds && mtime.nanoseconds != 0) {
            ustar = false
            pax["mtime"] = Self.formatPAXTime(mtime)
        }
        if !h.paxRecords.isEmpty {
            ustar = false
            for r in h.paxRecords where pax[r.key] == nil { pax[r.key] = r.value }
        }
        if ustar {
            try writeUSTAR(h)
        } else {
            try writePAX(h, records: pax)
        }
        currentName = h.name
        remaining = h.size
        padding = Int((TarField.block - Int(h.size % Int64(TarField.block))) % TarField.block)
    }

    private func writeUSTAR(_ h: TarHeader) throws {
        var block = template(h, name: h.name, linkname: h.linkname)
        if let (prefix, rest) = Self.splitUSTAR(h.name) {
            block.setString(TarField.name, rest)
            block.setString(TarField.prefix, prefix)
        }
        block.setMagicAndChecksum()
        try emit(block.bytes)
    }

    private func writePAX(_ h: TarHeader, records: [String: [UInt8]]) throws {
        var data: [UInt8] = []
        for key in records.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            data.append(contentsOf: Self.paxRecord(key, records[key]!))
        }
        var x = HeaderBlock()
        var xname = TarField.toASCII(Self.paxHeaderName(h.name))
        if xname.count > TarField.name.count { xname = Array(xname[..<TarField.name.count]) }
        while xname.last == 0x2F { xname.removeLast() }
        x.bytes[TarField.typeflag] = TarHeader.Kind.paxExtended.rawValue
        x.setString(TarField.name, xname)
        x.setOctal(TarField.mode, 0)
        x.setOctal(TarField.uid, 0)
        x.setOctal(TarField.gid, 0)
        x.setOctal(TarField.size, Int64(data.count))
        x.setOctal(TarField.mtime, 0)
        x.setMagicAndChecksum()
        try emit(x.bytes)
        try emit(data)
        let pad = (TarField.block - data.count % TarField.block) % TarField.block
        try emit([UInt8](repeating: 0, count: pad))
        var block = template(h, name: TarField.toASCII(h.name), linkname: TarField.toASCII(h.linkname))
        block.setMagicAndChecksum()
        try emit(block.bytes)
    }

    private func template(_ h: TarHeader, name: [UInt8], linkname: [UInt8]) -> HeaderBlock {
        var b = HeaderBlock()
        b.bytes[TarField.typeflag] = h.typeflag
        b.setString(TarField.name, name)
        b.setString(TarField.linkname, linkname)
        b.setOctal(TarField.mode, h.mode)
        b.setOctal(TarField.uid, h.uid)
        b.setOctal(TarField.gid, h.gid)
        b.setOctal(TarField.size, h.size)
        b.setOctal(TarField.mtime, h.modificationTime.seconds)
        b.setString(TarField.uname, h.uname)
        b.setString(TarField.gname, h.gname)
        b.setOctal(TarField.devMajor, h.devMajor)
        b.setOctal(TarField.devMinor, h.devMinor)
        return b
    }

    /// Writes entry data; more than the header's size is an error.
    public func writeData(_ bytes: UnsafeRawBufferPointer) throws {
        guard Int64(bytes.count) <= remaining else {
            throw TarError.shortFile(entry: PathName.display(currentName), expected: remaining, got: Int64(bytes.count))
        }
        remaining -= Int64(bytes.count)
        try emit(bytes)
    }

    /// Copies exactly the header's size from `file`, reading straight into the output buffer.
    public func writeData(from file: Handle) throws {
        let expected = remaining
        while remaining > 0 {
            if used == buffer.count { try flush() }
            let room = min(buffer.count - used, Int(clamping: remaining))
            let n = try file.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[used..<used + room]))
            if n == 0 {
                throw TarError.shortFile(
                    entry: PathName.display(currentName), expected: expected, got: expected - remaining)
            }
            used += n
            offset += Int64(n)
            remaining -= Int64(n)
        }
        var probe: UInt8 = 0
        if try withUnsafeMutableBytes(of: &probe, { try file.read(into: $0) }) != 0 {
            throw TarError.shortFile(entry: PathName.display(currentName), expected: expected, got: expected + 1)
        }
    }

    /// Pads the current entry's data to a whole block.
    public func finishEntry() throws {
        if remaining != 0 {
            throw TarError.shortFile(entry: PathName.display(currentName), expected: remaining, got: 0)
        }
        if padding > 0 {
            try emit([UInt8](repeating: 0, count: padding))
            padding = 0
        }
    }

    /// Ends the archive (two zero blocks), flushes, and finishes the sink.
    public func close() throws {
        try finishEntry()
        try emit([UInt8](repeating: 0, count: 2 * TarField.block))
        try flush()
        try sink.finish()
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try emit($0) }
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        offset += Int64(bytes.count)
        var rest = bytes
        while !rest.isEmpty {
            if used == buffer.count { try flush() }
            let n = min(rest.count, buffer.count - used)
            UnsafeMutableRawBufferPointer(rebasing: buffer[used..<used + n]).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: rest[..<n]))
            used += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
        }
    }

    private func flush() throws {
        if used > 0 { try sink.write(UnsafeRawBufferPointer(rebasing: buffer[..<used])) }
        used = 0
    }
}
