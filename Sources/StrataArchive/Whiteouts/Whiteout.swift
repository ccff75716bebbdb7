import StrataFS

/// The OCI whiteout conventions: a file `.wh.NAME` deletes NAME from the layers below, and
/// `.wh..wh..opq` in a directory hides everything the layers below put there.
public enum Whiteout {
    public static let prefix: [UInt8] = Array(".wh.".utf8)
    public static let metaPrefix: [UInt8] = Array(".wh..wh.".utf8)
    public static let opaqueMarker: [UInt8] = Array(".wh..wh..opq".utf8)

    /// What a tar entry's base name means.
    public enum Meaning: Equatable {
        case none
        case opaque
        case remove([UInt8])
    }

    /// Classifies a base name, rejecting whiteouts whose target is not one name inside the
    /// directory (`.wh.`, `.wh..`, `.wh...`, or one holding a NUL), as containerd refuses them.
    public static func meaning(of base: [UInt8]) throws(WhiteoutError) -> Meaning {
        guard base.starts(with: prefix) else { return .none }
        if base == opaqueMarker { return .opaque }
        let target = Array(base.dropFirst(prefix.count))
        do { try RootedPath.checkComponent(target) } catch {
            throw WhiteoutError.invalidName(PathName.displayShowingNUL(base))
        }
        return .remove(target)
    }

    /// The whiteout name that deletes `name`.
    public static func name(deleting name: [UInt8]) -> [UInt8] { prefix + name }
}

public enum WhiteoutError: Error, CustomStringConvertible, Equatable {
    case invalidName(String)

    public var description: String {
        switch self {
        case .invalidName(let n): return "invalid whiteout name \(n): it names no entry inside its directory"
        }
    }
}
