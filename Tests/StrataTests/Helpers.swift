import StrataArchive
import StrataChanges
import StrataFS
import StrataLayers
import StrataStreams
import StrataTestSupport

/// Collects change events as `docker diff` lines (`A /path`), unmodified ones as `U /path`.
struct Collector: ChangeSink {
    var lines: [String] = []
    mutating func handle(_ c: Change) throws -> WalkDecision {
        lines.append("\(c.kind.letter) \(c.pathString)")
        return .proceed
    }
}

/// Changes from `lower` to `upper` as lines, without the unmodified ones.
func changes(_ t: TempDirectory, policy: XattrPolicy = .capability) throws -> [String] {
    var c = Collector()
    try TreeComparer(xattrPolicy: policy).compare(lower: t.handle("lower"), upper: t.handle("upper"), into: &c)
    return c.lines.filter { !$0.hasPrefix("U ") }
}

/// One tar entry as the layer-writer tests check it.
struct Entry: Equatable, CustomStringConvertible {
    var name: String
    var type: Character
    var mode: Int64
    var link: String = ""
    var mtime: Int64 = -1

    var description: String { "\(name) \(type) \(String(mode, radix: 8)) \(link)" }
}

/// The entries of an uncompressed tar.
func entries(_ tar: [UInt8]) throws -> [Entry] {
    let r = TarReader(MemorySource(tar))
    var out: [Entry] = []
    while let h = try r.next() {
        out.append(
            Entry(
                name: h.nameString, type: Character(UnicodeScalar(h.typeflag)), mode: h.mode,
                link: PathName.display(h.linkname), mtime: h.modificationTime.seconds))
    }
    return out
}

/// The uncompressed layer from `lower` to `upper` in `t`.
func layer(_ t: TempDirectory, options: DiffOptions = DiffOptions(compression: .none)) throws -> [UInt8] {
    let sink = MemorySink()
    _ = try Differ(options: options).write(lower: t.handle("lower"), upper: t.handle("upper"), to: sink)
    return sink.bytes
}

/// A fixed time for trees that must match across builds.
let fixedTime = FileTime(seconds: 1_600_000_000, nanoseconds: 0)

/// Builds the same tree into `lower` and `upper`, then lets `change` edit `upper`.
func pair(_ label: String, base: (TreeBuilder) throws -> Void, change: (TreeBuilder) throws -> Void) throws
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
