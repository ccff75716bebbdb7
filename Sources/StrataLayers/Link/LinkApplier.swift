import StrataChanges
import StrataFS
import StrataOverlay

#if canImport(Glibc)
    import Glibc
#endif

/// Applies a change stream to a directory with hard links to the upper tree's files instead of
/// copies: BuildKit's hardlink merge for snapshotters that cannot stack layers.
///
/// Deletions remove, directories are created or get the upper's attributes, every other entry is
/// linked to the upper's inode (copied where the kernel refuses the link, for example across
/// filesystems or under `protected_hardlinks`). Directory times are set last, children first, so
/// the result has the upper's times wherever the stream names a directory and keeps the target's
/// elsewhere. The upper tree must not change afterwards: it shares its inodes with the target
/// (a committed snapshot's tree never does).
public struct LinkApplier: ChangeSink {
    public let target: Handle
    /// The upper tree's root: where a parent directory missing in the target is copied from.
    public let upper: Handle
    /// Write an overlay upper directory: deletions as 0/0 character devices, opaque directories
    /// with `trusted.overlay.opaque`, for a target that will be stacked as a layer. overlayfs's
    /// own attributes of the upper's entries are never carried over.
    public var overlayWhiteouts = false
    public private(set) var linked = 0
    public private(set) var copied = 0
    /// Directories whose times must be set at the end, by path, with the times they should have.
    private var times: [[[UInt8]]: (access: FileTime, modification: FileTime)] = [:]
    /// Unchanged members of hardlink groups, by the upper's inode, and the groups that changed.
    private var unmodified: [UInt64: [(parent: [[UInt8]], name: [UInt8], upper: Handle, upperName: [UInt8])]] = [:]
    private var changedGroups = Set<UInt64>()

    public init(target: Handle, upper: Handle) {
        self.target = target
        self.upper = upper
    }

    public mutating func handle(_ c: Change) throws -> WalkDecision {
        let comps = c.path.split(separator: UInt8(ascii: "/")).map(Array.init)
        guard let name = comps.last else { return .proceed }
        let parentPath = Array(comps.dropLast())
        let parent = try makeParents(parentPath)
        try keepTimes(parentPath, parent)
        switch c.kind {
        case .delete:
            try parent.removeAll(name)
            forget(below: parentPath.count)
            if overlayWhiteouts { try OverlayUpper.writeWhiteout(name, in: parent) }
        case .opaque:
            let dir = try parent.openDirectory(name)
            forget(below: parentPath.count)
            if overlayWhiteouts {
                try OverlayUpper.makeOpaque(dir)
            } else {
                for entry in try dir.entries() { try dir.removeAll(entry.name) }
            }
        case .unmodified:
            // Linked again at the end if another member of its group changed, as a layer writes
            // the whole group then.
            if let upper = c.directory {
                unmodified[c.metadata.inode, default: []].append((parentPath, name, upper, c.name))
            }
        case .add, .modify:
            guard let upper = c.directory else { break }
            if c.metadata.isHardLinked { changedGroups.insert(c.metadata.inode) }
            let existing = try parent.statIfExists(name)
            if c.metadata.type == .directory {
                if existing?.type != .directory {
                    try parent.removeAll(name)
                    forget(below: parentPath.count)
                    try parent.makeDirectory(name, mode: 0o700)
                }
                try TreeCopy.copyMetadata(
                    from: c.metadata, of: c.name, in: upper, to: name, in: parent, skipping: OverlayXattr.isOverlay)
                times[comps] = (c.metadata.accessTime, c.metadata.modificationTime)
            } else {
                if existing != nil {
                    try parent.removeAll(name)
                    forget(below: parentPath.count)
                }
                if let refused = Self.link(name, in: parent, to: c.name, in: upper) {
                    guard [EXDEV, EPERM].contains(refused.errno.rawValue) else { throw refused }
                    try copy(c, upper, to: name, in: parent)
                    copied += 1
                } else {
                    linked += 1
                }
            }
        }
        return .proceed
    }

    /// Links `name` to the upper's entry; the error, if the kernel refused.
    private static func link(_ name: [UInt8], in parent: Handle, to source: [UInt8], in upper: Handle) -> FSError? {
        do {
            try parent.makeHardLink(name, to: source, in: upper)
            return nil
        } catch {
            return error
        }
    }

    /// Relinks the unchanged members of changed hardlink groups, then sets the directories'
    /// times, children before parents.
    public mutating func finish() throws {
        for inode in changedGroups {
            for m in unmodified[inode] ?? [] {
                let parent = try makeParents(m.parent)
                try keepTimes(m.parent, parent)
                try parent.removeAll(m.name)
                try parent.makeHardLink(m.name, to: m.upperName, in: m.upper)
            }
        }
        for (path, t) in times.sorted(by: { $0.key.count > $1.key.count }) {
            try target.openDirectory(components: path).setTimes(access: t.access, modification: t.modification)
        }
    }

    /// Remembers a directory's times before the stream first changes its entries.
    private mutating func keepTimes(_ path: [[UInt8]], _ dir: Handle) throws {
        guard times[path] == nil else { return }
        let m = try dir.stat()
        times[path] = (m.accessTime, m.modificationTime)
    }

    /// The target's directory `path`, its missing parts created as the upper has them (a layer
    /// applied to the empty tree gets the directories above its changes, as a tar layer carries).
    private mutating func makeParents(_ path: [[UInt8]]) throws -> Handle {
        var k = 0
        while k < min(path.count, open.count) && open[k].name == path[k] { k += 1 }
        open.removeLast(open.count - k)
        var dir = open.last?.target ?? target
        var from = open.last?.upper ?? upper
        for i in k..<path.count {
            let name = path[i]
            let source = try from.openDirectory(name)
            if try dir.statIfExists(name) == nil {
                try dir.makeDirectory(name, mode: 0o700)
                let m = try source.stat()
                try TreeCopy.copyMetadata(
                    from: m, of: name, in: from, to: name, in: dir, skipping: OverlayXattr.isOverlay)
                times[Array(path[...i])] = (m.accessTime, m.modificationTime)
            }
            dir = try dir.openDirectory(name)
            from = source
            open.append((name, dir, from))
        }
        return dir
    }

    /// Directories along the last path, open in the target and the upper: changes come in tree
    /// order, so the next one mostly shares them.
    private var open: [(name: [UInt8], target: Handle, upper: Handle)] = []

    /// Forgets the open directories at and below `depth` (one of them was removed or replaced).
    private mutating func forget(below depth: Int) {
        if open.count > depth { open.removeLast(open.count - depth) }
    }

    private func copy(_ c: Change, _ upper: Handle, to name: [UInt8], in parent: Handle) throws {
        switch c.metadata.type {
        case .regular:
            let from = try upper.open(c.name, flags: O_RDONLY | O_NOFOLLOW)
            let to = try parent.open(name, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
            _ = try to.copyData(from: from)
        case .symlink:
            try parent.makeSymlink(name, target: upper.readLink(c.name))
        default:
            try parent.makeNode(
                name, mode: c.metadata.mode, major: c.metadata.rdevMajor, minor: c.metadata.rdevMinor)
        }
        try TreeCopy.copyMetadata(
            from: c.metadata, of: c.name, in: upper, to: name, in: parent, skipping: OverlayXattr.isOverlay)
    }
}
