import ArgumentParser
import StrataFS

@main
struct Strata: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Turn filesystem trees into OCI layers and back, with containerd's semantics.",
        subcommands: [DiffCommand.self, ApplyCommand.self, ChangesCommand.self, DemoCommand.self])

    static func main() {
        Identity.raiseOpenFileLimit()
        do {
            var command = try parseAsRoot()
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

    static func isParserError(_ e: Error) -> Bool {
        String(reflecting: type(of: e)).contains("ArgumentParser")
    }
}
