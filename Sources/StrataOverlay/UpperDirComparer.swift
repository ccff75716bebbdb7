import StrataChanges
import StrataFS

/// The overlay fast path: the changes an overlayfs upper directory holds over its lower tree,
/// found by walking the upper directory alone and looking up only its own names in the lower.
///
/// Guarantees: events come in tar order, as `TreeComparer`'s; a 0/0 character device over a lower
/// entry is a delete (over nothing, it is dropped); an opaque directory over a lower directory
/// reports `.opaque` before its children, which are then all additions; an entry overlayfs copied
/// up but whose metadata, xattrs and contents equal the lower's is left out (one hardlinked in
/// the upper is reported `unmodified`, so a changed member still brings its whole group; one
/// hardlinked in the lower is written, since the copy-up separated it from its other names);
/// overlayfs' own xattrs (`trusted.overlay.*`) are never compared or carried. Upper directories
/// written with `redirect_dir` or `metacopy` cannot be read this way and raise `UpperDirError`.
public struct UpperDirComparer {
    public var xattrPolicy: XattrPolicy

    public init(xattrPolicy: XattrPolicy = .capability) { self.xattrPolicy = xattrPolicy }

    /// One directory being walked: its upper and lower (nil: nothing below shows through) handles.
    private struct Frame {
        var upper: Handle
        var lower: Handle?
        var prefix: [UInt8]
        var names: [[UInt8]]
        var next = 0
    }

    /// Compares the upper directory `upper` with the merged lower tree `lower` (nil: empty),
    /// feeding `sink`. Returns false when the sink stopped the walk.
    @discardableResult
    public func compare(lower: Handle?, upper: Handle, into sink: inout some ChangeSink) throws -> Bool {
        let rule = SameFileRule(policy: xattrPolicy, check: .contents)
        var stack = [Frame(upper: upper, lower: lower, prefix: [], names: try upper.sortedNames())]
        while !stack.isEmpty {
            let top = stack.count - 1
            guard stack[top].next < stack[top].names.count else {
                stack.removeLast()
                continue
            }
            let name = stack[top].names[stack[top].next]
            stack[top].next += 1
            let frame = stack[top]
            let path = frame.prefix + [PathName.slash] + name
            let meta = try frame.upper.stat(name)
            let below = try frame.lower?.statIfExists(name)
            var events: [Change] = []
            if let reason = try OverlayUpper.unreadable(name, in: frame.upper, meta) {
                throw UpperDirError(path: PathName.display(path), reason: reason)
            }
            if OverlayUpper.isWhiteout(meta) {
                if let below { events.append(Change(kind: .delete, path: path, metadata: below, name: name)) }
            } else if meta.type == .directory {
                let opaque = try OverlayUpper.isOpaque(name, in: frame.upper)
                let xattrs = try frame.upper.xattrs(name, policy: xattrPolicy)
                var lowerChild: Handle?
                if let below, below.type == .directory, let lowerDir = frame.lower {
                    let same = try rule.same(
                        lower: below, lowerDir: lowerDir, upper: meta, upperDir: frame.upper, name: name,
                        lowerXattrs: try lowerDir.xattrs(name, policy: xattrPolicy), upperXattrs: xattrs)
                    if !same || opaque { events.append(event(.modify, frame.upper, name, meta, path, xattrs)) }
                    if opaque {
                        events.append(Change(kind: .opaque, path: path, metadata: meta, name: name))
                    } else {
                        lowerChild = try lowerDir.openDirectory(name)
                    }
                } else {
                    events.append(event(below == nil ? .add : .modify, frame.upper, name, meta, path, xattrs))
                }
                let child = try frame.upper.openDirectory(name)
                stack.append(Frame(upper: child, lower: lowerChild, prefix: path, names: try child.sortedNames()))
            } else {
                let xattrs = try frame.upper.xattrs(name, policy: xattrPolicy)
                if let below, let lowerDir = frame.lower, below.type != .directory {
                    let same = try rule.same(
                        lower: below, lowerDir: lowerDir, upper: meta, upperDir: frame.upper, name: name,
                        lowerXattrs: try lowerDir.xattrs(name, policy: xattrPolicy), upperXattrs: xattrs)
                    // A copy-up of a hardlinked lower file separates it from its other names
                    // (overlay mounts here use index=off): that is a change, even with equal bytes.
                    if !same || below.isHardLinked {
                        events.append(try linked(.modify, frame.upper, name, meta, path, xattrs))
                    } else if meta.isHardLinked {
                        events.append(try linked(.unmodified, frame.upper, name, meta, path, xattrs))
                    }
                } else {
                    events.append(try linked(below == nil ? .add : .modify, frame.upper, name, meta, path, xattrs))
                }
            }
            for e in events where try sink.handle(e) == .stop { return false }
        }
        return true
    }

    private func event(
        _ kind: ChangeKind, _ dir: Handle, _ name: [UInt8], _ meta: FileMetadata, _ path: [UInt8], _ xattrs: Xattrs
    ) -> Change {
        Change(kind: kind, path: path, metadata: meta, xattrs: xattrs, directory: dir, name: name)
    }

    private func linked(
        _ kind: ChangeKind, _ dir: Handle, _ name: [UInt8], _ meta: FileMetadata, _ path: [UInt8], _ xattrs: Xattrs
    ) throws -> Change {
        var c = event(kind, dir, name, meta, path, xattrs)
        if meta.type == .symlink { c.linkTarget = try dir.readLink(name) }
        return c
    }
}

/// An upper directory the fast path cannot read; the caller falls back to comparing merged views.
public struct UpperDirError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String {
        "\(path): the overlay upper directory holds \(reason), which the fast path does not read"
    }
}
