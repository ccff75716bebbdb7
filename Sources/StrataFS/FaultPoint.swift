#if canImport(Glibc)
    import Glibc
#endif

/// Crash points for tests of crash safety: with `STRATA_FAULT=NAME` in the environment the process
/// kills itself (`SIGKILL`, no cleanup of any kind) when it reaches the step `NAME`, so a test can
/// prove that a crash between any two durable steps (fsync, rename, database commit) leaves the
/// stores consistent. Unset, a point costs one comparison.
public enum FaultPoint {
    private static let armed: String? = getenv("STRATA_FAULT").map { String(cString: $0) }

    /// Kills the process here when `STRATA_FAULT` names this step.
    @inline(__always)
    public static func reach(_ name: StaticString) {
        guard let armed, armed == name.description else { return }
        kill(getpid(), SIGKILL)
    }
}
