import ArgumentParser
import Foundation
import StrataContainerd
import StrataLayers
import StrataOCI
import StrataStreams

/// `strata containerd`: Strata's differ on a running containerd's own snapshots, through its API.
struct ContainerdCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "containerd",
        abstract: "Diff and commit the containers of a containerd daemon, with the overlay fast path.",
        discussion: """
            Talks to containerd through its gRPC socket and needs no change to its configuration. On \
            containerd's overlayfs snapshotter the layer is read from the snapshot's upper directory alone; \
            any other snapshotter is diffed by walking both trees. Needs root, as containerd does.
            """,
        subcommands: [ContainerdCommitCommand.self, ContainerdDiffCommand.self])
}

/// Where containerd is, and which namespace.
struct ContainerdOptions: ParsableArguments {
    @Option(help: "containerd's socket.") var address = ContainerdClient.defaultAddress
    @Option(help: "containerd namespace (default: $CONTAINERD_NAMESPACE, else default).") var namespace: String?

    var resolvedNamespace: String {
        namespace ?? ProcessInfo.processInfo.environment["CONTAINERD_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "default"
    }

    /// Runs `body` connected, cancelled (and so tidied up) by SIGINT, SIGTERM or SIGHUP.
    func run<T: Sendable>(_ body: @escaping @Sendable (ContainerdClient) async throws -> T) throws -> T {
        let (address, namespace) = (address, resolvedNamespace)
        return try runAsyncCancellable {
            try await ContainerdClient.with(address: address, namespace: namespace, body)
        }
    }
}

/// A layer as the containerd commands print it.
struct LayerJSON: Encodable {
    var mediaType: String
    var digest: String
    var size: Int64
    var diffID: String

    init(_ d: Descriptor) {
        mediaType = d.mediaType
        digest = d.digest.description
        size = d.size
        diffID = d.uncompressedDigest?.description ?? ""
    }
}

struct ContainerdCommitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Commit container CONTAINER's changes as image NEWIMAGE in containerd (as nerdctl commit).",
        discussion: """
            A running task is paused while the layer is computed and resumed on every way out, errors and \
            signals included. With --no-pause a container that keeps writing may give a layer that mixes \
            before and after; entries changed during the diff are then listed as a warning (and in --json). \
            The layer, config and manifest are written under a lease, so containerd's garbage collector \
            cannot take them before the image is created; `ctr run NEWIMAGE` runs it and \
            `ctr images push` pushes it.
            """)
    @OptionGroup var containerd: ContainerdOptions
    @Argument(help: "The container.") var container: String
    @Argument(help: "The image to create or update.") var image: String
    @Flag(inversion: .prefixedNo, help: "Pause a running task while diffing.") var pause = true
    @Option(help: "The history entry's comment.") var message: String?
    @OptionGroup var layer: LayerOptions
    @Flag(help: "Print the result as one JSON object.") var json = false

    struct Result: Encodable {
        var image: String
        var manifest: Descriptor
        var config: Descriptor
        var layer: LayerJSON
        var method: DiffMethod
        var fallback: String?
        var snapshotter: String
        var snapshot: String
        var paused: Bool
        var changedDuringDiff: [String]
    }

    func run() throws {
        let options = try layer.diffOptions()
        let (container, image, pause, message) = (container, image, pause, message)
        let progress = Confined(ProgressLine("diff"))
        let r = try containerd.run { client in
            var differ = ContainerdDiffer(client: client, options: options)
            differ.onProgress = { progress.value.update($0) }
            var committer = ContainerdCommitter(differ: differ)
            committer.pause = pause
            committer.message = message
            return try await committer.commit(container: container, as: image)
        }
        progress.value.finish()
        if !r.changedDuringDiff.isEmpty {
            Output.warning(
                "container \(container) changed while it was diffed (--no-pause): "
                    + r.changedDuringDiff.joined(separator: ", "))
        }
        if json {
            return try Output.json(
                Result(
                    image: r.image, manifest: r.manifest, config: r.config, layer: LayerJSON(r.layer), method: r.method,
                    fallback: r.fallback, snapshotter: r.snapshotter, snapshot: r.snapshot, paused: r.paused,
                    changedDuringDiff: r.changedDuringDiff))
        }
        print("\(r.image) \(r.manifest.digest)")
    }
}

struct ContainerdDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Write the layer of a container's (or a snapshot's) changes into containerd's content store.",
        discussion: """
            For tools that assemble their own images. The layer is held by a lease (--lease, or a new one \
            that expires in 24 hours, printed with --json) until something references it. The container is \
            not paused.
            """)
    @OptionGroup var containerd: ContainerdOptions
    @Argument(help: "A container, or a snapshot key in --snapshotter.") var name: String
    @Option(help: "The snapshotter of a snapshot key.") var snapshotter = "overlayfs"
    @Option(help: "Hold the layer by this existing lease.") var lease: String?
    @Option(name: .shortAndLong, help: "Also write the layer to this file.") var output: String?
    @OptionGroup var layer: LayerOptions
    @Flag(help: "Print the result as one JSON object.") var json = false

    struct Result: Encodable {
        var layer: LayerJSON
        var method: DiffMethod
        var fallback: String?
        var snapshotter: String
        var snapshot: String
        var lease: String
    }

    func run() throws {
        let options = try layer.diffOptions()
        let (name, snapshotter, leaseID, output) = (name, snapshotter, lease, self.output)
        let progress = Confined(ProgressLine("diff"))
        let r = try containerd.run { client in
            var differ = ContainerdDiffer(client: client, options: options)
            differ.onProgress = { progress.value.update($0) }
            let snapshot = try await ContainerdSnapshot.resolve(name, snapshotter: snapshotter, client)
            let lease: ContainerdLease
            if let leaseID { lease = ContainerdLease(id: leaseID) } else { lease = try await .create(client) }
            let computed: ContainerdDiffer.Computed
            do {
                computed = try await differ.compute(snapshot, lease: lease, output: output)
                try await differ.store(computed, lease: lease)
            } catch {
                // A lease made here holds nothing worth keeping now.
                if leaseID == nil { await Task { try? await lease.delete(client) }.value }
                throw error
            }
            return Result(
                layer: LayerJSON(computed.layer), method: computed.method, fallback: computed.fallback,
                snapshotter: snapshot.snapshotter, snapshot: snapshot.key, lease: lease.id)
        }
        progress.value.finish()
        if json { return try Output.json(r) }
        print(r.layer.digest)
    }
}
