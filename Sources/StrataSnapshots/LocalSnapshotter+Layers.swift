import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// A snapshot's directories as a diff reads them. containerd's differ gets mounts and walks two
/// merged trees; Strata reads the directories, which lets it diff an overlay snapshot from its
/// upper directory alone and a native one with its copy's change times as evidence.
public struct SnapshotLayers {
    public var kind: SnapshotKind
    /// The committed snapshot under this one.
    public var parent: String?
    /// Whether `own` is an overlay upper directory (whiteouts as 0/0 devices, opaque xattrs)
    /// rather than a whole tree; false for a stacked snapshot, whose tree is in `lowers`.
    public var isOverlayUpper: Bool
    /// The snapshot's own directory: overlay's upper (`fs`), native's whole tree; nil for a View,
    /// which has none.
    public var own: Handle?
    /// When the copy of the parent that `own` began as was complete (native Active snapshots and
    /// their commits): entries whose change time is not later are unchanged.
    public var copiedAt: FileTime?
    /// Overlay: the parents' layers (`fs`), the immediate parent first, as an applier writing
    /// into `own` as an upper directory needs them. Empty for native.
    public var lowers: [Handle]
}

extension LocalSnapshotter {
    /// The directories of snapshot `key`, for a diff against its parent.
    public func layers(_ key: String) throws -> SnapshotLayers {
        let (r, parent, chain, stacked) = try metadata.read { db in
            let r = try records.get(db, key)
            return (
                r, try r.parent.map { try records.byID(db, $0).key }, try records.below(db, r),
                try !records.lowers(db, of: r.id).isEmpty
            )
        }
        return SnapshotLayers(
            kind: r.kind, parent: parent, isOverlayUpper: backend.stacksLayers && !stacked,
            own: r.kind == .view ? nil : try ownTree(r.id),
            copiedAt: r.copiedAt.map(FileTime.init(nanosecondsSince1970:)),
            lowers: !backend.stacksLayers ? [] : try chain.map { try ownTree($0.id) })
    }

    /// Runs `body` with the whole tree of snapshot `key` read-only (nil: the empty tree). An
    /// overlay tree of several layers is mounted for the moment it takes to open its root, then
    /// detached: the open handle keeps the mount alive and nothing is left behind.
    public func withTree<R>(_ key: String?, _ body: (Handle?) throws -> R) throws -> R {
        guard let key else { return try body(nil) }
        let (r, chain) = try metadata.read { db in
            let r = try records.get(db, key)
            return (r, try records.below(db, r).map(\.id))
        }
        if backend.copiesParent {
            // A native View over a parent has no directory: it is the parent's.
            return try body(ownTree(r.kind == .view ? chain.first ?? r.id : r.id))
        }
        let dirs = (r.kind == .view ? [] : [r.id]) + chain
        if dirs.isEmpty { return try body(ownTree(r.id)) }
        // A single layer is the bottom one, which holds no whiteouts: it is the tree itself.
        if dirs.count == 1 { return try body(ownTree(dirs[0])) }
        return try body(mountReadOnly(dirs))
    }

    func ownTree(_ id: Int64) throws -> Handle {
        let dir = try directory.openDirectory(Array(String(id).utf8))
        return try backend.contents.map { try dir.openDirectory($0) } ?? dir
    }

    /// Mounts the layers `ids` (top first) as one read-only overlay and returns its root.
    private func mountReadOnly(_ ids: [Int64]) throws -> Handle {
        let name = Array("mnt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))".utf8)
        try directory.makeDirectory(name, mode: 0o700)
        defer { try? directory.unlink(name, directory: true) }
        let target = path + "/" + String(decoding: name, as: UTF8.self)
        guard let mount = backend.stackMount(base: path, layers: ids) else {
            throw SnapshotError.unavailable("the \(self.name) snapshotter cannot stack layers")
        }
        try Mounter.mount([mount], at: target)
        defer { try? Mounter.unmount(target, detach: true) }
        return try directory.openDirectory(name)
    }
}
