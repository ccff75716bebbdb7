import Foundation
import StrataFS

/// A directory under the system temp dir, removed with everything in it when released (kept, for
/// debugging, with `STRATA_KEEP_TMP=1`).
public final class TempDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "test") {
        var base = NSTemporaryDirectory()
        while base.hasSuffix("/") { base.removeLast() }
        var template = Array("\(base)/strata-\(label)-XXXXXX".utf8CString)
        path = String(cString: mkdtemp(&template)!)
    }

    deinit {
        if ProcessInfo.processInfo.environment["STRATA_KEEP_TMP"] == "1" { return print("kept \(path)") }
        let slash = path.lastIndex(of: "/")!
        if let parent = try? Handle.openDirectory(path: String(path[..<slash])) {
            try? parent.removeAll(Array(path[path.index(after: slash)...].utf8))
        }
    }

    /// A path inside this directory.
    public func at(_ name: String) -> String { path + "/" + name }

    /// A new empty directory inside this one.
    public func directory(_ name: String) -> String {
        mkdir(at(name), 0o755)
        return at(name)
    }

    public func handle(_ name: String) throws -> Handle { try Handle.openDirectory(path: at(name)) }
}
