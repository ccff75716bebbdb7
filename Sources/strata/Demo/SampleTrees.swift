import StrataFS

/// The two small trees `strata demo` diffs: a lower tree and an upper tree made from the same
/// base with a mix of every kind of change (add, modify, chmod, delete, delete a whole directory,
/// replace a file by a directory, symlinks, hardlinks, and xattrs where the filesystem has them).
public enum SampleTrees {
    static let baseTime = FileTime(seconds: 1_700_000_000, nanoseconds: 123_456_789)

    /// Writes the lower tree into the directory at `path`.
    public static func buildLower(at path: String) throws {
        let t = try TreeBuilder(creating: path)
        try t.directory("etc")
        try t.file("etc/hosts", "127.0.0.1 localhost\n")
        try t.hardlink("etc/hosts.allow", to: "etc/hosts")
        try t.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        try t.file("etc/motd", "welcome\n", mode: 0o600)
        try t.directory("usr")
        try t.directory("usr/lib")
        try t.file("usr/lib/libdemo.so.1", [UInt8](repeating: 0x7F, count: 64 * 1024), mode: 0o755)
        try t.symlink("usr/lib/libdemo.so", to: "libdemo.so.1")
        try t.directory("var")
        try t.directory("var/cache")
        try t.file("var/cache/old.bin", [UInt8](repeating: 1, count: 4096))
        try t.directory("var/cache/tmp")
        try t.file("var/cache/tmp/a", "a")
        try t.file("opt", "a file that becomes a directory\n")
        try t.directory("home", mode: 0o755)
        try t.directory("home/user", mode: 0o700)
        try t.file("home/user/.profile", "export PATH=/usr/bin\n")
        try t.setAllTimes(baseTime)
    }

    /// Writes the upper tree (lower plus changes) into the directory at `path`.
    public static func buildUpper(at path: String) throws {
        try buildLower(at: path)
        let t = try TreeBuilder(root: Handle.openDirectory(path: path))
        try t.file("etc/hosts", "127.0.0.1 localhost\n::1 localhost\n")
        try t.hardlink("etc/hosts.allow", to: "etc/hosts")
        try t.hardlink("etc/hosts.deny", to: "etc/hosts")
        try t.chmod("etc/motd", 0o644)
        try t.remove("etc/passwd")
        try t.remove("var/cache")
        try t.remove("opt")
        try t.directory("opt")
        try t.file("opt/tool", "#!/bin/sh\necho strata\n", mode: 0o755)
        try t.file("home/user/notes.txt", [UInt8]("über naïve résumé ☃\n".utf8))
        try t.symlink("usr/lib/libdemo.so", to: "libdemo.so.2")
        try t.file("usr/lib/libdemo.so.2", [UInt8](repeating: 0x42, count: 128 * 1024), mode: 0o755)
        if t.supportsUserXattrs() { try t.setXattr("opt/tool", "user.demo", Array("yes".utf8)) }
        for p in [
            "etc/hosts", "etc/hosts.deny", "opt/tool", "home/user/notes.txt", "usr/lib/libdemo.so.2",
            "usr/lib/libdemo.so",
        ] {
            try t.setTime(p, FileTime(seconds: baseTime.seconds + 60, nanoseconds: 987_654_321))
        }
    }

}
