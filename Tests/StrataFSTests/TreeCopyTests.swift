import Foundation
import StrataChanges
import StrataFS
import StrataTestSupport
import Testing

/// The native snapshotter's copy of a parent: every file type, hardlink groups, xattrs, owners,
/// modes and nanosecond times come through.
@Suite struct TreeCopyTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func copyEqualsTheSource(_ seed: UInt64) throws {
        let t = TempDirectory("treecopy")
        var generator = TreeGenerator(seed: seed)
        try generator.populate(TreeBuilder(root: try Handle.openDirectory(path: t.directory("src"))), count: 300)
        _ = t.directory("dst")
        var copy = TreeCopy()
        try copy.copy(from: t.handle("src"), to: t.handle("dst"))
        let comparison = TreeVerifier(times: .nanoseconds, xattrs: .all, owners: true)
        #expect(try comparison.firstDifference(t.handle("src"), t.handle("dst")) == nil)
        #expect(copy.reflinked + copy.copied > 0)
    }
}
