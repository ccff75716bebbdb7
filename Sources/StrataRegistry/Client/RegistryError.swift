import StrataStreams

/// Why a registry operation failed, naming the registry, repository or blob concerned.
public enum RegistryError: Error, CustomStringConvertible, Equatable {
    case invalidReference(String, String)
    /// The registry refused the credentials (or asked for some and none were given).
    case unauthorized(host: String, String)
    /// An unexpected answer: the request, the status and what the registry said.
    case status(method: String, url: String, status: Int, body: String)
    /// Bytes whose digest is not the one asked for; nothing was stored.
    case digestMismatch(url: String, expected: Digest, actual: Digest)
    case protocolViolation(String)
    case insecure(String)
    /// The image cannot go up whole: the store lacks what its index or manifests name.
    case incomplete(image: String, missing: [String])

    public var description: String {
        switch self {
        case .invalidReference(let r, let why): return "invalid image reference \"\(r)\": \(why)"
        case .unauthorized(let host, let why): return "registry \(host): \(why)"
        case .status(let method, let url, let status, let body):
            return "\(method) \(url): HTTP \(status)\(body.isEmpty ? "" : ": " + body)"
        case .digestMismatch(let url, let e, let a): return "\(url): expected digest \(e), got \(a); nothing was stored"
        case .protocolViolation(let why): return "registry protocol: \(why)"
        case .insecure(let why): return why
        case .incomplete(let image, let missing):
            return "image \(image) cannot be pushed whole: the store lacks \(missing.joined(separator: ", ")) "
                + "(an image imported or pulled for one platform; import or pull it with --all-platforms)"
        }
    }
}
