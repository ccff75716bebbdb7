import ArgumentParser
import StrataStore

struct ImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Images in the content store, named in its index.json.",
        subcommands: [
            Commit.self, Unpack.self, List.self, Inspect.self, Tag.self, Remove.self, Export.self, Import.self,
        ])

    struct Unpack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an image and unpack its layers into committed snapshots named by chain ID.",
            discussion: """
                SOURCE is an OCI image layout directory or a tar archive of one (plain, gzip or zstd). \
                The image is named REF in the store; `strata snapshot prepare KEY CHAINID` then gives a \
                writable snapshot over it.
                """)
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "An OCI layout directory or archive.") var source: String
        @Argument(help: "The image's name in the store.") var ref: String
        @Option(help: "The image's name in SOURCE (default: REF, or SOURCE's only image).") var from: String?
        @Flag(help: "Print the result as JSON.") var json = false
        @OptionGroup var processing: ProcessorOptions

        func run() throws {
            let root = try options.store.open()
            let processors = try processing.processors(root: root.path)
            let result = try root.withLease(options.lease) { lease in
                let target = try ImageImporter(store: root.content, lease: lease)
                    .importImage(from: source, as: ref, source: from)
                var unpacker = ImageUnpacker(
                    root: root, snapshotter: try root.snapshotter(options.snapshotter), lease: lease)
                unpacker.processors = processors
                if !json {
                    unpacker.onLayer = { i, chain, applied in
                        Output.note("layer \(i + 1): \(chain) \(applied ? "unpacked" : "already present")")
                    }
                }
                return try unpacker.unpack(target)
            }
            if json { return try Output.json(result) }
            print(result.chainID)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the images.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "One JSON object per image.") var json = false

        func run() throws {
            let images = try store.open().content.images()
            if json { return try Output.jsonLines(images) }
            print("NAME\tDIGEST\tSIZE\tMEDIATYPE")
            for i in images { print("\(i.name)\t\(i.target.digest)\t\(i.target.size)\t\(i.target.mediaType)") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove images from index.json (their blobs and snapshots go at the next gc).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The names.") var names: [String]
        @Flag(help: "Print what was removed as JSON.") var json = false

        func run() throws {
            let content = try store.open().content
            for n in names { try content.removeImage(n) }
            try Output.removed(names, json: json)
        }
    }
}
