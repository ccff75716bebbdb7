import Foundation
import StrataDatabase
import StrataTestSupport
import Testing

/// The database's leases: created with labels and an expiry, holding resources, removed with them.
@Suite struct LeasesTests {
    @Test func leaseLifeCycle() throws {
        let t = TempDirectory("leases")
        let leases = Leases(try MetadataDB(path: t.at("metadata.db")))
        let lease = try leases.create(id: "build-1", labels: ["owner": "ci"], expiresIn: 3600)
        #expect(lease.id == "build-1" && lease.labels == ["owner": "ci"] && lease.expiresAt != nil)
        try leases.add("build-1", kind: .content, id: "sha256:aa")
        try leases.add("build-1", kind: .snapshot, id: "overlay/k")
        #expect(Set(try leases.resources("build-1").map(\.id)) == ["sha256:aa", "overlay/k"])
        #expect(try leases.list().map(\.id) == ["build-1"])
        #expect(throws: (any Error).self) { try leases.create(id: "build-1") }
        try leases.remove("build-1")
        #expect(try leases.list().isEmpty)
    }
}
