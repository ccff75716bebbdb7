import Foundation
import FuzzSupport
import StrataFS
import StrataPatch

#if canImport(Glibc)
    import Glibc
#endif

/// The base ROOT holds before every input, and the patches Strata makes from it.
enum PatchSeeds {
    static func makeBase(_ t: TreeBuilder) throws {
        try t.directory("etc")
        try t.file("etc/passwd", "root:x:0:0\n")
        try t.directory("d")
        try t.file("d/keep", [UInt8](repeating: 0x6B, count: 3000))
        try t.file("d/gone", "bye")
        try t.symlink("link", to: "etc/passwd")
    }

    static func write(to dir: String) throws {
        let scratch = scratchDirectory("patch-seeds")
        let base = try TreeBuilder(creating: scratch + "/base")
        try makeBase(base)
        let target = try TreeBuilder(creating: scratch + "/target")
        try makeBase(target)
        try target.file("etc/passwd", "root:x:0:0\nuser:x:1000:1000\n")
        var keep = [UInt8](repeating: 0x6B, count: 3000)
        keep[1500] = 0x4B
        try target.file("d/keep", keep)
        try target.remove("d/gone")
        try target.directory("new", mode: 0o700)
        try target.file("new/file", "new", mode: 0o4755)
        try target.hardlink("new/hard", to: "new/file")
        try target.symlink("new/link", to: "../d/keep")
        try target.node("new/fifo", type: .fifo)
        try target.chmod("d", 0o750)
        try target.chown("etc/passwd", uid: 1000, gid: 1000)
        for (name, from) in [("change.patch", base.root), ("from-empty.patch", nil)] {
            let path = dir + "/" + name
            let out = try Handle.openFile(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: 0o644)
            _ = try PatchCreator().create(base: from, target: target.root, to: out)
            // The journal of the same operations, as recovery would find it.
            let operations = try JSONEncoder().encode(PatchReader(path: path).manifest.operations)
            let journal = #"{"keepTimes":[],"operations":"# + String(decoding: operations, as: UTF8.self) + "}"
            Seeds.save(Array(journal.utf8), dir, name.replacingOccurrences(of: ".patch", with: ".journal.json"))
        }
    }
}
