import Foundation
import StrataFS
import StrataOCI
import StrataSnapshots
import StrataStore
import StrataStreams
import StrataTestSupport
import Testing

/// An image committed by Strata from a container, pushed to a real registry, is read by the
/// other side: a fresh Strata root pulls and unpacks it to the container's tree, and a real
/// containerd pulls it (`ctr images pull --plain-http`, `Tests/Interop/containerd-pull.sh`),
/// unpacks it to the same tree and runs it with runc; and so does `ctr images import` of the
/// image exported by `strata image export`.
@Suite(.serialized) struct RegistryContainerdTests {
    static let script = RegistryTests.repositoryRoot + "/Tests/Interop/containerd-pull.sh"

    @Test func containerdPullsAndRunsACommittedImage() async throws {
        guard
            TestEnvironment.requirementsMet(
                tools: ["docker-registry", "umoci", "containerd", "ctr", "runc", "busybox", "python3"], root: true,
                fail: { Issue.record(Comment(rawValue: $0)) }),
            TestEnvironment.backendAvailable("overlay")
        else { return }
        let t = TempDirectory("registry-containerd")
        defer { withExtendedLifetime(t) {} }
        let registry = try await TestRegistry(t)
        let base = try await UmociImage.build(
            in: t,
            layers: [
                """
                mkdir -p bin etc proc sys dev run tmp root
                cp "$(command -v busybox)" bin/busybox
                for a in sh cat ls; do ln -s busybox bin/$a; done
                echo base > etc/base
                echo gone > etc/gone
                """
            ])
        let rootPath = t.at("root")
        _ = try await StrataCLI.json(rootPath, ["image", "unpack", base.layout, "base", "--json"])

        // A container over the image, changed, committed.
        let root = try StateRoot(path: rootPath)
        let s = try root.snapshotter("overlay")
        let inspected = try await StrataCLI.json(rootPath, ["image", "inspect", "base", "--json"])
        let configDigest = Digest(parsing: (inspected["config"] as? [String: Any])?["digest"] as? String ?? "")!
        let config = try root.content.open(configDigest).readToEnd(limit: 1 << 20)
        let chain = try JSONDecoder().decode(ImageConfigRootFS.self, from: Data(config)).chainIDs
        _ = try s.prepare("ctr", parent: chain.last!.description, labels: [:])
        let mnt = t.directory("ctr")
        try Mounter.mount(try s.mounts("ctr"), at: mnt)
        try await Tool.check("sh", ["-c", "echo committed > etc/app; rm etc/gone; mkdir srv; echo s > srv/s"], in: mnt)
        let container = try DirectorySnapshot.take(mnt, directoryTimes: false)
        try Mounter.unmount(mnt)
        _ = try await StrataCLI.json(rootPath, ["image", "commit", "ctr", "app:1", "--mtime", "ns"])
        let ref = "\(registry.address)/strata/app:1"
        let pushed = try await StrataCLI.json(rootPath, ["push", "app:1", ref, "--json"])
        let digest = (pushed["target"] as? [String: Any])?["digest"] as? String ?? "-"

        // A fresh Strata root: same digest, the container's tree.
        let fresh = t.at("fresh")
        let pulled = try await StrataCLI.json(fresh, ["pull", ref, "--unpack", "--json"])
        #expect((pulled["target"] as? [String: Any])?["digest"] as? String == digest)
        #expect(try RegistryTests.unpackedTree(pulled, root: fresh, snapshotter: "overlay", t) == container)

        // containerd: the same tree, and the image runs.
        let out = t.directory("containerd")
        let r = try await Tool.run(Self.script, [ref, out, "/bin/cat", "/etc/app"])
        #expect(r.succeeded, "\(r.stderr)")
        #expect(try DirectorySnapshot.take(out + "/rootfs", directoryTimes: false) == container)
        let ran = try? String(contentsOfFile: out + "/run.out", encoding: .utf8)
        #expect(ran == "committed\n", "the container printed \(ran ?? "nothing")")

        // The same image as an OCI archive: `ctr images import` takes it.
        let name = "docker.io/strata/app:1"
        _ = try await StrataCLI.json(rootPath, ["image", "tag", "app:1", name])
        _ = try await StrataCLI.json(rootPath, ["image", "export", name, t.at("app.tar")])
        let imported = t.directory("imported")
        let i = try await Tool.run(Self.script, ["--import", t.at("app.tar"), name, imported, "/bin/cat", "/etc/app"])
        #expect(i.succeeded, "\(i.stderr)")
        #expect(try DirectorySnapshot.take(imported + "/rootfs", directoryTimes: false) == container)
        let ranImported = try? String(contentsOfFile: imported + "/run.out", encoding: .utf8)
        #expect(ranImported == "committed\n", "the container printed \(ranImported ?? "nothing")")
    }
}
