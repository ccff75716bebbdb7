import ArgumentParser
import Foundation
import StrataFS
import StrataLayers
import StrataPatch
import StrataRefs
import StrataStore
import StrataStreams

#if canImport(Glibc)
    import Glibc
#endif

/// `strata patch`: a container's changes as a compact patch with block-level deltas.
struct PatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch", abstract: "Patches: the changes from BASE to TARGET, with block-level deltas.",
        subcommands: [Create.self, Apply.self, Recover.self, Inspect.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the patch that turns BASE into TARGET.",
            discussion: """
                BASE and TARGET are directories or snapshot:KEY (a snapshot in the state root). A modified \
                regular file of 64 KiB or more that BASE also has is stored as a delta against BASE's \
                version when that is smaller. The patch records BASE's identity; `patch apply` checks it. \
                With --block, BASE and TARGET are image files (disk or VM images): the patch holds the 4 KiB \
                blocks that differ and the target's holes, and rebuilds the image byte for byte.
                """)
        @OptionGroup var store: StoreOptions
        @Option(help: "overlay or native, for snapshot: arguments.") var snapshotter: String?
        @Argument(help: "The base: a directory or snapshot:KEY.") var base: String
        @Argument(help: "The target: a directory or snapshot:KEY.") var target: String
        @Option(name: .shortAndLong, help: "The patch file to write.") var output: String
        @Flag(help: "BASE and TARGET are image files: a bit-exact block-level patch.") var block = false
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() throws {
            if block {
                let (b, t) = (try Handle.openFile(path: base), try Handle.openFile(path: target))
                let summary = try AtomicFile.write(to: output) { try ImagePatch.create(base: b, target: t, to: $0) }
                return try PatchCommand.show(summary, json: json)
            }
            let (b, t) = (try RefSpec(parsing: base, in: .patch), try RefSpec(parsing: target, in: .patch))
            let open = { [store, snapshotter] in try store.open().snapshotter(snapshotter) }
            let summary = try b.withTree(snapshotter: open) { b in
                try t.withTree(snapshotter: open) { t in
                    guard let t else { throw ValidationError("TARGET cannot be scratch") }
                    return try AtomicFile.write(to: output) { try PatchCreator().create(base: b, target: t, to: $0) }
                }
            }
            try PatchCommand.show(summary, json: json)
        }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply PATCH to ROOT, all or nothing.",
            discussion: """
                Refuses, naming the first differing path, when ROOT is not the patch's base. New entries are \
                staged beside ROOT, then moved in under a journal; an interrupted apply is finished or undone \
                by the next `patch apply` or `patch recover`.
                """)
        @Argument(help: "The patch file.") var patch: String
        @Argument(help: "The directory to change (for a --block patch, the image file).") var root: String
        @Flag(help: "Print the summary as JSON.") var json = false

        func run() throws {
            let reader = try PatchReader(path: patch)
            try Patch.apply(reader, to: root)
            try PatchCommand.show(PatchCreator.Summary(reader), json: json)
        }
    }

    struct Recover: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Finish or undo an apply to ROOT that was interrupted.")
        @Argument(help: "The directory (or the image file of a --block patch).") var root: String
        @Flag(help: "Print the outcome as JSON.") var json = false

        func run() throws {
            let outcome = try Patch.recover(root)
            if json { return try Output.json(["recovery": outcome.rawValue]) }
            print(outcome.rawValue)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what PATCH holds.")
        @Argument(help: "The patch file.") var patch: String
        @Flag(help: "Print the summary and every operation as JSON.") var json = false

        func run() throws {
            let reader = try PatchReader(path: patch)
            let summary = PatchCreator.Summary(reader)
            if json {
                struct Out: Encodable {
                    var summary: PatchCreator.Summary
                    var manifest: PatchManifest
                }
                return try Output.json(Out(summary: summary, manifest: reader.manifest))
            }
            try PatchCommand.show(summary, json: false)
            for op in reader.manifest.operations {
                let data = op.frame == nil ? "" : op.delta == true ? " (delta)" : " (whole)"
                print("  \(op.kind.rawValue)\t\(op.type ?? "")\t\(op.path)\(data)")
            }
        }
    }

    static func show(_ s: PatchCreator.Summary, json: Bool) throws {
        if json { return try Output.json(s) }
        print(
            "base \(s.base): \(s.operations) operations, \(s.files) files (\(s.deltas) as deltas), \(s.deletes) deletes; "
                + "\(s.size) bytes, \(s.saved) bytes less than the changed files whole (\(s.wholeBytes) bytes)")
    }
}
