import StrataFS

/// One directory of the double walk: a lower and an upper directory at the same path (or an
/// upper directory alone, whose entries are all added). Workers turn it into an ordered list of
/// items; the consumer replays them in tar order.
final class DirectoryJob: @unchecked Sendable {
    enum Source {
        case handles(lower: Handle?, upper: Handle)
        /// Opened when the job runs, so that jobs waiting in the queue hold no descriptors.
        case children(lowerParent: Handle?, upperParent: Handle, name: [UInt8])
    }

    enum Item {
        case change(Change)
        case descend(DirectoryJob)
    }

    enum State {
        case pending
        case running
        case done
    }

    let source: Source
    let prefix: [UInt8]
    // Guarded by the scheduler's lock.
    var state = State.pending
    var items: [Item] = []
    var error: Error?

    init(_ source: Source, prefix: [UInt8]) {
        self.source = source
        self.prefix = prefix
    }
}

/// Computes the items of directory jobs: listing, stat, xattrs and the same-file rule, including
/// content comparison. Pure with respect to the job; safe to run on any thread.
struct DirectoryComparer: Sendable {
    let policy: XattrPolicy
    let rule: SameFileRule

    func run(_ job: DirectoryJob) throws -> [DirectoryJob.Item] {
        let lower: Handle?
        let upper: Handle
        switch job.source {
        case .handles(let l, let u):
            lower = l
            upper = u
        case .children(let lp, let up, let name):
            lower = try lp?.openDirectory(name)
            upper = try up.openDirectory(name)
        }
        if let lower { return try merge(lower, upper, job.prefix) }
        return try addAll(upper, job.prefix)
    }

    func child(_ prefix: [UInt8], _ name: [UInt8]) -> [UInt8] {
        var p = prefix
        p.append(PathName.slash)
        p.append(contentsOf: name)
        return p
    }

    func change(
        _ kind: ChangeKind, _ dir: Handle, _ name: [UInt8], _ meta: FileMetadata, _ path: [UInt8], _ xattrs: Xattrs?
    )
        throws -> DirectoryJob.Item
    {
        .change(
            Change(
                kind: kind, path: path, metadata: meta,
                linkTarget: meta.type == .symlink ? try dir.readLink(name) : nil,
                xattrs: try xattrs ?? dir.xattrs(name, policy: policy), directory: dir, name: name))
    }

    func addAll(_ upper: Handle, _ prefix: [UInt8]) throws -> [DirectoryJob.Item] {
        var items: [DirectoryJob.Item] = []
        for name in try upper.sortedNames() {
            let meta = try upper.stat(name)
            let path = child(prefix, name)
            items.append(try change(.add, upper, name, meta, path, nil))
            if meta.type == .directory {
                items.append(
                    .descend(DirectoryJob(.children(lowerParent: nil, upperParent: upper, name: name), prefix: path)))
            }
        }
        return items
    }

    func merge(_ lower: Handle, _ upper: Handle, _ prefix: [UInt8]) throws -> [DirectoryJob.Item] {
        let lowerNames = try lower.sortedNames()
        let upperNames = try upper.sortedNames()
        var items: [DirectoryJob.Item] = []
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
                items.append(.change(Change(kind: .delete, path: child(prefix, name), metadata: meta, name: name)))
                continue
            }
            let name = upperNames[j]
            j += 1
            let path = child(prefix, name)
            let umeta = try upper.stat(name)
            if order > 0 {
                items.append(try change(.add, upper, name, umeta, path, nil))
                if umeta.type == .directory {
                    items.append(
                        .descend(
                            DirectoryJob(.children(lowerParent: nil, upperParent: upper, name: name), prefix: path)))
                }
                continue
            }
            i += 1
            try compare(lower, upper, name, umeta, path, into: &items)
        }
        return items
    }

    /// One name present on both sides.
    func compare(
        _ lower: Handle, _ upper: Handle, _ name: [UInt8], _ umeta: FileMetadata, _ path: [UInt8],
        into items: inout [DirectoryJob.Item]
    )
        throws
    {
        let lmeta = try lower.stat(name)
        // Xattrs are read only when metadata alone cannot tell (nil: read if an event needs them).
        var ux: Xattrs?
        var same = rule.isUntouched(lower: lmeta, upper: umeta)
        if !same {
            let lx = try lower.xattrs(name, policy: policy)
            ux = try upper.xattrs(name, policy: policy)
            same = try rule.same(
                lower: lmeta, lowerDir: lower, upper: umeta, upperDir: upper, name: name, lowerXattrs: lx,
                upperXattrs: ux!)
        }
        switch (lmeta.type == .directory, umeta.type == .directory) {
        case (true, true):
            if !same { items.append(try change(.modify, upper, name, umeta, path, ux)) }
            items.append(
                .descend(DirectoryJob(.children(lowerParent: lower, upperParent: upper, name: name), prefix: path)))
        case (false, true):
            items.append(try change(.modify, upper, name, umeta, path, ux))
            items.append(
                .descend(DirectoryJob(.children(lowerParent: nil, upperParent: upper, name: name), prefix: path)))
        default:
            if !same {
                items.append(try change(.modify, upper, name, umeta, path, ux))
            } else if umeta.isHardLinked {
                items.append(try change(.unmodified, upper, name, umeta, path, ux))
            }
        }
    }
}
