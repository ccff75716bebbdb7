import ArgumentParser
import Foundation
import StrataContent
import StrataStore

extension ImageCommand {
    struct Commit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an image of an Active snapshot's changes over its image (docker commit).",
            discussion: """
                The layer is the snapshot's CreateDiff against its parent (an overlay snapshot's upper \
                directory alone); the image is the base image's config with the layer's diffID and a \
                history entry added, and a new manifest, named NEWREF in the store. The base is --from, or \
                the image whose unpacked chain is KEY's parent when exactly one is.
                """)
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "The Active snapshot.") var key: String
        @Argument(help: "The new image's name.") var newRef: String
        @Option(help: "The base image (default: the image whose chain is KEY's parent).") var from: String?
        @Option(help: "The history entry's comment.") var message: String?
        @OptionGroup var layer: LayerOptions
        @Flag(help: #"Print {"manifest": DESCRIPTOR, "layer": DESCRIPTOR}."#) var json = false

        func run() throws {
            let root = try options.store.open()
            var committer = ImageCommitter(root: root, snapshotter: try root.snapshotter(options.snapshotter))
            committer.options = try layer.diffOptions(root: root)
            committer.lease = options.lease
            let progress = ProgressLine("commit")
            committer.onProgress = progress.update
            let r = try committer.commit(key, as: newRef, base: from, message: message)
            progress.finish()
            if json { return try Output.json(r) }
            print("\(newRef): manifest \(r.manifest.digest), layer \(r.layer.digest) (\(r.layer.size) bytes)")
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an image: its target, manifest and config (as JSON with --json).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The image's name.") var name: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let i = try store.open().content.inspect(name)
            if json { return try Output.json(i) }
            print("name:     \(i.name)\ntarget:   \(i.target.digest) (\(i.target.mediaType))")
            print("manifest: \(i.manifest.digest)\nconfig:   \(i.config.digest)")
            for (n, l) in i.layers.enumerated() {
                print("layer \(n + 1):  \(l.digest) \(l.size) bytes, diffID \(i.diffIDs[n])")
            }
        }
    }

    struct Tag: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give image SOURCE a second name, TARGET.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The existing image.") var source: String
        @Argument(help: "The new name.") var target: String
        @Flag(help: "Print the new image as JSON.") var json = false

        func run() throws {
            let content = try store.open().content
            let image = try content.image(source)
            try content.setImage(target, image.target)
            if json { try Output.json(ImageRecord(name: target, target: image.target)) }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write an image as an OCI archive (ctr images import, skopeo oci-archive:, strata image import).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The image's name.") var name: String
        @Argument(help: "The archive to write.") var file: String
        @Flag(help: "Print the image's target descriptor as JSON.") var json = false

        func run() throws {
            let target = try ImageExporter(content: try store.open().content).export(name, to: file)
            if json { try Output.json(ImageRecord(name: name, target: target)) }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Store the image of an OCI archive or layout, under the name it carries (or NAME).")
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "An OCI archive (plain, gzip or zstd) or layout directory.") var file: String
        @Argument(help: "The name to give it (default: the archive's).") var name: String?
        @Flag(help: "From an index, every platform's manifest and blobs (default: this machine's).")
        var allPlatforms = false
        @Flag(help: "Print the image as JSON.") var json = false

        func run() throws {
            let root = try options.store.open()
            let image = try root.withLease(options.lease) { lease in
                var importer = ImageImporter(store: root.content, lease: lease)
                importer.allPlatforms = allPlatforms
                return try importer.importImage(from: file, named: name)
            }
            if json { return try Output.json(image) }
            print("\(image.name)\t\(image.target.digest)")
        }
    }
}
