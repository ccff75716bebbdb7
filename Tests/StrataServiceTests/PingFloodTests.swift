import NIOCore
import NIOEmbedded
import StrataTestSupport
import Testing

@testable import StrataService

/// The HTTP/2 PING answer under a flood (issue 23, defect 6): backpressure and a closed
/// connection for a flood, grpc-go's rhythm untouched.
@Suite struct PingFloodTests {
    static let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    static func ping(_ n: UInt64) -> ByteBuffer {
        var b = ByteBuffer(bytes: [0, 0, 8, PingResponder.pingType, 0, 0, 0, 0, 0])
        b.writeInteger(n)
        return b
    }

    /// A socket that never drains: it keeps every write's promise (failed when it closes).
    final class StalledSocket: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var held: [EventLoopPromise<Void>] = []
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if let promise { held.append(promise) }
        }
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            for p in held { p.fail(ChannelError.ioOnClosedChannel) }
            held = []
            context.close(mode: mode, promise: promise)
        }
    }

    static func channel(stalled: Bool) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        if stalled { try channel.pipeline.syncOperations.addHandler(StalledSocket()) }
        try channel.pipeline.syncOperations.addHandler(PingResponder())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        _ = try channel.writeInbound(ByteBuffer(bytes: preface))
        return channel
    }

    /// Acks read back from the channel (each a 17-byte frame).
    static func acks(_ channel: EmbeddedChannel) throws -> Int {
        var n = 0
        while var b = try channel.readOutbound(as: ByteBuffer.self) {
            while b.readableBytes >= 17, let frame = b.readBytes(length: 17) {
                if frame[3] == PingResponder.pingType && frame[4] == PingResponder.ackFlag { n += 1 }
            }
        }
        return n
    }

    /// Pings `count` times (after data from the server each time, when `withData`); the number
    /// sent before the channel closed.
    static func flood(_ channel: EmbeddedChannel, count: Int, withData: Bool) -> Int {
        for i in 0..<count {
            guard channel.isActive else { return i }
            if withData { channel.write(ByteBuffer(bytes: [0, 0, 0, 0, 0, 0, 0, 0, 1]), promise: nil) }
            _ = try? channel.writeInbound(ping(UInt64(i)))
            _ = try? channel.readInbound(as: ByteBuffer.self)
        }
        return count
    }

    @Test func grpcGoRhythmIsAnsweredWithoutEnd() throws {
        // grpc-go's BDP pings: one after each burst of data from the server, thousands in a row.
        let channel = try Self.channel(stalled: false)
        #expect(Self.flood(channel, count: 5000, withData: true) == 5000)
        #expect(channel.isActive)
        #expect(try Self.acks(channel) == 5000)
        _ = try? channel.finish()
    }

    @Test func pingsWithNothingBetweenThemCloseTheConnection() throws {
        let channel = try Self.channel(stalled: false)
        let sent = Self.flood(channel, count: 20_000, withData: false)
        #expect(!channel.isActive, "a flood of 20000 pings left the connection open")
        #expect(sent <= PingResponder.maxStrikes + 2, "\(sent) pings before the close")
        #expect(try Self.acks(channel) <= PingResponder.maxStrikes + 1)
    }

    @Test func aClientThatDoesNotReadItsAcksIsClosed() throws {
        // Data between the pings (so no strikes), but the socket never drains: the acks waiting
        // for it stop at the cap and the connection closes.
        let channel = try Self.channel(stalled: true)
        let sent = Self.flood(channel, count: 10_000, withData: true)
        #expect(!channel.isActive, "10000 unanswered pings left the connection open")
        #expect(sent <= PingResponder.maxUnwrittenAcks + 2, "\(sent) pings before the close")
    }

    @Test func framesAroundPingsPassThroughWhole() throws {
        let channel = try Self.channel(stalled: false)
        var input = ByteBuffer(bytes: [0, 0, 3, 0x0, 0x1, 0, 0, 0, 1, 7, 8, 9])  // DATA, 3 bytes
        input.writeImmutableBuffer(Self.ping(42))
        input.writeBytes([0, 0, 0, 0x4, 0x1, 0, 0, 0, 0])  // SETTINGS ack
        for byte in input.readableBytesView {  // one byte per read: every split
            _ = try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        var passed: [UInt8] = []
        while let b = try channel.readInbound(as: ByteBuffer.self) { passed += Array(b.readableBytesView) }
        #expect(passed == Self.preface + [0, 0, 3, 0x0, 0x1, 0, 0, 0, 1, 7, 8, 9, 0, 0, 0, 0x4, 0x1, 0, 0, 0, 0])
        #expect(try Self.acks(channel) == 1)
        _ = try? channel.finish()
    }
}
