import Foundation
import StrataFS

/// The double-walk comparer: walks a lower and an upper tree together and reports, in tar order,
/// the changes that turn lower into upper (containerd's `fs.Changes`).
///
/// Guarantees: entries are visited depth-first with names sorted bytewise, so events are in the
/// order a layer needs; a removed directory is a single delete; a directory replaced by a file
/// reports no deletes for its former children; hardlinked files that did not change are reported
/// as `unmodified` so that a writer can emit every name of a changed hardlink group. Worker
/// threads list, stat and compare directories just ahead of the sink (a bounded window of
/// directories), so the walk uses every core and never holds a whole tree.
public struct TreeComparer {
    public var xattrPolicy: XattrPolicy
    /// Threads that list, stat and compare directories ahead of the consumer (0: sequential).
    public var workers: Int
    /// When `upper` began as a copy of `lower` finished at this moment (a native snapshot), the
    /// inode change times are evidence: an entry untouched since is unchanged without a look, and
    /// any other has its contents compared whenever its metadata match, so a write that restores
    /// size and mtime is still caught.
    public var copiedAt: FileTime?

    public init(xattrPolicy: XattrPolicy = .capability, workers: Int? = nil, copiedAt: FileTime? = nil) {
        self.xattrPolicy = xattrPolicy
        self.workers = workers ?? ProcessInfo.processInfo.activeProcessorCount
        self.copiedAt = copiedAt
    }

    /// Compares `lower` (nil: the empty tree) with `upper`, feeding `sink`. Returns false when the
    /// sink stopped the walk.
    @discardableResult
    public func compare(lower: Handle?, upper: Handle, into sink: inout some ChangeSink) throws -> Bool {
        let comparer = DirectoryComparer(
            policy: xattrPolicy,
            rule: SameFileRule(
                policy: xattrPolicy, check: copiedAt.map { .evidence(untouchedSince: $0) } ?? .containerd))
        let root = DirectoryJob(.handles(lower: lower, upper: upper), prefix: [])
        return try WalkScheduler(comparer: comparer).run(root, workers: workers, sink: &sink)
    }
}
