import Foundation
import NIOPosix
import StrataFS
import StrataLayers
import StrataOCI
import StrataStreams
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// containerd's `CreateDiff` for its own snapshots, with the overlay fast path: the layer of a
/// snapshot's changes over its parent, read from the overlay upper directory alone when the
/// snapshot's mounts prove that directory holds exactly those changes (containerd's overlayfs
/// snapshotter always does, unless redirect or metacopy entries are found), and by walking both
/// trees otherwise, as containerd's walking differ does (`MountsDiffer` decides).
///
/// The layer is computed into a file first and then written to containerd's content store, so a
/// caller can pause a container for the computing alone (`ContainerdCommitter`).
public struct ContainerdDiffer: Sendable {
    public let client: ContainerdClient
    public var options: DiffOptions
    /// Where the layer file and any mount go: `TMPDIR`, else `/var/tmp` (a disk, not memory).
    public var scratch: String
    /// Lists entries whose change time passed the diff's start (a container writing meanwhile).
    public var detectChanges = false
    public var onProgress: (@Sendable (LayerProgress) -> Void)?

    public init(client: ContainerdClient, options: DiffOptions = DiffOptions()) {
        self.client = client
        self.options = options
        scratch = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp"
    }

    /// A computed layer, not yet in containerd: its descriptor (with the diffID annotation) and
    /// the file holding its bytes.
    public struct Computed: Sendable {
        public var layer: Descriptor
        public var method: DiffMethod
        /// Why the upper directory could not serve, when it was tried and the trees were walked.
        public var fallback: String?
        /// Paths changed while the diff ran (with `detectChanges`), at most 20.
        public var changedDuringDiff: [String]
        public let file: Handle
    }

    /// Computes the layer of `snapshot` over its parent into a file (`output`, written atomically,
    /// or an unnamed one in `scratch`). Views it needs are made under `lease` and removed.
    /// Cancelling the task stops the walk at the next entry.
    public func compute(_ snapshot: ContainerdSnapshot, lease: ContainerdLease, output: String? = nil) async throws
        -> Computed
    {
        try await snapshot.withTrees(client, lease: lease) { try await compute($0, output: output) }
    }

    /// `compute` of trees `ContainerdSnapshot.withTrees` found.
    func compute(_ trees: ContainerdSnapshot.Trees, output: String?) async throws -> Computed {
        let (upper, lower) = (trees.upper, trees.lower)
        let scratch = try Self.scratchDirectory(in: scratch)
        // rmdir, never a recursive removal: a mount that failed to detach keeps its tree safe.
        defer { rmdir(scratch) }
        let cancelled = CancelFlag()
        let (options, detect, onProgress) = (options, detectChanges, onProgress)
        return try await withTaskCancellationHandler {
            try await NIOThreadPool.singleton.runIfActive {
                let dir = try Handle.openDirectory(path: scratch)
                let mounted = MountedTrees(scratch: dir, scratchPath: scratch)
                let started = detect ? try ChangeClock.settle(in: dir) : nil
                FaultPoint.reach("containerd.diff-started")
                var differ = Differ(options: options)
                differ.onProgress = { p in
                    if cancelled.value.load(ordering: .relaxed) { throw CancellationError() }
                    onProgress?(p)
                }
                let outcome = try MountsDiffer(trees: mounted).diff(upper: upper, over: lower) { source in
                    let (file, layer) = try Self.write(differ, source, output: output, in: dir)
                    let changed = try started.map { try ChangedEntries.since($0, in: source.upper, limit: 20) } ?? []
                    return (file, layer, changed)
                }
                let (file, layer, changed) = outcome.result
                return Computed(
                    layer: layer, method: outcome.method, fallback: outcome.fallback, changedDuringDiff: changed,
                    file: file)
            }
        } onCancel: {
            cancelled.value.store(true, ordering: .relaxed)
        }
    }

    /// Writes a computed layer into containerd's content store under `lease`, labelled with its
    /// diffID (`containerd.io/uncompressed`), as containerd's differ labels it.
    public func store(_ computed: Computed, lease: ContainerdLease) async throws {
        var labels = [String: String]()
        labels[Annotations.uncompressed] = computed.layer.uncompressedDigest?.description
        try await ContainerdContent(client).write(file: computed.file, as: computed.layer, labels: labels, lease: lease)
    }

    private static func write(_ differ: Differ, _ source: ChangeSource, output: String?, in dir: Handle) throws
        -> (Handle, Descriptor)
    {
        if let output {
            let layer = try AtomicFile.write(to: output) { try differ.write(source, to: HandleSink($0)) }
            return (try Handle.openFile(path: output), layer)
        }
        // Unlinked at once: nothing is left behind, whatever happens to this process later.
        let name = Array("layer".utf8)
        let file = try dir.open(name, flags: O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW, mode: 0o600)
        try dir.unlink(name)
        return (file, try differ.write(source, to: HandleSink(file)))
    }

    private static func scratchDirectory(in parent: String) throws -> String {
        let path = parent + "/strata-containerd-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        return path
    }
}

/// A cancellation seen by a blocking walk on another thread.
final class CancelFlag: Sendable {
    let value = Atomic<Bool>(false)
}
