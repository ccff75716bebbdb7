import ArgumentParser
import StrataArchive
import StrataFS
import StrataLayers
import StrataProcessors
import StrataStreams

struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Unpack a layer onto ROOT in place and print its diffID.")

    @Argument(help: "The layer file (gzip, zstd or uncompressed tar, detected from its bytes).") var layer: String
    @Argument(help: "The directory to unpack onto.") var root: String
    @Option(name: .customLong("expect-diffid"), help: "Fail unless the uncompressed stream has this digest.")
    var expectDiffID: String?
    @Option(
        name: .customLong("overlay-upper"),
        help: "ROOT is an overlayfs upper directory over these lower directories (colon-separated, nearest first).")
    var overlayLowers: String?
    @Option(
        help:
            "capability (as containerd) or all: the layer carries every xattr, so merged directories lose those it omits."
    )
    var xattrs: XattrPolicy = .capability
    @Flag(help: "Read and check the whole layer (digests, tar structure) but write nothing to ROOT.")
    var dryRun = false
    @Option(help: "The layer's media type: its processor chain (default: detect the compression from the bytes).")
    var mediaType: String?
    @OptionGroup var processing: ProcessorOptions
    @Flag(help: "Print {\"diffID\": ..., \"processors\": [the chain's steps]} as JSON.") var json = false

    func run() throws {
        var expected: Digest?
        if let expectDiffID {
            guard let d = Digest(parsing: expectDiffID) else {
                throw ValidationError("--expect-diffid must be sha256:<64 hex digits>")
            }
            expected = d
        }
        var options = ApplyOptions()
        if let overlayLowers {
            options.overlayLowers = try overlayLowers.split(separator: ":").map {
                try Handle.openDirectory(path: String($0))
            }
        }
        options.xattrs = xattrs
        options.onWarning = { Output.warning($0) }
        let progress = ProgressLine("apply")
        options.onEntry = { progress.update(LayerProgress(entries: $0, bytes: $1)) }
        var applier = Applier(options: options, expectedDiffID: expected)
        applier.dryRun = dryRun
        applier.mediaType = mediaType
        applier.processors = try processing.processors(root: nil)
        let result = try applier.apply(layer: layer, root: root)
        progress.finish(LayerProgress(entries: result.entries, bytes: result.uncompressedSize))
        if json {
            struct Applied: Encodable {
                var diffID: String
                var processors: [String]
            }
            try Output.json(Applied(diffID: result.diffID.description, processors: result.steps))
        } else {
            print(result.diffID)
        }
    }
}
