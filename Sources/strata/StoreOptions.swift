import ArgumentParser
import Foundation
import StrataStore

/// `--root`: the state root of commands that use the stores (also `STRATA_ROOT`).
struct StoreOptions: ParsableArguments {
    @Option(help: "The state root (default: /var/lib/strata as root, else $XDG_DATA_HOME/strata).")
    var root: String?

    func open() throws -> StateRoot {
        try StateRoot(path: root ?? ProcessInfo.processInfo.environment["STRATA_ROOT"] ?? StateRoot.defaultPath)
    }
}

/// `KEY=VALUE` labels; `KEY=` removes the label where removal applies.
func parseLabels(_ items: [String]) throws -> [String: String?] {
    var out: [String: String?] = [:]
    for item in items {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
            throw ValidationError("label \"\(item)\" must be KEY=VALUE")
        }
        let value = String(item[item.index(after: eq)...])
        out[String(item[..<eq])] = .some(value.isEmpty ? nil : value)
    }
    return out
}
