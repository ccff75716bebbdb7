import CFuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The planted crash that proves a harness can fail: with `STRATA_FUZZ_PLANT=1`, an input that
/// starts with `PLNT` is a finding. The bytes are compared one at a time, so libFuzzer reaches the
/// prefix within seconds only when edge coverage really reaches it: a build without coverage
/// cannot find it, and the smoke (`scripts/fuzz.sh --smoke`) fails.
public enum Plant {
    /// Whether planting is on (read once: the environment does not change while fuzzing).
    public static let enabled: Bool = getenv("STRATA_FUZZ_PLANT").map { String(cString: $0) == "1" } ?? false

    private static let magic: [UInt8] = Array("PLNT".utf8)

    /// Whether `data` is the planted input, planting being on.
    public static func reached(_ data: UnsafePointer<UInt8>, _ size: Int) -> Bool {
        guard enabled, size >= magic.count else { return false }
        for i in 0..<magic.count {
            guard step(data[i], magic[i]) else { return false }
        }
        return true
    }

    /// One byte of the prefix, not inlined so the comparisons are not merged into one: libFuzzer
    /// sees each further matching byte as a new hit count of this edge.
    @inline(never)
    private static func step(_ byte: UInt8, _ expected: UInt8) -> Bool { byte == expected }

    /// The planted crash of a harness without an oracle.
    public static func crash(_ harness: String) -> Never {
        Oracle.fail("\(harness): planted crash (STRATA_FUZZ_PLANT=1 and a PLNT input)")
    }
}

/// How a harness reports a finding: one line on stderr, then `abort()`, which libFuzzer reports
/// as a deadly signal and saves the input for.
public enum Oracle {
    public static func fail(_ message: String) -> Never {
        printError("STRATA-FUZZ FINDING: \(message)")
        abort()
    }
}

/// The input as an array (Strata's sources take arrays).
public func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// Writes a line to standard error (unbuffered: the process may abort next).
public func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
