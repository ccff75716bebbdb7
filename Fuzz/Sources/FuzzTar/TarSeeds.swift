import StrataArchive
import StrataFS
import StrataStreams

/// Archives written by Strata's `TarWriter`, one per dialect feature the reader has a path for.
enum TarSeeds {
    typealias Entry = (header: TarHeader, data: [UInt8])

    static func entry(
        _ name: String, _ kind: TarHeader.Kind, _ data: [UInt8] = [], mode: Int64 = 0o644, link: String = "",
        uid: Int64 = 0, pax: [(key: String, value: [UInt8])] = []
    ) -> Entry {
        let h = TarHeader(
            name: Array(name.utf8), typeflag: kind.rawValue, mode: mode, uid: uid, gid: uid,
            size: Int64(data.count), modificationTime: FileTime(seconds: 1_700_000_000, nanoseconds: 5),
            linkname: Array(link.utf8), devMajor: kind == .characterDevice ? 1 : 0,
            devMinor: kind == .characterDevice ? 3 : 0, paxRecords: pax)
        return (h, data)
    }

    static let archives: [(String, [Entry])] = [
        (
            "basic.tar",
            [
                entry("etc/", .directory, mode: 0o755), entry("etc/passwd", .regular, Array("root:x:0:0\n".utf8)),
                entry("etc/link", .symlink, link: "passwd"), entry("etc/hard", .hardLink, link: "etc/passwd"),
                entry("etc/fifo", .fifo), entry("dev-null", .characterDevice),
            ]
        ),
        (
            "whiteouts.tar",
            [
                entry("d/", .directory, mode: 0o755), entry("d/.wh..wh..opq", .regular), entry("d/.wh.gone", .regular),
                entry("d/new", .regular, [UInt8](repeating: 0x61, count: 1500)),
            ]
        ),
        (
            "long-names.tar",
            [
                entry(String(repeating: "n", count: 150) + "/", .directory, mode: 0o755),
                entry(String(repeating: "n", count: 150) + "/" + String(repeating: "f", count: 120), .regular, [1, 2]),
                entry("s", .symlink, link: String(repeating: "t/", count: 80)),
            ]
        ),
        (
            "pax.tar",
            [
                entry(
                    "x", .regular, Array("xattr".utf8), uid: 1 << 22,
                    pax: [
                        ("SCHILY.xattr.user.k", Array("v".utf8)), ("SCHILY.xattr.security.capability", [1, 0, 0, 2]),
                    ]
                ),
                entry("big-id", .regular, uid: 0o7777777 + 1), entry("é-unicode", .regular, [0xff]),
            ]
        ),
    ]

    static func write(_ entries: [Entry]) throws -> [UInt8] {
        let sink = MemorySink()
        let writer = TarWriter(sink)
        for (header, data) in entries {
            try writer.writeHeader(header, allowNanoseconds: true)
            if !data.isEmpty { try data.withUnsafeBytes { try writer.writeData($0) } }
            try writer.finishEntry()
        }
        try writer.close()
        try sink.finish()
        return sink.bytes
    }
}
