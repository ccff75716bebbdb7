import StrataCompression
import StrataStreams
import StrataTestSupport
import Testing

@Suite struct CompressionTests {
    func compress(_ c: Compression, _ data: [UInt8], level: Int? = nil) throws -> [UInt8] {
        let sink = MemorySink()
        let z = try c.compressor(level: level, into: sink)
        try data.withUnsafeBytes { try z.write($0) }
        try z.finish()
        return sink.bytes
    }

    func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        let source = PrefetchingSource(MemorySource(bytes), chunkSize: 65_536)
        return try Compression.detect(source.peek(10)).decompressor(reading: source).readToEnd(chunk: 100_000)
    }

    static let levels: [(Compression, Int?)] = [
        (.none, nil), (.gzip, 1), (.gzip, 6), (.gzip, 9), (.zstd, 1), (.zstd, 3), (.zstd, 19),
    ]

    @Test(arguments: levels)
    func roundTrip(_ c: Compression, _ level: Int?) throws {
        var g = SeededGenerator(seed: 3)
        let data = g.bytes(300_000) + [UInt8](repeating: 0, count: 500_000) + Array("text ".utf8) * 10_000
        let packed = try compress(c, data, level: level)
        #expect(Compression.detect(packed) == c)
        #expect(try decompress(packed) == data)
        if c != .none { #expect(packed.count < data.count) }
    }

    @Test func levelsOutOfRangeAreRejected() {
        #expect(throws: CompressionError.invalidLevel(.gzip, 10)) { try compress(.gzip, [], level: 10) }
        #expect(throws: CompressionError.invalidLevel(.zstd, 20)) { try compress(.zstd, [], level: 20) }
    }

    @Test func zstdSkippableFrameIsDetected() throws {
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4]
        let packed = try skippable + compress(.zstd, Array("hello".utf8))
        #expect(Compression.detect(packed) == .zstd)
        #expect(try decompress(packed) == Array("hello".utf8))
    }

    @Test func concatenatedGzipMembersReadAsOne() throws {
        let a = try compress(.gzip, Array("first ".utf8))
        let b = try compress(.gzip, Array("second".utf8))
        #expect(try decompress(a + b) == Array("first second".utf8))
    }

    @Test func corruptGzipCRCIsAnError() throws {
        var packed = try compress(.gzip, Array(repeating: 65, count: 10_000))
        packed[packed.count - 6] ^= 0xFF
        #expect(throws: CompressionError.self) { try decompress(packed) }
    }

    @Test(arguments: [Compression.gzip, .zstd])
    func truncatedStreamIsAnError(_ c: Compression) throws {
        var g = SeededGenerator(seed: 5)
        let packed = try compress(c, g.bytes(200_000))
        #expect(throws: CompressionError.truncated(c)) { try decompress(Array(packed.prefix(packed.count / 2))) }
    }

    @Test func unsupportedFormatsAreNamed() {
        #expect(Compression.unsupportedFormat([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) == "xz")
        #expect(Compression.unsupportedFormat(Array("BZh9".utf8)) == "bzip2")
        #expect(Compression.unsupportedFormat(Array("etc/".utf8)) == nil)
    }
}

func * (a: [UInt8], n: Int) -> [UInt8] { Array([[UInt8]](repeating: a, count: n).joined()) }
