import ArgumentParser
import Foundation
import StrataStore

/// `--root`: the state root of commands that use the stores (also `STRATA_ROOT`).
struct StoreOptions: ParsableArguments {
    @Option(help: "The state root (default: /var/lib/strata as root, else $XDG_DATA_HOME/strata).")
    var root: String?

    var path: String { root ?? ProcessInfo.processInfo.environment["STRATA_ROOT"] ?? StateRoot.defaultPath }

    func open() throws -> StateRoot { try StateRoot(path: path) }
}

/// `--root`, and `--containerd` for the commands that only read: they may read the containerd
/// partition (`strata serve`'s), optionally only the keys and ingest refs of one containerd
/// namespace (containerd prefixes them `NAMESPACE/SEQ/`). Commands that change a store have no
/// such option: the partition is containerd's to change.
struct ReadStoreOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Flag(help: "Read the containerd partition (what containerd made through strata serve).")
    var containerd = false
    @Option(help: "With --containerd: only keys and ingest refs of this containerd namespace.")
    var containerdNamespace: String?

    func validate() throws {
        if containerdNamespace != nil && !containerd {
            throw ValidationError("--containerd-namespace needs --containerd")
        }
    }

    func open() throws -> StateRoot {
        containerd ? try StateRoot.containerdPartition(of: store.path, create: false) : try store.open()
    }

    /// Whether a snapshot key or ingest ref is shown: all, or those of `--containerd-namespace`.
    func shows(_ keyOrRef: String) -> Bool { StateRoot.inNamespace(containerdNamespace, keyOrRef) }
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
