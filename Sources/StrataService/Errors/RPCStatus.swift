import GRPCCore
import StrataContent
import StrataFS
import StrataSnapshots
import StrataStore
import StrataStreams

/// Strata's errors as the gRPC codes containerd's errdefs turns back into its error classes, so a
/// client sees `ErrNotFound` where containerd's own store would give it. The message is Strata's
/// own, naming the key, digest or ref concerned.
enum RPCStatus {
    static func error(for error: any Error) -> RPCError {
        if let e = error as? RPCError { return e }
        return RPCError(code: code(for: error), message: String(describing: error))
    }

    static func code(for error: any Error) -> RPCError.Code {
        switch error {
        case let e as SnapshotError:
            switch e {
            case .notFound: return .notFound
            case .alreadyExists: return .alreadyExists
            case .parentNotCommitted, .invalidKey: return .invalidArgument
            case .notActive, .hasChildren: return .failedPrecondition
            case .unavailable: return .unavailable
            }
        case let e as ContentError:
            switch e {
            case .notFound, .imageNotFound: return .notFound
            case .alreadyExists: return .alreadyExists
            case .sizeMismatch, .digestMismatch: return .failedPrecondition
            case .locked: return .unavailable
            case .invalidRef, .invalidLabel, .invalidImage: return .invalidArgument
            }
        case let e as FSError:
            switch e.errno {
            case .noSuchFileOrDirectory: return .notFound
            case .fileExists: return .alreadyExists
            case .invalidArgument, .fileNameTooLong, .notDirectory: return .invalidArgument
            case .permissionDenied, .notPermitted: return .permissionDenied
            case .noSpace: return .resourceExhausted
            default: return .unknown
            }
        case is StateRootError, is UnsupportedMount: return .unavailable
        case is FilterError, is RequestError: return .invalidArgument
        default: return .unknown
        }
    }
}

/// A request containerd's own service would refuse as `ErrInvalidArgument`: InvalidArgument
/// wherever it is thrown (inside the blocking pool or not), its message naming the field.
struct RequestError: Error, CustomStringConvertible, RPCErrorConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    var rpcErrorCode: RPCError.Code { .invalidArgument }
    var rpcErrorMessage: String { description }
}

extension Digest {
    /// A digest from a request field, or InvalidArgument naming the field.
    init(request text: String, field: String) throws {
        guard let d = Digest(parsing: text) else { throw RequestError("\(field): invalid digest \"\(text)\"") }
        self = d
    }
}
