import StrataFS
import StrataOverlay

#if canImport(Glibc)
    import Glibc
#endif

extension LocalSnapshotter {
    /// Creates the committed snapshot `key` whose tree is the own layers of the committed
    /// snapshots `layers` stacked, the first at the bottom, without copying a file: an overlay
    /// mount's lower directories, in any order. Overlay only.
    ///
    /// A layer listed again is kept at its last place only (as applying it again would give); a
    /// stacked snapshot brings its whole stack. The new snapshot has no parent and holds its layers: none of them can be
    /// removed while it exists. Returns how many directories `WhiteoutCover` had to create.
    @discardableResult
    public func stack(_ key: String, layers: [String], labels: [String: String]) throws -> Int {
        guard backend.stacksLayers, let contents = backend.contents else {
            throw SnapshotError.unavailable("snapshot \(key): the \(name) snapshotter cannot stack layers")
        }
        guard (1...1024).contains(key.utf8.count), !key.utf8.contains(0) else { throw SnapshotError.invalidKey(key) }
        // Bottom first, each with the layers it was made over (top first).
        let (stack, origins) = try metadata.read { db -> ([SnapshotRecord], [Int64: [Int64]]) in
            if try records.find(db, key) != nil { throw SnapshotError.alreadyExists(key) }
            var out: [SnapshotRecord] = []
            var origins: [Int64: [Int64]] = [:]
            for k in layers {
                let r = try records.get(db, k)
                guard r.kind == .committed else { throw SnapshotError.parentNotCommitted(key: key, parent: k) }
                for l in try records.lowers(db, of: r.id).reversed() + [r] {
                    out.removeAll { $0.id == l.id }  // kept at its last place
                    out.append(l)
                    origins[l.id] = try records.below(db, l).map(\.id)
                }
            }
            return (out, origins)
        }
        guard !stack.isEmpty else { throw SnapshotError.invalidKey(key) }
        // The stack's lower directories (with the new top layer) must fit in one mount's data.
        let lowers = backend.stackMount(base: path, layers: [0] + stack.reversed().map(\.id))?.options.first {
            $0.hasPrefix("lowerdir=")
        }
        guard let lowers, lowers.utf8.count < 3_800 else {
            throw SnapshotError.unavailable(
                "snapshot \(key): \(stack.count) layers are more than one overlay mount can stack here")
        }
        let temp = Array("new-\(getpid())-\(UInt32.random(in: 0...UInt32.max))".utf8)
        try directory.makeDirectory(temp, mode: 0o755)
        do {
            try backend.populate(directory.openDirectory(temp), kind: .committed, parents: [])
            let top = try directory.openDirectory(temp).openDirectory(contents)
            // Only a layer away from the layers it was made over can leave a whiteout unmerged.
            var moved: [Int] = []
            for (i, l) in stack.enumerated() where l.whiteouts > 0 {
                let origin = origins[l.id] ?? []
                let under = stack[..<i].reversed().map(\.id)
                if origin.isEmpty || !under.starts(with: origin) { moved.append(i) }
            }
            var cover = WhiteoutCover(layers: try stack.map { try ownTree($0.id) }, top: top)
            for i in moved { try cover.cover(layer: i) }
            try cover.finish()
            try metadata.write { db in
                let r = try records.createStacked(
                    db, key: key, lowers: stack.reversed().map(\.id), labels: labels)
                let idName = Array(String(r.id).utf8)
                if try directory.statIfExists(idName) != nil { try directory.removeAll(idName) }
                try directory.rename(temp, to: idName, in: directory, noReplace: true)
            }
            return cover.created
        } catch {
            try? directory.removeAll(temp)
            throw error
        }
    }

    /// The layers under `key`'s own, top first, by key: what its tree was made over.
    public func chain(_ key: String) throws -> [String] {
        try metadata.read { db in try records.below(db, records.get(db, key)).map(\.key) }
    }

    /// The snapshots `key` depends on: its parent, or the layers it stacks.
    public func dependencies(_ key: String) throws -> [String] {
        try metadata.read { db in
            let r = try records.get(db, key)
            return try (r.parent.map { [try records.byID(db, $0).key] } ?? []) + records.lowers(db, of: r.id).map(\.key)
        }
    }
}
