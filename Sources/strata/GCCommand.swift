import ArgumentParser
import StrataGC
import StrataStore

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove what no root reaches: blobs, snapshots, expired leases, abandoned ingests, leftovers.",
        discussion: """
            Roots are the images in index.json, snapshots created without --lease, unexpired leases, and \
            anything labelled containerd.io/gc.root. Waits for other strata processes using the root.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: "Seconds to wait for other processes using the root.") var wait: Double = 60
    @Flag(help: "Print what was removed as JSON.") var json = false

    func run() throws {
        let r = try GarbageCollector(root: try store.open()).collect(wait: wait)
        if json { return try Output.json(r) }
        print("blobs:       \(r.blobs) (\(r.blobBytes) bytes)")
        print("snapshots:   \(r.snapshots) (\(r.snapshotBytes) bytes committed)")
        print("ingests:     \(r.ingests)")
        print("leases:      \(r.leases) expired")
        print("leftovers:   \(r.temporaryDirectories)")
    }
}
