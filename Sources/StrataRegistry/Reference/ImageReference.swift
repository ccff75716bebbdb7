import Foundation
import StrataStreams

/// A registry image reference, `HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]`: the host is always
/// written (Strata has no default registry); a reference without a tag or digest means `latest`.
public struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var repository: String
    public var tag: String?
    public var digest: Digest?

    public init(parsing text: String) throws(RegistryError) {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            guard let d = Digest(parsing: String(rest[rest.index(after: at)...])) else {
                throw .invalidReference(text, "the digest after @ is not sha256:<64 hex>")
            }
            digest = d
            rest = rest[..<at]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw .invalidReference(text, "expected HOST/REPOSITORY[:TAG|@DIGEST]")
        }
        host = String(rest[..<slash])
        var path = rest[rest.index(after: slash)...]
        if let colon = path.lastIndex(of: ":"), !path[colon...].contains("/") {
            tag = String(path[path.index(after: colon)...])
            path = path[..<colon]
        }
        repository = String(path)
        let components = repository.split(separator: "/", omittingEmptySubsequences: false)
        guard !host.isEmpty, !components.isEmpty,
            components.allSatisfy({ !$0.isEmpty && $0.allSatisfy(Self.isRepositoryCharacter) })
        else { throw .invalidReference(text, "a repository is lowercase letters, digits and . _ - / separators") }
        if let tag, tag.isEmpty || tag.count > 128 || !tag.allSatisfy(Self.isTagCharacter) {
            throw .invalidReference(text, "a tag is 1 to 128 letters, digits, . _ -")
        }
    }

    /// The tag or digest a manifest request names.
    public var reference: String { digest?.description ?? tag ?? "latest" }

    /// Whether the host is this machine: `localhost`, or an IP address literal that is loopback
    /// (127.0.0.0/8, `::1`, or IPv4-mapped 127.0.0.0/8), with or without a port. Plain HTTP is
    /// allowed there without asking, as containerd's `MatchLocalhost` does. The address is parsed
    /// (`inet_pton`), not matched by prefix: `127.example.com` is a name, not loopback.
    public var isLoopback: Bool { Self.isLoopback(host: host) }

    /// `isLoopback` for a `HOST[:PORT]` (an IPv6 address bracketed when a port follows).
    public static func isLoopback(host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let rest = name[name.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && isPort(rest.dropFirst())) else { return false }
            name = name[name.index(after: name.startIndex)..<close]
        } else if let colon = name.firstIndex(of: ":"), name.lastIndex(of: ":") == colon {
            guard isPort(name[name.index(after: colon)...]) else { return false }
            name = name[..<colon]
        }
        if name.lowercased() == "localhost" { return true }
        let text = String(name)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12] == 127  // IPv4-mapped, as Go's net.IP.IsLoopback reads it
        }
        return bytes[..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
    }

    private static func isPort(_ text: Substring) -> Bool {
        !text.isEmpty && text.count <= 5 && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    public var description: String {
        host + "/" + repository + (tag.map { ":" + $0 } ?? "") + (digest.map { "@" + $0.description } ?? "")
    }

    private static func isRepositoryCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLowercase || c.isNumber || "._-".contains(c))
    }

    private static func isTagCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "._-".contains(c))
    }
}
