import ArgumentParser
import StrataCompression
import StrataFS
import StrataLayers
import StrataProcessors
import StrataStore

/// The options that decide a written layer's bytes, shared by `diff` and `snapshot diff`.
struct LayerOptions: ParsableArguments {
    @Option(help: "gzip, zstd or none.") var compression: Compression = .gzip
    @Option(help: "Compression level: gzip 1-9 (default 6), zstd 1-19 (default 3).") var level: Int?
    @Option(name: .customLong("source-date-epoch"), help: "Clamp entry times to this UNIX time.") var sourceDateEpoch:
        Int64?
    @Option(help: "Xattrs to compare and carry: capability (as containerd) or all.") var xattrs: XattrPolicy =
        .capability
    @Option(help: "mtime precision written: s (as containerd) or ns (PAX records).") var mtime: MtimePrecision = .s
    @Option(
        help:
            "A declared stream processor that encodes the tar stream instead of --compression; its returns is the media type."
    )
    var compressor: String?
    @OptionGroup var processing: ProcessorOptions

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

    /// The options for a layer writer; `root` (when the command has one) supplies the declared
    /// processors unless `--config` does.
    func diffOptions(root: StateRoot? = nil) throws -> DiffOptions {
        var options = DiffOptions(
            compression: compression, level: level, sourceDateEpoch: sourceDateEpoch.map { FileTime(seconds: $0) },
            xattrs: xattrs, nanosecondTimes: mtime == .ns)
        if let compressor { try options.useCompressor(compressor, from: processing.processors(root: root?.path)) }
        return options
    }
}
