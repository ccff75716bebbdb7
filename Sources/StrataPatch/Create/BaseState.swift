import Foundation
import StrataArchive
import StrataFS
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// Reading entries as `EntryState`, and the identity of a base: how a patch pins the tree it was
/// made against.
enum BaseState {
    /// The entry at `path` under `root` (nil root: the empty tree); a regular file's content is
    /// hashed when `content`.
    static func of(_ path: PatchPath, in root: Handle?, content: Bool = true) throws -> EntryState {
        guard let root, let (dir, name) = try locate(path, in: root), let m = try dir.statIfExists(name) else {
            return .absent
        }
        var s = EntryState(type: typeName(m.type), mode: m.permissions, uid: m.uid, gid: m.gid)
        switch m.type {
        case .regular:
            s.size = m.size
            if content { s.sha256 = try hash(dir.open(name, flags: O_RDONLY | O_NOFOLLOW)) }
        case .symlink:
            s.target = PatchPath(try dir.readLink(name))
            s.mode = nil
        default:
            break
        }
        return s
    }

    /// The parent directory of `path` and its last component; nil when a parent is missing or is
    /// not a directory (never followed through a symlink).
    static func locate(_ path: PatchPath, in root: Handle) throws -> (Handle, [UInt8])? {
        let p = try path.rooted()
        guard let name = p.base, let dir = try? root.openDirectory(components: p.parent.components) else { return nil }
        return (dir, name)
    }

    static func hash(_ file: Handle) throws -> Digest {
        let sink = DigestingSink(nil)
        try HandleSource(file).copy(to: sink)
        return sink.digest
    }

    /// The identity of a base: SHA-256 of the expectations as JSON (sorted keys).
    static func identity(_ expectations: [Expectation]) throws -> Digest {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return Digest.sha256(try e.encode(expectations))
    }

    static func typeName(_ t: FileType) -> String {
        switch t {
        case .regular: return "regular"
        case .directory: return "directory"
        case .symlink: return "symlink"
        case .characterDevice: return "char"
        case .blockDevice: return "block"
        case .fifo: return "fifo"
        default: return "other"
        }
    }
}
