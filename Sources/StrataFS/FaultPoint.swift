#if canImport(Glibc)
    import Glibc
#endif

/// Crash points for tests of crash safety: with `STRATA_FAULT=NAME` in the environment the process
/// kills itself (`SIGKILL`, no cleanup of any kind) when it reaches the step `NAME`, so a test can
/// prove that a crash between any two durable steps (fsync, rename, database commit) leaves the
/// stores consistent. `NAME#N` kills at the Nth time the step is reached (a step repeated per
/// entry). Unset, a point costs one comparison.
public enum FaultPoint {
    private static let armed: (name: String, count: Int)? = getenv("STRATA_FAULT").map {
        let parts = String(cString: $0).split(separator: "#", maxSplits: 1)
        return (String(parts.first ?? ""), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }
    nonisolated(unsafe) private static var hits = 0

    /// Kills the process here when `STRATA_FAULT` names this step.
    @inline(__always)
    public static func reach(_ name: StaticString) {
        guard let armed, armed.name == name.description else { return }
        hits += 1
        if hits >= armed.count { kill(getpid(), SIGKILL) }
    }
}
