import StrataContainerd
import StrataTestSupport
import Testing

/// The client's failures name the daemon, the call and what it was about. (The calls themselves
/// are tested against a real containerd: InteropTests' `strata containerd commit` suite.)
@Suite struct ContainerdClientTests {
    @Test func aDaemonThatIsNotThereFailsTheFirstCallNamingItsAddress() async throws {
        let t = TempDirectory("no-containerd")
        let address = t.at("containerd.sock")
        let error = await #expect(throws: ContainerdError.self) {
            try await ContainerdClient.with(address: address, namespace: "test") { client in
                _ = try await ContainerdSnapshot.of(container: "c1", client)
            }
        }
        #expect(error?.description.contains("is unavailable") == true)
        #expect(error?.call == "Containers.Get")
        #expect(error?.description.contains(address) == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.contains("container c1") == true)
    }
}
