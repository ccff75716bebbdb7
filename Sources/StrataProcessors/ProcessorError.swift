/// Why a stream processor, or the chain of them, failed; each names the processor and, when it
/// ran, the end of what it wrote on stderr.
public enum ProcessorError: Error, CustomStringConvertible, Equatable {
    case config(String, String)
    /// No processor, declared or built in, takes this media type.
    case noProcessor(mediaType: String, configured: [String])
    case spawn(id: String, path: String, errno: Int32)
    case exited(id: String, status: Int32, stderr: String)
    case killed(id: String, signal: Int32, stderr: String)
    case timedOut(id: String, seconds: Double, stderr: String)
    /// What the processor wrote is not the stream its `returns` type promises.
    case invalidOutput(id: String, reason: String, stderr: String)
    case unknownProcessor(String, configured: [String])

    public var description: String {
        func tail(_ s: String) -> String { s.isEmpty ? "" : "; its stderr ends: \(s)" }
        switch self {
        case .config(let source, let why): return "stream processor config \(source): \(why)"
        case .noProcessor(let t, let configured):
            return "no stream processor for media type \(t) (built in: gzip, zstd, plain tar; configured: "
                + (configured.isEmpty ? "none" : configured.joined(separator: ", ")) + ")"
        case .spawn(let id, let path, let e):
            return "stream processor \(id): cannot run \(path): \(String(cString: strerror(e)))"
        case .exited(let id, let status, let err):
            return "stream processor \(id) exited with status \(status)\(tail(err))"
        case .killed(let id, let sig, let err): return "stream processor \(id) was killed by signal \(sig)\(tail(err))"
        case .timedOut(let id, let s, let err):
            return "stream processor \(id) was still running after \(s) s and was killed\(tail(err))"
        case .invalidOutput(let id, let why, let err):
            return "stream processor \(id) wrote an invalid stream: \(why)\(tail(err))"
        case .unknownProcessor(let id, let configured):
            return "no stream processor \(id) is configured (configured: "
                + (configured.isEmpty ? "none" : configured.joined(separator: ", ")) + ")"
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
