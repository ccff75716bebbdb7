import StrataArchive
import StrataFS
import StrataStreams

/// A record of every entry below a directory (type, mode, owner, size, mtime, content digest,
/// link target), to prove that an operation changed nothing outside the place it may write.
public struct DirectorySnapshot: Equatable, Sendable {
    public var entries: [String: String]

    /// Records the tree at `path`, skipping the subtree `excluding` (a path relative to it), with
    /// the xattrs `xattrs` carries when given, and without directories' mtimes when
    /// `directoryTimes` is false.
    public static func take(
        _ path: String, excluding: String? = nil, xattrs: XattrPolicy? = nil, directoryTimes: Bool = true
    ) throws -> DirectorySnapshot {
        var out: [String: String] = [:]
        func walk(_ dir: Handle, _ prefix: String) throws {
            for e in try dir.entries() {
                let rel = prefix.isEmpty ? PathName.display(e.name) : prefix + "/" + PathName.display(e.name)
                if rel == excluding { continue }
                let m = try dir.stat(e.name)
                let time = m.type == .directory && !directoryTimes ? "-" : "\(m.modificationTime)"
                var desc = "\(m.type) \(String(m.permissions, radix: 8)) \(m.uid):\(m.gid) \(m.size) \(time)"
                if let xattrs {
                    for x in try dir.xattrs(e.name, policy: xattrs).entries { desc += " \(x.name)=\(x.value)" }
                }
                switch m.type {
                case .regular:
                    let bytes = try HandleSource(dir.open(e.name, flags: 0)).readToEnd()
                    desc += " " + Digest.sha256(bytes).description
                case .symlink:
                    desc += " -> " + PathName.display(try dir.readLink(e.name))
                case .directory:
                    try walk(dir.openDirectory(e.name), rel)
                default:
                    break
                }
                out[rel] = desc
            }
        }
        try walk(Handle.openDirectory(path: path), "")
        return DirectorySnapshot(entries: out)
    }
}
