import ArgumentParser
import Foundation
import Logging
import StrataService
import StrataStore

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve containerd's Snapshots, Content and Diff gRPC services on a unix socket.",
        discussion: """
            For containerd's proxy_plugins (see the README). What is created through the socket lives in \
            ROOT/containerd, which containerd's garbage collector governs: strata gc never touches it, and \
            Strata's commands read it with --containerd. SIGTERM drains the calls in flight and exits 0.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "The unix socket to listen on.") var address: String
    @Option(help: "overlay or native (default: overlay where it mounts).") var snapshotter: String?
    @Option(help: "trace, debug (each diff and apply), info, notice, warning, error or critical.")
    var logLevel = LogLevel(.info)
    @Flag(help: "Print one JSON line when ready.") var json = false
    @OptionGroup var processing: ProcessorOptions

    struct Ready: Encodable {
        var address: String
        var root: String
        var snapshotter: String
    }

    func run() throws {
        let root = store.path
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        var configured = ContainerdServer(root: root, address: address, snapshotter: snapshotter)
        configured.logger.logLevel = logLevel.level
        configured.processors = try processing.processors(root: root)
        let (server, address, json) = (configured, address, json)
        try runAsync {
            try await server.run { backend in
                if json {
                    try? Output.json(Ready(address: address, root: root, snapshotter: backend))
                } else {
                    Output.note("serving containerd's APIs on \(address) (\(backend) snapshots in \(root)/containerd)")
                }
            }
        }
    }
}

/// A `--log-level` value: one of swift-log's levels.
struct LogLevel: ExpressibleByArgument {
    let level: Logger.Level
    init(_ level: Logger.Level) { self.level = level }
    init?(argument: String) {
        guard let l = Logger.Level(rawValue: argument) else { return nil }
        level = l
    }
    var defaultValueDescription: String { level.rawValue }
}
