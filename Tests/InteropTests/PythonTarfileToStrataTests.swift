import StrataChanges
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

@Suite("Python tarfile → Strata")
struct PythonTarfileToStrataTests {
    static let formats = ["pax", "gnu", "ustar"]

    /// Writes the sample layer `kind` in `format` with python3's tarfile.
    static func writeLayer(_ tmp: TempDirectory, format: String, kind: String) async throws -> String {
        let script = tmp.at("make_layer.py")
        try TreeBuilder(root: Handle.openDirectory(path: tmp.path)).file("make_layer.py", PythonTarfileScript.source)
        let out = tmp.at("\(kind)-\(format).tar")
        try await Tool.check("python3", [script, format, kind, out])
        return out
    }

    /// PAX carries nanosecond mtimes; GNU and USTAR whole seconds.
    static func times(_ format: String) -> TreeVerifier.Times { format == "pax" ? .nanoseconds : .seconds }

    @Test(arguments: formats)
    func tarfileLayerAppliesLikeGNUTarExtracts(_ format: String) async throws {
        guard Interop.requirements(tools: ["python3", "tar"], root: true) else { return }
        let tmp = TempDirectory("pytar")
        let layer = try await Self.writeLayer(tmp, format: format, kind: "tree")
        let applied = tmp.directory("strata")
        let extracted = tmp.directory("gnutar")
        try await Interop.apply(layer, onto: applied)
        try await Interop.tarExtract(layer, into: extracted)

        try Interop.expectSameTree(extracted, applied, TreeVerifier(times: Self.times(format), xattrs: .all), format)
        let file = try Interop.stat(applied, "d/file")
        #expect(file.uid == 1234 && file.gid == 5678 && file.permissions == 0o640 && file.linkCount == 2)
        #expect(try Interop.stat(applied, "d/sub/big-uid").uid == 70000)
        #expect(try Interop.stat(applied, "dev/loop0").type == .blockDevice)
        #expect(try Interop.stat(applied, "bin/ping").permissions == 0o4755)
        if format == "pax" {
            #expect(file.modificationTime == FileTime(seconds: 1_700_000_001, nanoseconds: 987_654_321))
            #expect(try Interop.xattrs(applied, "d/file")["user.binary"] == [0xFF, 0x00, 0x80, 0x0A])
            #expect(try Interop.xattrs(applied, "bin/ping")["security.capability"] == TreeGenerator.capability)
        }
        if format != "ustar" {
            #expect(try Interop.stat(applied, "d/" + String(repeating: "L", count: 150)).size == 10)
            #expect(try Interop.stat(applied, "d/huge-ids").uid == 3_000_000)
        }
    }

    /// The lower tree the whiteout layer is applied onto.
    static func buildLower(_ path: String) throws {
        let t = try TreeBuilder(creating: path)
        try t.file("gone", "lower\n")
        try t.file("keep", "lower\n")
        try t.directory("gonedir")
        try t.file("gonedir/x", "x\n")
        try t.directory("gonedir/sub")
        try t.file("gonedir/sub/y", "y\n")
        try t.directory("o")
        try t.file("o/old1", "old\n")
        try t.file("o/.hidden", "old\n")
        try t.file("o/kept", "old content, replaced\n", mode: 0o644)
        try t.directory("o/olddir")
        try t.file("o/olddir/old2", "old\n")
        try t.directory("p")
        try t.file("p/untouched", "lower\n")
        try t.directory("q", mode: 0o711)
        try t.file("q/gone-too", "lower\n")
        try t.file("q/stays", "lower\n")
        for p in ["gone", "keep", "gonedir/x", "o/old1", "o/.hidden", "o/kept", "p/untouched", "q/gone-too", "q/stays"]
        {
            try t.setTime(p, FileTime(seconds: 1_600_000_000))
        }
    }

    /// The lower tree after the whiteout layer, edited by hand: whiteouts remove their targets,
    /// the opaque marker empties o/ except for what the same layer put there (before or after it).
    static func buildExpected(_ path: String) throws {
        try buildLower(path)
        let t = try TreeBuilder(root: Handle.openDirectory(path: path))
        let time = FileTime(seconds: PythonTarfileScript.whiteoutTime)
        for p in ["gone", "gonedir", "o/old1", "o/.hidden", "o/olddir", "q/gone-too"] { try t.remove(p) }
        try t.chmod("o", 0o700)
        try t.chown("o", uid: 5, gid: 5)
        try t.file("o/kept", "replaced in this layer\n", mode: 0o600)
        try t.chown("o/kept", uid: 7, gid: 7)
        try t.directory("o/newdir", mode: 0o750)
        try t.file("o/newdir/x", "x\n")
        try t.file("o/after", "after the marker\n", mode: 0o640)
        try t.chown("o/after", uid: 1, gid: 2)
        try t.file("p/new", "new in an untouched dir\n")
        for p in ["o/kept", "o/newdir/x", "o/after", "p/new"] { try t.setTime(p, time) }
    }

    @Test(arguments: formats)
    func tarfileWhiteoutsAndOpaqueDirectories(_ format: String) async throws {
        guard Interop.requirements(tools: ["python3"], root: true) else { return }
        let tmp = TempDirectory("pywh")
        let layer = try await Self.writeLayer(tmp, format: format, kind: "whiteouts")
        let root = tmp.at("root")
        try Self.buildLower(root)
        let expected = tmp.at("expected")
        try Self.buildExpected(expected)

        try await Interop.apply(layer, onto: root)
        try Interop.expectSameTree(
            expected, root, TreeVerifier(times: .nanoseconds, xattrs: .all), "\(format) whiteouts")
        let o = try Interop.stat(root, "o")
        #expect(o.permissions == 0o700 && o.uid == 5 && o.gid == 5, "o/ takes the layer's directory header")
        #expect(try Interop.stat(root, "q").permissions == 0o711, "q/ has no header in the layer and keeps its mode")
    }
}
