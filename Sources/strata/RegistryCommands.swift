import ArgumentParser
import Foundation
import StrataOCI
import StrataRegistry
import StrataStore

/// How to reach a registry: plain HTTP only when asked (or on this machine), credentials from
/// `--username` with `--password-stdin`, else `~/.docker/config.json`.
struct RegistryOptions: ParsableArguments {
    @Flag(name: .customLong("plain-http"), help: "Use plain HTTP (always so for loopback registries).")
    var plainHTTP = false
    @Option(help: "The user name; the password is read from stdin (--password-stdin).") var username: String?
    @Flag(help: "Read the password from stdin.") var passwordStdin = false
    @Option(help: "Push blobs larger than this many MiB in PATCH chunks of this size.") var chunkSize = 16

    func validate() throws {
        if (username != nil) != passwordStdin {
            throw ValidationError("--username and --password-stdin go together")
        }
        guard (1...4096).contains(chunkSize) else { throw ValidationError("--chunk-size is 1 to 4096 (MiB)") }
    }

    func client(for ref: ImageReference) throws -> RegistryClient {
        var credentials = Credentials.dockerConfig(for: ref.host)
        if let username {
            let password = readLine(strippingNewline: true) ?? ""
            credentials = Credentials(username: username, password: password)
        }
        return try RegistryClient(
            host: ref.host, plainHTTP: plainHTTP, credentials: credentials, chunkSize: chunkSize << 20
        )
    }
}

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push", abstract: "Push an image of the store to a registry (OCI distribution).",
        discussion: "Blobs the repository has are not sent again; manifests go up with their media types.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var registry: RegistryOptions
    @Argument(help: "The image's name in the store.") var name: String
    @Argument(help: "HOST/REPOSITORY[:TAG]") var destination: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let ref = try ImageReference(parsing: destination)
        let content = try store.open().content
        let client = try registry.client(for: ref)
        let name = name
        let result = try runAsync {
            try await client.use { client in
                var pusher = ImagePusher(content: content, client: client)
                let progress = TransferProgress("pushing")
                pusher.onProgress = progress.progress
                pusher.onBlob = { d, outcome in progress.settled(d, outcome.rawValue) }
                return try await pusher.push(name, to: ref)
            }
        }
        if json { return try Output.json(result) }
        print(
            "\(ref): \(result.target.digest) (\(result.uploaded) blobs pushed, \(result.mounted) mounted, "
                + "\(result.present) already there)")
    }
}

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull", abstract: "Pull an image from a registry into the store (and unpack it with --unpack).",
        discussion: "Each blob is checked against its digest as it arrives; an interrupted pull resumes.")
    @OptionGroup var options: SnapshotterOptions
    @OptionGroup var registry: RegistryOptions
    @Argument(help: "HOST/REPOSITORY[:TAG|@DIGEST]") var source: String
    @Option(help: "The image's name in the store (default: the reference).") var name: String?
    @Option(help: "OS/ARCH to pick from an index (default: this machine's).") var platform: String?
    @Flag(help: "Unpack the layers into snapshots.") var unpack = false
    @Flag(help: "From an index, every platform's manifest and blobs (the unpack is this platform's).")
    var allPlatforms = false
    @OptionGroup var processing: ProcessorOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let ref = try ImageReference(parsing: source)
        let root = try options.store.open()
        let client = try registry.client(for: ref)
        var puller = ImagePuller(content: root.content, client: client)
        if let platform {
            guard let p = Platform(parsing: platform) else {
                throw ValidationError("--platform is OS/ARCH, as linux/amd64")
            }
            puller.platform = p
        }
        puller.allPlatforms = allPlatforms
        let progress = TransferProgress("pulling")
        puller.onProgress = progress.progress
        puller.onBlob = { d, fetched in progress.settled(d, fetched ? "done" : "present") }
        var unpacking: ImagePuller.Unpack<ImageUnpacker.Result>?
        if unpack {
            var unpacker = ImageUnpacker(root: root, snapshotter: try root.snapshotter(options.snapshotter))
            unpacker.lease = options.lease
            unpacker.processors = try processing.processors(root: root.path)
            unpacking = { [unpacker] target, platform, awaitLayer in
                var u = unpacker
                u.platform = platform
                u.awaitLayer = awaitLayer
                return try u.unpack(target)
            }
        }
        let (p, target, u) = (puller, name ?? ref.description, unpacking)
        let (pulled, unpacked) = try runAsync {
            try await client.use { _ in try await p.pull(ref, as: target, unpacking: u) }
        }
        if json { return try Output.json(PullOutput(pulled, unpack: unpacked)) }
        print("\(pulled.name): \(pulled.target.digest) (\(pulled.downloaded) blobs pulled, \(pulled.present) present)")
        if let unpacked { print(unpacked.chainID) }
    }
}

/// `pull --json`: the pull's result with what its unpack did, when there was one.
struct PullOutput: Encodable {
    var result: ImagePuller.Result
    var unpack: ImageUnpacker.Result?

    init(_ result: ImagePuller.Result, unpack: ImageUnpacker.Result?) {
        self.result = result
        self.unpack = unpack
    }

    enum Keys: String, CodingKey { case unpack }

    func encode(to encoder: any Encoder) throws {
        try result.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(unpack, forKey: .unpack)
    }
}
