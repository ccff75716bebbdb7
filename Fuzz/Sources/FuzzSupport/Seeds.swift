import CFuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The seed mode: `STRATA_FUZZ_WRITE_SEEDS=DIR harness` writes the inputs Strata's own code makes
/// (layers, patches, documents) into DIR and exits, before any fuzzing. The committed corpus
/// under `Fuzz/Corpus/` is its output, so it holds nothing Strata did not write.
public enum Seeds {
    /// Calls `write` with the requested directory, then exits, when the seed mode is on.
    public static func handle(_ harness: String, _ write: (String) throws -> Void) {
        guard let dir = getenv("STRATA_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return }
        mkdir(dir, 0o755)
        do {
            try write(dir)
        } catch {
            printError("\(harness): writing seeds: \(error)")
            exit(1)
        }
        exit(0)
    }

    /// Writes one seed file.
    public static func save(_ bytes: [UInt8], _ dir: String, _ name: String) {
        let fd = open(dir + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            printError("writing seed \(dir)/\(name): errno \(errno)")
            exit(1)
        }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
