import ArgumentParser
import StrataBlock

/// `strata block`: what the block snapshotter needs from the host.
struct BlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block", abstract: "The block snapshotter's reflink pool.",
        subcommands: [BlockPoolCommand.self])
}

struct BlockPoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "An xfs reflink pool in a file under the state root, for hosts whose filesystem cannot reflink.",
        discussion: """
            The pool is a sparse file (ROOT/block-pool.img) holding an xfs made with -m reflink=1, loop-mounted \
            at ROOT/snapshots/block, where block snapshots live: a snapshot's image is then a clone of its \
            parent's, made in milliseconds. Any command that needs the pool mounts it again after an unmount \
            or a reboot.
            """,
        subcommands: [Init.self, Status.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Make the pool (sparse: it takes disk space as images fill it) and mount it."
        )
        @OptionGroup var store: StoreOptions
        @Option(help: "The pool's size: bytes, or with K, M, G or T (powers of 1024).", transform: ByteSize.parse)
        var size: Int64

        func run() throws {
            _ = try store.open()
            try BlockPool(root: store.path).create(size: size)
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "The pool's file, mount, size, use and free space (mounting it if need be).")
        @OptionGroup var store: StoreOptions
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let s = try BlockPool(root: store.path).status()
            if json { return try Output.json(s) }
            print("pool:      \(s.image) (\(ByteSize.text(s.allocated)) on disk)")
            print("mounted:   \(s.mounted ? s.mountPoint : "no")")
            print("size:      \(ByteSize.text(s.size))")
            print("used:      \(ByteSize.text(s.used))")
            print("free:      \(ByteSize.text(s.free))")
        }
    }
}

/// Sizes on the command line: `10G`, `512M`, `300000000`.
enum ByteSize {
    static func parse(_ text: String) throws -> Int64 {
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text.uppercased())
        if digits.hasSuffix("IB") {
            digits = digits.dropLast(2)
        } else if digits.hasSuffix("B") {
            digits = digits.dropLast()
        }
        var scale: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            scale = unit
            digits = digits.dropLast()
        }
        guard let n = Int64(digits), n > 0 else {
            throw ValidationError("\(text): not a size (bytes, or with K, M, G, T)")
        }
        let (bytes, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw ValidationError("\(text): too large") }
        return bytes
    }

    static func text(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
