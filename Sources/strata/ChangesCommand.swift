import ArgumentParser
import StrataChanges
import StrataFS

struct ChangesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes", abstract: "Print the changes from LOWER to UPPER, one per line, as docker diff does.")

    @Argument(help: "The lower (older) directory tree.") var lower: String
    @Argument(help: "The upper (newer) directory tree.") var upper: String
    @Option(help: "Xattrs to compare: capability (as containerd) or all.") var xattrs: XattrPolicy = .capability
    @Flag(help: "One JSON object per line, with the entry's metadata.") var json = false
    @Flag(help: "Print the number of events and the file content bytes read on stderr.") var stats = false

    func run() throws {
        var printer = ChangePrinter(json: json)
        try TreeComparer(xattrPolicy: xattrs).compare(
            lower: Handle.openDirectory(path: lower), upper: Handle.openDirectory(path: upper), into: &printer)
        try printer.flush()
        if stats {
            Output.note("events: \(printer.events), content bytes compared: \(ContentComparer.bytesCompared)")
        }
    }
}

/// Prints change events; buffers output so that large change sets print quickly.
struct ChangePrinter: ChangeSink {
    let json: Bool
    var buffer: [UInt8] = []
    var events = 0

    mutating func handle(_ c: Change) throws -> WalkDecision {
        guard c.kind != .unmodified else { return .proceed }
        events += 1
        if json {
            buffer.append(contentsOf: try JSONLine.encode(ChangeRecord(c)))
        } else {
            buffer.append(contentsOf: Array("\(c.kind.letter) ".utf8))
            buffer.append(contentsOf: c.path)
            buffer.append(0x0A)
        }
        if buffer.count > 1 << 16 { try flush() }
        return .proceed
    }

    mutating func flush() throws {
        StandardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
