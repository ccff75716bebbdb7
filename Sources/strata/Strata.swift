import ArgumentParser
import Foundation
import StrataFS

@main
struct Strata: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Turn filesystem trees into OCI layers and back, with containerd's semantics.",
        subcommands: [
            DiffCommand.self, ApplyCommand.self, ChangesCommand.self, DemoCommand.self, ContentCommand.self,
            LeaseCommand.self, SnapshotCommand.self, ImageCommand.self, GCCommand.self, MountCommand.self,
            UmountCommand.self, RefCommand.self, PatchCommand.self, ServeCommand.self,
            PushCommand.self, PullCommand.self, ContainerdCommand.self, BlockCommand.self,
        ])

    static func main() {
        Identity.raiseOpenFileLimit()
        do {
            var command = try parseAsRoot(globalOptionsTaken(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let e as CleanExit {
            exit(withError: e)
        } catch let e as ExitCode {
            exit(withError: e)
        } catch let e where isParserError(e) {
            exit(withError: e)
        } catch {
            Output.error("\(error)")
            exit(withError: ExitCode.failure)
        }
    }

    /// `strata --root DIR SUBCOMMAND ...`: a `--root` before the subcommand applies to it (through
    /// `STRATA_ROOT`, which every store command reads); the rest is left to the parser.
    static func globalOptionsTaken(_ args: [String]) -> [String] {
        var rest = args[...]
        while let first = rest.first, first.hasPrefix("--root") {
            if first == "--root", rest.count >= 2 {
                setenv("STRATA_ROOT", rest[rest.startIndex + 1], 1)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--root=") {
                setenv("STRATA_ROOT", String(first.dropFirst("--root=".count)), 1)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        return Array(rest)
    }

    static func isParserError(_ e: Error) -> Bool {
        String(reflecting: type(of: e)).contains("ArgumentParser")
    }
}
