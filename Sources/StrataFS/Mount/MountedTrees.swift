#if canImport(Glibc)
    import Glibc
#endif

/// Trees given as mounts (containerd's vocabulary for a snapshot), opened as directories for the
/// length of a call: a single bind mount is its source directory, opened in place; anything else
/// is mounted in a fresh directory under `scratch` (root only, as containerd itself mounts) and
/// detached and removed on the way out, error or not.
public struct MountedTrees: Sendable {
    public let scratch: Handle
    public let scratchPath: String

    /// `scratch`, open, is the directory at `scratchPath`, where mounts are made.
    public init(scratch: Handle, scratchPath: String) {
        self.scratch = scratch
        self.scratchPath = scratchPath
    }

    /// Runs `body` on the tree `mounts` describe, read-only when asked (`ro` replaces `rw`).
    public func with<R>(_ mounts: [Mount], readOnly: Bool, _ body: (Handle) throws -> R) throws -> R {
        guard !mounts.isEmpty else { throw FSError("mount", path: "(no mounts given)", errno: .invalidArgument) }
        if mounts.count == 1, mounts[0].type == "bind" || mounts[0].options.contains(where: { $0.hasSuffix("bind") }) {
            return try body(Handle.openDirectory(path: mounts[0].source))
        }
        let name = "mount-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try scratch.makeDirectory(Array(name.utf8), mode: 0o700)
        defer { try? scratch.unlink(Array(name.utf8), directory: true) }
        let target = scratchPath + "/" + name
        try Mounter.mount(readOnly ? mounts.map { Self.readOnly($0) } : mounts, at: target)
        defer { try? Mounter.unmount(target, detach: true) }
        return try body(Handle.openDirectory(path: target))
    }

    /// `m`, read-only. A writable overlay becomes an overlay of its upper directory over its
    /// lowers, without `upperdir` and `workdir` (as containerd's read-only overlays): a second
    /// mount must never use the work directory of a mount a container still writes through.
    public static func readOnly(_ m: Mount) -> Mount {
        var m = m
        if m.type == "overlay", let upper = m.options.first(where: { $0.hasPrefix("upperdir=") }) {
            let lower =
                m.options.first { $0.hasPrefix("lowerdir=") }.map { ":" + $0.dropFirst("lowerdir=".count) } ?? ""
            m.options = m.options.filter {
                !$0.hasPrefix("upperdir=") && !$0.hasPrefix("workdir=") && !$0.hasPrefix("lowerdir=")
            }
            m.options.append("lowerdir=" + upper.dropFirst("upperdir=".count) + lower)
        }
        m.options = m.options.filter { $0 != "rw" } + (m.options.contains("ro") ? [] : ["ro"])
        return m
    }
}
