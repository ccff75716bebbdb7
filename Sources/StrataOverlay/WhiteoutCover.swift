import StrataFS

/// Keeps a stack of overlay layers equal to applying them in order.
///
/// overlayfs hides a whiteout only in a merged directory (one that more than one layer has);
/// in a directory that a single layer holds, `readdir` lists the 0/0 device as an entry. In a
/// chain a layer's deletions always land in directories its parents have, but a layer stacked
/// elsewhere may delete inside a directory nothing under it has. Such a directory is created,
/// empty, in the stack's own top layer, which merges it and hides the whiteout. Every directory
/// the top layer holds (its root too) gets the attributes of the topmost layer below that has it,
/// since overlayfs shows the topmost layer's.
public struct WhiteoutCover {
    /// The stacked layers' own directories, bottom first.
    public let layers: [Handle]
    /// The new snapshot's own directory, above them all.
    public let top: Handle
    /// Directories created in `top`, parents first; the root (the empty path) is always there.
    private var made: [[[UInt8]]] = [[]]
    private var present: Set<[[UInt8]]> = [[]]

    public init(layers: [Handle], top: Handle) {
        self.layers = layers
        self.top = top
    }

    /// How many directories were created to cover whiteouts.
    public var created: Int { made.count - 1 }

    /// Covers the unmerged whiteouts of layer `i`.
    public mutating func cover(layer i: Int) throws {
        var pending: [[[UInt8]]] = [[]]
        while let path = pending.popLast() {
            let dir = try layers[i].openDirectory(components: path)
            var hasWhiteout = false
            for name in try dir.sortedNames() {
                let m = try dir.stat(name)
                if m.type == .directory { pending.append(path + [name]) }
                hasWhiteout = hasWhiteout || OverlayUpper.isWhiteout(m)
            }
            if hasWhiteout && !present.contains(path) && isUnmerged(path, in: i, dir) && !isHidden(path, above: i) {
                try make(path)
            }
        }
    }

    /// Sets the created directories' attributes, children before parents (a new entry changes
    /// its parent's times).
    public func finish() throws {
        for path in made.reversed() {
            guard let source = layers.reversed().lazy.compactMap({ try? $0.openDirectory(components: path) }).first
            else { continue }
            try TreeCopy.copyMetadata(
                from: source.stat(), of: nil, in: source, to: nil, in: top.openDirectory(components: path),
                skipping: OverlayXattr.isOverlay)
        }
    }

    /// Whether directory `path` of layer `i` may stay out of a merge: no layer above it has the
    /// directory (a layer below may be cut off from it by one in between). Covering a directory
    /// that was merged anyway costs one empty directory.
    private func isUnmerged(_ path: [[UInt8]], in i: Int, _ dir: Handle) -> Bool {
        !layers[(i + 1)...].contains { (try? $0.openDirectory(components: path)) != nil }
    }

    /// Whether a layer above `i` hides directory `path` of layer `i`: has it, or a directory
    /// above it, as a non-directory (a file, a whiteout) or as an opaque directory.
    private func isHidden(_ path: [[UInt8]], above i: Int) -> Bool {
        for layer in layers[(i + 1)...] {
            var dir = layer
            for name in path {
                guard let m = try? dir.statIfExists(name) else { break }
                guard m.type == .directory, let next = try? dir.openDirectory(name) else { return true }
                if (try? OverlayUpper.isOpaque(Array(".".utf8), in: next)) == true { return true }
                dir = next
            }
        }
        return false
    }

    private mutating func make(_ path: [[UInt8]]) throws {
        for n in 1...path.count where !present.contains(Array(path[..<n])) {
            try top.openDirectory(components: path[..<(n - 1)]).makeDirectory(path[n - 1], mode: 0o755)
            made.append(Array(path[..<n]))
            present.insert(Array(path[..<n]))
        }
    }
}
