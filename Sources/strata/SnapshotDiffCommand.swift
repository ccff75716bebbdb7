import ArgumentParser
import StrataFS
import StrataLayers
import StrataStore
import StrataStreams

/// `strata snapshot diff`: containerd's CreateDiff, into the content store.
struct SnapshotDiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Write the layer of snapshot KEY's changes over its parent (or PARENT) into the content store.",
        discussion: """
            Prints the layer's descriptor. An overlay snapshot is diffed from its upper directory alone, a \
            native one from the evidence its copy left; --json also says which way was taken.
            """)
    @OptionGroup var options: SnapshotterOptions
    @Argument(help: "The snapshot.") var key: String
    @Argument(help: "The snapshot to diff against (default: KEY's parent).") var parent: String?
    @Option(name: .shortAndLong, help: "Also write the layer to this file.") var output: String?
    @OptionGroup var layer: LayerOptions
    @Option(name: .customLong("label"), help: "KEY=VALUE for the blob, repeatable.") var labels: [String] = []
    @Flag(help: "Print the descriptor as one JSON object.") var json = false

    struct Result: Encodable {
        var mediaType: String
        var digest: String
        var size: Int64
        var annotations: [String: String]?
        var method: DiffMethod
    }

    func run() throws {
        let root = try options.store.open()
        var differ = SnapshotDiffer(
            root: root, snapshotter: try root.snapshotter(options.snapshotter),
            options: try layer.diffOptions(root: root))
        differ.labels = try parseLabels(labels).compactMapValues { $0 }
        differ.lease = options.lease
        let progress = ProgressLine("diff")
        differ.onProgress = progress.update
        let (d, method) = try differ.diff(key, against: parent.map { .snapshot($0) } ?? .parent)
        progress.finish()
        if let output {
            let blob = try root.content.open(d.digest)
            _ = try AtomicFile.write(to: output) { try $0.copyData(from: blob) }
        }
        if json {
            return try Output.json(
                Result(
                    mediaType: d.mediaType, digest: d.digest.description, size: d.size, annotations: d.annotations,
                    method: method))
        }
        try Output.descriptor(d, json: false)
    }
}
