import StrataFS

/// A change as machines read it (`strata changes --json`, one object per line): its kind, path
/// and the entry's metadata, the mtime as `SECONDS.NANOSECONDS`.
public struct ChangeRecord: Codable, Sendable, Equatable {
    public var kind: String
    public var path: String
    public var type: String
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var mtime: String
    public var linkTarget: String?

    public init(_ c: Change) {
        let m = c.metadata
        let ns = String(m.modificationTime.nanoseconds)
        kind = c.kind.rawValue
        path = c.pathString
        type = "\(m.type)"
        mode = m.permissions
        uid = m.uid
        gid = m.gid
        size = m.size
        mtime = "\(m.modificationTime.seconds).\(String(repeating: "0", count: 9 - ns.count))\(ns)"
        linkTarget = c.linkTarget.map(PathName.display)
    }
}
