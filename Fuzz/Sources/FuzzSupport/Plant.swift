import CFuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The planted crash that proves a harness can fail: with `STRATA_FUZZ_PLANT=1`, an input that
/// starts with `PLNT` is a finding. The prefix is one 32-bit comparison with a constant: libFuzzer's
/// comparison tracing (part of `-sanitize=fuzzer`'s instrumentation) hands the constant to its
/// mutator, so fuzzing reaches the prefix within seconds, while a build without the
/// instrumentation hits it once in 2^32 inputs: the smoke (`scripts/fuzz.sh --smoke`) fails.
public enum Plant {
    /// Whether planting is on (read once: the environment does not change while fuzzing).
    public static let enabled: Bool = getenv("STRATA_FUZZ_PLANT").map { String(cString: $0) == "1" } ?? false

    /// Whether `data` is the planted input, planting being on.
    public static func reached(_ data: UnsafePointer<UInt8>, _ size: Int) -> Bool {
        guard enabled, size >= 4 else { return false }
        return UInt32(littleEndian: UnsafeRawPointer(data).loadUnaligned(as: UInt32.self)) == 0x544E_4C50  // "PLNT"
    }

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
