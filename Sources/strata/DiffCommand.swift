import ArgumentParser
import StrataLayers

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Write the OCI layer that turns LOWER into UPPER, and print its descriptor.")

    @Argument(help: "The lower (older) directory tree.") var lower: String
    @Argument(help: "The upper (newer) directory tree.") var upper: String
    @Option(name: .shortAndLong, help: "Where to write the layer.") var output: String
    @OptionGroup var layer: LayerOptions
    @Flag(help: "Print the descriptor as one JSON object.") var json = false

    func run() throws {
        var differ = Differ(options: try layer.diffOptions())
        let progress = ProgressLine("diff")
        differ.onProgress = progress.update
        let descriptor = try differ.write(lower: lower, upper: upper, output: output)
        progress.finish()
        try Output.descriptor(descriptor, json: json)
    }
}
