import ArgumentParser
import StrataContent
import StrataRefs
import StrataStore

/// `strata ref`: BuildKit's Merge and Diff of snapshots, kept as named refs.
struct RefCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ref", abstract: "Merge and Diff refs: compose layer chains without copying files.",
        discussion: """
            A REF is snapshot:KEY (a committed snapshot), image:NAME (an image in the store), scratch (the \
            empty tree), or the NAME of a ref made here. For any A and B, `merge` of A and `diff A B` has \
            B's tree.
            """,
        subcommands: [Merge.self, Diff.self, Export.self, List.self, Remove.self])

    struct RefOptions: ParsableArguments {
        @OptionGroup var store: StoreOptions
        @Option(help: "overlay or native (default: overlay where it works here).") var snapshotter: String?
        @Flag(help: "Print the result as JSON.") var json = false
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make ref NAME: the layers of REFs applied in order, each later one on top.",
            discussion: """
                Overlay stacks the layers' own directories; native links their files into a new tree. Only \
                layers that exist as blobs alone are unpacked ("build": "copy").
                """)
        @OptionGroup var options: RefOptions
        @Argument(help: "The new ref's name.") var name: String
        @Argument(help: "The refs to merge, bottom first.") var refs: [String]

        func run() throws {
            let root = try options.store.open()
            let builder = RefBuilder(root: root, snapshotter: try root.snapshotter(options.snapshotter))
            try show(try builder.merge(name, refs.map { try RefSpec(parsing: $0) }), json: options.json)
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make ref NAME: the changes from LOWER to UPPER.",
            discussion: """
                When LOWER's layers start UPPER's chain, the ref is UPPER's layers above them, reused as they \
                are (deletions made in those layers stay in it). Otherwise, or with --simple, it is one new \
                layer comparing the two trees, which holds no trace of paths that were added and deleted \
                between them.
                """)
        @OptionGroup var options: RefOptions
        @Argument(help: "The new ref's name.") var name: String
        @Argument(help: "The lower ref.") var lower: String
        @Argument(help: "The upper ref.") var upper: String
        @Flag(help: "One layer from the differ, even when LOWER is an ancestor.") var simple = false
        @OptionGroup var layer: LayerOptions

        func run() throws {
            let root = try options.store.open()
            var builder = RefBuilder(root: root, snapshotter: try root.snapshotter(options.snapshotter))
            builder.options = try layer.diffOptions(root: root)
            let ref = try builder.diff(
                name, lower: RefSpec(parsing: lower), upper: RefSpec(parsing: upper), simple: simple)
            try show(ref, json: options.json)
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write ref NAME as an OCI image into an OCI layout: LAYOUT:TAG.",
            discussion: "Layers already stored as blobs are copied as they are; prints the manifest's descriptor.")
        @OptionGroup var options: RefOptions
        @Argument(help: "The ref.") var name: String
        @Argument(help: "LAYOUT:TAG, an OCI layout directory (created if missing) and the image's name in it.")
        var destination: String
        @OptionGroup var layer: LayerOptions

        func run() throws {
            guard let to = LayoutReference(parsing: destination) else {
                throw ValidationError("the destination must be LAYOUT:TAG, got \"\(destination)\"")
            }
            let root = try options.store.open()
            let ref = try RefRecords(root.metadata).get(name)
            var exporter = RefExporter(root: root, snapshotter: try root.snapshotter(ref.snapshotter))
            exporter.options = try layer.diffOptions(root: root)
            let result = try exporter.export(name, to: to.layout, tag: to.tag)
            try Output.descriptor(result.manifest, json: options.json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the refs.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "One JSON object per ref.") var json = false

        func run() throws {
            let refs = try RefRecords(store.open().metadata).list()
            if json { return try Output.jsonLines(refs) }
            print("NAME\tKIND\tLAYERS\tSNAPSHOTTER\tSNAPSHOT")
            for r in refs {
                print("\(r.name)\t\(r.kind.rawValue)\t\(r.layers.count)\t\(r.snapshotter)\t\(r.snapshot ?? "-")")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm", abstract: "Remove refs (their snapshots and blobs go at the next gc).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The names.") var names: [String]
        @Flag(help: "Print what was removed as JSON.") var json = false

        func run() throws {
            let records = RefRecords(try store.open().metadata)
            for n in names { try records.remove(n) }
            try Output.removed(names, json: json)
        }
    }

    static func show(_ ref: Ref, json: Bool) throws {
        if json { return try Output.json(ref) }
        print(
            "ref \(ref.name): \(ref.layers.count) layers, snapshot \(ref.snapshot ?? "-") (\(ref.build?.rawValue ?? "none"))"
        )
        for (i, l) in ref.layers.enumerated() {
            print("  \(i + 1)\t\(l.descriptor?.digest.description ?? "-")\t\(l.snapshot ?? "-")")
        }
    }
}
