import Foundation

/// The filesystem tools a block store runs (`mkfs.xfs`, `mkfs.ext4`, `e2fsck`): no library makes
/// or checks these filesystems, so e2fsprogs and xfsprogs do, as containerd's snapshotters call
/// them.
enum FilesystemTool {
    /// Runs `tool` with `arguments`; throws with its stderr unless it exits 0.
    static func run(_ tool: String, _ arguments: [String]) throws {
        guard let path = locate(tool) else { throw BlockError.toolMissing(tool) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw BlockError.toolFailed(
                ([tool] + arguments).joined(separator: " "), status: process.terminationStatus,
                stderr: String(decoding: message.prefix(4096), as: UTF8.self))
        }
    }

    /// `tool` in PATH or the sbin directories, which a root shell has but other PATHs may lack.
    static func locate(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        return dirs.map { $0 + "/" + tool }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// Why a block store operation failed.
public enum BlockError: Error, CustomStringConvertible, Equatable {
    case toolMissing(String)
    case toolFailed(String, status: Int32, stderr: String)
    case poolExists(String)
    case noPool(String)
    case badSize(String)

    public var description: String {
        switch self {
        case .toolMissing(let t):
            return "\(t) is not installed (Debian: \(t.hasPrefix("mkfs.xfs") ? "xfsprogs" : "e2fsprogs"))"
        case .toolFailed(let command, let status, let stderr):
            return "\(command) exited \(status): \(stderr.trimmingCharacters(in: .whitespacesAndNewlines))"
        case .poolExists(let p): return "a block pool exists already at \(p)"
        case .noPool(let p): return "no block pool at \(p) (strata block pool init --size N makes one)"
        case .badSize(let why): return why
        }
    }
}
