import Foundation
import StrataArchive
import StrataFS
import StrataLayers
import StrataStreams
import Testing

/// A temporary "host" with an apply target `root` buried inside it.
///
/// Layout (`N` = `depth`):
///
///     sandbox/etc/passwd  sandbox/tmp/keep  sandbox/perm400 (0400)  sandbox/also-exists-outside-root
///     sandbox/l1/etc/passwd  sandbox/l1/tmp/keep
///     …
///     sandbox/l1/…/lN/etc/passwd  sandbox/l1/…/lN/tmp/keep
///     sandbox/l1/…/lN/root/etc/passwd  "all users"     ← the apply target
///
/// Every level above `root` holds an `etc/passwd` and a `tmp/` decoy, so a relative escape of up
/// to N+1 levels lands on sandbox content (and shows in the snapshot) instead of on the real
/// `/etc` of the machine running the tests.
public final class Sandbox {
    public static let depth = 8
    public static let hostPasswd = "host users"

    public let temp: TempDirectory
    public let host: TreeBuilder
    /// `root`'s path relative to the sandbox (what the host snapshot excludes).
    public let rootRelative: String
    public let rootPath: String
    public let root: Handle
    public let inRoot: TreeBuilder
    private var before: DirectorySnapshot?

    public init(_ label: String) throws {
        temp = TempDirectory("sec-" + String(label.unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }))
        host = TreeBuilder(root: try Handle.openDirectory(path: temp.path))
        var level = ""
        for i in 0...Self.depth {
            try host.directory(level + "etc")
            try host.file(level + "etc/passwd", "\(Self.hostPasswd) \(i)")
            try host.directory(level + "tmp")
            try host.file(level + "tmp/keep", "host tmp \(i)")
            if i < Self.depth {
                level += "l\(i + 1)/"
                try host.directory(level)
            }
        }
        try host.file("perm400", "host secret", mode: 0o400)
        try host.file("also-exists-outside-root", "host file", mode: 0o640)
        rootRelative = level + "root"
        try host.directory(rootRelative)
        rootPath = temp.at(rootRelative)
        root = try Handle.openDirectory(path: rootPath)
        inRoot = TreeBuilder(root: root)
        try inRoot.directory("etc")
        try inRoot.file("etc/passwd", "all users")
    }

    /// The sandbox's absolute path (stands in for a host path such as `/tmp`).
    public var hostPath: String { temp.path }

    // MARK: Host snapshot

    public func hostSnapshot() throws -> DirectorySnapshot {
        try DirectorySnapshot.take(temp.path, excluding: rootRelative)
    }

    /// Records the host; call after preparing, before applying.
    public func recordHost() throws { before = try hostSnapshot() }

    /// Expects every entry outside `root` to be exactly as recorded.
    public func expectHostUnchanged(sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let before else {
            Issue.record("host was never recorded", sourceLocation: sourceLocation)
            return
        }
        let after = try hostSnapshot()
        guard after != before else { return }
        var diffs: [String] = []
        for key in Set(before.entries.keys).union(after.entries.keys).sorted()
        where before.entries[key] != after.entries[key] {
            diffs.append("\(key): \(before.entries[key] ?? "absent") => \(after.entries[key] ?? "absent")")
        }
        Issue.record("outside root changed:\n\(diffs.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    // MARK: Applying

    /// Records the host (unless already recorded) and applies `entries` as a layer onto root.
    @discardableResult
    public func apply(_ entries: [Entry], options: ApplyOptions = ApplyOptions()) throws -> ApplyResult {
        if before == nil { try recordHost() }
        let bytes = try Layer.tar(entries)
        return try Applier(options: options, expectedDiffID: nil).apply(MemorySource(bytes), to: root)
    }

    /// Applies raw layer bytes (made by `RawTar`) onto root, recording the host first.
    @discardableResult
    public func apply(bytes: [UInt8], options: ApplyOptions = ApplyOptions()) throws -> ApplyResult {
        if before == nil { try recordHost() }
        return try Applier(options: options, expectedDiffID: nil).apply(MemorySource(bytes), to: root)
    }

    // MARK: Looking inside root (independently of Strata's resolver)

    /// containerd's `fs.RootPath`, written independently of Strata for the assertions: resolves
    /// every component of `path` (the last one too) inside root as if root were `/`. Absolute
    /// link targets restart at root, `..` stops at root, missing components are plain names.
    public func resolve(_ path: String) throws -> String {
        var stack: [String] = []
        var queue = path.split(separator: "/").map(String.init)
        var links = 0
        while !queue.isEmpty {
            let c = queue.removeFirst()
            if c == "." { continue }
            if c == ".." {
                _ = stack.popLast()
                continue
            }
            let candidate = rootPath + "/" + (stack + [c]).joined(separator: "/")
            var st = stat()
            guard lstat(candidate, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else {
                stack.append(c)
                continue
            }
            links += 1
            guard links <= 255 else { throw FSError("resolve", path: candidate, errno: .tooManySymbolicLinkLevels) }
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: candidate)
            if target.hasPrefix("/") { stack.removeAll() }
            queue.insert(contentsOf: target.split(separator: "/").map(String.init), at: 0)
        }
        return stack.isEmpty ? rootPath : rootPath + "/" + stack.joined(separator: "/")
    }

    /// lstat of the entry at `path` after resolution inside root; nil when missing.
    public func metadata(_ path: String) throws -> FileMetadata? {
        try metadata(resolvedPath: try resolve(path))
    }

    /// lstat of the entry at `path` inside root, resolving only its parent (the entry itself
    /// may be a symlink).
    public func entry(_ path: String) throws -> FileMetadata? {
        var parts = path.split(separator: "/").map(String.init)
        guard let last = parts.popLast() else { return try root.stat() }
        return try metadata(resolvedPath: try resolve(parts.joined(separator: "/")) + "/" + last)
    }

    private func metadata(resolvedPath p: String) throws -> FileMetadata? {
        let slash = p.lastIndex(of: "/")!
        guard let dir = try? Handle.openDirectory(path: String(p[..<slash])) else { return nil }
        return try dir.statIfExists(Array(p[p.index(after: slash)...].utf8))
    }

    /// The contents of the regular file at `path` (resolved inside root); nil when missing.
    public func contents(_ path: String) throws -> [UInt8]? {
        guard let m = try metadata(path), m.type == .regular else { return nil }
        return Array(try Data(contentsOf: URL(fileURLWithPath: try resolve(path))))
    }

    public func text(_ path: String) throws -> String? {
        try contents(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The target of the symlink at `path` (parent resolved inside root).
    public func linkTarget(_ path: String) throws -> String? {
        guard try entry(path)?.type == .symlink else { return nil }
        var parts = path.split(separator: "/").map(String.init)
        let last = parts.popLast()!
        return try FileManager.default.destinationOfSymbolicLink(
            atPath: try resolve(parts.joined(separator: "/")) + "/" + last)
    }

    /// Whether two paths (resolved inside root) are the same inode.
    public func sameFile(_ a: String, _ b: String) throws -> Bool {
        guard let ma = try metadata(a), let mb = try metadata(b) else { return false }
        return ma.device == mb.device && ma.inode == mb.inode
    }
}
