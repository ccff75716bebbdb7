import StrataArchive
import StrataFS
import StrataLayers
import Testing

/// What must hold inside root after a hostile layer was applied. Paths are resolved inside root
/// (containerd's `fs.RootPath`), as containerd's validators do.
public indirect enum BreakoutExpectation: Sendable {
    /// Both paths are the same inode (containerd's `sameFile`).
    case sameFile(String, String)
    /// The entries themselves (last components not followed) are one inode: a hard link to a
    /// symlink links the symlink.
    case sameEntry(String, String)
    /// Both exist and are different inodes (containerd's `notSameFile`).
    case notSameFile(String, String)
    /// A regular file with exactly this content.
    case content(String, String)
    case absent(String)
    /// The entry itself (last component not followed) has this type.
    case type(String, FileType)
    /// The entry itself has these permission bits ("" is root).
    case mode(String, UInt32)
    /// The entry itself is a symlink with this target.
    case symlink(String, String)
    /// Applying throws an error whose text contains this (and the entry's name).
    case fails(String)
    /// Nothing beyond "the host is unchanged" (entries containerd skips).
    case nothing
    case all([BreakoutExpectation])

    /// The texts the apply error must contain; empty when apply must succeed.
    public var failureTexts: [String] {
        switch self {
        case .fails(let t): return [t]
        case .all(let list): return list.flatMap(\.failureTexts)
        default: return []
        }
    }

    public static func passwdIntact() -> BreakoutExpectation { .content("etc/passwd", "all users") }
}

/// One row of a breakout table: prepare root, apply `entries`, check `expect`, and always check
/// that nothing outside root changed.
public struct BreakoutCase: Sendable, CustomTestStringConvertible {
    public var name: String
    public var prepare: @Sendable (Sandbox) throws -> Void
    public var entries: @Sendable (Sandbox) -> [Entry]
    public var expect: BreakoutExpectation

    public init(
        _ name: String, prepare: @escaping @Sendable (Sandbox) throws -> Void = { _ in },
        _ entries: [Entry], expect: BreakoutExpectation
    ) {
        self.name = name
        self.prepare = prepare
        self.entries = { _ in entries }
        self.expect = expect
    }

    /// A case whose entries need the sandbox's absolute path.
    public init(
        _ name: String, prepare: @escaping @Sendable (Sandbox) throws -> Void = { _ in },
        entries: @escaping @Sendable (Sandbox) -> [Entry], expect: BreakoutExpectation
    ) {
        self.name = name
        self.prepare = prepare
        self.entries = entries
        self.expect = expect
    }

    public var testDescription: String { name }

    /// Runs the case in a fresh sandbox.
    public func run(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let box = try Sandbox(name)
        try prepare(box)
        try box.recordHost()
        let layer = entries(box)
        let outcome = Result { try box.apply(layer) }
        try box.check(expect, outcome, sourceLocation: sourceLocation)
        try box.expectHostUnchanged(sourceLocation: sourceLocation)
    }
}

extension Sandbox {
    public func check(
        _ e: BreakoutExpectation, _ outcome: Result<ApplyResult, any Error>, sourceLocation: SourceLocation
    ) throws {
        let texts = e.failureTexts
        switch outcome {
        case .success where !texts.isEmpty:
            Issue.record("applied, but should have failed with \(texts)", sourceLocation: sourceLocation)
        case .failure(let error) where texts.isEmpty:
            Issue.record("apply failed: \(error)", sourceLocation: sourceLocation)
            return
        case .failure(let error):
            for text in texts {
                #expect("\(error)".contains(text), "error was: \(error)", sourceLocation: sourceLocation)
            }
            #expect(
                error is EntryError || error is WhiteoutError, "unexpected error type: \(type(of: error))",
                sourceLocation: sourceLocation)
        case .success:
            break
        }
        try check(e, sourceLocation: sourceLocation)
    }

    public func check(_ e: BreakoutExpectation, sourceLocation: SourceLocation) throws {
        switch e {
        case .sameFile(let a, let b):
            #expect(try metadata(a) != nil, "\(a) is missing", sourceLocation: sourceLocation)
            #expect(try sameFile(a, b), "\(a) is not the same file as \(b)", sourceLocation: sourceLocation)
        case .sameEntry(let a, let b):
            let (ea, eb) = (try entry(a), try entry(b))
            #expect(
                ea != nil && ea?.inode == eb?.inode && ea?.device == eb?.device, "\(a) and \(b) are not one entry",
                sourceLocation: sourceLocation)
        case .notSameFile(let a, let b):
            #expect(try metadata(a) != nil, "\(a) is missing", sourceLocation: sourceLocation)
            #expect(try metadata(b) != nil, "\(b) is missing", sourceLocation: sourceLocation)
            #expect(try !sameFile(a, b), "\(a) is the same file as \(b)", sourceLocation: sourceLocation)
        case .content(let p, let text):
            #expect(try self.text(p) == text, "content of \(p)", sourceLocation: sourceLocation)
        case .absent(let p):
            #expect(try entry(p) == nil, "\(p) should not exist", sourceLocation: sourceLocation)
        case .type(let p, let t):
            #expect(try entry(p)?.type == t, "type of \(p)", sourceLocation: sourceLocation)
        case .mode(let p, let bits):
            #expect(
                try entry(p)?.permissions == bits, "mode of \(p.isEmpty ? "root" : p)", sourceLocation: sourceLocation)
        case .symlink(let p, let target):
            #expect(try linkTarget(p) == target, "symlink \(p)", sourceLocation: sourceLocation)
        case .fails, .nothing:
            break
        case .all(let list):
            for x in list { try check(x, sourceLocation: sourceLocation) }
        }
    }
}
