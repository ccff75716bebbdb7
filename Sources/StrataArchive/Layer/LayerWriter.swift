import StrataChanges
import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// Options for turning a change stream into tar entries.
public struct LayerWriterOptions: Sendable {
    /// Times later than this are clamped to it (`SOURCE_DATE_EPOCH`); whiteouts always use 1970.
    public var sourceDateEpoch: FileTime?
    /// Keep nanosecond mtimes in PAX records instead of truncating to whole seconds as containerd.
    public var nanosecondTimes: Bool
    /// The xattrs that implicitly written parent directories carry (the change stream's policy).
    public var xattrPolicy: XattrPolicy

    public init(sourceDateEpoch: FileTime? = nil, nanosecondTimes: Bool = false, xattrPolicy: XattrPolicy = .capability)
    {
        self.sourceDateEpoch = sourceDateEpoch
        self.nanosecondTimes = nanosecondTimes
        self.xattrPolicy = xattrPolicy
    }
}

/// Writes the change stream as an OCI layer tar, with containerd's rules: deletions become
/// whiteouts (empty regular files, mode 0, owner 0, time 1970), opaque directories
/// `.wh..wh..opq` markers alike, missing parent directories are
/// written before their children with the upper tree's metadata, the first changed name of a
/// hardlink group carries the data and every other name of the group becomes a link to it,
/// sockets are skipped, and user and group names are left empty.
public struct LayerWriter: ChangeSink {
    let tar: TarWriter
    let upper: InRootResolver
    let options: LayerWriterOptions
    private var addedDirs: Set<[UInt8]> = []
    private var linkSources: [LinkKey: [UInt8]] = [:]
    private var pendingLinks: [LinkKey: [[UInt8]]] = [:]
    /// Entries written so far.
    public private(set) var entries = 0
    /// Called after each entry with the entry count and the tar bytes written; what it throws
    /// stops the walk.
    public var onProgress: ((Int, Int64) throws -> Void)?

    struct LinkKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    public init(tar: TarWriter, upperRoot: Handle, options: LayerWriterOptions) {
        self.tar = tar
        self.upper = InRootResolver(root: upperRoot)
        self.options = options
    }

    public mutating func handle(_ change: Change) throws -> WalkDecision {
        let name = Array(change.path.drop { $0 == PathName.slash })
        if change.kind == .delete || change.kind == .opaque {
            var wh = change.kind == .opaque ? name : Self.parent(of: name)
            if !wh.isEmpty { wh.append(PathName.slash) }
            wh.append(
                contentsOf: change.kind == .opaque
                    ? Whiteout.opaqueMarker : Whiteout.name(deleting: Self.base(of: name)))
            try includeParents(wh)
            try tar.writeHeader(TarHeader(name: wh, typeflag: TarHeader.Kind.regular.rawValue))
            entries += 1
        } else {
            try write(change, name: name)
        }
        try onProgress?(entries, tar.offset)
        return .proceed
    }

    /// Ends the archive.
    public func finish() throws { try tar.close() }

    private mutating func write(_ c: Change, name: [UInt8]) throws {
        let m = c.metadata
        guard let typeflag = Self.typeflag(m.type) else { return }  // sockets are not carried
        var h = TarHeader(
            name: m.type == .directory ? name + [PathName.slash] : name, typeflag: typeflag,
            mode: Int64(m.permissions), uid: Int64(m.uid), gid: Int64(m.gid),
            size: m.type == .regular ? Int64(m.size) : 0, modificationTime: time(m.modificationTime),
            linkname: c.linkTarget ?? [])
        if m.type == .characterDevice || m.type == .blockDevice {
            h.devMajor = Int64(m.rdevMajor)
            h.devMinor = Int64(m.rdevMinor)
        }
        h.paxRecords = c.xattrs.entries.map { (TarHeader.xattrPrefix + $0.name, $0.value) }
        var extraLinks: [[UInt8]] = []
        if m.isHardLinked {
            let key = LinkKey(device: m.device, inode: m.inode)
            if let source = linkSources[key] {
                h.typeflag = TarHeader.Kind.hardLink.rawValue
                h.linkname = source
                h.size = 0
            } else if c.kind == .unmodified {
                pendingLinks[key, default: []].append(name)
                return
            } else {
                linkSources[key] = name
                extraLinks = pendingLinks.removeValue(forKey: key) ?? []
            }
        } else if c.kind == .unmodified {
            return
        }
        try includeParents(h.name)
        try tar.writeHeader(h, allowNanoseconds: options.nanosecondTimes)
        entries += 1
        if h.typeflag == TarHeader.Kind.directory.rawValue { addedDirs.insert(name) }
        if h.typeflag == TarHeader.Kind.regular.rawValue && h.size > 0, let dir = c.directory {
            let file = try dir.open(c.name, flags: O_RDONLY | O_NOFOLLOW)
            try tar.writeData(from: file)
        }
        for extra in extraLinks {
            var link = h
            link.name = extra
            link.typeflag = TarHeader.Kind.hardLink.rawValue
            link.linkname = name
            link.size = 0
            try includeParents(extra)
            try tar.writeHeader(link, allowNanoseconds: options.nanosecondTimes)
            entries += 1
        }
    }

    /// Writes the entries of ancestor directories not yet in the archive, top down.
    private mutating func includeParents(_ entryName: [UInt8]) throws {
        var trimmed = entryName
        while trimmed.last == PathName.slash { trimmed.removeLast() }
        let parent = Self.parent(of: trimmed)
        guard !trimmed.isEmpty, !parent.isEmpty, !addedDirs.contains(parent) else { return }
        addedDirs.insert(parent)
        let path = try RootedPath(cleaning: parent)
        guard let base = path.base, let dir = try upper.directory(path.parent, create: false) else { return }
        let meta = try dir.stat(base)
        let change = Change(
            kind: .modify, path: [PathName.slash] + parent, metadata: meta,
            xattrs: try dir.xattrs(base, policy: options.xattrPolicy), directory: dir, name: base)
        try write(change, name: parent)
    }

    private func time(_ t: FileTime) -> FileTime {
        var t = t
        if let bound = options.sourceDateEpoch, t > bound { t = bound }
        return options.nanosecondTimes ? t : t.truncatedToSeconds
    }

    static func typeflag(_ t: FileType) -> UInt8? {
        switch t {
        case .regular: return TarHeader.Kind.regular.rawValue
        case .directory: return TarHeader.Kind.directory.rawValue
        case .symlink: return TarHeader.Kind.symlink.rawValue
        case .characterDevice: return TarHeader.Kind.characterDevice.rawValue
        case .blockDevice: return TarHeader.Kind.blockDevice.rawValue
        case .fifo: return TarHeader.Kind.fifo.rawValue
        case .socket: return nil
        }
    }

    static func parent(of name: [UInt8]) -> [UInt8] {
        guard let i = name.lastIndex(of: PathName.slash) else { return [] }
        return Array(name[..<i])
    }

    static func base(of name: [UInt8]) -> [UInt8] {
        guard let i = name.lastIndex(of: PathName.slash) else { return name }
        return Array(name[(i + 1)...])
    }
}
