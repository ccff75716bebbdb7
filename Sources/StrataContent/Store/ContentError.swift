import StrataStreams

/// Why a content-store operation failed, naming the blob or ingest ref it concerns.
public enum ContentError: Error, CustomStringConvertible, Equatable {
    case notFound(Digest)
    /// A commit found the blob already stored; the ingest was discarded, the blob is unchanged.
    case alreadyExists(Digest)
    case sizeMismatch(ref: String, expected: Int64, actual: Int64)
    case digestMismatch(ref: String, expected: Digest, actual: Digest)
    /// Another writer (this process or another) holds the ingest.
    case locked(ref: String)
    case invalidRef(String)
    case invalidLabel(String)
    case imageNotFound(String)
    /// An image document (index, manifest, config) that cannot be used, and why.
    case invalidImage(String)

    public var description: String {
        switch self {
        case .notFound(let d): return "content \(d): not found"
        case .alreadyExists(let d): return "content \(d): already exists"
        case .sizeMismatch(let ref, let e, let a):
            return "ingest \(ref): expected \(e) bytes, got \(a)"
        case .digestMismatch(let ref, let e, let a):
            return "ingest \(ref): expected digest \(e), got \(a); the ingest was discarded"
        case .locked(let ref): return "ingest \(ref): locked by another writer"
        case .invalidRef(let ref): return "invalid ingest ref \"\(ref)\": must be 1 to 256 printable characters"
        case .invalidLabel(let why): return "invalid label: \(why)"
        case .imageNotFound(let name): return "image \(name): not found"
        case .invalidImage(let why): return "invalid image: \(why)"
        }
    }
}
