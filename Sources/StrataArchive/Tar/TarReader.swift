import StrataFS
import StrataStreams

/// Reads tar streams in every dialect a layer may use: V7, USTAR (with prefix), PAX (`x` records
/// for path, linkpath, size, ids, times, `SCHILY.xattr.*` and GNU sparse 0.0, 0.1 and 1.0), GNU
/// long names and links (`L`, `K`), GNU old sparse files (`S`) and GNU base-256 numbers.
///
/// Every header's checksum is verified; a stream that ends inside a header or an entry's data is an
/// error naming the entry. Global PAX headers are read and ignored, as containerd does.
public final class TarReader {
    private let source: ByteSource
    /// The same source when it hands over whole chunks: then bytes are read in place, never copied.
    private let chunks: ChunkSource?
    /// The bytes being read: `chunk.bytes[start...]` are not consumed yet.
    private var chunk: Chunk
    private var start = 0
    private var end: Int { chunk.count }
    private var sourceEnded = false
    /// Bytes consumed from the stream so far.
    public private(set) var offset: Int64 = 0
    private var dataRemaining: Int64 = 0
    private var paddingRemaining: Int64 = 0
    private var current: TarHeader?

    public init(_ source: ByteSource, bufferSize: Int = 1 << 20) {
        self.source = source
        chunks = source as? ChunkSource
        chunk = Chunk(capacity: chunks == nil ? bufferSize : 0)
    }

    /// The next entry's header, or nil at the end of the archive. Unread data of the previous
    /// entry is skipped.
    public func next() throws -> TarHeader? {
        try skip(dataRemaining + paddingRemaining, inEntry: current?.nameString)
        dataRemaining = 0
        paddingRemaining = 0
        current = nil
        var longName: [UInt8]?
        var longLink: [UInt8]?
        var pax: [(key: String, value: [UInt8])] = []
        var extensionBytes: Int64 = 0
        /// The entry's name as far as its extension headers have told it, for errors.
        func pending() -> String? {
            if let path = pax.last(where: { $0.key == "path" }) { return PathName.displayShowingNUL(path.value) }
            return longName.map(PathName.displayShowingNUL)
        }
        while true {
            let blockOffset = offset
            guard let block = try readBlock(entry: pending) else {
                if longName != nil || longLink != nil || !pax.isEmpty { throw TarError.truncated(entry: pending()) }
                return nil  // a stream without end blocks still ends cleanly, as GNU tar allows
            }
            if block.allSatisfy({ $0 == 0 }) {
                // End of archive: a second zero block normally follows; anything else is corrupt.
                if let second = try readBlock(), !second.allSatisfy({ $0 == 0 }) {
                    throw TarError.invalidHeader(offset: blockOffset + 512, "data after an end-of-archive block")
                }
                return nil
            }
            var h = try Self.parse(block, at: blockOffset)
            switch h.kind {
            case .paxExtended, .paxGlobal, .gnuLongName, .gnuLongLink:
                let what = { pending().map { "entry \($0)" } ?? "the entry at byte \(blockOffset)" }
                extensionBytes += h.size
                guard h.size <= Self.maxExtendedHeader, extensionBytes <= Self.maxExtendedHeader else {
                    throw TarError.invalidHeader(
                        offset: blockOffset,
                        "\(what()): extended headers of \(extensionBytes) bytes are more than the \(Self.maxExtendedHeader) allowed"
                    )
                }
                let data = try readData(Int(h.size), padded: true, entry: "the extended header of \(what())")
                switch h.kind {
                case .paxExtended:
                    pax.append(contentsOf: try Self.parsePAX(data, entry: pending() ?? "at byte \(blockOffset)"))
                case .gnuLongName: longName = Self.cString(data)
                case .gnuLongLink: longLink = Self.cString(data)
                default: break
                }
                continue
            default:
                break
            }
            if let longName { h.name = longName }
            if let longLink { h.linkname = longLink }
            if h.kind == .gnuSparse { try readGNUSparse(&h, block: block) }
            try Self.apply(pax, to: &h)
            guard h.size <= Self.maxSize, (h.sparseRealSize ?? 0) <= Self.maxSize, (h.sparseRealSize ?? 0) >= 0 else {
                throw TarError.invalidHeader(
                    offset: blockOffset, "entry \(h.nameString): size \(h.sparseRealSize ?? h.size) is out of range")
            }
            if h.kind == .contiguous { h.typeflag = TarHeader.Kind.regular.rawValue }
            let headerOnly: Set<UInt8> = [0x31, 0x32, 0x33, 0x34, 0x35, 0x36]  // link, symlink, devices, dir, fifo
            let stored = headerOnly.contains(h.typeflag) ? 0 : h.size
            dataRemaining = stored
            paddingRemaining = (512 - stored % 512) % 512
            if h.sparseMap != nil && h.sparseRealSize != nil
                && pax.contains(where: { $0.key == "GNU.sparse.major" && $0.value == Array("1".utf8) })
            {
                try readSparse1Map(&h)
            }
            if h.typeflag == 0 { h.typeflag = TarHeader.Kind.regular.rawValue }
            if let map = h.sparseMap {
                try Self.checkSparse(map, stored: h.size, realSize: h.fileSize, entry: h.nameString)
            }
            current = h
            return h
        }
    }

    /// The largest entry size read (4 EiB): sizes and offsets below it leave room for any sum of
    /// two of them, so no arithmetic on them can overflow.
    public static let maxSize: Int64 = 1 << 62
    /// The most extension data (PAX records, GNU long names) one entry may have: Go's
    /// `archive/tar` reads no PAX or long-name header above 1 MiB, so neither can containerd.
    public static let maxExtendedHeader: Int64 = 1 << 20

    /// A sparse map must fit its file and its stored bytes, in order and without overlap (Go's
    /// `validateSparseEntries`), so writing it can neither overflow nor write past the file.
    static func checkSparse(_ map: [(offset: Int64, length: Int64)], stored: Int64, realSize: Int64, entry: String)
        throws
    {
        var end: Int64 = 0
        var total: Int64 = 0
        for (offset, length) in map {
            guard offset >= end, length >= 0, offset <= realSize, length <= realSize - offset else {
                throw TarError.invalidPAX(entry: entry, "sparse map entry \(offset)+\(length) is out of order or range")
            }
            end = offset + length
            total += length
        }
        guard total <= stored else {
            throw TarError.invalidPAX(entry: entry, "sparse map holds \(total) bytes but the entry stores \(stored)")
        }
    }

    /// Reads entry data; 0 at the end of the entry's stored bytes.
    public func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
        guard dataRemaining > 0, out.count > 0 else { return 0 }
        if start == end { try fill() }
        if start == end { throw TarError.truncated(entry: current?.nameString) }
        let n = min(out.count, end - start, Int(clamping: dataRemaining))
        out.copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk.bytes[start..<start + n]))
        start += n
        offset += Int64(n)
        dataRemaining -= Int64(n)
        return n
    }

    /// Borrows up to `max` bytes of entry data in place; empty at the end of the entry.
    public func withNextData<R>(max: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try body(nextData(max: max)?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
    }

    /// Up to `max` bytes of entry data, as a slice that keeps its memory alive for as long as it is
    /// held (a write-behind thread may write it later); nil at the end of the entry.
    public func nextData(max: Int) throws -> ChunkSlice? {
        guard dataRemaining > 0, max > 0 else { return nil }
        if start == end { try fill() }
        if start == end { throw TarError.truncated(entry: current?.nameString) }
        let n = Swift.min(max, end - start, Int(clamping: dataRemaining))
        let slice = ChunkSlice(chunk, start..<start + n)
        start += n
        offset += Int64(n)
        dataRemaining -= Int64(n)
        return slice
    }

    /// Bytes of the current entry not read yet.
    public var remainingData: Int64 { dataRemaining }

    /// Reads whatever follows the archive, so a digest over the stream covers every byte.
    public func drain() throws {
        start = end
        while !sourceEnded {
            try fill()
            offset += Int64(end - start)
            start = end
        }
    }

    // MARK: Buffer

    /// Makes more bytes readable after `start`, keeping the unread ones. A chunk that may have
    /// been handed out as a slice is never written again.
    private func fill() throws {
        guard !sourceEnded else { return }
        let live = UnsafeRawBufferPointer(rebasing: chunk.bytes[start...])
        if let chunks {
            guard let next = try chunks.nextChunk() else {
                sourceEnded = true
                return
            }
            if live.isEmpty {
                chunk = next
            } else {
                // A header split across two chunks (chunks are normally whole blocks): join them.
                let joined = Chunk(capacity: live.count + next.count)
                joined.append(live)
                joined.append(next.bytes)
                chunk = joined
            }
            start = 0
            return
        }
        if isKnownUniquelyReferenced(&chunk) {
            chunk.removeFirst(start)
        } else {
            let fresh = Chunk(capacity: chunk.memory.count)
            fresh.append(live)
            chunk = fresh
        }
        start = 0
        if try chunk.fill(from: source, minimum: 512) == 0 { sourceEnded = true }
    }

    private func readBlock(entry: () -> String? = { nil }) throws -> [UInt8]? {
        while end - start < 512 && !sourceEnded { try fill() }
        if end == start { return nil }
        if end - start < 512 { throw TarError.truncated(entry: entry()) }
        let b = Array(UnsafeRawBufferPointer(rebasing: chunk.bytes[start..<start + 512]))
        start += 512
        offset += 512
        return b
    }

    func readData(_ count: Int, padded: Bool, entry: String) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var left = count
        while left > 0 {
            if start == end { try fill() }
            if start == end { throw TarError.truncated(entry: entry) }
            let n = min(left, end - start)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk.bytes[start..<start + n]))
            start += n
            offset += Int64(n)
            left -= n
        }
        if padded { try skip(Int64((512 - count % 512) % 512), inEntry: entry) }
        return out
    }

    func skip(_ count: Int64, inEntry entry: String?) throws {
        var left = count
        while left > 0 {
            if start == end { try fill() }
            if start == end { throw TarError.truncated(entry: entry) }
            let n = min(Int(clamping: left), end - start)
            start += n
            offset += Int64(n)
            left -= Int64(n)
        }
    }

    /// Old GNU sparse (`S`): the map lives in the header and extension blocks.
    private func readGNUSparse(_ h: inout TarHeader, block: [UInt8]) throws {
        var map: [(offset: Int64, length: Int64)] = []
        func number(_ f: ArraySlice<UInt8>) throws -> Int64 {
            do { return try Self.number(f) } catch {
                throw TarError.invalidPAX(entry: h.nameString, "bad number in its GNU sparse map")
            }
        }
        func entries(_ b: [UInt8], from: Int, count: Int) throws {
            for i in 0..<count {
                let o = from + i * 24
                if b[o] == 0 { continue }
                map.append((try number(b[o..<o + 12]), try number(b[o + 12..<o + 24])))
            }
        }
        try entries(block, from: TarField.gnuSparse.lowerBound, count: 4)
        var extended = block[TarField.gnuIsExtended] != 0
        while extended {
            guard let ext = try readBlock() else { throw TarError.truncated(entry: h.nameString) }
            try entries(ext, from: 0, count: 21)
            extended = ext[504] != 0
        }
        h.sparseMap = map
        h.sparseRealSize = try number(block[TarField.gnuRealSize])
        h.typeflag = TarHeader.Kind.regular.rawValue
    }

    /// PAX sparse 1.0: the map is a list of decimal lines at the start of the data.
    private func readSparse1Map(_ h: inout TarHeader) throws {
        var consumed: Int64 = 0
        func line() throws -> Int64 {
            var digits: [UInt8] = []
            while true {
                var byte: UInt8 = 0
                let n = try withUnsafeMutableBytes(of: &byte) { try read(into: $0) }
                if n == 0 { throw TarError.truncated(entry: h.nameString) }
                consumed += 1
                if byte == 0x0A { break }
                guard (0x30...0x39).contains(byte), digits.count < 20 else {
                    throw TarError.invalidPAX(entry: h.nameString, "bad GNU sparse 1.0 map")
                }
                digits.append(byte)
            }
            guard let v = Int64(String(decoding: digits, as: UTF8.self)) else {
                throw TarError.invalidPAX(entry: h.nameString, "bad GNU sparse 1.0 map")
            }
            return v
        }
        let count = try line()
        guard count >= 0 && count < 1 << 20 else {
            throw TarError.invalidPAX(entry: h.nameString, "bad GNU sparse 1.0 map")
        }
        var map: [(offset: Int64, length: Int64)] = []
        for _ in 0..<count { map.append((try line(), try line())) }
        let pad = (512 - consumed % 512) % 512
        var skipBuf = [UInt8](repeating: 0, count: Int(pad))
        if pad > 0 { _ = try skipBuf.withUnsafeMutableBytes { try read(into: $0) } }
        h.sparseMap = map
        h.size -= consumed + pad
        guard h.size >= 0 else {
            throw TarError.invalidPAX(entry: h.nameString, "GNU sparse 1.0 map is larger than the entry")
        }  // the map itself is checked by `next()`, as every sparse map is
    }
}
