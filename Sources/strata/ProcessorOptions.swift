import ArgumentParser
import Foundation
import StrataProcessors

/// containerd's stream processors for layers of other media types: declared in `--config FILE`
/// (or the state root's `strata.toml`) as `[stream_processors."ID"]`, with payloads for
/// descriptor 3 and a time limit.
struct ProcessorOptions: ParsableArguments {
    @Option(
        name: .customLong("config"),
        help: "A TOML file declaring [stream_processors] as containerd does (default: strata.toml in the state root).")
    var config: String?
    @Option(name: .customLong("payload"), help: "ID=FILE: FILE's bytes on descriptor 3 of stream processor ID.")
    var payloads: [String] = []
    @Option(help: "Kill a stream processor still running after this many seconds, and fail.")
    var processorTimeout: Double?

    /// The processors of `--config`, else of the `strata.toml` of the state root at `root`
    /// (none without either).
    func processors(root: String?) throws -> StreamProcessors {
        var p = try StreamProcessors.chosen(config: config, stateRoot: root)
        for item in payloads {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw ValidationError("--payload \"\(item)\" must be ID=FILE")
            }
            let id = String(item[..<eq])
            let file = String(item[item.index(after: eq)...])
            guard p.processor(id: id) != nil else {
                throw ProcessorError.unknownProcessor(id, configured: p.processors.map(\.id))
            }
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw ValidationError("--payload \(id): cannot read \(file)")
            }
            p.payloads[id] = Array(bytes)
        }
        if let processorTimeout {
            guard processorTimeout > 0, processorTimeout <= 86_400 else {
                throw ValidationError("--processor-timeout is more than 0 and at most 86400 seconds")
            }
            p.timeout = .milliseconds(Int64(processorTimeout * 1000))
        }
        return p
    }
}
