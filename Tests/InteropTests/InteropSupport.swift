import Foundation
import StrataChanges
import StrataFS
import StrataLayers
import StrataTestSupport
import Testing

/// Shared plumbing for the interoperability tests: running tools, packing and unpacking with
/// GNU tar, applying with the strata CLI, and comparing trees.
enum Interop {
    /// `Tests/Interop`, where the shell and Python helpers live.
    static let scriptsDirectory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Interop").path

    /// Records a missing requirement (fails under CI=true, skips elsewhere).
    static func requirements(tools: [String], root: Bool = false) -> Bool {
        TestEnvironment.requirementsMet(tools: tools, root: root, fail: { Issue.record(Comment(rawValue: $0)) })
    }

    /// Runs `script` with bash (`set -euo pipefail`), throwing with its stderr when it fails.
    @discardableResult
    static func sh(_ script: String, in directory: String? = nil) async throws -> ToolResult {
        try await Tool.check("bash", ["-c", "set -euo pipefail\n" + script], in: directory)
    }

    /// Single-quotes `s` for bash.
    static func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Runs the strata CLI, throwing with its stderr when it fails.
    @discardableResult
    static func strata(_ arguments: [String]) async throws -> ToolResult {
        let r = try await Tool.strata(arguments)
        guard r.succeeded else {
            throw CommandFailed(command: (["strata"] + arguments).joined(separator: " "), result: r)
        }
        return r
    }

    /// `strata apply LAYER ROOT`.
    static func apply(_ layer: String, onto root: String) async throws {
        try await strata(["apply", layer, root])
    }

    /// `strata diff LOWER UPPER -o OUTPUT` with extra options.
    static func diff(_ lower: String, _ upper: String, to output: String, _ options: [String] = []) async throws {
        try await strata(["diff", lower, upper, "-o", output] + options)
    }

    /// The GNU tar flag that reads a compressed archive (none for plain tar).
    static func tarDecompressFlag(_ compression: String) -> String {
        switch compression {
        case "gzip": return "-z"
        case "zstd": return "--zstd"
        default: return ""
        }
    }

    /// Extracts `archive` with GNU tar into `directory` keeping owners, modes and every xattr.
    static func tarExtract(_ archive: String, into directory: String, compression: String = "none", extra: String = "")
        async throws
    {
        try await sh(
            "tar -x \(tarDecompressFlag(compression)) --xattrs --xattrs-include='*' --same-owner --numeric-owner -p "
                + "\(extra) -f \(q(archive)) -C \(q(directory))")
    }

    /// Compresses `tar` in place with the gzip or zstd CLI; returns the path of the result.
    static func compress(_ tar: String, _ compression: String) async throws -> String {
        switch compression {
        case "gzip":
            try await sh("gzip -n -f \(q(tar))")
            return tar + ".gz"
        case "zstd":
            try await sh("zstd -q -f --rm \(q(tar)) -o \(q(tar + ".zst"))")
            return tar + ".zst"
        default:
            return tar
        }
    }

    /// Writes the uncompressed tar stream of `layer` (gzip, zstd or plain) to `output`.
    static func decompress(_ layer: String, to output: String) async throws {
        try await sh(
            """
            case $(head -c 4 \(q(layer)) | od -An -tx1 | tr -d ' \\n') in
                1f8b08*)  gzip -dc \(q(layer)) > \(q(output)) ;;
                28b52ffd) zstd -dcq \(q(layer)) > \(q(output)) ;;
                *)        cp \(q(layer)) \(q(output)) ;;
            esac
            """)
    }

    /// nil when the trees at `a` and `b` are equal under `comparison`, else the first difference.
    static func difference(_ a: String, _ b: String, _ comparison: TreeVerifier) throws -> String? {
        try comparison.firstDifference(Handle.openDirectory(path: a), Handle.openDirectory(path: b))
    }

    /// Expects the two trees to be equal, naming the first difference otherwise.
    static func expectSameTree(
        _ a: String, _ b: String, _ comparison: TreeVerifier, _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let d = try difference(a, b, comparison)
        #expect(d == nil, "\(what): \(d ?? "")", sourceLocation: sourceLocation)
    }

    /// The metadata of the relative path `name` below `directory` (a final symlink not followed).
    static func stat(_ directory: String, _ name: String) throws -> FileMetadata {
        let (parent, base) = split(directory, name)
        return try Handle.openDirectory(path: parent).stat(base)
    }

    /// The xattrs of the relative path `name` below `directory`, under `policy`.
    static func xattrs(_ directory: String, _ name: String, policy: XattrPolicy = .all) throws -> Xattrs {
        let (parent, base) = split(directory, name)
        return try Handle.openDirectory(path: parent).xattrs(base, policy: policy)
    }

    private static func split(_ directory: String, _ name: String) -> (String, [UInt8]) {
        guard let slash = name.lastIndex(of: "/") else { return (directory, Array(name.utf8)) }
        return (directory + "/" + name[..<slash], Array(name[name.index(after: slash)...].utf8))
    }

    /// Builds two identical trees from one seed (lower, and upper with `mutations` random changes).
    static func generatePair(
        seed: UInt64, count: Int, mutations: Int, lower: String?, upper: String
    ) throws {
        if let lower {
            var g = TreeGenerator(seed: seed)
            try g.populate(TreeBuilder(creating: lower), count: count)
        }
        var g = TreeGenerator(seed: seed)
        let t = try TreeBuilder(creating: upper)
        try g.populate(t, count: count)
        if mutations > 0 { try g.mutate(t, count: mutations) }
    }
}

/// A command that exited non-zero, with its output.
struct CommandFailed: Error, CustomStringConvertible {
    var command: String
    var result: ToolResult
    var description: String { "\(command) exited \(result.status): \(result.stderr)\(result.stdout.suffix(2000))" }
}
