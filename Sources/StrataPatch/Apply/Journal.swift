import Foundation
import StrataFS

/// The commit point of an apply: written (atomically, synced) once every new entry is staged.
/// Present, it means "roll forward"; absent beside a staging directory, "roll back".
struct Journal: Codable {
    var operations: [Operation]
    /// Directories whose times the commit's renames disturb but the patch does not set: their
    /// base times, restored at the end.
    var keepTimes: [KeptTimes]
    /// ROOT's device and inode: a journal is only ever rolled forward onto the directory it was
    /// written for (a path may since lead elsewhere).
    var root: [UInt64]?

    struct KeptTimes: Codable {
        var path: PatchPath
        var atime: Int64
        var mtime: Int64
    }
}

/// Where an apply stages its work for ROOT: `.strata-patch-<name>` beside ROOT (same filesystem,
/// so entries move in by rename), or inside ROOT when ROOT is itself a mount point.
struct Staging {
    let directory: Handle
    let name: [UInt8]
    static let journal = Array("journal.json".utf8)
    static let staged = Array("staged".utf8)
    static let trash = Array("trash".utf8)

    init(for root: String) throws {
        let url = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath()
        let parent = url.deletingLastPathComponent().path
        let own = try Handle.openDirectory(path: url.path).stat()
        let above = try Handle.openDirectory(path: parent).stat()
        if own.device == above.device && url.path != "/" {
            directory = try Handle.openDirectory(path: parent)
            name = Array(".strata-patch-\(url.lastPathComponent)".utf8)
        } else {
            directory = try Handle.openDirectory(path: url.path)
            name = Array(".strata-patch".utf8)
        }
    }

    func exists() throws -> Bool { try directory.statIfExists(name) != nil }
    func open() throws -> Handle { try directory.openDirectory(name) }
    func remove() throws { try directory.removeAll(name) }
}
