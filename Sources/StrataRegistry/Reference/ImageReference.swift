import StrataCompression

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

    /// Whether the host is this machine (`localhost`, 127.0.0.0/8, `::1`): plain HTTP is allowed
    /// there without asking, as containerd does.
    public var isLoopback: Bool {
        var name = Substring(host)
        if name.hasPrefix("[") {
            name = name.dropFirst().prefix { $0 != "]" }
        } else if let c = name.lastIndex(of: ":") {
            name = name[..<c]
        }
        return name == "localhost" || name.hasPrefix("127.") || name == "::1"
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
