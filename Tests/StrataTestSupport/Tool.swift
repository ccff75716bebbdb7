import Foundation
import Subprocess

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The result of running an external tool.
public struct ToolResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var succeeded: Bool { status == 0 }
}

/// Runs external tools (GNU tar, python3, containerd's ctr, the strata CLI) through
/// swift-subprocess.
public enum Tool {
    @discardableResult
    public static func run(
        _ name: String, _ arguments: [String], in directory: String? = nil, input: [UInt8]? = nil
    ) async throws -> ToolResult {
        let executable: Executable = name.hasPrefix("/") ? .path(FilePath(name)) : .name(name)
        let wd = directory.map { FilePath($0) }
        let result =
            if let input {
                try await Subprocess.run(
                    executable, arguments: Arguments(arguments), workingDirectory: wd, input: .array(input),
                    output: .string(limit: 64 << 20), error: .string(limit: 1 << 20))
            } else {
                try await Subprocess.run(
                    executable, arguments: Arguments(arguments), workingDirectory: wd,
                    output: .string(limit: 64 << 20), error: .string(limit: 1 << 20))
            }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = Int32(code)
        case .signaled(let sig): status = 128 + Int32(sig)
        }
        return ToolResult(status: status, stdout: result.standardOutput, stderr: result.standardError)
    }

    /// Runs a tool and throws with its stderr when it fails.
    @discardableResult
    public static func check(_ name: String, _ arguments: [String], in directory: String? = nil) async throws
        -> ToolResult
    {
        let r = try await run(name, arguments, in: directory)
        guard r.succeeded else { throw ToolFailure(command: ([name] + arguments).joined(separator: " "), result: r) }
        return r
    }

    /// Runs `body` while `mount ARGUMENTS TARGET` is mounted, then unmounts it (lazily when
    /// `body` failed, so the failure is the one reported).
    public static func withMount(_ arguments: [String], at target: String, _ body: () async throws -> Void)
        async throws
    {
        try await check("mount", arguments + [target])
        do {
            try await body()
            try await check("umount", [target])
        } catch {
            _ = try? await run("umount", ["-l", target])
            throw error
        }
    }

    /// Runs the strata CLI built with the tests.
    @discardableResult
    public static func strata(_ arguments: [String]) async throws -> ToolResult {
        try await run(TestEnvironment.strataExecutable, arguments)
    }
}

public struct ToolFailure: Error, CustomStringConvertible {
    public var command: String
    public var result: ToolResult

    public init(command: String, result: ToolResult) {
        self.command = command
        self.result = result
    }

    public var description: String { "\(command) exited \(result.status): \(result.stderr)" }
}
