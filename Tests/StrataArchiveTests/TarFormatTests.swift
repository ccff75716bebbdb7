import StrataFS
import StrataStreams
import StrataTestSupport
import Testing

@testable import StrataArchive

/// Header encoding as Go's `archive/tar` does it for containerd, and reading of other dialects.
@Suite struct TarFormatTests {
    func write(_ headers: [TarHeader], nanoseconds: Bool = false) throws -> [UInt8] {
        let sink = MemorySink()
        let w = TarWriter(sink)
        for h in headers { try w.writeHeader(h, allowNanoseconds: nanoseconds) }
        try w.close()
        return sink.bytes
    }

    func read(_ bytes: [UInt8]) throws -> [TarHeader] {
        let r = TarReader(MemorySource(bytes))
        var out: [TarHeader] = []
        while let h = try r.next() { out.append(h) }
        return out
    }

    func file(_ name: String, uid: Int64 = 0) -> TarHeader {
        TarHeader(name: Array(name.utf8), typeflag: TarHeader.Kind.regular.rawValue, mode: 0o644, uid: uid)
    }

    @Test func shortNamesAreUSTAR() throws {
        let b = try write([file("etc/hosts")])
        #expect(b.count == 512 + 1024)
        #expect(Array(b[257..<265]) == Array("ustar\u{0}00".utf8))
        #expect(Array(b[100..<108]) == Array("0000644\u{0}".utf8))
        #expect(b[155] == 0x20 && b[154] == 0)  // checksum: six digits, NUL, space
    }

    @Test func longSplittableNamesUseThePrefix() throws {
        let name = String(repeating: "d", count: 120) + "/file"
        let b = try write([file(name)])
        #expect(b.count == 512 + 1024)  // no PAX header
        #expect(try read(b).map(\.nameString) == [name])
    }

    @Test func unsplittableNamesGetAPAXPath() throws {
        let name = "dir/" + String(repeating: "x", count: 150)
        let b = try write([file(name)])
        #expect(String(decoding: b[0..<16], as: UTF8.self) == "dir/PaxHeaders.0")
        #expect(b[156] == UInt8(ascii: "x"))
        #expect(try read(b).map(\.nameString) == [name])
    }

    @Test func nonASCIINamesGetAPAXPath() throws {
        let b = try write([file("über/naïve")])
        #expect(b[156] == UInt8(ascii: "x"))
        #expect(try read(b).map(\.nameString) == ["über/naïve"])
    }

    @Test func largeIDsGoToPAXRecords() throws {
        let b = try write([file("f", uid: 3_000_000)])
        #expect(String(decoding: b, as: UTF8.self).contains("uid=3000000\n"))
        #expect(try read(b).first?.uid == 3_000_000)
    }

    @Test(arguments: [0, 1, 4, 5, 94, 95, 96, 995, 996])
    func paxRecordLengthCountsItself(_ valueLength: Int) throws {
        let record = TarWriter.paxRecord("k", Array(repeating: UInt8(ascii: "v"), count: valueLength))
        let declared = Int(String(decoding: record.prefix { $0 != 0x20 }, as: UTF8.self))
        #expect(declared == record.count)
    }

    @Test func xattrsRoundTripThroughPAX() throws {
        var h = file("f")
        h.paxRecords = [
            ("SCHILY.xattr.security.capability", [1, 0, 0, 2, 0, 0x20]), ("SCHILY.xattr.user.a", [0, 0xFF]),
        ]
        let back = try read(write([h]))
        #expect(back.first?.xattrs.map(\.name) == ["security.capability", "user.a"])
        #expect(back.first?.xattrs.last?.value == [0, 0xFF])
    }

    @Test func nanosecondTimesRoundTrip() throws {
        var h = file("f")
        h.modificationTime = FileTime(seconds: 1_600_000_000, nanoseconds: 5)
        #expect(try read(write([h], nanoseconds: true)).first?.modificationTime == h.modificationTime)
        #expect(TarWriter.formatPAXTime(FileTime(seconds: -1, nanoseconds: 500_000_000)) == Array("-0.5".utf8))
    }

    @Test func badChecksumIsNamed() throws {
        var b = try write([file("f")])
        b[0] ^= 1
        #expect(throws: TarError.self) { try read(b) }
    }

    @Test func truncatedHeaderIsAnError() throws {
        let b = try write([file("f")])
        #expect(throws: TarError.self) { try read(Array(b.prefix(300))) }
    }

    @Test func truncatedDataNamesTheEntry() throws {
        var h = file("data.bin")
        h.size = 4096
        let sink = MemorySink()
        let w = TarWriter(sink)
        try w.writeHeader(h)
        try [UInt8](repeating: 1, count: 4096).withUnsafeBytes { try w.writeData($0) }
        try w.close()
        do {
            _ = try read(Array(sink.bytes.prefix(512 + 100)))
            Issue.record("a truncated entry was accepted")
        } catch let e as TarError {
            #expect("\(e)".contains("data.bin"))
        }
    }

    /// Entry data read as slices stays intact while the reader moves on (a write-behind thread
    /// writes it later), whatever the chunk boundaries: chunks that split headers, a plain byte
    /// source whose buffer is refilled, and whole-block chunks.
    @Test(arguments: [0, 1000, 4096 + 7, 1 << 20])
    func dataSlicesSurviveTheReaderMovingOn(_ chunkSize: Int) throws {
        var g = SeededGenerator(seed: 5)
        let contents = (0..<40).map { g.bytes($0 * $0 * 97 + $0) }
        let sink = MemorySink()
        let w = TarWriter(sink)
        for (i, c) in contents.enumerated() {
            var h = file("f\(i)")
            h.size = Int64(c.count)
            try w.writeHeader(h)
            try c.withUnsafeBytes { try w.writeData($0) }
        }
        try w.close()
        let source: ByteSource =
            chunkSize == 0
            ? MemorySource(sink.bytes) : PrefetchingSource(MemorySource(sink.bytes), chunkSize: chunkSize)
        let r = TarReader(source, bufferSize: 3000)
        var held: [[ChunkSlice]] = []
        while try r.next() != nil {
            var slices: [ChunkSlice] = []
            while let s = try r.nextData(max: 777) { slices.append(s) }
            held.append(slices)
        }
        #expect(held.map { $0.flatMap { Array($0.bytes) } } == contents)
    }

    @Test func gnuBase256Numbers() throws {
        var field = ArraySlice([UInt8](repeating: 0, count: 12))
        field[field.startIndex] = 0x80
        field[field.endIndex - 2] = 0x01
        field[field.endIndex - 1] = 0x00
        #expect(try TarReader.number(field) == 256)
        #expect(try TarReader.number(ArraySlice(Array("0000644\u{0}".utf8))) == 0o644)
    }

    @Test func gnuLongNamesAreRead() throws {
        let long = String(repeating: "n", count: 200)
        var l = HeaderBlockForTests(name: "././@LongLink", type: UInt8(ascii: "L"), size: long.utf8.count + 1)
        var bytes = l.bytes + Array(long.utf8) + [0]
        bytes += [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
        l = HeaderBlockForTests(name: String(long.prefix(100)), type: UInt8(ascii: "0"), size: 0)
        bytes += l.bytes + [UInt8](repeating: 0, count: 1024)
        #expect(try read(bytes).map(\.nameString) == [long])
    }
}

/// A GNU-format header built by hand, as GNU tar writes one.
struct HeaderBlockForTests {
    var bytes = [UInt8](repeating: 0, count: 512)

    init(name: String, type: UInt8, size: Int) {
        put(0, Array(name.utf8.prefix(100)))
        put(100, Array("0000644\u{0}".utf8))
        put(108, Array("0000000\u{0}".utf8))
        put(116, Array("0000000\u{0}".utf8))
        let s = String(size, radix: 8)
        put(124, Array((String(repeating: "0", count: 11 - s.count) + s + "\u{0}").utf8))
        put(136, Array("00000000000\u{0}".utf8))
        bytes[156] = type
        put(257, Array("ustar  \u{0}".utf8))
        for i in 148..<156 { bytes[i] = 0x20 }
        let sum = bytes.reduce(0) { $0 + Int($1) }
        let c = String(sum, radix: 8)
        put(148, Array((String(repeating: "0", count: 6 - c.count) + c + "\u{0} ").utf8))
    }

    mutating func put(_ at: Int, _ v: [UInt8]) { for (i, b) in v.enumerated() { bytes[at + i] = b } }
}
