import StrataFS

/// Writes a file given by path whole or not at all (see `Handle.writeAtomically`).
public enum AtomicFile {
    public static func write<R>(to path: String, _ body: (Handle) throws -> R) throws -> R {
        let slash = path.lastIndex(of: "/")
        let dir = try Handle.openDirectory(path: slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? ".")
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return try dir.writeAtomically(Array(base.utf8), body)
    }
}
