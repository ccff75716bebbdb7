#if canImport(Glibc)
    import Glibc
#endif

/// Copies the contents of one directory into another, as containerd's `fs.CopyDir` does for the
/// native snapshotter: every file type, hardlinks kept as hardlinks, owners, modes, xattrs (all of
/// them, `trusted.*` too when permitted) and nanosecond times; regular files by reflink where the
/// filesystem can share extents. Descriptor-relative throughout; symlinks are copied, never followed.
public struct TreeCopy {
    /// How many regular files were reflinked and how many copied.
    public private(set) var reflinked = 0
    public private(set) var copied = 0
    private var links: [InodeKey: (directory: Handle, name: [UInt8])] = [:]

    struct InodeKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    public init() {}

    /// Copies everything in `source` into the existing directory `destination`, and `source`'s own
    /// owner, mode, xattrs and times onto it.
    public mutating func copy(from source: Handle, to destination: Handle) throws(FSError) {
        try copyEntries(source, destination)
        try Self.copyMetadata(from: source.stat(), of: nil, in: source, to: nil, in: destination)
    }

    private mutating func copyEntries(_ src: Handle, _ dst: Handle) throws(FSError) {
        for name in try src.sortedNames() {
            let meta = try src.stat(name)
            if meta.isHardLinked, let first = links[InodeKey(device: meta.device, inode: meta.inode)] {
                try dst.makeHardLink(name, to: first.name, in: first.directory)
                continue
            }
            switch meta.type {
            case .directory:
                try dst.makeDirectory(name, mode: 0o700)
                try copyEntries(src.openDirectory(name), dst.openDirectory(name))
            case .regular:
                let from = try src.open(name, flags: O_RDONLY | O_NOFOLLOW)
                let to = try dst.open(name, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
                if try to.copyData(from: from) == .reflink { reflinked += 1 } else { copied += 1 }
            case .symlink:
                try dst.makeSymlink(name, target: src.readLink(name))
            default:
                try dst.makeNode(name, mode: meta.mode, major: meta.rdevMajor, minor: meta.rdevMinor)
            }
            try Self.copyMetadata(from: meta, of: name, in: src, to: name, in: dst)
            if meta.isHardLinked { links[InodeKey(device: meta.device, inode: meta.inode)] = (dst, name) }
        }
    }

    /// Owner, then xattrs (but those `skipping` names), mode and times (chown clears set-id bits
    /// and capabilities, so it goes first). `nil` names mean the directories themselves.
    public static func copyMetadata(
        from meta: FileMetadata, of name: [UInt8]?, in src: Handle, to target: [UInt8]?, in dst: Handle,
        skipping: (String) -> Bool = { _ in false }
    ) throws(FSError) {
        let here = name ?? Array(".".utf8)
        let there = target ?? Array(".".utf8)
        try dst.changeOwner(there, uid: meta.uid, gid: meta.gid)
        for key in try src.xattrNames(here) where !skipping(key) {
            guard let value = try src.xattr(here, key: key) else { continue }
            do {
                try dst.setXattr(there, key: key, value: value)
            } catch  where [.notSupported, .notPermitted].contains(error.errno) {
                // containerd logs and goes on: some filesystems or callers cannot set every namespace.
            }
        }
        if meta.type != .symlink { try dst.changeMode(there, meta.permissions) }
        try dst.setTimes(there, access: meta.accessTime, modification: meta.modificationTime)
    }
}
