import Foundation
import StrataContent
import StrataDatabase
import StrataFS
import StrataSnapshots

#if canImport(Glibc)
    import Glibc
#endif

/// A state root: everything Strata keeps between commands, in one directory.
///
///     ROOT/lock            held shared by every process using the root, exclusively by gc
///     ROOT/metadata.db     blob records and labels, leases, snapshot records (SQLite)
///     ROOT/content/        the content store, an OCI image layout (skopeo and umoci read it)
///     ROOT/ingest/         content writers in progress, resumable
///     ROOT/snapshots/overlay/<id>, ROOT/snapshots/native/<id>   the snapshotters' directories
///     ROOT/containerd/     containerd's partition: a state root of its own (`containerdPartition`)
public final class StateRoot: Sendable {
    public let path: String
    /// Who decides what this root keeps: Strata's own commands and `gc`, or containerd.
    public let owner: Owner
    public let directory: Handle
    public let metadata: MetadataDB
    public let content: ContentStore
    /// `ROOT/lock`: every open state root holds it shared, `gc` exclusively, so a collection never
    /// sees another process's half-made ingest, snapshot or mount.
    let lock: Handle

    /// Opens the state root at `path`, creating it (mode 0700) and its parts as needed. A root
    /// marked as another owner's is refused: only that owner's opener may use it.
    public init(path: String, owner: Owner = .strata) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        self.path = path
        self.owner = owner
        directory = try Handle.openDirectory(path: path)
        try Self.claim(directory, path: path, for: owner)
        lock = try directory.open(Array("lock".utf8), flags: O_RDONLY | O_CREAT | O_NOFOLLOW, mode: 0o600)
        _ = try lock.lock(exclusive: false, wait: true)
        for name in ["content", "ingest"] {
            try directory.makeDirectoryIfMissing(Array(name.utf8), mode: 0o700)
        }
        // The layout itself is readable by other users' tools, like containerd's content root.
        try directory.changeMode(Array("content".utf8), 0o755)
        metadata = try MetadataDB(path: path + "/metadata.db")
        content = try ContentStore(
            layout: directory.openDirectory(Array("content".utf8)),
            ingests: directory.openDirectory(Array("ingest".utf8)), metadata: metadata, rootLock: lock)
    }

    public var leases: Leases { Leases(metadata) }

    /// Runs `body` under `lease`, or, when nil, under a temporary lease made for the call and
    /// removed after it, so that what the call writes stays safe from `gc` until something else
    /// holds it. Should the process die, `gc` ends the lease once no process has its pid (or a
    /// day later).
    public func withLease<R>(_ lease: String?, _ body: (String) throws -> R) throws -> R {
        if let lease { return try body(lease) }
        let temporary = try leases.create(
            labels: [Self.leasePID: String(getpid()), Self.leaseHost: Self.hostname], expiresIn: 86_400
        ).id
        defer { try? leases.remove(temporary) }
        return try body(temporary)
    }

    /// The snapshotter `name` (`overlay` or `native`); by default overlay where an overlay mount
    /// works here, native otherwise.
    public func snapshotter(_ name: String? = nil) throws -> LocalSnapshotter {
        if let name {
            return try LocalSnapshotter.open(name, root: directory, rootPath: path, metadata: metadata, rootLock: lock)
        }
        do {
            return try LocalSnapshotter.open(
                "overlay", root: directory, rootPath: path, metadata: metadata, rootLock: lock)
        } catch SnapshotError.unavailable {
            return try LocalSnapshotter.open(
                "native", root: directory, rootPath: path, metadata: metadata, rootLock: lock)
        }
    }

    /// The labels of a temporary lease naming the process it serves.
    static let leasePID = "strata.io/pid"
    static let leaseHost = "strata.io/hostname"

    static let hostname: String = {
        var buf = [UInt8](repeating: 0, count: 256)
        _ = buf.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { gethostname($0.baseAddress!, 255) }
        }
        return String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self)
    }()

    /// Runs `body` holding the root's lock exclusively (no other process has the root open
    /// meanwhile), waiting up to `wait` seconds for it; the shared hold is taken back after.
    public func exclusively<R>(wait: TimeInterval, _ body: () throws -> R) throws -> R {
        let deadline = Date().addingTimeInterval(wait)
        while try !lock.lock(exclusive: true, wait: false) {
            guard Date() < deadline else { throw StateRootError.busy(path, waited: wait) }
            usleep(50_000)
        }
        defer { _ = try? lock.lock(exclusive: false, wait: true) }
        return try body()
    }

    /// Whether `lease` is a temporary lease (`withLease`) whose process is gone from this host:
    /// a crash left it.
    public static func isOrphaned(_ lease: Lease) -> Bool {
        guard let pid = lease.labels[leasePID].flatMap(Int32.init), lease.labels[leaseHost] == hostname else {
            return false
        }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// `/var/lib/strata` for root; otherwise `$XDG_DATA_HOME/strata`, or `~/.local/share/strata`.
    public static var defaultPath: String {
        if Identity.effectiveUID == 0 { return "/var/lib/strata" }
        let env = ProcessInfo.processInfo.environment
        if let xdg = env["XDG_DATA_HOME"], xdg.hasPrefix("/") { return xdg + "/strata" }
        return (env["HOME"] ?? NSHomeDirectory()) + "/.local/share/strata"
    }
}

public enum StateRootError: Error, CustomStringConvertible {
    /// Another process held the root for longer than the wait.
    case busy(String, waited: TimeInterval)
    /// The root belongs to containerd (`strata serve`); Strata's commands only read it.
    case ownedByContainerd(String)
    /// The root is not the owner's that asked for it.
    case notOwnedBy(String, StateRoot.Owner)
    /// No `strata serve` has made the containerd partition of this root yet.
    case noContainerdPartition(String)

    public var description: String {
        switch self {
        case .busy(let path, let waited):
            return "state root \(path): still in use by another strata process after \(Int(waited)) s"
        case .ownedByContainerd(let path):
            return "state root \(path): belongs to containerd (strata serve); it can only be read, with --containerd"
        case .notOwnedBy(let path, let owner):
            return "state root \(path): is not \(owner.rawValue)'s"
        case .noContainerdPartition(let root):
            return "state root \(root): has no containerd partition (strata serve has not used it)"
        }
    }
}
