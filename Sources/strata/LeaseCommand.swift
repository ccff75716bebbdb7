import ArgumentParser
import StrataDatabase

struct LeaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease",
        abstract: "Leases: keep what an operation creates from gc until it is linked or given up.",
        subcommands: [Create.self, List.self, Remove.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a lease and print its ID.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The lease's ID (default: a random one).") var id: String?
        @Option(help: "Seconds after which the lease stops holding anything.") var expires: Double?
        @Option(name: .customLong("label"), help: "KEY=VALUE, repeatable.") var labels: [String] = []
        @Flag(help: "Print the lease as JSON.") var json = false

        func run() throws {
            let lease = try store.open().leases.create(
                id: id, labels: try parseLabels(labels).compactMapValues { $0 }, expiresIn: expires)
            if json { return try Output.json(lease) }
            print(lease.id)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List the leases.")
        @OptionGroup var store: StoreOptions
        @Flag(help: "One JSON object per lease, with what it holds.") var json = false

        struct Listed: Encodable {
            var lease: Lease
            var resources: [LeaseResource]
        }

        func run() throws {
            let leases = try store.open().leases
            let all = try leases.list()
            if json {
                return try Output.jsonLines(all.map { Listed(lease: $0, resources: try leases.resources($0.id)) })
            }
            print("ID\tCREATED\tRESOURCES")
            for l in all { print("\(l.id)\t\(l.createdAt)\t\(try leases.resources(l.id).count)") }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove leases.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "The leases' IDs.") var ids: [String]
        @Flag(help: "Print what was removed as JSON.") var json = false

        func run() throws {
            let leases = try store.open().leases
            for id in ids { try leases.remove(id) }
            try Output.removed(ids, json: json)
        }
    }
}
