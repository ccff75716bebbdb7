import Foundation
import GRPCCore
import StrataContainerdAPI
import StrataContent
import StrataStreams
import SwiftProtobuf

/// containerd's `containerd.services.content.v1.Content` over the partition's content store.
struct ContentService: Containerd_Services_Content_V1_Content.SimpleServiceProtocol {
    let store: ContentStore
    let pool: BlockingPool

    /// Bytes per Read message.
    static let readChunk = 1 << 20

    func info(request: Containerd_Services_Content_V1_InfoRequest, context: ServerContext) async throws
        -> Containerd_Services_Content_V1_InfoResponse
    {
        let store = store
        let info = try await pool.run { try store.info(Digest(request: request.digest, field: "digest")) }
        return .with { $0.info = ContentInfoMessage(info) }
    }

    func update(request: Containerd_Services_Content_V1_UpdateRequest, context: ServerContext) async throws
        -> Containerd_Services_Content_V1_UpdateResponse
    {
        let store = store
        let info = try await pool.run {
            let digest = try Digest(request: request.info.digest, field: "info.digest")
            let update = try LabelUpdate(
                labels: request.info.labels, mask: request.updateMask.paths, object: "content \(digest)")
            return try store.label(digest, update.changes, replacing: update.replacing)
        }
        return .with { $0.info = ContentInfoMessage(info) }
    }

    func list(
        request: Containerd_Services_Content_V1_ListContentRequest,
        response: RPCWriter<Containerd_Services_Content_V1_ListContentResponse>, context: ServerContext
    ) async throws {
        let store = store
        try await pool.list(
            request.filters, { try store.list().map(ContentInfoMessage.init) },
            send: { batch in try await response.write(.with { $0.info = batch }) })
    }

    func delete(request: Containerd_Services_Content_V1_DeleteContentRequest, context: ServerContext) async throws
        -> Google_Protobuf_Empty
    {
        let store = store
        try await pool.run { try store.delete(Digest(request: request.digest, field: "digest")) }
        return Google_Protobuf_Empty()
    }

    func read(
        request: Containerd_Services_Content_V1_ReadContentRequest,
        response: RPCWriter<Containerd_Services_Content_V1_ReadContentResponse>, context: ServerContext
    ) async throws {
        let store = store
        let (blob, size) = try await pool.run {
            let blob = try store.open(Digest(request: request.digest, field: "digest"))
            return (blob, Int64(try blob.stat().size))
        }
        // Checked before any arithmetic: a size of up to Int64.max past the offset reads to the
        // end, as containerd's service does (never offset + size, which can overflow).
        guard request.offset >= 0 else { throw RequestError("offset: \(request.offset) is negative") }
        guard request.size >= 0 else { throw RequestError("size: \(request.size) is negative") }
        guard request.offset <= size else {
            throw RPCError(
                code: .outOfRange,
                message: "content \(request.digest): offset \(request.offset) is past its \(size) bytes")
        }
        let end = request.size > 0 && request.size < size - request.offset ? request.offset + request.size : size
        var offset = request.offset
        while offset < end {
            let at = offset
            let count = Int(min(Int64(Self.readChunk), end - at))
            let data = try await pool.run {
                var data = Data(count: count)
                let n = try data.withUnsafeMutableBytes { try blob.read(into: $0, at: at) }
                return data.prefix(n)
            }
            guard !data.isEmpty else { break }
            try await response.write(
                .with {
                    $0.offset = at
                    $0.data = data
                })
            offset += Int64(data.count)
        }
    }

    func status(request: Containerd_Services_Content_V1_StatusRequest, context: ServerContext) async throws
        -> Containerd_Services_Content_V1_StatusResponse
    {
        let store = store
        let status = try await pool.run { try store.ingest(ref: request.ref) }
        guard let status else { throw RPCError(code: .notFound, message: "ingest \(request.ref): not found") }
        return .with { $0.status = StatusMessage(status) }
    }

    func listStatuses(request: Containerd_Services_Content_V1_ListStatusesRequest, context: ServerContext)
        async throws -> Containerd_Services_Content_V1_ListStatusesResponse
    {
        let store = store
        let statuses = try await pool.filtered(request.filters) { try store.ingests().map(StatusMessage.init) }
        return .with { $0.statuses = statuses }
    }

    func write(
        request: RPCAsyncSequence<Containerd_Services_Content_V1_WriteContentRequest, any Error>,
        response: RPCWriter<Containerd_Services_Content_V1_WriteContentResponse>, context: ServerContext
    ) async throws {
        var session: WriteSession?
        defer { session?.close() }
        for try await message in request {
            let store = store
            let current = session
            let (opened, reply) = try await pool.run {
                let s = try current ?? WriteSession(store: store, first: message)
                return (s, try s.handle(message))
            }
            session = opened
            try await response.write(reply)
        }
    }

    func abort(request: Containerd_Services_Content_V1_AbortRequest, context: ServerContext) async throws
        -> Google_Protobuf_Empty
    {
        let store = store
        try await pool.run {
            guard try store.ingest(ref: request.ref) != nil else {
                throw RPCError(code: .notFound, message: "ingest \(request.ref): not found")
            }
            try store.abortIngest(ref: request.ref)
        }
        return Google_Protobuf_Empty()
    }
}
