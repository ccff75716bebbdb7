import NIOCore

/// Answers the client's HTTP/2 PINGs before they reach the HTTP/2 stack, within bounds.
///
/// grpc-go clients (containerd's) send a PING for each burst of data they receive, to size their
/// flow-control windows: hundreds a second under load, forever when messages are small. swift-nio-
/// http2 closes a connection that sends more than 200 PINGs or SETTINGS in 30 s (ENHANCE_YOUR_CALM,
/// a denial-of-service guard that grpc-swift-nio-transport does not let a server configure), so
/// containerd's calls would fail with "the connection is draining". Sitting in front of the HTTP/2
/// handler, this handler acknowledges each PING itself, as grpc-go's own server does, and passes
/// every other byte through unchanged. Writes happen on the event loop between whole frames, so an
/// acknowledgement never lands inside another frame.
///
/// What it guarantees against a flood, with grpc-go's server as the model:
/// - Backpressure: at most `maxUnwrittenAcks` acknowledgements wait to reach the socket (grpc-go
///   stops reading at 50 queued control frames). A client that keeps pinging while it does not
///   read the answers is closed, so the acks it would pile up never use more than that.
/// - Rate: a PING that follows the previous one within `strikeInterval` with nothing sent by the
///   server in between is a strike; grpc-go's server gives up after 2 strikes (`too_many_pings`),
///   this one after `maxStrikes`, far more (the conformance suite's client may send 1000 PINGs in
///   a row and must get every answer). A grpc-go client pings only after data from the server
///   (its BDP pings, one at a time) or seconds apart (keepalive), so it never strikes; a flood at
///   network speed is closed within milliseconds.
final class PingResponder: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let pingType: UInt8 = 0x6
    static let ackFlag: UInt8 = 0x1
    /// Acknowledgements written but not yet on the socket past which a PING closes the connection.
    static let maxUnwrittenAcks = 50
    /// PINGs in a row with nothing sent between them, each soon after the last, that close it.
    static let maxStrikes = 2000
    static let strikeInterval = TimeAmount.seconds(1)

    /// Bytes of the client's connection preface still to pass.
    private var prefaceLeft = 24
    /// Payload bytes of the current (passed-through) frame still to pass.
    private var payloadLeft = 0
    /// A frame header (and, for a PING, its payload) split across reads.
    private var pending: [UInt8] = []
    private var unwrittenAcks = 0
    private var strikes = 0
    private var lastPing: NIODeadline?
    /// Whether the server (the HTTP/2 stack) wrote anything since the last PING.
    private var sentSincePing = false
    private var closed = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        sentSincePing = true
        context.write(data, promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        var input = unwrapInboundIn(data)
        var output = context.channel.allocator.buffer(capacity: input.readableBytes)
        while input.readableBytes > 0 {
            if prefaceLeft > 0 || payloadLeft > 0 {
                let n = min(prefaceLeft > 0 ? prefaceLeft : payloadLeft, input.readableBytes)
                var slice = input.readSlice(length: n)!
                output.writeBuffer(&slice)
                if prefaceLeft > 0 { prefaceLeft -= n } else { payloadLeft -= n }
                continue
            }
            // A frame header: 24-bit length, type, flags, 31-bit stream id.
            let need = pending.count < 9 ? 9 - pending.count : 17 - pending.count
            pending += input.readBytes(length: min(need, input.readableBytes))!
            guard pending.count >= 9 else { break }
            let length = Int(pending[0]) << 16 | Int(pending[1]) << 8 | Int(pending[2])
            let isPing = pending[3] == Self.pingType && pending[4] & Self.ackFlag == 0 && length == 8
            if !isPing {
                output.writeBytes(pending)
                payloadLeft = length
                pending = []
                continue
            }
            guard pending.count == 17 else { continue }
            guard admitPing() else {
                // What came before the flood still reaches the HTTP/2 stack, then the end.
                if output.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(output)) }
                closed = true
                context.close(promise: nil)
                return
            }
            var ack = context.channel.allocator.buffer(capacity: 17)
            ack.writeBytes([0, 0, 8, Self.pingType, Self.ackFlag, 0, 0, 0, 0])
            ack.writeBytes(pending[9...])
            unwrittenAcks += 1
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenComplete { [self] _ in unwrittenAcks -= 1 }
            context.writeAndFlush(wrapOutboundOut(ack), promise: written)
            pending = []
        }
        if output.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(output)) }
    }

    /// Whether one more PING may be answered (see the type's rules); false closes the connection.
    private func admitPing() -> Bool {
        guard unwrittenAcks < Self.maxUnwrittenAcks else { return false }
        let now = NIODeadline.now()
        if sentSincePing {
            strikes = 0
        } else if let lastPing, now - lastPing < Self.strikeInterval {
            strikes += 1
        }
        (lastPing, sentSincePing) = (now, false)
        return strikes <= Self.maxStrikes
    }
}
