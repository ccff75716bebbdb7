import CFuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The sandbox of the harnesses that write (apply, patch): a sentinel tree around the target
/// ROOT, and the oracle that fails when anything outside ROOT changed.
///
/// The harness runs as root, so it refuses to start unless `STRATA_FUZZ_SANDBOX` is a tmpfs
/// mounted `nodev,nosuid` in a private mount namespace (`scripts/fuzz.sh` makes one), then
/// `chroot`s into it: every climb (`..` past the top, an absolute link target) lands inside the
/// tmpfs and shows in the sentinel, never on the machine. The working directory stays outside, so
/// libFuzzer's relative corpus and artifact paths still work.
///
/// Layout inside the chroot (ROOT is `/a/b/root`; every level above it has decoys):
///
///     /etc/passwd  /tmp/keep  /perm400 (0400)  /link -> /etc/passwd  /fifo
///     /a/etc/passwd  /a/tmp/keep  /a/sibling
///     /a/b/etc/passwd  /a/b/tmp/keep  /a/b/rootx (a name ROOT's is a prefix of)
///     /a/b/root        ← the target, emptied after every input
///     /in              ← the harness's scratch (an input written to a file), not checked
///
/// The record of every entry outside ROOT holds its type, mode, owner, link count, size, mtime
/// and ctime (nanoseconds), xattrs, and its content's hash or link target: a write, a chmod, a
/// chown, a link, a removal or a creation anywhere outside ROOT changes it.
public final class Sentinel: Sendable {
    public static let root = "/a/b/root"
    public static let scratch = "/in"
    private static let unchecked: Set<String> = [root, scratch]

    private let harness: String
    private let before: [String: String]

    /// Enters the sandbox and records it. `rootMount`: ROOT is a tmpfs of its own (a patch then
    /// stages inside ROOT, not beside it in the sentinel tree).
    public init(harness: String, rootMount: Bool = false) {
        self.harness = harness
        guard geteuid() == 0 else {
            Self.refuse(harness, "needs root (it checks what an apply does as root); run scripts/fuzz.sh as root")
        }
        guard let sandbox = getenv("STRATA_FUZZ_SANDBOX").map({ String(cString: $0) }) else {
            Self.refuse(harness, "STRATA_FUZZ_SANDBOX is not set; run it through scripts/fuzz.sh")
        }
        guard Self.isPrivateMount(sandbox) else {
            Self.refuse(
                harness, "\(sandbox) is not a private mount (unshare -m --propagation private); use scripts/fuzz.sh")
        }
        var fs = statfs()
        var vfs = statvfs()
        guard statfs(sandbox, &fs) == 0, fs.f_type == cfuzz_tmpfs_magic, statvfs(sandbox, &vfs) == 0,
            vfs.f_flag & cfuzz_st_nodev != 0, vfs.f_flag & cfuzz_st_nosuid != 0
        else {
            Self.refuse(harness, "\(sandbox) is not a tmpfs mounted nodev,nosuid")
        }
        guard chroot(sandbox) == 0 else { Self.refuse(harness, "chroot \(sandbox): errno \(errno)") }
        Self.build(harness)
        if rootMount {
            guard mount("strata-fuzz-root", Self.root, "tmpfs", UInt(MS_NODEV | MS_NOSUID), "mode=755,size=256m") == 0
            else { Self.refuse(harness, "mount tmpfs on ROOT: errno \(errno)") }
        }
        before = Self.record()
    }

    /// One input of a sentinel harness: the planted escape for the planted input, else `body`
    /// (whose errors are rejected input); then the oracle (`check`) and `wipe`.
    public func run(_ data: UnsafePointer<UInt8>, _ size: Int, _ body: () throws -> Void) -> CInt {
        if Plant.reached(data, size) {
            plantEscape()
        } else {
            do { try body() } catch {}
        }
        check()
        wipe()
        return 0
    }

    /// Fails (a finding) when anything outside ROOT differs from the record, naming each entry.
    public func check() {
        let after = Self.record()
        guard after != before else { return }
        var lines: [String] = []
        for key in Set(before.keys).union(after.keys).sorted() where before[key] != after[key] {
            lines.append("  \(key): \(before[key] ?? "absent") => \(after[key] ?? "absent")")
        }
        Oracle.fail("\(harness): outside ROOT changed:\n" + lines.joined(separator: "\n"))
    }

    /// Empties ROOT and resets its mode, owner and xattrs, so inputs do not depend on each other.
    public func wipe() {
        let fd = open(Self.root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
        guard fd >= 0 else { Oracle.fail("\(harness): ROOT is no longer a directory (errno \(errno))") }
        defer { close(fd) }
        Self.empty(fd, harness)
        fchmod(fd, 0o755)
        fchown(fd, 0, 0)
        for name in Self.xattrNames(Self.root) { lremovexattr(Self.root, name) }
    }

    /// The planted escape: a change outside ROOT, which `check` must report.
    public func plantEscape() {
        let fd = open("/a/b/etc/passwd", O_WRONLY | O_APPEND)
        if fd >= 0 {
            _ = "planted\n".withCString { write(fd, $0, 8) }
            close(fd)
        }
    }

    // MARK: The tree

    private static func build(_ harness: String) {
        var ok = true
        func dir(_ p: String, _ mode: mode_t = 0o755) { ok = ok && mkdir(p, mode) == 0 }
        func file(_ p: String, _ text: String, _ mode: mode_t = 0o644) {
            let fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode)
            ok = ok && fd >= 0 && text.withCString { write(fd, $0, strlen($0)) } >= 0
            if fd >= 0 { close(fd) }
        }
        for (i, level) in ["", "/a", "/a/b"].enumerated() {
            if !level.isEmpty { dir(level) }
            dir(level + "/etc")
            file(level + "/etc/passwd", "host users \(i)\n")
            dir(level + "/tmp")
            file(level + "/tmp/keep", "host tmp \(i)\n")
        }
        file("/perm400", "host secret\n", 0o400)
        ok = ok && symlink("/etc/passwd", "/link") == 0 && mkfifo("/fifo", 0o600) == 0
        file("/a/sibling", "beside a\n")
        file("/a/b/rootx", "beside root\n")
        dir(root)
        dir(scratch, 0o700)
        guard ok else { refuse(harness, "cannot build the sentinel tree (errno \(errno)); is the sandbox empty?") }
    }

    /// Every entry under `/` but ROOT and the scratch, described.
    private static func record() -> [String: String] {
        var out: [String: String] = [:]
        describe("/", into: &out)
        return out
    }

    private static func describe(_ path: String, into out: inout [String: String]) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let type = st.st_mode & S_IFMT
        var d = "\(String(type, radix: 8)) \(String(st.st_mode & 0o7777, radix: 8)) \(st.st_uid):\(st.st_gid)"
        d += " n\(st.st_nlink) s\(st.st_size) m\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        d += " c\(st.st_ctim.tv_sec).\(st.st_ctim.tv_nsec) dev\(st.st_rdev)"
        for name in xattrNames(path) {
            var value = [UInt8](repeating: 0, count: 4096)
            let n = lgetxattr(path, name, &value, value.count)
            d += " \(name)=\(n >= 0 ? hash(value[..<n]) : 0)"
        }
        switch type {
        case S_IFREG:
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
            var content: [UInt8] = []
            if fd >= 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = read(fd, &buffer, buffer.count)
                    if n <= 0 { break }
                    content += buffer[..<n]
                }
                close(fd)
            }
            d += " h\(hash(content[...]))"
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: 4097)
            let n = readlink(path, &target, 4096)
            d += " -> " + String(decoding: target[..<max(n, 0)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        case S_IFDIR:
            for name in entries(path) {
                let child = path == "/" ? "/" + name : path + "/" + name
                if !unchecked.contains(child) { describe(child, into: &out) }
            }
        default:
            break
        }
        out[path] = d
    }

    private static func entries(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func xattrNames(_ path: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = llistxattr(path, &buffer, buffer.count)
        guard n > 0 else { return [] }
        return buffer[..<n].split(separator: 0).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        .sorted()
    }

    /// FNV-1a: the record only has to notice a change, not resist one.
    private static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Removes everything in the directory `fd`, depth first, never following a link.
    private static func empty(_ fd: Int32, _ harness: String) {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else { Oracle.fail("\(harness): cannot read ROOT (errno \(errno))") }
        var names: [[CChar]] = []
        while let e = readdir(dir) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2E] && name != [0x2E, 0x2E] { names.append(name.map { CChar(bitPattern: $0) } + [0]) }
        }
        closedir(dir)
        for name in names {
            var st = stat()
            guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            if st.st_mode & S_IFMT == S_IFDIR {
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
                if child >= 0 {
                    empty(child, harness)
                    close(child)
                }
            }
            guard unlinkat(fd, name, st.st_mode & S_IFMT == S_IFDIR ? AT_REMOVEDIR : 0) == 0 else {
                Oracle.fail("\(harness): cannot empty ROOT (errno \(errno))")
            }
        }
    }

    /// Whether `path` is a mount point whose mounts propagate nowhere: its line in
    /// `/proc/self/mountinfo` has no `shared:` or `master:` tag.
    private static func isPrivateMount(_ path: String) -> Bool {
        let fd = open("/proc/self/mountinfo", O_RDONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            text += buffer[..<n]
        }
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 6, fields[4] == path else { continue }
            let optional = fields[6...].prefix { $0 != "-" }
            return !optional.contains { $0.hasPrefix("shared:") || $0.hasPrefix("master:") }
        }
        return false
    }

    /// A set-up failure: not a finding, so it exits rather than aborts.
    private static func refuse(_ harness: String, _ reason: String) -> Never {
        printError("\(harness): \(reason)")
        exit(2)
    }
}
