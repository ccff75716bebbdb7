import Foundation
import StrataFS
import StrataOverlay

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

    /// The journal in staging `dir`, read back from disk where anything with write access to ROOT
    /// could have put one: it must be what Strata writes (a regular file of this user's, in a
    /// directory of this user's, neither writable by others; opened without blocking, so a FIFO
    /// cannot hold the lock; at most 512 MiB) and pass `validate` before any step runs.
    static func read(from dir: Handle) throws -> Journal {
        let uid = Identity.effectiveUID
        let d = try dir.stat()
        let file = try dir.open(Staging.journal, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
        let m = try file.stat()
        guard d.uid == uid, d.permissions & 0o022 == 0, m.type == .regular, m.uid == uid, m.permissions & 0o022 == 0
        else { throw PatchError.damaged("its staging or journal is not a private file of this user's") }
        let journal = try JSONDecoder().decode(
            Journal.self, from: Data(try file.readToEnd(limit: Int(min(m.size, 512 << 20)))))
        try journal.validate()
        guard journal.root != nil else { throw PatchError.damaged("the journal names no root") }
        return journal
    }

    /// Checked as strictly as the patch the journal came from.
    func validate() throws {
        for op in operations { try op.validate() }
        for k in keepTimes { _ = try k.path.rooted(allowRoot: true) }
    }
}

extension Operation {
    /// What one operation may name, checked before it acts: its path and link are paths inside
    /// ROOT (`RootedPath`), never ROOT itself; attributes are for directories; a link has a
    /// target; a replacement is of a type Strata writes.
    func validate() throws {
        _ = try path.rooted()
        if let link { _ = try link.rooted() }
        // overlayfs's own attributes are never a patch's to set (the creator leaves them out).
        if let key = xattrs?.keys.first(where: OverlayXattr.isOverlay) {
            throw PatchError.damaged("\(path): sets overlayfs's own xattr \(key)")
        }
        switch kind {
        case .attributes where type != "directory":
            throw PatchError.damaged("\(path): attributes for an entry that is not a directory")
        case .link where link == nil:
            throw PatchError.damaged("\(path): a link without a target")
        case .replace where !Self.replaceTypes.contains(type ?? ""):
            throw PatchError.damaged("\(path): entries of type \(type ?? "?") are not supported")
        case .replace where type == "regular" && (frame == nil || sha256 == nil || (size ?? .max) > Self.maxSize):
            throw PatchError.damaged("\(path): a file without data, digest or a size up to \(Self.maxSize)")
        default:
            break
        }
    }

    static let replaceTypes: Set<String> = ["regular", "directory", "symlink", "char", "block", "fifo"]
    /// The largest file a patch may rebuild (as `TarReader.maxSize`: sums of two stay in range).
    static let maxSize: UInt64 = 1 << 62
}

/// Where an apply stages its work for ROOT: `.strata-patch-<name>` beside ROOT when the parent is
/// on ROOT's mount (entries then move in by rename), else `.strata-patch` inside ROOT (ROOT is a
/// mount point or a bind mount). A staging a crash left is found where it is.
struct Staging {
    let directory: Handle
    let name: [UInt8]
    /// Where it is, for messages.
    var path: String { directory.childPath(name) }
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
        let sameMount =
            try rootDir.stat().device == parent.stat().device && Self.mountID(rootDir) == Self.mountID(parent)
        if try beside.0.statIfExists(beside.1) != nil {
            (directory, name) = beside
        } else if try inside.0.statIfExists(inside.1) != nil {
            // Strata stages inside ROOT only where it could not stage beside it: one found inside
            // a ROOT that shares its parent's mount was put there by someone else.
            guard !sameMount else {
                throw PatchError.unsupported(
                    "\(inside.0.childPath(inside.1)) was not made by strata (it stages beside \(url.path) on this mount); nothing was changed: remove it and run the command again"
                )
            }
            (directory, name) = inside
        } else {
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
