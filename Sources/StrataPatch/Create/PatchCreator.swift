import Foundation
import StrataArchive
import StrataChanges
import StrataFS
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// Makes a patch that turns a base tree into a target tree: the file-level changes of a layer
/// (adds, deletes, attributes, symlinks, hard links, devices, xattrs), with each modified regular
/// file that the base also has stored as a block-level delta against the base's version when the
/// delta is smaller, and the base's identity (`BaseState`).
public struct PatchCreator {
    /// Regular files smaller than this are stored whole.
    public var deltaThreshold = 64 << 10

    public init() {}

    /// What a patch holds, for `patch create` and `patch inspect`.
    public struct Summary: Codable, Sendable {
        public var base: Digest
        public var operations = 0
        public var files = 0
        public var deltas = 0
        public var deletes = 0
        /// The patch's size in bytes.
        public var size: Int64 = 0
        /// The bytes of the changed files whole: what a layer would carry, uncompressed.
        public var wholeBytes: Int64 = 0
        /// Bytes of data frames before compression (whole files and delta operations).
        public var dataBytes: Int64 = 0

        /// Bytes less than the changed files whole.
        public var saved: Int64 = 0

        /// Summarizes a patch's manifest; `size` is the patch file's.
        public init(_ manifest: PatchManifest, size: Int64) {
            base = manifest.base
            operations = manifest.operations.count
            for op in manifest.operations {
                if op.kind == .delete { deletes += 1 }
                guard op.frame != nil else { continue }
                files += 1
                if op.delta == true { deltas += 1 }
                wholeBytes += Int64(op.size ?? 0)
            }
            if let image = manifest.image {
                files = 1
                wholeBytes = image.size
            }
            self.size = size
            dataBytes = manifest.frames.reduce(0) { $0 + $1.size }
            saved = max(0, wholeBytes - size)
        }

        public init(_ reader: PatchReader) { self.init(reader.manifest, size: reader.size) }
    }

    /// Writes the patch from `base` (nil: the empty tree) to `target` into `output`.
    public func create(base: Handle?, target: Handle, to output: Handle) throws -> Summary {
        var changes = Collector()
        _ = try TreeComparer(xattrPolicy: .all).compare(lower: base, upper: target, into: &changes)
        // A hard link group with a changed member is written whole, as a layer writes it.
        let changedGroups = Set(
            changes.all.filter { ($0.kind == .add || $0.kind == .modify) && $0.metadata.isHardLinked }.map {
                $0.metadata.inode
            })
        let writer = try PatchWriter(output)
        var expectations: [Expectation] = []
        var operations: [Operation] = []
        var firstName: [UInt64: PatchPath] = [:]
        for c in changes.all {
            let path = PatchPath(c.path)
            switch c.kind {
            case .opaque:
                throw PatchError.unsupported("\(path): opaque directories are not expected from a tree walk")
            case .unmodified where !changedGroups.contains(c.metadata.inode):
                continue
            case .delete:
                expectations.append(Expectation(path: path, state: try BaseState.of(path, in: base)))
                operations.append(Operation(.delete, path))
                continue
            default:
                break
            }
            let before = try BaseState.of(path, in: base, content: false)
            if c.metadata.type == .directory && before.type == "directory" {
                expectations.append(Expectation(path: path, state: before))
                operations.append(attributes(.attributes, path, c))
                continue
            }
            if c.metadata.isHardLinked, let first = firstName[c.metadata.inode] {
                expectations.append(Expectation(path: path, state: try BaseState.of(path, in: base)))
                var op = Operation(.link, path)
                op.link = first
                operations.append(op)
                continue
            }
            if c.metadata.isHardLinked { firstName[c.metadata.inode] = path }
            var op = attributes(.replace, path, c)
            var state = before
            switch c.metadata.type {
            case .regular:
                guard let dir = c.directory else { break }
                let file = try dir.open(c.name, flags: O_RDONLY | O_NOFOLLOW)
                op.size = c.metadata.size
                if before.type == "regular", let base, let (bdir, bname) = try BaseState.locate(path, in: base) {
                    let old = try MappedFile(bdir.open(bname, flags: O_RDONLY | O_NOFOLLOW))
                    state.sha256 = Digest.sha256(old.bytes)
                    try store(file, against: old, into: &op, writer)
                } else {
                    try store(file, against: nil, into: &op, writer)
                }
            case .symlink:
                op.target = c.linkTarget.map(PatchPath.init)
            case .characterDevice, .blockDevice:
                op.rdev = [c.metadata.rdevMajor, c.metadata.rdevMinor]
            default:
                break
            }
            if before.type == "regular" && state.sha256 == nil {
                state = try BaseState.of(path, in: base)
            }
            expectations.append(Expectation(path: path, state: state))
            operations.append(op)
        }
        let manifest = PatchManifest(
            base: try BaseState.identity(expectations), expectations: expectations, operations: operations, frames: [])
        return Summary(try writer.finish(manifest), size: writer.offset)
    }

    /// The file's content into a frame: a delta against `old` when that is smaller, else whole.
    private func store(_ file: Handle, against old: MappedFile?, into op: inout Operation, _ writer: PatchWriter) throws
    {
        let new = try MappedFile(file)
        op.sha256 = Digest.sha256(new.bytes)
        if let old, new.bytes.count >= deltaThreshold, old.bytes.count >= deltaThreshold {
            let ops = Delta.encode(base: old.bytes, target: new.bytes)
            if ops.count < new.bytes.count {
                op.frame = try writer.frame { try $0.write(ops) }
                op.delta = true
                return
            }
        }
        op.frame = try writer.frame { try $0.write(new.bytes) }
    }

    private func attributes(_ kind: Operation.Kind, _ path: PatchPath, _ c: Change) -> Operation {
        var op = Operation(kind, path)
        op.type = BaseState.typeName(c.metadata.type)
        op.mode = c.metadata.permissions
        op.uid = c.metadata.uid
        op.gid = c.metadata.gid
        op.mtime = c.metadata.modificationTime.nanosecondsSince1970
        op.atime = c.metadata.accessTime.nanosecondsSince1970
        if !c.xattrs.isEmpty {
            op.xattrs = Dictionary(
                uniqueKeysWithValues: c.xattrs.entries.map { ($0.name, Data($0.value).base64EncodedString()) })
        }
        return op
    }

    /// Keeps the change stream (with the upper's directory handles, to read files from).
    struct Collector: ChangeSink {
        var all: [Change] = []
        mutating func handle(_ change: Change) throws -> WalkDecision {
            all.append(change)
            return .proceed
        }
    }
}
