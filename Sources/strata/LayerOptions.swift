import ArgumentParser
import StrataCompression
import StrataDiff
import StrataFS

/// The options that decide a written layer's bytes, shared by `diff` and `snapshot diff`.
struct LayerOptions: ParsableArguments {
    @Option(help: "gzip, zstd or none.") var compression: Compression = .gzip
    @Option(help: "Compression level: gzip 1-9 (default 6), zstd 1-19 (default 3).") var level: Int?
    @Option(name: .customLong("source-date-epoch"), help: "Clamp entry times to this UNIX time.") var sourceDateEpoch:
        Int64?
    @Option(help: "Xattrs to compare and carry: capability (as containerd) or all.") var xattrs: XattrPolicy =
        .capability
    @Option(help: "mtime precision written: s (as containerd) or ns (PAX records).") var mtime: MtimePrecision = .s

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

    var diffOptions: DiffOptions {
        DiffOptions(
            compression: compression, level: level, sourceDateEpoch: sourceDateEpoch.map { FileTime(seconds: $0) },
            xattrs: xattrs, nanosecondTimes: mtime == .ns)
    }
}
