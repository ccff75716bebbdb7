import StrataFS
import StrataOverlay

#if canImport(Glibc)
    import Glibc
#endif

/// Applies a tar stream onto a root directory with containerd's applier semantics, and never
/// writes outside the root.
///
/// Guarantees: each name is cleaned lexically, its parent resolved inside the root (symlinks
/// followed but confined), and its last component never followed; hardlink targets resolve the
/// same way; whiteouts with names that escape their directory are refused. An existing entry is
/// replaced unless both it and the new entry are directories (then metadata merges). Owner is set
/// before mode (chown clears set-uid bits), then xattrs and nanosecond times; directory times are
/// set again at the end, after their contents stopped changing.
public final class TarApplier {
    let root: Handle
    let resolver: InRootResolver
    var options: ApplyOptions
    var createdEntries: Set<CreatedKey> = []
    private var directoryTimes: [(path: RootedPath, access: FileTime, modification: FileTime)] = []
    private var identities: [ObjectIdentifier: (handle: Handle, device: UInt64, inode: UInt64)] = [:]
    private var writeBehind: WriteBehind?
    public private(set) var entryCount = 0

    struct CreatedKey: Hashable {
        var device: UInt64
        var inode: UInt64
        var name: [UInt8]

        func hash(into h: inout Hasher) {
            h.combine(inode)
            name.withUnsafeBytes { h.combine(bytes: $0) }
        }
    }

    public init(root: Handle, options: ApplyOptions) {
        self.root = root
        self.resolver = InRootResolver(root: root)
        self.options = options
        if let lowers = options.overlayLowers {
            let copyUp = OverlayCopyUp(lowers: lowers, sameOwner: options.sameOwner)
            resolver.onCreateDirectory = { parent, name, resolved throws(FSError) in
                try copyUp.copy(name, in: parent, path: resolved)
            }
        }
    }

    /// Applies every entry of `reader`; returns the number of entries.
    @discardableResult
    public func apply(_ reader: TarReader) throws -> Int {
        if options.writers > 0 { writeBehind = WriteBehind(threads: options.writers) }
        defer {
            writeBehind?.stop()
            writeBehind = nil
        }
        while let h = try reader.next() {
            do {
                try apply(h, reader)
            } catch let e as EntryError {
                throw e
            } catch {
                throw EntryError(entry: h.nameString, reason: "\(error)")
            }
            entryCount += 1
            options.onEntry?(entryCount, reader.offset)
        }
        try writeBehind?.drain()
        for d in directoryTimes {
            guard let base = d.path.base, let parent = try resolver.directory(d.path.parent, create: false),
                try parent.statIfExists(base)?.type == .directory
            else { continue }
            try parent.setTimes(base, access: d.access, modification: d.modification)
        }
        return entryCount
    }

    private func apply(_ h: TarHeader, _ reader: TarReader) throws {
        let path = try RootedPath(cleaning: h.name)
        guard let base = path.base else { return }  // the root itself: nothing to do
        let meaning = try Whiteout.meaning(of: base)
        guard let parent = try resolver.directory(path.parent, create: true) else { return }
        switch meaning {
        case .opaque:
            try makeOpaque(parent)
            return
        case .remove(let target):
            try parent.removeAll(target)
            resolver.invalidate()
            if options.overlayLowers != nil {
                var owner: (uid: UInt32, gid: UInt32)?
                if options.sameOwner { owner = (try id(h.uid, h), try id(h.gid, h)) }
                try OverlayUpper.writeWhiteout(target, in: parent, owner: owner)
            }
            return
        case .none:
            break
        }
        guard let kind = h.kind else {
            throw EntryError(entry: h.nameString, reason: "unsupported tar entry type \(h.typeflag)")
        }
        let isDir = kind == .directory
        var file: Handle?
        do {
            file = try create(h, kind, parent, base, reader)
        } catch let e as FSError where e.errno == .fileExists {
            let existing = try parent.stat(base)
            if existing.type == .directory && isDir {
                try mergeDirectory(h, parent, base)
            } else {
                try parent.removeAll(base)
                if existing.type == .directory || existing.type == .symlink { resolver.invalidate() }
                file = try create(h, kind, parent, base, reader)
            }
        }
        if let file, let writeBehind, h.sparseMap == nil, h.xattrs.isEmpty {
            try handOver(file, h, reader, to: writeBehind)
        } else {
            if let file { try writeContent(file, h, reader) }
            try setMetadata(h, kind, parent, base, file)
        }
        let (device, inode) = try identity(of: parent)
        createdEntries.insert(CreatedKey(device: device, inode: inode, name: base))
        if isDir {
            directoryTimes.append((path, accessTime(h), Self.bounded(h.modificationTime)))
        }
    }

    /// Creates the entry exclusively; `EEXIST` tells the caller an entry is in the way.
    private func create(_ h: TarHeader, _ kind: TarHeader.Kind, _ parent: Handle, _ base: [UInt8], _ reader: TarReader)
        throws -> Handle?
    {
        switch kind {
        case .directory:
            try parent.makeDirectory(base, mode: UInt32(h.mode & 0o7777))
        case .regular, .contiguous:
            return try parent.open(base, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        case .symlink:
            try parent.makeSymlink(base, target: h.linkname)
            resolver.invalidate()
        case .hardLink:
            let target = try RootedPath(cleaning: h.linkname)
            guard let targetBase = target.base, let targetDir = try resolver.directory(target.parent, create: false)
            else {
                throw EntryError(
                    entry: h.nameString,
                    reason: "hardlink target \(PathName.display(h.linkname)) does not exist in the root")
            }
            try writeBehind?.drain()  // the target may be a file still being written
            try parent.makeHardLink(base, to: targetBase, in: targetDir)
        case .characterDevice, .blockDevice, .fifo:
            guard (0...Int64(UInt32.max)).contains(h.devMajor), (0...Int64(UInt32.max)).contains(h.devMinor) else {
                throw EntryError(
                    entry: h.nameString, reason: "device number \(h.devMajor),\(h.devMinor) is out of range")
            }
            let type: FileType = kind == .fifo ? .fifo : kind == .blockDevice ? .blockDevice : .characterDevice
            try parent.makeNode(
                base, mode: type.rawValue | UInt32(h.mode & 0o7777), major: UInt32(h.devMajor),
                minor: UInt32(h.devMinor))
        default:
            throw EntryError(
                entry: h.nameString, reason: "unsupported tar entry type \(Character(UnicodeScalar(h.typeflag)))")
        }
        return nil
    }

    /// A directory entry over an existing directory: metadata merges; with `--xattrs all` the
    /// header's xattrs replace the old ones.
    private func mergeDirectory(_ h: TarHeader, _ parent: Handle, _ base: [UInt8]) throws {
        guard options.xattrs == .all else { return }
        let keep = Set(h.xattrs.map(\.name))
        for key in try parent.xattrNames(base)
        where !keep.contains(key) && XattrPolicy.all.includes(key) && !key.hasPrefix("trusted.") {
            try parent.removeXattr(base, key: key)
        }
    }

    /// The device and inode of a directory handle, asked of the kernel once per handle.
    private func identity(of dir: Handle) throws -> (UInt64, UInt64) {
        let key = ObjectIdentifier(dir)
        if let known = identities[key] { return (known.device, known.inode) }
        let meta = try dir.stat()
        if identities.count > 4096 { identities.removeAll(keepingCapacity: true) }
        identities[key] = (dir, meta.device, meta.inode)  // holding the handle keeps its identifier unique
        return (meta.device, meta.inode)
    }

    /// An owner id from a header. -1 and 4294967295 (`(uid_t)-1`) leave the id as it is, as
    /// chown(2) and containerd's `Lchown` do; other ids outside 0...4294967294 are refused (Go
    /// would pass them cut to 32 bits, another owner than the layer names).
    private func id(_ v: Int64, _ h: TarHeader) throws -> UInt32 {
        if v == -1 { return UInt32.max }
        guard let u = UInt32(exactly: v) else {
            throw EntryError(entry: h.nameString, reason: "owner id \(v) is out of range")
        }
        return u
    }

    private func setMetadata(_ h: TarHeader, _ kind: TarHeader.Kind, _ parent: Handle, _ base: [UInt8], _ file: Handle?)
        throws
    {
        if options.sameOwner {
            let uid = try id(h.uid, h)
            let gid = try id(h.gid, h)
            if let file {
                try file.changeOwner(uid: uid, gid: gid)
            } else {
                try parent.changeOwner(base, uid: uid, gid: gid)
            }
        }
        for x in h.xattrs {
            if x.name.hasPrefix("trusted.") {
                options.onWarning?(
                    "entry \(h.nameString): ignored xattr \(x.name) (trusted.* is not taken from layers)")
                continue
            }
            guard
                let failure = attempt({ () throws(FSError) in try parent.setXattr(base, key: x.name, value: x.value) })
            else { continue }
            if failure.errno == .notSupported {
                options.onWarning?("entry \(h.nameString): xattr \(x.name) not supported here, skipped")
            } else if failure.errno == .notPermitted && x.name.hasPrefix("user.") && kind != .regular
                && kind != .directory
            {
                options.onWarning?(
                    "entry \(h.nameString): user xattr \(x.name) not permitted on this file type, skipped")
            } else {
                throw failure
            }
        }
        let mode = UInt32(h.mode & 0o7777)
        if let file {
            try file.changeMode(mode)
        } else if kind == .hardLink {
            // A hardlink may name a symlink; chmod would follow it.
            if try parent.stat(base).type != .symlink { try parent.changeMode(base, mode) }
        } else if kind != .symlink {
            try parent.changeMode(base, mode)
        }
        if kind != .directory {
            if let file {
                try file.setTimes(access: accessTime(h), modification: Self.bounded(h.modificationTime))
            } else {
                try parent.setTimes(base, access: accessTime(h), modification: Self.bounded(h.modificationTime))
            }
        }
    }

    /// A plain regular file's data and metadata go to the write-behind threads, in the order
    /// `setMetadata` would set them.
    private func handOver(_ file: Handle, _ h: TarHeader, _ reader: TarReader, to writeBehind: WriteBehind) throws {
        let pending = try writeBehind.adopt(file, name: h.name)
        while let slice = try reader.nextData(max: 1 << 20) { try writeBehind.write(pending, slice) }
        let owner = options.sameOwner ? (uid: try id(h.uid, h), gid: try id(h.gid, h)) : nil
        try writeBehind.finish(
            pending,
            .init(
                owner: owner, mode: UInt32(h.mode & 0o7777), access: accessTime(h),
                modification: Self.bounded(h.modificationTime)))
    }

    private func accessTime(_ h: TarHeader) -> FileTime {
        Self.bounded(max(h.accessTime ?? h.modificationTime, h.modificationTime))
    }

    /// Runs `body` and returns its error instead of throwing it.
    func attempt(_ body: () throws(FSError) -> Void) -> FSError? {
        do { try body() } catch { return error }
        return nil
    }

    /// Times before 1970 become 1970, as containerd bounds them.
    static func bounded(_ t: FileTime) -> FileTime { t.seconds < 0 ? .epoch : t }
}
