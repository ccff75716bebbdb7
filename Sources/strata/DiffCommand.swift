import ArgumentParser
import StrataCompression
import StrataDiff
import StrataFS

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Write the OCI layer that turns LOWER into UPPER, and print its descriptor.")

    @Argument(help: "The lower (older) directory tree.") var lower: String
    @Argument(help: "The upper (newer) directory tree.") var upper: String
    @Option(name: .shortAndLong, help: "Where to write the layer.") var output: String
    @Option(help: "gzip, zstd or none.") var compression: Compression = .gzip
    @Option(help: "Compression level: gzip 1-9 (default 6), zstd 1-19 (default 3).") var level: Int?
    @Option(name: .customLong("source-date-epoch"), help: "Clamp entry times to this UNIX time.") var sourceDateEpoch:
        Int64?
    @Option(help: "Xattrs to compare and carry: capability (as containerd) or all.") var xattrs: XattrPolicy =
        .capability
    @Option(help: "mtime precision written: s (as containerd) or ns (PAX records).") var mtime: MtimePrecision = .s
    @Flag(help: "Print the descriptor as one JSON object.") var json = false

    func validate() throws {
        if let level, !compression.levels.contains(level) {
            throw ValidationError(
                "--level \(level) is out of range for \(compression.rawValue) (\(compression.levels.lowerBound)-\(compression.levels.upperBound))"
            )
        }
        if let e = sourceDateEpoch, e < 0 {
            throw ValidationError("--source-date-epoch must be a non-negative UNIX time")
        }
    }

    func run() throws {
        var differ = Differ(
            options: DiffOptions(
                compression: compression, level: level, sourceDateEpoch: sourceDateEpoch.map { FileTime(seconds: $0) },
                xattrs: xattrs, nanosecondTimes: mtime == .ns))
        let progress = ProgressLine("diff")
        var lastProgress = LayerProgress(entries: 0, bytes: 0)
        differ.onProgress = {
            lastProgress = $0
            progress.update($0)
        }
        let descriptor = try differ.write(lower: lower, upper: upper, output: output)
        progress.finish(lastProgress)
        try Output.descriptor(descriptor, json: json)
    }
}
