import StrataChanges
import StrataFS
import StrataOverlay

/// How a layer's changes were found.
public enum DiffMethod: String, Codable, Sendable {
    /// The overlay upper directory, with only its own names looked up below.
    case overlayUpper = "overlay-upper"
    /// Both trees walked, the copy's change times sparing unchanged entries any comparison.
    case evidence
    /// Both whole trees walked and compared, as containerd's walking differ does.
    case trees
}

/// The changes of one tree over another, both given as mounts (what containerd's Diff service
/// receives, and what its snapshotters return): overlayfs' upper directory alone when
/// `OverlayDirectories.layer(of:over:)` proves it holds exactly those changes, both trees walked
/// otherwise, and when the upper directory turns out to hold redirect or metacopy entries.
///
/// Guarantees: `write` sees a `ChangeSource` whose handles are open only for its call; it is
/// called a second time, with both trees, only after an `UpperDirError` (so it must start over
/// cleanly: a content ingest is aborted by `SnapshotDiffer.store`). Every mount made here is
/// read-only and gone when `diff` returns.
public struct MountsDiffer: Sendable {
    public let trees: MountedTrees

    public init(trees: MountedTrees) { self.trees = trees }

    /// What `diff` did.
    public struct Outcome<R> {
        public var result: R
        public var method: DiffMethod
        /// The upper directory read, with `.overlayUpper`.
        public var upperDirectory: String?
        /// Why the upper directory alone could not serve when it was tried; nil otherwise.
        public var fallback: String?
    }

    /// The changes of `upper` over `lower` (empty: over the empty tree), given to `write`.
    public func diff<R>(upper: [Mount], over lower: [Mount], _ write: (ChangeSource) throws -> R) throws -> Outcome<R> {
        try withTree(lower) { lowerRoot in
            var fallback: String?
            if let layer = OverlayDirectories.layer(of: upper, over: lower)?.layer {
                do {
                    let r = try write(.overlayUpper(lower: lowerRoot, upper: Handle.openDirectory(path: layer)))
                    return Outcome(result: r, method: .overlayUpper, upperDirectory: layer)
                } catch let e as UpperDirError {
                    fallback = e.description
                }
            }
            let r = try trees.with(upper, readOnly: true) { try write(.trees(lower: lowerRoot, upper: $0)) }
            return Outcome(result: r, method: .trees, fallback: fallback)
        }
    }

    private func withTree<R>(_ mounts: [Mount], _ body: (Handle?) throws -> R) throws -> R {
        mounts.isEmpty ? try body(nil) : try trees.with(mounts, readOnly: true) { try body($0) }
    }

    /// The read-only mounts of the merged tree of overlay layers `lowers` (the top first): a bind
    /// mount of the only one, or an overlay of them all. What a snapshot's parent looks like when
    /// its own mounts name only the layers below it.
    public static func mounts(ofLayers lowers: [String]) -> [Mount] {
        guard lowers.count > 1 else {
            return lowers.map { Mount(type: "bind", source: $0, options: ["ro", "rbind"]) }
        }
        var m = OverlayMount.mount(lowers: lowers, options: OverlayMount.defaultOptions)
        m.options.append("ro")
        return [m]
    }
}
