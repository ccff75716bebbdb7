import Foundation
import StrataArchive
import StrataFS
import StrataOverlay
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// Applies a patch to ROOT atomically as the next Strata command sees it.
///
/// 1. The base is checked: every expectation of the patch must hold in ROOT (the first that does
///    not is named), and the expectations must give the patch's identity.
/// 2. Every new entry is staged beside ROOT (`Staging`): files rebuilt from their frames or from
///    ROOT's version and a delta, each checked against its SHA-256, with owner, mode, xattrs and
///    times. A failure here removes the staging; ROOT was not touched.
/// 3. The journal is written: the commit point.
/// 4. The operations run in order, each one idempotent (replaced entries go to the staging's
///    trash, by rename), then directory times are set, then the journal and the staging go.
///
/// After a crash, `recover` rolls forward from the journal, or back (removes the staging) when
/// there is none: ROOT is the base or the target, never between.
public struct PatchApplier {
    public let root: String

    public init(root: String) { self.root = root }

    public enum Recovery: String, Codable, Sendable {
        case none
        case rolledBack = "rolled-back"
        case rolledForward = "rolled-forward"
    }

    public func apply(_ patch: PatchReader) throws {
        let rootDir = try lockedRoot()
        _ = try recover(rootDir)
        try check(patch.manifest, in: rootDir)
        let staging = try Staging(for: root)
        try staging.directory.makeDirectory(staging.name, mode: 0o700)
        try staging.directory.sync()
        var journal: Journal
        do {
            journal = try stage(patch, rootDir, staging.open())
        } catch {
            try? staging.remove()
            throw error
        }
        FaultPoint.reach("patch.staged")
        let dir = try staging.open()
        let id = try rootDir.stat()
        journal.root = [id.device, id.inode]
        try dir.writeAtomically(Staging.journal, contents: Array(JSONEncoder().encode(journal)), mode: 0o600)
        FaultPoint.reach("patch.journaled")
        try rollForward(journal, rootDir, dir)
        try staging.remove()
    }

    /// Finishes or undoes an apply a crash interrupted.
    @discardableResult
    public func recover() throws -> Recovery { try recover(lockedRoot()) }

    /// ROOT, locked (`flock`, exclusive) for as long as the handle lives: one apply or recovery
    /// at a time, so none rolls back another's staging.
    private func lockedRoot() throws -> Handle {
        let dir = try Handle.openDirectory(path: root)
        guard try dir.lock(exclusive: true, wait: false) else {
            throw PatchError.unsupported("\(root): another strata patch apply or recover is working on it")
        }
        return dir
    }

    private func recover(_ rootDir: Handle) throws -> Recovery {
        let staging = try Staging(for: root)
        guard try staging.exists() else { return .none }
        let dir = try staging.open()
        // No journal: the commit point was never reached, ROOT is untouched. Any other failure to
        // read it is an error, never a reason to roll back.
        guard try dir.statIfExists(Staging.journal) != nil else {
            try staging.remove()
            return .rolledBack
        }
        let journal: Journal
        do {
            journal = try Journal.read(from: dir)
        } catch {
            throw PatchError.unsupported(
                "\(staging.path): its journal cannot be trusted (\(error)); nothing was changed. Remove \(staging.path) if no strata patch apply was interrupted there"
            )
        }
        let id = try rootDir.stat()
        guard journal.root == [id.device, id.inode] else {
            throw PatchError.unsupported(
                "\(root): the interrupted apply beside it was for another directory; left as it is")
        }
        try rollForward(journal, rootDir, dir)
        try staging.remove()
        return .rolledForward
    }

    // MARK: Check

    private func check(_ m: PatchManifest, in rootDir: Handle) throws {
        guard try BaseState.identity(m.expectations) == m.base else {
            throw PatchError.damaged("its expectations do not give its base identity \(m.base)")
        }
        let directories = Set(m.expectations.filter { $0.state.type == "directory" }.map(\.path))
        for op in m.operations {
            try op.validate()
            // Attributes change a directory the base has, never anything a path may lead to.
            if op.kind == .attributes && !directories.contains(op.path) {
                throw PatchError.damaged("\(op.path): attributes for an entry the base does not have as a directory")
            }
        }
        for e in m.expectations {
            _ = try e.path.rooted()
            let found = try BaseState.of(e.path, in: rootDir, content: e.state.sha256 != nil)
            if found != e.state {
                throw PatchError.wrongBase(
                    path: e.path.description, expected: e.state.description, found: found.description)
            }
        }
    }

    // MARK: Stage

    private func stage(_ patch: PatchReader, _ rootDir: Handle, _ dir: Handle) throws -> Journal {
        try dir.makeDirectory(Staging.staged, mode: 0o700)
        try dir.makeDirectory(Staging.trash, mode: 0o700)
        let staged = try dir.openDirectory(Staging.staged)
        var keep: [PatchPath: Journal.KeptTimes] = [:]
        let timed = Set(patch.manifest.operations.filter { $0.type == "directory" && $0.kind != .delete }.map(\.path))
        for (i, op) in patch.manifest.operations.enumerated() {
            let parent = PatchPath(try op.path.rooted().parent)
            if !timed.contains(parent), keep[parent] == nil {
                let d = try rootDir.openDirectory(components: parent.rooted(allowRoot: true).components)
                let m = try d.stat()
                keep[parent] = Journal.KeptTimes(
                    path: parent, atime: m.accessTime.nanosecondsSince1970,
                    mtime: m.modificationTime.nanosecondsSince1970)
            }
            guard op.kind == .replace else { continue }
            try stageEntry(op, as: Array(String(i).utf8), in: staged, patch, rootDir)
        }
        try staged.sync()
        return Journal(operations: patch.manifest.operations, keepTimes: Array(keep.values), root: nil)
    }

    private func stageEntry(
        _ op: Operation, as name: [UInt8], in staged: Handle, _ patch: PatchReader, _ rootDir: Handle
    )
        throws
    {
        switch op.type {
        case "regular":
            let file = try staged.open(name, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
            guard let frame = op.frame else { throw PatchError.damaged("\(op.path): a file without data") }
            let out = DigestingSink(HandleSink(file))
            if op.delta == true {
                guard let (dir, base) = try BaseState.locate(op.path, in: rootDir) else {
                    throw PatchError.wrongBase(path: op.path.description, expected: "a regular file", found: "nothing")
                }
                let old = try MappedFile(dir.open(base, flags: O_RDONLY | O_NOFOLLOW))
                let size = Int64(op.size ?? 0)  // validated: at most `Operation.maxSize`
                try Delta.decode(try patch.frame(frame, atMost: size), base: old.bytes, limit: Int(size)) {
                    try out.write($0)
                }
            } else {
                try patch.frame(frame, into: out)
            }
            guard out.digest == op.sha256 else { throw PatchError.contentMismatch(op.path.description) }
            try file.sync()
        case "directory":
            try staged.makeDirectory(name, mode: 0o700)
        case "symlink":
            guard let target = op.target else { throw PatchError.damaged("\(op.path): a symlink without a target") }
            try staged.makeSymlink(name, target: target.bytes)
        case "char", "block", "fifo":
            let type: FileType = op.type == "char" ? .characterDevice : op.type == "block" ? .blockDevice : .fifo
            try staged.makeNode(
                name, mode: type.rawValue | (op.mode ?? 0o644), major: op.rdev?.first ?? 0, minor: op.rdev?.last ?? 0)
        default:
            throw PatchError.unsupported("\(op.path): entries of type \(op.type ?? "?") are not supported")
        }
        try setAttributes(op, name, in: staged, times: op.type != "directory", mode: op.type != "directory")
    }

    // MARK: Commit

    private func rollForward(_ journal: Journal, _ rootDir: Handle, _ dir: Handle) throws {
        let staged = try dir.openDirectory(Staging.staged)
        let trash = try dir.openDirectory(Staging.trash)
        var touched: [Handle] = [rootDir, trash]
        for (i, op) in journal.operations.enumerated() {
            let mark = Array(String(i).utf8)
            let path = try op.path.rooted()
            let parent = try rootDir.openDirectory(components: path.parent.components)
            guard let name = path.base else { throw PatchError.damaged("an operation on the root itself") }
            let present = try parent.statIfExists(name)
            switch op.kind {
            case .delete:
                if present != nil, try trash.statIfExists(mark) == nil { try parent.rename(name, to: mark, in: trash) }
            case .replace:
                guard try staged.statIfExists(mark) != nil else { break }
                if present != nil, try trash.statIfExists(mark) == nil { try parent.rename(name, to: mark, in: trash) }
                try staged.rename(mark, to: name, in: parent)
            case .attributes:
                // Through the directory itself (O_NOFOLLOW): chmod would follow a symlink.
                try setAttributes(op, Self.dot, in: parent.openDirectory(name), times: false, mode: false)
            case .link:
                guard let link = op.link, let (tdir, tname) = try BaseState.locate(link, in: rootDir) else {
                    throw PatchError.damaged("\(op.path): a link to a missing entry")
                }
                let target = try tdir.stat(tname)
                if let present, present.inode == target.inode && present.device == target.device { break }
                if present != nil, try trash.statIfExists(mark) == nil { try parent.rename(name, to: mark, in: trash) }
                try parent.makeHardLink(name, to: tname, in: tdir)
            }
            touched.append(parent)
            FaultPoint.reach("patch.step")
        }
        // Directory modes and times last, deepest first: a mode without write permission would
        // have stopped the renames into the directory, and every rename moved some times.
        var times: [(PatchPath, Int64, Int64, Operation?)] = journal.keepTimes.map {
            ($0.path, $0.atime, $0.mtime, nil)
        }
        for op in journal.operations where op.type == "directory" && op.kind != .delete {
            times.append((op.path, op.atime ?? 0, op.mtime ?? 0, op))
        }
        let depth = { (p: PatchPath) in (try? p.rooted(allowRoot: true).components.count) ?? 0 }
        for (path, atime, mtime, op) in times.sorted(by: { depth($0.0) > depth($1.0) }) {
            guard let d = try? rootDir.openDirectory(components: path.rooted(allowRoot: true).components) else {
                continue
            }
            if let mode = op?.mode { try d.changeMode(mode) }
            try d.setTimes(
                access: FileTime(nanosecondsSince1970: atime), modification: FileTime(nanosecondsSince1970: mtime))
        }
        for d in touched { try d.sync() }
        FaultPoint.reach("patch.committed")
        try dir.unlink(Staging.journal)
    }

    static let dot = Array(".".utf8)

    /// Owner, xattrs (exactly the operation's, overlayfs's own aside), mode (unless `mode` is
    /// false: a directory's comes last), then times.
    private func setAttributes(_ op: Operation, _ name: [UInt8], in dir: Handle, times: Bool, mode: Bool = true)
        throws
    {
        try dir.changeOwner(name, uid: op.uid ?? 0, gid: op.gid ?? 0)
        let wanted = try (op.xattrs ?? [:]).mapValues { v -> [UInt8] in
            guard let d = Data(base64Encoded: v) else { throw PatchError.damaged("\(op.path): a bad xattr value") }
            return Array(d)
        }
        if op.type != "symlink" {
            for key in try dir.xattrNames(name) where wanted[key] == nil && !OverlayXattr.isOverlay(key) {
                try dir.removeXattr(name, key: key)
            }
            for (key, value) in wanted.sorted(by: { $0.key < $1.key }) {
                try dir.setXattr(name, key: key, value: value)
            }
            if mode { try dir.changeMode(name, op.mode ?? 0o644) }
        }
        if times, let mtime = op.mtime {
            try dir.setTimes(
                name, access: FileTime(nanosecondsSince1970: op.atime ?? mtime),
                modification: FileTime(nanosecondsSince1970: mtime))
        }
    }
}
