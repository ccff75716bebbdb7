import StrataArchive
import StrataCompression
import StrataFS
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// One entry of a hand-made, possibly hostile, layer. Names and link targets are stored verbatim
/// (no cleaning), so `../../x`, `/etc/x`, `..` and the empty name reach the applier as written.
public struct Entry: Sendable {
    public var name: [UInt8]
    public var kind: TarHeader.Kind
    public var content: [UInt8] = []
    public var linkname: [UInt8] = []
    public var mode: Int64
    public var devMajor: Int64 = 0
    public var devMinor: Int64 = 0
    public var xattrs: [(key: String, value: [UInt8])] = []

    public static func file(_ name: String, _ content: String = "", mode: Int64 = 0o644) -> Entry {
        Entry(name: Array(name.utf8), kind: .regular, content: Array(content.utf8), mode: mode)
    }

    public static func file(_ name: String, bytes: [UInt8], mode: Int64 = 0o644) -> Entry {
        Entry(name: Array(name.utf8), kind: .regular, content: bytes, mode: mode)
    }

    public static func dir(_ name: String, mode: Int64 = 0o755) -> Entry {
        Entry(name: Array(name.utf8), kind: .directory, mode: mode)
    }

    public static func symlink(_ name: String, _ target: String) -> Entry {
        Entry(name: Array(name.utf8), kind: .symlink, linkname: Array(target.utf8), mode: 0o777)
    }

    /// A hard link `name` to the archive path `target`.
    public static func link(_ name: String, _ target: String, mode: Int64 = 0o644) -> Entry {
        Entry(name: Array(name.utf8), kind: .hardLink, linkname: Array(target.utf8), mode: mode)
    }

    public static func fifo(_ name: String, mode: Int64 = 0o644) -> Entry {
        Entry(name: Array(name.utf8), kind: .fifo, mode: mode)
    }

    public static func charDevice(_ name: String, major: Int64, minor: Int64, mode: Int64 = 0o666) -> Entry {
        Entry(name: Array(name.utf8), kind: .characterDevice, mode: mode, devMajor: major, devMinor: minor)
    }

    public static func blockDevice(_ name: String, major: Int64, minor: Int64, mode: Int64 = 0o660) -> Entry {
        Entry(name: Array(name.utf8), kind: .blockDevice, mode: mode, devMajor: major, devMinor: minor)
    }

    /// The same entry carrying an extra `SCHILY.xattr.<key>` record.
    public func xattr(_ key: String, _ value: String) -> Entry {
        var e = self
        e.xattrs.append((key, Array(value.utf8)))
        return e
    }
}

/// Builds layer bytes in memory with Strata's own tar writer.
public enum Layer {
    /// An uncompressed tar of `entries`, owned by the current user, mtime "now".
    public static func tar(_ entries: [Entry]) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = TarWriter(sink)
        let now = FileTime(seconds: Int64(time(nil)))
        for e in entries {
            let header = TarHeader(
                name: e.name, typeflag: e.kind.rawValue, mode: e.mode,
                uid: Int64(Identity.effectiveUID), gid: Int64(getegid()), size: Int64(e.content.count),
                modificationTime: now, linkname: e.linkname, devMajor: e.devMajor, devMinor: e.devMinor,
                paxRecords: e.xattrs.map { (TarHeader.xattrPrefix + $0.key, $0.value) })
            try writer.writeHeader(header, allowNanoseconds: false)
            if !e.content.isEmpty { try e.content.withUnsafeBytes { try writer.writeData($0) } }
        }
        try writer.close()
        return sink.bytes
    }

    /// `bytes` compressed with `compression` at its default level.
    public static func compress(_ bytes: [UInt8], _ compression: Compression) throws -> [UInt8] {
        let sink = MemorySink()
        let c = try compression.compressor(level: nil, into: sink)
        try c.write(bytes)
        try c.finish()
        return sink.bytes
    }

    /// Deterministic incompressible bytes, so a truncation lands inside entry data.
    public static func noise(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }
}
