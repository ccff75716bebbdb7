import StrataFS

/// Entries of a tree whose inode change time passed a moment: what a container changed while its
/// diff ran, when it was not paused. A write's change time comes from the same coarse kernel clock
/// `ChangeClock.settle` reads, so an entry changed after that moment is found; one changed in the
/// same tick just before may be listed too (a warning errs that way).
enum ChangedEntries {
    /// Up to `limit` paths (from the tree's root, `/`-led) under `root` changed after `moment`.
    static func since(_ moment: FileTime, in root: Handle, limit: Int) throws -> [String] {
        var found: [String] = []
        if try root.stat().changeTime > moment { found.append("/") }
        // Depth first, one open directory per level.
        var stack: [(dir: Handle, prefix: [UInt8], names: [[UInt8]], next: Int)] = [
            (root, [], try root.sortedNames(), 0)
        ]
        while let top = stack.last, found.count < limit {
            guard top.next < top.names.count else {
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].next += 1
            let name = top.names[top.next]
            let path = top.prefix + [PathName.slash] + name
            // An entry removed or replaced since its directory was listed changed too.
            guard let meta = try? top.dir.stat(name) else {
                found.append(PathName.display(path))
                continue
            }
            if meta.changeTime > moment { found.append(PathName.display(path)) }
            if meta.type == .directory {
                guard let child = try? top.dir.openDirectory(name), let names = try? child.sortedNames() else {
                    if meta.changeTime <= moment { found.append(PathName.display(path)) }
                    continue
                }
                stack.append((child, path, names, 0))
            }
        }
        return found
    }
}
