import Foundation
import StrataFS
import Testing

/// Facts about where the tests run, and the rule for missing tools: under `CI=true` a test whose
/// tool or privilege is missing fails; elsewhere it is skipped with a message saying why.
public enum TestEnvironment {
    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"
    public static let isRoot = Identity.effectiveUID == 0

    /// Whether `name` is on PATH.
    public static func hasTool(_ name: String) -> Bool {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return paths.contains { access("\($0)/\(name)", X_OK) == 0 }
    }

    /// Whether a test needing these tools (and root, if asked) can run. Returns false to skip;
    /// under CI a missing requirement is a failure, reported through `fail`.
    public static func requirementsMet(tools: [String] = [], root: Bool = false, fail: (String) -> Void) -> Bool {
        var missing = tools.filter { !hasTool($0) }
        if root && !isRoot { missing.append("root privileges") }
        guard missing.isEmpty else {
            let message = "requires \(missing.joined(separator: ", ")), which this machine lacks"
            if isCI { fail(message + " (CI=true: missing requirements fail)") } else { print("SKIPPED: " + message) }
            return false
        }
        return true
    }

    /// Whether overlayfs mounts work here (root and kernel support).
    public static var hasOverlay: Bool {
        guard isRoot, let fs = try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8) else { return false }
        return fs.contains("overlay")
    }

    /// The built `strata` executable next to the test bundle.
    public static var strataExecutable: String {
        let bundle = Bundle.main.bundlePath
        var dir = URL(fileURLWithPath: bundle)
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("strata").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return ".build/debug/strata"
    }

    /// Whether snapshotter `backend` can run here; under CI a missing overlay is a failure.
    public static func backendAvailable(_ backend: String) -> Bool {
        guard backend == "overlay", !TestEnvironment.hasOverlay else { return true }
        let why = "the overlay backend needs overlay mounts, which this machine lacks"
        if TestEnvironment.isCI { Issue.record(Comment(rawValue: why)) } else { print("SKIPPED: \(why)") }
        return false
    }
}
