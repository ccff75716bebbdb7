import StrataFS
import StrataTestSupport
import Testing

/// `Handle`'s reads that grow their buffer (symlink targets, xattr names and values) return
/// whole values of every size up to the kernel's limits, and refuse a NUL in a name.
@Suite struct HandleTests {
    @Test(arguments: [1, 255, 256, 257, 4095])
    func symlinkTargetsOfEverySizeReadWhole(_ length: Int) throws {
        let t = TempDirectory("handle-readlink")
        let dir = try t.handle(".")
        let target = Array(repeating: UInt8(ascii: "x"), count: length)
        try dir.makeSymlink(Array("l".utf8), target: target)
        #expect(try dir.readLink(Array("l".utf8)) == target)
    }

    @Test func xattrNamesAndValuesReadWhole() throws {
        let t = TempDirectory("handle-xattr")
        let dir = try t.handle(".")
        try TreeBuilder(root: dir).file("f", "data")
        let f = Array("f".utf8)
        // 1.5 KiB of value and 1.2 KiB of names: past the first buffer of each (256 and 1024 bytes),
        // and within what ext4 keeps for one inode's xattrs (a 4 KiB block).
        let value = (0..<1500).map { UInt8(truncatingIfNeeded: $0) }
        do throws(FSError) {
            try dir.setXattr(f, key: "user.big", value: value)
        } catch {
            guard error.errno == .notSupported else { throw error }
            return print("SKIPPED: user xattrs are not supported on \(t.path)")
        }
        let names = (0..<15).map { "user.name-\(String(repeating: "n", count: 60))-\($0)" }
        for n in names { try dir.setXattr(f, key: n, value: [1]) }
        #expect(try dir.xattr(f, key: "user.big") == value)
        #expect(try dir.xattr(f, key: "user.absent") == nil)
        #expect(Set(try dir.xattrNames(f)).isSuperset(of: Set(names + ["user.big"])))
    }

    @Test func aNameWithNULIsRefusedBeforeTheKernelSeesIt() throws {
        let t = TempDirectory("handle-nul")
        let dir = try t.handle(".")
        #expect(throws: FSError.self) { try dir.readLink(Array("a".utf8) + [0]) }
        #expect(throws: FSError.self) { try dir.makeDirectory(Array("..".utf8) + [0], mode: 0o755) }
    }
}
