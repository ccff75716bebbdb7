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

/// Where an apply stages its work for ROOT: `.strata-patch-<name>` beside ROOT when the parent is
/// on ROOT's mount (entries then move in by rename), else `.strata-patch` inside ROOT (ROOT is a
/// mount point or a bind mount). A staging a crash left is found where it is.
struct Staging {
    let directory: Handle
    let name: [UInt8]
    static let journal = Array("journal.json".utf8)
    static let staged = Array("staged".utf8)
    static let trash = Array("trash".utf8)

    init(for root: String) throws {
        let url = URL(fileURLWithPath: root).standardizedFileURL.resolvingSymlinksInPath()
        let rootDir = try Handle.openDirectory(path: url.path)
        let inside = (rootDir, Array(".strata-patch".utf8))
        guard url.path != "/" else {
            (directory, name) = inside
            return
        }
        let parent = try Handle.openDirectory(path: url.deletingLastPathComponent().path)
        let beside = (parent, Array(".strata-patch-\(url.lastPathComponent)".utf8))
        if try beside.0.statIfExists(beside.1) != nil {
            (directory, name) = beside
        } else if try inside.0.statIfExists(inside.1) != nil {
            (directory, name) = inside
        } else {
            let sameMount =
                try rootDir.stat().device == parent.stat().device && Self.mountID(rootDir) == Self.mountID(parent)
            (directory, name) = sameMount ? beside : inside
        }
    }

    /// The mount a descriptor is on (`mnt_id` in `/proc/self/fdinfo`): renames never cross one.
    private static func mountID(_ h: Handle) -> String? {
        guard let info = try? String(contentsOfFile: "/proc/self/fdinfo/\(h.fd)", encoding: .utf8) else { return nil }
        return info.split(separator: "\n").first { $0.hasPrefix("mnt_id:") }.map(String.init)
    }

    func exists() throws -> Bool { try directory.statIfExists(name) != nil }
    func open() throws -> Handle { try directory.openDirectory(name) }
    func remove() throws { try directory.removeAll(name) }
}
