/// A ref argument, the grammar `strata ref` and `strata patch` share: `snapshot:KEY` (a committed
/// snapshot), `image:NAME` (an image in the store), `scratch` (the empty tree), or the NAME of a
/// ref made by `strata ref merge|diff`.
public enum RefSpec: Equatable, Sendable, CustomStringConvertible {
    case scratch
    case snapshot(String)
    case image(String)
    case named(String)

    public init(parsing s: String) throws {
        if s == "scratch" {
            self = .scratch
        } else if s.hasPrefix("snapshot:"), s.count > 9 {
            self = .snapshot(String(s.dropFirst(9)))
        } else if s.hasPrefix("image:"), s.count > 6 {
            self = .image(String(s.dropFirst(6)))
        } else {
            try Self.checkName(s)
            self = .named(s)
        }
    }

    /// A name `strata ref` may give: 1 to 255 of letters, digits, `.`, `_`, `-`, `/`, not
    /// `scratch`, so that it never reads as another form.
    public static func checkName(_ s: String) throws {
        let allowed = s.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0)
                || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/")].contains($0)
        }
        guard (1...255).contains(s.utf8.count), allowed, s != "scratch" else { throw RefError.invalidName(s) }
    }

    public var description: String {
        switch self {
        case .scratch: return "scratch"
        case .snapshot(let k): return "snapshot:" + k
        case .image(let n): return "image:" + n
        case .named(let n): return n
        }
    }
}
