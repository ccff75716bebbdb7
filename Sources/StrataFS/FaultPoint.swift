#if canImport(Glibc)
    import Glibc
#endif

/// Crash points for tests of crash safety: with `STRATA_FAULT=NAME` in the environment the process
/// kills itself (`SIGKILL`, no cleanup of any kind) when it reaches the step `NAME`, so a test can
/// prove that a crash between any two durable steps (fsync, rename, database commit) leaves the
/// stores consistent. `NAME#N` kills at the Nth time the step is reached (a step repeated per
/// entry). Unset, a point costs one comparison.
///
/// The same points hold a process for tests of what happens meanwhile: with
/// `STRATA_HOLD=NAME:FILE`, reaching `NAME` creates `FILE` and waits until the test removes it.
public enum FaultPoint {
    private static let hold: (name: String, file: String)? = getenv("STRATA_HOLD").flatMap {
        let parts = String(cString: $0).split(separator: ":", maxSplits: 1)
        return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
    }
    private static let armed: (name: String, count: Int)? = getenv("STRATA_FAULT").map {
        let parts = String(cString: $0).split(separator: "#", maxSplits: 1)
        return (String(parts.first ?? ""), parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }
    nonisolated(unsafe) private static var hits = 0

    /// Kills the process here when `STRATA_FAULT` names this step; holds it when `STRATA_HOLD` does.
    @inline(__always)
    public static func reach(_ name: StaticString) {
        if let hold, hold.name == name.description { wait(hold.file) }
        guard let armed, armed.name == name.description else { return }
        hits += 1
        if hits >= armed.count { kill(getpid(), SIGKILL) }
    }

    /// Creates `file` and polls until it is gone.
    private static func wait(_ file: String) {
        let fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        while access(file, F_OK) == 0 { usleep(20_000) }
    }
}
