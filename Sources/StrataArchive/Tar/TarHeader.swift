import StrataFS

/// One tar entry's header, after PAX and GNU extensions have been folded in.
public struct TarHeader: Sendable {
    /// Entry types Strata reads and writes (the `typeflag` byte).
    public enum Kind: UInt8, Sendable {
        case regular = 0x30  // '0'
        case hardLink = 0x31  // '1'
        case symlink = 0x32  // '2'
        case characterDevice = 0x33  // '3'
        case blockDevice = 0x34  // '4'
        case directory = 0x35  // '5'
        case fifo = 0x36  // '6'
        case contiguous = 0x37  // '7', read as regular
        case paxExtended = 0x78  // 'x'
        case paxGlobal = 0x67  // 'g'
        case gnuLongName = 0x4C  // 'L'
        case gnuLongLink = 0x4B  // 'K'
        case gnuSparse = 0x53  // 'S'
    }

    public var name: [UInt8]
    public var typeflag: UInt8
    /// Permission bits with set-uid, set-gid and sticky.
    public var mode: Int64
    public var uid: Int64
    public var gid: Int64
    /// Bytes of data stored in the archive for this entry.
    public var size: Int64
    public var modificationTime: FileTime
    public var accessTime: FileTime?
    public var linkname: [UInt8]
    public var uname: [UInt8] = []
    public var gname: [UInt8] = []
    public var devMajor: Int64
    public var devMinor: Int64
    /// Extra PAX records in the order to write (writer) or as read (reader), e.g. `SCHILY.xattr.*`.
    public var paxRecords: [(key: String, value: [UInt8])]
    /// For sparse entries: where each stored chunk goes, and the file's real size.
    public var sparseMap: [(offset: Int64, length: Int64)]?
    public var sparseRealSize: Int64?

    public init(
        name: [UInt8], typeflag: UInt8, mode: Int64 = 0, uid: Int64 = 0, gid: Int64 = 0, size: Int64 = 0,
        modificationTime: FileTime = .epoch, linkname: [UInt8] = [], devMajor: Int64 = 0, devMinor: Int64 = 0,
        paxRecords: [(key: String, value: [UInt8])] = []
    ) {
        self.name = name
        self.typeflag = typeflag
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.modificationTime = modificationTime
        self.linkname = linkname
        self.devMajor = devMajor
        self.devMinor = devMinor
        self.paxRecords = paxRecords
    }

    public var kind: Kind? { Kind(rawValue: typeflag) }
    public var nameString: String { PathName.display(name) }

    /// The size of the file once unpacked (differs from `size` for sparse entries).
    public var fileSize: Int64 { sparseRealSize ?? size }

    /// The xattrs carried as `SCHILY.xattr.NAME` records.
    public var xattrs: [(name: String, value: [UInt8])] {
        paxRecords.compactMap { r in
            r.key.hasPrefix(Self.xattrPrefix) ? (String(r.key.dropFirst(Self.xattrPrefix.count)), r.value) : nil
        }
    }

    public static let xattrPrefix = "SCHILY.xattr."
}

/// Errors reading or writing tar streams; each names the entry concerned when there is one.
public enum TarError: Error, CustomStringConvertible {
    case truncated(entry: String?)
    case badChecksum(offset: Int64, entry: String)
    case invalidHeader(offset: Int64, String)
    case invalidPAX(entry: String, String)
    case fieldTooLong(entry: String, String)
    case shortFile(entry: String, expected: Int64, got: Int64)

    public var description: String {
        switch self {
        case .truncated(let e?): return "tar stream ends inside entry \(e)"
        case .truncated(nil): return "tar stream ends inside a header (truncated archive)"
        case .badChecksum(let o, let e):
            return
                "tar header at byte \(o) (entry \(e), as its damaged header says) has a bad checksum (corrupt archive)"
        case .invalidHeader(let o, let why): return "invalid tar header at byte \(o): \(why)"
        case .invalidPAX(let e, let why): return "invalid PAX header for entry \(e): \(why)"
        case .fieldTooLong(let e, let why): return "cannot write entry \(e): \(why)"
        case .shortFile(let e, let x, let g):
            return "file \(e) changed while it was read: expected \(x) bytes, got \(g)"
        }
    }
}
