import StrataFS

/// Generates random trees and random change sets for round-trip properties: every entry type
/// (regular files empty, small, large and sparse; directories nested deep; relative, absolute
/// and dangling symlinks; hardlink groups; fifos; character and block devices when root), long
/// and non-ASCII names, owners, modes, xattrs (user.* where supported, security.capability when
/// root) and nanosecond times. The same seed always gives the same tree.
public struct TreeGenerator {
    public var rng: SeededGenerator
    public let isRoot = TestEnvironment.isRoot
    public var userXattrs = true
    /// Files created so far (relative paths), for hardlinks and modifications.
    public private(set) var files: [String] = []
    public private(set) var directories: [String] = [""]
    public private(set) var others: [String] = []
    private var counter = 0

    /// A valid `security.capability` value (cap_net_raw, effective).
    public static let capability: [UInt8] = [1, 0, 0, 2, 0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 12)

    public init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func name() -> String {
        counter += 1
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return "ünïcødé-\(counter)-☃"
        case 1: return String(repeating: "long", count: 40) + "-\(counter)"
        case 2: return "with space \(counter)"
        case 3: return ".hidden\(counter)"
        default: return "n\(counter)"
        }
    }

    mutating func time() -> FileTime {
        FileTime(
            seconds: Int64.random(in: 1_500_000_000...1_700_000_000, using: &rng),
            nanoseconds: rng.chance(0.5) ? UInt32.random(in: 1..<1_000_000_000, using: &rng) : 0)
    }

    mutating func content() -> [UInt8] {
        switch Int.random(in: 0..<20, using: &rng) {
        case 0: return []
        case 1: return rng.bytes(Int.random(in: 1 << 20...3 << 20, using: &rng))
        default: return rng.bytes(Int.random(in: 1...5000, using: &rng))
        }
    }

    func join(_ dir: String, _ name: String) -> String { dir.isEmpty ? name : dir + "/" + name }

    /// Fills `t` with about `count` entries.
    public mutating func populate(_ t: TreeBuilder, count: Int) throws {
        userXattrs = t.supportsUserXattrs()
        for _ in 0..<count { try addRandomEntry(t) }
    }

    /// Adds one random entry somewhere in the tree.
    public mutating func addRandomEntry(_ t: TreeBuilder) throws {
        let dir = directories.randomElement(using: &rng)!
        let path = join(dir, name())
        let kind = Int.random(in: 0..<100, using: &rng)
        switch kind {
        case 0..<40:
            try t.file(path, content(), mode: [0o644, 0o600, 0o755, 0o4755, 0o640].randomElement(using: &rng)!)
            files.append(path)
        case 40..<55:
            try t.directory(path, mode: [0o755, 0o700, 0o750, 0o1777].randomElement(using: &rng)!)
            directories.append(path)
        case 55..<65:
            let target = ["../\(name())", "/etc/passwd", files.randomElement(using: &rng) ?? "dangling", "./x/../y"]
                .randomElement(using: &rng)!
            try t.symlink(path, to: target)
            others.append(path)
        case 65..<75 where !files.isEmpty:
            try t.hardlink(path, to: files.randomElement(using: &rng)!)
            files.append(path)
        case 75..<80:
            try t.node(path, type: .fifo, mode: 0o644)
            others.append(path)
        case 80..<85 where isRoot:
            try t.node(
                path, type: rng.chance(0.5) ? .characterDevice : .blockDevice, mode: 0o660,
                major: UInt32.random(in: 1...300, using: &rng), minor: UInt32.random(in: 0...300, using: &rng))
            others.append(path)
        case 85..<88:
            try t.sparseFile(
                path, size: Int64.random(in: 1 << 20...8 << 20, using: &rng), content: rng.bytes(4096),
                at: Int64.random(in: 0...(1 << 20), using: &rng))
            files.append(path)
        default:
            try t.file(path, content())
            files.append(path)
        }
        try decorate(t, path)
    }

    /// Random owner, xattrs and time on an entry.
    mutating func decorate(_ t: TreeBuilder, _ path: String) throws {
        let (d, n) = try t.locate(path)
        let meta = try d.stat(n)
        if isRoot && rng.chance(0.3) {
            let id = [0, 1000, 65534, 70000, 3_000_000].randomElement(using: &rng)!
            try t.chown(path, uid: UInt32(id), gid: UInt32(id))
            if meta.type != .symlink { try t.chmod(path, meta.permissions) }  // chown clears set-uid
        }
        if meta.type == .regular || meta.type == .directory {
            if userXattrs && rng.chance(0.2) {
                try t.setXattr(path, "user.gen", rng.bytes(Int.random(in: 0...40, using: &rng)))
            }
            if isRoot && meta.type == .regular && rng.chance(0.1) {
                try t.setXattr(path, "security.capability", Self.capability)
            }
        }
        try t.setTime(path, time())
    }

    /// Applies about `count` random changes of every kind to the tree.
    public mutating func mutate(_ t: TreeBuilder, count: Int) throws {
        for _ in 0..<count {
            switch Int.random(in: 0..<12, using: &rng) {
            case 0, 1: try addRandomEntry(t)
            case 2 where !files.isEmpty:  // modify content, new time
                let f = files.randomElement(using: &rng)!
                if try exists(t, f) {
                    try t.file(f, content())
                    try decorate(t, f)
                }
            case 3 where !files.isEmpty:  // delete a file
                let f = files.remove(at: Int.random(in: 0..<files.count, using: &rng))
                try t.remove(f)
            case 4 where directories.count > 1:  // delete a subtree
                let d = directories.remove(at: Int.random(in: 1..<directories.count, using: &rng))
                try t.remove(d)
                directories.removeAll { $0.hasPrefix(d + "/") }
                files.removeAll { $0.hasPrefix(d + "/") }
            case 5 where !files.isEmpty:  // file becomes a directory
                let f = files.remove(at: Int.random(in: 0..<files.count, using: &rng))
                if try exists(t, f) {
                    try t.remove(f)
                    try t.directory(f)
                    directories.append(f)
                    try t.file(join(f, name()), content())
                }
            case 6 where directories.count > 1:  // directory becomes a file
                let d = directories.remove(at: Int.random(in: 1..<directories.count, using: &rng))
                directories.removeAll { $0.hasPrefix(d + "/") }
                files.removeAll { $0.hasPrefix(d + "/") }
                if try exists(t, d) {
                    try t.remove(d)
                    try t.file(d, content())
                    files.append(d)
                }
            case 7 where !files.isEmpty:  // chmod
                let f = files.randomElement(using: &rng)!
                if try exists(t, f) { try t.chmod(f, [0o600, 0o755, 0o2755, 0o444].randomElement(using: &rng)!) }
            case 8 where !others.isEmpty:  // retarget or remove a symlink or special file
                let o = others.remove(at: Int.random(in: 0..<others.count, using: &rng))
                if try exists(t, o) { try t.remove(o) }
            case 9 where !files.isEmpty:  // new hardlink to an existing file
                let f = files.randomElement(using: &rng)!
                if try exists(t, f) {
                    let p = join(directories.randomElement(using: &rng)!, name())
                    if try exists(t, NSStringLike(s: p).dirname) {
                        try t.hardlink(p, to: f)
                        files.append(p)
                    }
                }
            case 10 where !files.isEmpty && userXattrs:  // xattr change only
                let f = files.randomElement(using: &rng)!
                if try exists(t, f) { try t.setXattr(f, "user.changed", rng.bytes(8)) }
            default:  // time-only change of a file
                if let f = files.randomElement(using: &rng), try exists(t, f) { try t.setTime(f, time()) }
            }
        }
    }

    func exists(_ t: TreeBuilder, _ path: String) throws -> Bool {
        if path.isEmpty { return true }
        guard let (d, n) = try? t.locate(path) else { return false }
        return try d.statIfExists(n) != nil
    }
}

/// `dirname` of a relative path ("" for a top-level name).
struct NSStringLike {
    let s: String
    var dirname: String { s.lastIndex(of: "/").map { String(s[..<$0]) } ?? "" }
}
