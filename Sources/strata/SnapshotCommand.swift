import ArgumentParser
import StrataFS
import StrataSnapshots
import StrataStore

/// `--snapshotter`: which backend (default: overlay where an overlay mount works, else native).
struct SnapshotterOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "overlay or native (default: overlay where it works here).") var snapshotter: String?
    @Option(help: "Hold what the command creates in this lease (then not a gc root of its own).") var lease: String?

    func open() throws -> LocalSnapshotter { try store.open().snapshotter(snapshotter).leased(lease) }
}

/// The snapshotter for commands that only read: also the containerd partition's, with
/// `--containerd`.
struct ReadSnapshotterOptions: ParsableArguments {
    @OptionGroup var read: ReadStoreOptions
    @Option(help: "overlay or native (default: overlay where it works here).") var snapshotter: String?

    /// By default the partition's is the one `strata serve` uses there.
    func open() throws -> LocalSnapshotter {
        try read.open().snapshotter(reading: snapshotter)
    }

    /// The snapshots `--containerd-namespace` selects (all without it).
    func list() throws -> [SnapshotInfo] { try open().list().filter { read.shows($0.name) } }
}

struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "The snapshotter: containerd's Active, View and Committed snapshots.",
        subcommands: [
            Prepare.self, View.self, Commit.self, Remove.self, List.self, Stat.self, Usage.self, Mounts.self,
            Label.self, SnapshotDiffCommand.self, Tree.self,
        ])

    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an Active (writable) snapshot; print its mounts.")
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "The new snapshot's key.") var key: String
        @Argument(help: "The committed parent (none: the empty tree).") var parent: String?
        @Option(name: .customLong("label"), help: "KEY=VALUE, repeatable.") var labels: [String] = []
        @Flag(help: "Print the mounts as JSON.") var json = false

        func run() throws {
            let labels = try parseLabels(labels).compactMapValues { $0 }
            try Output.mounts(try options.open().prepare(key, parent: parent, labels: labels), json: json)
        }
    }

    struct View: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a read-only View; print its mounts.")
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "The new view's key.") var key: String
        @Argument(help: "The committed parent (none: the empty tree).") var parent: String?
        @Option(name: .customLong("label"), help: "KEY=VALUE, repeatable.") var labels: [String] = []
        @Flag(help: "Print the mounts as JSON.") var json = false

        func run() throws {
            let labels = try parseLabels(labels).compactMapValues { $0 }
            try Output.mounts(try options.open().view(key, parent: parent, labels: labels), json: json)
        }
    }

    struct Commit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Commit the Active snapshot KEY as NAME.")
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "The committed snapshot's name.") var name: String
        @Argument(help: "The Active snapshot's key.") var key: String
        @Option(name: .customLong("label"), help: "KEY=VALUE, repeatable (labels are not inherited).")
        var labels: [String] = []
        @Flag(help: "Print the committed snapshot as JSON.") var json = false

        func run() throws {
            let s = try options.open()
            try s.commit(name, key: key, labels: try parseLabels(labels).compactMapValues { $0 })
            if json { try Output.json(try s.stat(name)) }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove snapshots.")
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "The keys.") var keys: [String]
        @Flag(help: "Print what was removed as JSON.") var json = false

        func run() throws {
            let s = try options.open()
            for k in keys { try s.remove(k) }
            try Output.removed(keys, json: json)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the snapshots.")
        @OptionGroup var options: ReadSnapshotterOptions
        @Flag(help: "One JSON object per snapshot.") var json = false

        func run() throws {
            let all = try options.list()
            if json { return try Output.jsonLines(all) }
            print("KEY\tPARENT\tKIND")
            for i in all { print("\(i.name)\t\(i.parent ?? "")\t\(i.kind.rawValue)") }
        }
    }

    struct Stat: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot.")
        @OptionGroup var options: ReadSnapshotterOptions
        @Argument(help: "The key.") var key: String
        @Flag(help: "Print it as JSON.") var json = false

        func run() throws {
            let i = try options.open().stat(key)
            if json { return try Output.json(i) }
            print("name:    \(i.name)\nkind:    \(i.kind.rawValue)\nparent:  \(i.parent ?? "-")")
            print("created: \(i.createdAt)\nupdated: \(i.updatedAt)\nlabels:  \(Output.labels(i.labels))")
        }
    }

    struct Usage: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disk use of the snapshot's own layer.")
        @OptionGroup var options: ReadSnapshotterOptions
        @Argument(help: "The key.") var key: String
        @Flag(help: "Print it as JSON.") var json = false

        func run() throws {
            let u = try options.open().usage(key)
            if json { return try Output.json(u) }
            print("size:   \(u.size)\ninodes: \(u.inodes)")
        }
    }

    struct Mounts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "How to mount an Active snapshot or a View.")
        @OptionGroup var options: ReadSnapshotterOptions
        @Argument(help: "The key.") var key: String
        @Flag(help: "Print the mounts as JSON.") var json = false

        func run() throws { try Output.mounts(try options.open().mounts(key), json: json) }
    }

    struct Label: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set (KEY=VALUE) or remove (KEY=) labels.")
        @OptionGroup var options: SnapshotterOptions
        @Argument(help: "The key.") var key: String
        @Argument(help: "KEY=VALUE to set, KEY= to remove.") var labels: [String]
        @Flag(help: "Print the snapshot as JSON.") var json = false

        func run() throws {
            let i = try options.open().update(key, labels: try parseLabels(labels))
            if json { return try Output.json(i) }
            print(Output.labels(i.labels))
        }
    }
}

struct MountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mount", abstract: "Mount an Active snapshot or a View at DIR.")
    @OptionGroup var options: SnapshotterOptions
    @Argument(help: "The key.") var key: String
    @Argument(help: "The directory to mount on.") var target: String
    @Flag(help: "Print the mounts made as JSON.") var json = false

    func run() throws {
        let mounts = try options.open().mounts(key)
        try Mounter.mount(mounts, at: target)
        if json { try Output.json(mounts) }
    }
}

struct UmountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "umount", abstract: "Unmount DIR.")
    @Argument(help: "The mount point.") var target: String
    @Flag(help: "Print what was unmounted as JSON.") var json = false

    func run() throws {
        try Mounter.unmount(target)
        try Output.removed([target], json: json)
    }
}

extension SnapshotCommand {
    struct Tree: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the snapshots as a tree of parents and children (as `ctr snapshots tree`).")
        @OptionGroup var options: ReadSnapshotterOptions
        @Flag(help: "One JSON object per snapshot, with its depth, in tree order.") var json = false

        func run() throws {
            let nodes = SnapshotTreeNode.tree(of: try options.list())
            if json { return try Output.jsonLines(nodes) }
            for n in nodes {
                let indent = String(repeating: "  ", count: n.depth)
                print(n.depth == 0 ? n.snapshot.name : "\(indent)\\_ \(n.snapshot.name)")
            }
        }
    }
}
