import StrataArchive
import StrataChanges
import StrataCompression
import StrataFS
import StrataLayers
import StrataStreams

/// Collects change events as `docker diff` lines (`A /path`), unmodified ones as `U /path`.
public struct Collector: ChangeSink {
    public var lines: [String] = []
    public init() {}
    public mutating func handle(_ c: Change) throws -> WalkDecision {
        lines.append("\(c.kind.letter) \(c.pathString)")
        return .proceed
    }
}

/// Changes from `lower` to `upper` as lines, without the unmodified ones.
public func changes(_ t: TempDirectory, policy: XattrPolicy = .capability) throws -> [String] {
    var c = Collector()
    try TreeComparer(xattrPolicy: policy).compare(lower: t.handle("lower"), upper: t.handle("upper"), into: &c)
    return c.lines.filter { !$0.hasPrefix("U ") }
}

/// One tar entry as the layer-writer tests check it.
public struct ListedEntry: Equatable, CustomStringConvertible {
    public var name: String
    public var type: Character
    public var mode: Int64
    public var link: String = ""
    public var mtime: Int64 = -1

    public init(name: String, type: Character, mode: Int64, link: String = "", mtime: Int64 = -1) {
        self.name = name
        self.type = type
        self.mode = mode
        self.link = link
        self.mtime = mtime
    }

    public var description: String { "\(name) \(type) \(String(mode, radix: 8)) \(link)" }
}

/// The entries of an uncompressed tar.
public func listEntries(_ tar: [UInt8]) throws -> [ListedEntry] {
    let r = TarReader(MemorySource(tar))
    var out: [ListedEntry] = []
    while let h = try r.next() {
        out.append(
            ListedEntry(
                name: h.nameString, type: Character(UnicodeScalar(h.typeflag)), mode: h.mode,
                link: PathName.display(h.linkname), mtime: h.modificationTime.seconds))
    }
    return out
}

/// The uncompressed layer from `lower` to `upper` in `t`.
public func layer(_ t: TempDirectory, options: DiffOptions = DiffOptions(compression: .none)) throws -> [UInt8] {
    let sink = MemorySink()
    _ = try Differ(options: options).write(lower: t.handle("lower"), upper: t.handle("upper"), to: sink)
    return sink.bytes
}

/// A fixed time for trees that must match across builds.
public let fixedTime = FileTime(seconds: 1_600_000_000, nanoseconds: 0)

/// Builds the same tree into `lower` and `upper`, then lets `change` edit `upper`.
public func pair(_ label: String, base: (TreeBuilder) throws -> Void, change: (TreeBuilder) throws -> Void) throws
    -> TempDirectory
{
    let t = TempDirectory(label)
    for side in ["lower", "upper"] {
        let b = try TreeBuilder(creating: t.at(side))
        try base(b)
        try b.setAllTimes(fixedTime)
    }
    try change(TreeBuilder(root: t.handle("upper")))
    return t
}
