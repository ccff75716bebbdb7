import Foundation
import GRPCCore
import StrataContainerdAPI
import StrataStore
import StrataTestSupport
import SwiftProtobuf
import Testing

@testable import StrataService

/// gRPC requests with numbers chosen to overflow (issue 23, defect 4): refused naming the field,
/// never a trap.
@Suite struct ContentRequestBoundsTests {
    typealias ReadRequest = Containerd_Services_Content_V1_ReadContentRequest
    typealias ReadResponse = Containerd_Services_Content_V1_ReadContentResponse

    final class Collected: RPCWriterProtocol, @unchecked Sendable {
        private let lock = NSLock()
        private var received: [ReadResponse] = []
        var data: Data { lock.withLock { received.reduce(Data()) { $0 + $1.data } } }
        func write(_ element: ReadResponse) async throws { lock.withLock { received.append(element) } }
        func write(contentsOf elements: some Sequence<ReadResponse>) async throws {
            for e in elements { try await write(e) }
        }
    }

    static func context() -> ServerContext {
        ServerContext(
            descriptor: MethodDescriptor(
                fullyQualifiedService: "containerd.services.content.v1.Content", method: "Read"),
            remotePeer: "test", localPeer: "test", cancellation: .init())
    }

    /// Reads `offset`/`size` of a stored 10-byte blob: the bytes, or the error's code and message.
    static func read(offset: Int64, size: Int64) async throws -> Result<Data, RPCError> {
        let t = TempDirectory("content-read")
        defer { withExtendedLifetime(t) {} }
        let root = try StateRoot(path: t.at("root"))
        let digest = try root.content.put(Array("0123456789".utf8))
        let pool = BlockingPool(threads: 1)
        let service = ContentService(store: root.content, pool: pool)
        let out = Collected()
        let request = ReadRequest.with {
            $0.digest = digest.description
            $0.offset = offset
            $0.size = size
        }
        let result: Result<Data, RPCError>
        do {
            try await service.read(request: request, response: RPCWriter(wrapping: out), context: context())
            result = .success(out.data)
        } catch let e as RPCError {
            result = .failure(e)
        } catch let e as any RPCErrorConvertible {
            result = .failure(RPCError(code: e.rpcErrorCode, message: e.rpcErrorMessage))
        }
        try await pool.shutdown()
        return result
    }

    @Test func aReadWhoseEndOverflowsReadsToTheEnd() async throws {
        // offset + size is past Int64.max: containerd reads to the end of the blob.
        #expect(try await Self.read(offset: 1, size: .max).get() == Data("123456789".utf8))
        #expect(try await Self.read(offset: 10, size: .max).get() == Data())
        #expect(try await Self.read(offset: 3, size: 4).get() == Data("3456".utf8))
        #expect(try await Self.read(offset: 0, size: 0).get() == Data("0123456789".utf8))
    }

    @Test(arguments: [
        (Int64(-1), Int64(1), RPCError.Code.invalidArgument, "offset"),
        (Int64.min, Int64.max, .invalidArgument, "offset"),
        (0, -1, .invalidArgument, "size"),
        (2, Int64.min, .invalidArgument, "size"),
        (11, 1, .outOfRange, "offset"),
        (Int64.max, Int64.max, .outOfRange, "offset"),
    ])
    func aReadOutOfRangeIsRefusedNamingTheField(offset: Int64, size: Int64, code: RPCError.Code, field: String)
        async throws
    {
        let result = try await Self.read(offset: offset, size: size)
        guard case .failure(let e) = result else {
            Issue.record("read \(offset)/\(size) succeeded")
            return
        }
        #expect(e.code == code && e.message.contains(field), "\(e)")
    }

    @Test func aWriteWithANegativeOffsetOrTotalIsRefusedNamingTheField() throws {
        let t = TempDirectory("content-write")
        defer { withExtendedLifetime(t) {} }
        let root = try StateRoot(path: t.at("root"))
        typealias Request = Containerd_Services_Content_V1_WriteContentRequest
        #expect(throws: RequestError.self) {
            _ = try WriteSession(store: root.content, first: .with { ($0.ref, $0.total) = ("negative-total", -5) })
        }
        let session = try WriteSession(store: root.content, first: .with { $0.ref = "w" })
        defer { session.close() }
        _ = try session.handle(
            .with {
                $0.action = .write
                $0.data = Data("abc".utf8)
            })
        for (request, field) in [
            (Request.with { ($0.action, $0.offset, $0.data) = (.write, -3, Data("x".utf8)) }, "offset"),
            (Request.with { ($0.action, $0.offset) = (.write, .min) }, "offset"),
            (Request.with { ($0.action, $0.total) = (.commit, -1) }, "total"),
        ] {
            do {
                _ = try session.handle(request)
                Issue.record("\(request) was accepted")
            } catch let e as RequestError {
                #expect(e.description.contains(field) && e.rpcErrorCode == .invalidArgument, "\(e)")
            }
        }
        #expect(try root.content.ingest(ref: "w")?.offset == 3)
    }

    @Test func aTimestampOutOfRangeIsRefusedNamingTheField() throws {
        let ok = try DiffService.time(.with { ($0.seconds, $0.nanos) = (1_700_000_000, 5) }, field: "source_date_epoch")
        #expect(ok.seconds == 1_700_000_000 && ok.nanoseconds == 5)
        for (seconds, nanos, field) in [
            (Int64(0), Int32(-1), "source_date_epoch.nanos"), (0, 1_000_000_000, "source_date_epoch.nanos"),
            (.max, 0, "source_date_epoch.seconds"), (.min, 0, "source_date_epoch.seconds"),
        ] {
            #expect {
                _ = try DiffService.time(
                    .with { ($0.seconds, $0.nanos) = (seconds, nanos) }, field: "source_date_epoch")
            } throws: { ($0 as? RequestError)?.description.contains(field) ?? false }
        }
    }
}
