import NIOCore

/// Answers the client's HTTP/2 PINGs before they reach the HTTP/2 stack.
///
/// grpc-go clients (containerd's) send a PING for each burst of data they receive, to size their
/// flow-control windows: hundreds a second under load, forever when messages are small. swift-nio-
/// http2 closes a connection that sends more than 200 PINGs or SETTINGS in 30 s (ENHANCE_YOUR_CALM,
/// a denial-of-service guard that grpc-swift-nio-transport does not let a server configure), so
/// containerd's calls would fail with "the connection is draining". Sitting in front of the HTTP/2
/// handler, this handler acknowledges each PING itself, as grpc-go's own server does, and passes
/// every other byte through unchanged. Writes happen on the event loop between whole frames, so an
/// acknowledgement never lands inside another frame.
final class PingResponder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let pingType: UInt8 = 0x6
    static let ackFlag: UInt8 = 0x1

    /// Bytes of the client's connection preface still to pass.
    private var prefaceLeft = 24
    /// Payload bytes of the current (passed-through) frame still to pass.
    private var payloadLeft = 0
    /// A frame header (and, for a PING, its payload) split across reads.
    private var pending: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
            var ack = context.channel.allocator.buffer(capacity: 17)
            ack.writeBytes([0, 0, 8, Self.pingType, Self.ackFlag, 0, 0, 0, 0])
            ack.writeBytes(pending[9...])
            context.writeAndFlush(wrapOutboundOut(ack), promise: nil)
            pending = []
        }
        if output.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(output)) }
    }
}
