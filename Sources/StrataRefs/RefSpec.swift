import StrataFS
import StrataSnapshots

/// A tree or ref argument, the one grammar `strata ref` and `strata patch` share: `scratch` (the
/// empty tree), `snapshot:KEY` (a committed snapshot), and, by context, `image:NAME` and a ref's
/// NAME (`strata ref`) or a directory (`strata patch`, which takes trees on disk or snapshots
/// only and refuses `image:`).
public enum RefSpec: Equatable, Sendable, CustomStringConvertible {
    case scratch
    case snapshot(String)
    case image(String)
    case named(String)
    case directory(String)

    /// Where an argument is read, which decides what a bare word is.
    public enum Context: Sendable {
        /// `strata ref`: a bare word is the NAME of a ref made by `strata ref merge|diff`.
        case ref
        /// `strata patch`: a bare word is a directory; `image:` is refused.
        case patch
    }

    public init(parsing s: String, in context: Context = .ref) throws {
        if s == "scratch" {
            self = .scratch
        } else if s.hasPrefix("snapshot:"), s.count > 9 || context == .patch {
            self = .snapshot(String(s.dropFirst(9)))
        } else if context == .patch {
            guard !s.hasPrefix("image:") else {
                throw RefError.noTree(s, "strata patch takes a directory, snapshot:KEY or scratch")
            }
            self = .directory(s)
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

    /// The tree a `.patch` argument names, open for the moment of `body` (nil: scratch); a
    /// snapshot is read through `snapshotter`, which is asked for only then.
    public func withTree<R>(snapshotter: () throws -> LocalSnapshotter, _ body: (Handle?) throws -> R) throws -> R {
        switch self {
        case .scratch: return try body(nil)
        case .directory(let path): return try body(Handle.openDirectory(path: path))
        case .snapshot(let key): return try snapshotter().withTree(key) { try body($0) }
        case .image, .named: throw RefError.noTree(description, "only a directory, snapshot:KEY or scratch opens here")
        }
    }

    public var description: String {
        switch self {
        case .scratch: return "scratch"
        case .snapshot(let k): return "snapshot:" + k
        case .image(let n): return "image:" + n
        case .named(let n): return n
        case .directory(let path): return path
        }
    }
}
