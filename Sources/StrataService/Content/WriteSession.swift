import Foundation
import GRPCCore
import StrataContainerdAPI
import StrataContent
import StrataStreams

/// One `Write` stream: containerd's lock-step protocol. The first request names the ref (and
/// may give the total and expected digest) and takes the ingest for the stream's life; then each
/// request gets one response: STAT reports, WRITE appends (at the current offset, or at 0, which
/// starts over), COMMIT appends and commits. A blob already stored under the expected digest ends
/// the stream with AlreadyExists and the ingest aborted. A failed commit keeps the ingest for the
/// client to resume; a stream that breaks off keeps it too.
final class WriteSession: @unchecked Sendable {
    // Used by one stream's requests, one at a time.
    private let store: ContentStore
    private let writer: ContentWriter
    private var total: Int64
    private var expected: Digest?
    let ref: String

    typealias Request = Containerd_Services_Content_V1_WriteContentRequest
    typealias Response = Containerd_Services_Content_V1_WriteContentResponse

    init(store: ContentStore, first: Request) throws {
        guard !first.ref.isEmpty else { throw RequestError("first message must have a reference") }
        try Self.check(first)
        self.store = store
        ref = first.ref
        total = first.total
        expected = first.expected.isEmpty ? nil : try Digest(request: first.expected, field: "expected")
        if let expected, (try? store.info(expected)) != nil {
            throw RPCError(code: .alreadyExists, message: "content \(expected): already exists")
        }
        writer = try Self.open(store, ref: ref, total: total > 0 ? total : nil)
    }

    /// How long a new stream waits for a ref's ingest held by a stream that is ending: a client
    /// that closes a writer and opens another for the same ref sends the second stream at once,
    /// and the server may see it before the first one's end. Past this it is Unavailable, as a
    /// ref another writer really holds.
    static let lockWait: Double = 0.5

    private static func open(_ store: ContentStore, ref: String, total: Int64?) throws -> ContentWriter {
        let deadline = Date().addingTimeInterval(lockWait)
        while true {
            do {
                return try store.writer(ref: ref, total: total)
            } catch ContentError.locked where Date() < deadline {
                usleep(10_000)
            }
        }
    }

    /// A request's numbers before any use: an offset or total below 0 is InvalidArgument
    /// naming the field (0 means "none given" for both, as in containerd's protocol).
    private static func check(_ request: Request) throws {
        guard request.offset >= 0 else { throw RequestError("offset: \(request.offset) is negative") }
        guard request.total >= 0 else { throw RequestError("total: \(request.total) is negative") }
    }

    func handle(_ request: Request) throws -> Response {
        try Self.check(request)
        var response = Response()
        response.action = request.action
        if !request.expected.isEmpty {
            let digest = try Digest(request: request.expected, field: "expected")
            expected = digest
            if (try? store.info(digest)) != nil {
                writer.abort()
                throw RPCError(code: .alreadyExists, message: "blob with expected digest \(digest) exists")
            }
        }
        if request.total > 0 { total = request.total }
        response.offset = writer.offset
        switch request.action {
        case .stat:
            response.total = total
            if let status = try store.ingest(ref: ref) {
                response.startedAt = .init(date: status.startedAt)
                response.updatedAt = .init(date: status.updatedAt)
            }
        case .write, .commit:
            if request.offset > 0 && request.offset != writer.offset {
                throw RPCError(
                    code: .outOfRange,
                    message:
                        "ingest \(ref): write at \(request.offset) must occur at the current offset \(writer.offset)")
            }
            if request.offset == 0 && writer.offset > 0 { try writer.truncate() }
            if !request.data.isEmpty { try request.data.withUnsafeBytes { try writer.write($0) } }
            response.offset = writer.offset
            if request.action == .commit { try commit(labels: request.labels) }
        default:
            throw RequestError("ingest \(ref): unknown write action \(request.action.rawValue)")
        }
        response.digest = writer.digest.description
        return response
    }

    private func commit(labels: [String: String]) throws {
        do {
            try writer.commit(size: total > 0 ? total : nil, expected: expected, labels: labels, onMismatch: .keep)
        } catch ContentError.sizeMismatch(_, let want, let got) {
            throw RPCError(
                code: .failedPrecondition,
                message: "ingest \(ref): unexpected commit size \(got), expected \(want); the ingest is kept")
        } catch ContentError.digestMismatch(_, let want, let got) {
            throw RPCError(
                code: .failedPrecondition,
                message: "ingest \(ref): unexpected commit digest \(got), expected \(want); the ingest is kept")
        }
    }

    /// Releases the ingest for a later writer; a committed or aborted one is gone already.
    func close() { writer.close() }
}
