import ArgumentParser
import Foundation
import StrataArchive
import StrataFS
import StrataStreams

struct ContentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content", abstract: "The content store: an OCI image layout of blobs, with labels.",
        subcommands: [List.self, Info.self, Get.self, Ingest.self, Label.self, Remove.self, Active.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the blobs.")
        @OptionGroup var store: ReadStoreOptions
        @Flag(help: "One JSON object per blob.") var json = false

        func run() throws {
            let blobs = try store.open().content.list()
            if json { return try Output.jsonLines(blobs) }
            print("DIGEST\tSIZE\tLABELS")
            for b in blobs { print("\(b.digest)\t\(b.size)\t\(Output.labels(b.labels))") }
        }
    }

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one blob's record.")
        @OptionGroup var store: ReadStoreOptions
        @Argument(help: "The blob's digest.") var digest: DigestArgument
        @Flag(help: "Print it as JSON.") var json = false

        func run() throws {
            let info = try store.open().content.info(digest.value)
            if json { return try Output.json(info) }
            print(
                "digest:  \(info.digest)\nsize:    \(info.size)\ncreated: \(info.createdAt)\nupdated: \(info.updatedAt)"
            )
            for (k, v) in info.labels.sorted(by: { $0.key < $1.key }) { print("label:   \(k)=\(v)") }
        }
    }

    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a blob's bytes to stdout or a file.")
        @OptionGroup var store: ReadStoreOptions
        @Argument(help: "The blob's digest.") var digest: DigestArgument
        @Option(name: .shortAndLong, help: "Write here instead of stdout.") var output: String?

        func run() throws {
            let source = HandleSource(try store.open().content.open(digest.value))
            let out = try output.map { try Handle.openFile(path: $0, flags: O_WRONLY | O_CREAT | O_TRUNC) }
            let sink = HandleSink(out ?? Handle(adopting: dup(1), displayPath: "stdout"))
            try source.copy(to: sink)
        }
    }

    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store a blob from a file or stdin, resuming an interrupted ingest of the same ref.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The ingest's name: a second ingest with the same ref resumes the first.") var ref: String
        @Option(help: "The digest the blob must have.") var expected: DigestArgument?
        @Option(help: "The size the blob must have.") var size: Int64?
        @Option(name: .customLong("label"), help: "KEY=VALUE, repeatable.") var labels: [String] = []
        @Option(help: "Hold the ingest and the blob in this lease.") var lease: String?
        @Argument(help: "The file to read (default: stdin).") var file: String?
        @Flag(help: "Print the blob's record as JSON.") var json = false

        func run() throws {
            let root = try store.open()
            let labels = try parseLabels(labels).compactMapValues { $0 }
            let writer = try root.content.writer(ref: ref, total: size, lease: lease)
            defer { writer.close() }
            let input = try file.map { try Handle.openFile(path: $0) } ?? Handle(adopting: dup(0), displayPath: "stdin")
            try writer.resume(from: input)
            let info = try writer.commit(size: size, expected: expected?.value, labels: labels)
            if json { return try Output.json(info) }
            print(info.digest)
        }
    }

    struct Label: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set (KEY=VALUE) or remove (KEY=) labels.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The blob's digest.") var digest: DigestArgument
        @Argument(help: "KEY=VALUE to set, KEY= to remove.") var labels: [String]
        @Flag(help: "Print the blob's record as JSON.") var json = false

        func run() throws {
            let info = try store.open().content.label(digest.value, try parseLabels(labels))
            if json { return try Output.json(info) }
            print(Output.labels(info.labels))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove blobs.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The blobs' digests.") var digests: [DigestArgument]
        @Flag(help: "Print what was removed as JSON.") var json = false

        func run() throws {
            let root = try store.open()
            for d in digests { try root.content.delete(d.value) }
            try Output.removed(digests.map(\.value.description), json: json)
        }
    }

    struct Active: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List ingests in progress or left behind (resumable by their ref).")
        @OptionGroup var store: ReadStoreOptions
        @Flag(help: "One JSON object per ingest.") var json = false

        func run() throws {
            let ingests = try store.open().content.ingests().filter { store.shows($0.ref) }
            if json { return try Output.jsonLines(ingests) }
            print("REF\tOFFSET\tTOTAL")
            for i in ingests { print("\(i.ref)\t\(i.offset)\t\(i.total.map(String.init) ?? "-")") }
        }
    }
}

/// A `sha256:<hex>` argument, checked when parsed.
struct DigestArgument: ExpressibleByArgument {
    let value: Digest
    init?(argument: String) {
        guard let d = Digest(parsing: argument) else { return nil }
        value = d
    }
}
