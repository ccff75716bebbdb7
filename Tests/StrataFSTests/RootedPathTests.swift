import StrataFS
import Testing

/// `RootedPath`, the one check of names from outside: containerd's lexical cleaning for layer
/// entries, the strict form for what Strata wrote itself, and NUL refused by both.
@Suite struct RootedPathTests {
    func cleaned(_ s: String) throws -> String { try RootedPath(cleaning: Array(s.utf8)).description }

    @Test func cleaningStaysUnderTheRoot() throws {
        #expect(try cleaned("a/./b//c/") == "/a/b/c")
        #expect(try cleaned("../../etc/passwd") == "/etc/passwd")
        #expect(try cleaned("a/b/../../..") == "/")
        #expect(try RootedPath(cleaning: Array("a/b".utf8)).parent == RootedPath(cleaning: Array("/a".utf8)))
        #expect(try RootedPath(cleaning: Array("/".utf8)).isRoot)
    }

    @Test func strictRefusesWhatCleaningWouldHide() throws {
        #expect(try RootedPath(strict: Array("a/b".utf8)).components == [Array("a".utf8), Array("b".utf8)])
        #expect(try RootedPath(strict: Array("/".utf8)).isRoot)
        for bad in ["a/../b", "a//b", "./a", "a/.", ".."] {
            #expect(throws: PathError.self, "\(bad)") { try RootedPath(strict: Array(bad.utf8)) }
        }
    }

    @Test func nulIsRefusedEverywhere() {
        let name = Array("..".utf8) + [0] + Array("/x".utf8)
        #expect(throws: PathError.self) { try RootedPath(cleaning: name) }
        #expect(throws: PathError.self) { try RootedPath(strict: name) }
        #expect(throws: PathError.self) { try RootedPath.checkComponent(Array("a".utf8) + [0]) }
        for bad in ["", ".", "..", "a/b"] {
            #expect(throws: PathError.self, "\(bad)") { try RootedPath(RootedPath.root, appending: Array(bad.utf8)) }
        }
    }
}
