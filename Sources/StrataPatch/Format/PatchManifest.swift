import Foundation
import StrataFS
import StrataStreams

/// What a patch holds, stored as JSON at its end: the base it was made against, the operations
/// that turn that base into the target (in tree order: a directory before its entries), and the
/// data frames they read.
public struct PatchManifest: Codable, Sendable {
    public var version = 1
    /// The base's identity: SHA-256 over `expectations` (see `BaseIdentity`).
    public var base: Digest
    /// What every base entry the patch touches or depends on must be.
    public var expectations: [Expectation]
    public var operations: [Operation]
    public var frames: [Frame]
    /// A block-level patch of one image file instead of a tree (`ImagePatch`).
    public var image: ImageDelta?
}

/// A path, as JSON: its UTF-8 text, or `base64:` and its bytes when it is not UTF-8 (or starts so).
public struct PatchPath: Codable, Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        if s.hasPrefix("base64:"), let d = Data(base64Encoded: String(s.dropFirst(7))) {
            bytes = Array(d)
        } else {
            bytes = Array(s.utf8)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let s = String(validating: bytes, as: UTF8.self), !s.hasPrefix("base64:") {
            try c.encode(s)
        } else {
            try c.encode("base64:" + Data(bytes).base64EncodedString())
        }
    }

    public var description: String { PathName.display(bytes) }

    /// The path checked for use inside ROOT (`RootedPath(strict:)`: no empty, `.` or `..`
    /// component, no NUL); an entry's path may not be the root itself.
    func rooted(allowRoot: Bool = false) throws -> RootedPath {
        let p: RootedPath
        do { p = try RootedPath(strict: bytes) } catch { throw PatchError.damaged("\(error)") }
        guard allowRoot || !p.isRoot else { throw PatchError.damaged("an operation on the root itself") }
        return p
    }

    /// The directory holding this entry, written as the comparer writes paths (`/` for the root).
    init(_ path: RootedPath) { bytes = path.bytes }
}

/// One zstd frame of the patch's data: where it is, its size before compression and the SHA-256
/// of those bytes.
public struct Frame: Codable, Sendable {
    public var offset: Int64
    public var length: Int64
    public var size: Int64
    public var sha256: Digest
}

/// What a base entry must be for the patch to apply.
public struct Expectation: Codable, Sendable, Equatable {
    public var path: PatchPath
    public var state: EntryState
}

/// An entry's identity for `Expectation`: type, permissions, owner, and for a regular file its
/// size and content digest, for a symlink its target. `absent` is no entry at all.
public struct EntryState: Codable, Sendable, Equatable, CustomStringConvertible {
    public var type: String
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    public var size: UInt64?
    public var sha256: Digest?
    public var target: PatchPath?

    public static let absent = EntryState(type: "absent")

    public var description: String {
        if type == "absent" { return "nothing" }
        var s = "\(type) \(String(mode ?? 0, radix: 8)) \(uid ?? 0):\(gid ?? 0)"
        if let size { s += " size \(size)" }
        if let sha256 { s += " \(sha256)" }
        if let target { s += " -> \(target)" }
        return s
    }
}

/// One step of a patch, applied in order.
public struct Operation: Codable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The entry at `path` (if any) is replaced by a new one: a file, symlink, device, fifo or
        /// an empty directory.
        case replace
        /// The entry at `path` goes, with everything under it.
        case delete
        /// The directory at `path` stays and gets new attributes.
        case attributes
        /// A hard link at `path` to the entry at `link` (already in place).
        case link
    }

    public var kind: Kind
    public var path: PatchPath
    public var type: String?
    public var mode: UInt32?
    public var uid: UInt32?
    public var gid: UInt32?
    /// Nanoseconds since 1970.
    public var mtime: Int64?
    public var atime: Int64?
    /// Values base64-encoded.
    public var xattrs: [String: String]?
    public var target: PatchPath?
    public var link: PatchPath?
    public var rdev: [UInt32]?
    /// The frame with the content (a regular file) or with the delta against the base's file.
    public var frame: Int?
    public var delta: Bool?
    /// The content's size and SHA-256, checked when it is rebuilt.
    public var size: UInt64?
    public var sha256: Digest?

    init(_ kind: Kind, _ path: PatchPath) {
        self.kind = kind
        self.path = path
    }
}
