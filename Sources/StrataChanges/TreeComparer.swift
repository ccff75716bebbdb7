import StrataFS

/// The double-walk comparer: walks a lower and an upper tree together and reports, in tar order,
/// the changes that turn lower into upper (containerd's `fs.Changes`).
///
/// Guarantees: entries are visited depth-first with names sorted bytewise, so events are in the
/// order a layer needs; a removed directory is a single delete; a directory replaced by a file
/// reports no deletes for its former children; hardlinked files that did not change are reported
/// as `unmodified` so that a writer can emit every name of a changed hardlink group. Only the
/// directories on the current path are held open; the walk never holds a whole tree.
public struct TreeComparer {
    public var xattrPolicy: XattrPolicy

    public init(xattrPolicy: XattrPolicy = .capability) {
        self.xattrPolicy = xattrPolicy
    }

    /// Compares `lower` (nil: the empty tree) with `upper`, feeding `sink`. Returns false when the
    /// sink stopped the walk.
    @discardableResult
    public func compare(lower: Handle?, upper: Handle, into sink: inout some ChangeSink) throws -> Bool {
        let walk = Walk(policy: xattrPolicy, rule: SameFileRule(policy: xattrPolicy))
        if let lower {
            return try walk.merge(lower, upper, prefix: [], sink: &sink)
        }
        return try walk.addAll(upper, prefix: [], sink: &sink)
    }
}

private struct Walk {
    let policy: XattrPolicy
    let rule: SameFileRule

    static func sortedNames(_ dir: Handle) throws -> [[UInt8]] {
        try dir.entries().map(\.name).sorted { $0.lexicographicallyPrecedes($1) }
    }

    func child(_ prefix: [UInt8], _ name: [UInt8]) -> [UInt8] {
        var p = prefix
        p.append(PathName.slash)
        p.append(contentsOf: name)
        return p
    }

    func event(
        _ kind: ChangeKind, _ dir: Handle, _ name: [UInt8], _ meta: FileMetadata, _ path: [UInt8], xattrs: Xattrs?
    ) throws -> Change {
        Change(
            kind: kind, path: path, metadata: meta,
            linkTarget: meta.type == .symlink ? try dir.readLink(name) : nil,
            xattrs: try xattrs ?? dir.xattrs(name, policy: policy), directory: dir, name: name)
    }

    /// Reports every entry below `dir` as added.
    func addAll(_ dir: Handle, prefix: [UInt8], sink: inout some ChangeSink) throws -> Bool {
        for name in try Self.sortedNames(dir) {
            let meta = try dir.stat(name)
            let path = child(prefix, name)
            if try sink.handle(event(.add, dir, name, meta, path, xattrs: nil)) == .stop { return false }
            if meta.type == .directory {
                guard try addAll(dir.openDirectory(name), prefix: path, sink: &sink) else { return false }
            }
        }
        return true
    }

    /// Merges the sorted listings of two directories at the same path.
    func merge(_ lower: Handle, _ upper: Handle, prefix: [UInt8], sink: inout some ChangeSink) throws -> Bool {
        let lowerNames = try Self.sortedNames(lower)
        let upperNames = try Self.sortedNames(upper)
        var i = 0
        var j = 0
        while i < lowerNames.count || j < upperNames.count {
            let order: Int
            if i == lowerNames.count {
                order = 1
            } else if j == upperNames.count {
                order = -1
            } else if lowerNames[i] == upperNames[j] {
                order = 0
            } else {
                order = lowerNames[i].lexicographicallyPrecedes(upperNames[j]) ? -1 : 1
            }
            if order < 0 {
                let name = lowerNames[i]
                i += 1
                let meta = try lower.stat(name)
                let del = Change(kind: .delete, path: child(prefix, name), metadata: meta, name: name)
                if try sink.handle(del) == .stop { return false }
                continue
            }
            let name = upperNames[j]
            j += 1
            let path = child(prefix, name)
            let umeta = try upper.stat(name)
            if order > 0 {
                if try sink.handle(event(.add, upper, name, umeta, path, xattrs: nil)) == .stop { return false }
                if umeta.type == .directory {
                    guard try addAll(upper.openDirectory(name), prefix: path, sink: &sink) else { return false }
                }
                continue
            }
            i += 1
            guard try compareEntry(lower, upper, name, umeta, path, sink: &sink) else { return false }
        }
        return true
    }

    /// Compares one name present on both sides.
    func compareEntry(
        _ lower: Handle, _ upper: Handle, _ name: [UInt8], _ umeta: FileMetadata, _ path: [UInt8],
        sink: inout some ChangeSink
    ) throws -> Bool {
        let lmeta = try lower.stat(name)
        let lx = try lower.xattrs(name, policy: policy)
        let ux = try upper.xattrs(name, policy: policy)
        let same = try rule.same(
            lower: lmeta, lowerDir: lower, upper: umeta, upperDir: upper, name: name, lowerXattrs: lx, upperXattrs: ux)
        switch (lmeta.type == .directory, umeta.type == .directory) {
        case (true, true):
            if !same, try sink.handle(event(.modify, upper, name, umeta, path, xattrs: ux)) == .stop { return false }
            return try merge(lower.openDirectory(name), upper.openDirectory(name), prefix: path, sink: &sink)
        case (false, true):
            if try sink.handle(event(.modify, upper, name, umeta, path, xattrs: ux)) == .stop { return false }
            return try addAll(upper.openDirectory(name), prefix: path, sink: &sink)
        default:
            if !same {
                return try sink.handle(event(.modify, upper, name, umeta, path, xattrs: ux)) != .stop
            }
            if umeta.isHardLinked {
                return try sink.handle(event(.unmodified, upper, name, umeta, path, xattrs: ux)) != .stop
            }
            return true
        }
    }
}
