import Foundation
import Testing

/// The CLI as the store tests drive it: `strata --root ROOT ARGS...` must succeed; its stdout as
/// a JSON object (empty when it printed none).
public enum StrataCLI {
    public static func json(_ root: String, _ args: [String]) async throws -> [String: Any] {
        let r = try await Tool.strata(["--root", root] + args)
        #expect(r.succeeded, "strata \(args.joined(separator: " ")): \(r.stderr)")
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
    }
}
