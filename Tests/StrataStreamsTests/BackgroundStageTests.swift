import Foundation
import StrataFS
import StrataStreams
import StrataTestSupport
import Testing

/// The threads between stream stages pass every byte in order and report the other side's errors.
@Suite struct BackgroundStageTests {
    struct Broken: Error {}

    final class FailingSink: ByteSink {
        var written = 0
        func write(_ bytes: UnsafeRawBufferPointer) throws {
            written += bytes.count
            if written > 3 << 20 { throw Broken() }
        }
        func finish() throws {}
    }

    final class FailingSource: ByteSource {
        var served = 0
        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            if served > 2 << 20 { throw Broken() }
            buffer.initializeMemory(as: UInt8.self, repeating: 1)
            served += buffer.count
            return buffer.count
        }
    }

    @Test func bytesPassInOrder() throws {
        var g = SeededGenerator(seed: 11)
        let data = g.bytes(5_000_123)
        let memory = MemorySink()
        let sink = BackgroundSink(memory, chunkSize: 100_000, depth: 2)
        var offset = 0
        while offset < data.count {
            let n = min(77_777, data.count - offset)
            try data[offset..<offset + n].withUnsafeBytes { try sink.write($0) }
            offset += n
        }
        try sink.finish()
        #expect(memory.bytes == data)
        let source = PrefetchingSource(MemorySource(data), chunkSize: 65_536, depth: 3)
        #expect(try source.readToEnd(chunk: 10_000) == data)
    }

    /// A mapped file yields its bytes in windows, whole and in order, by chunks or by reads.
    @Test func mappedFileServesEveryByte() throws {
        let t = TempDirectory("mapped")
        var g = SeededGenerator(seed: 12)
        let data = g.bytes(3 * 65_536 + 4_321)
        let file = try Handle.openFile(path: t.at("f"), flags: O_RDWR | O_CREAT, mode: 0o600)
        try data.withUnsafeBytes { try file.write($0) }
        var chunks: [UInt8] = []
        let byChunk = MappedFileSource(fd: file.fd, size: Int64(data.count), window: 65_536)
        while let c = try byChunk.nextChunk() { chunks += Array(c.bytes) }
        #expect(chunks == data)
        let byRead = MappedFileSource(fd: file.fd, size: Int64(data.count), window: 65_536)
        #expect(try byRead.readToEnd(chunk: 10_000) == data)
    }

    @Test func downstreamErrorsReachTheWriter() throws {
        let sink = BackgroundSink(FailingSink(), chunkSize: 1 << 20, depth: 2)
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        #expect(throws: Broken.self) {
            for _ in 0..<16 { try chunk.withUnsafeBytes { try sink.write($0) } }
            try sink.finish()
        }
    }

    @Test func upstreamErrorsReachTheReader() throws {
        let source = PrefetchingSource(FailingSource(), chunkSize: 1 << 20, depth: 2)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        #expect(throws: Broken.self) {
            while try buffer.withUnsafeMutableBytes({ try source.read(into: $0) }) > 0 {}
        }
    }
}
