import Foundation
import StrataFS

/// overlayfs mounts: the options Strata gives every one, how a stack of layers is described as a
/// `Mount`, and whether the kernel mounts them here at all.
public enum OverlayMount {
    /// Options every overlay mount gets, each where the kernel has the parameter: `index=off`, so
    /// snapshots can be remounted in other combinations, as containerd sets it; `redirect_dir=off`
    /// and `metacopy=off`, so that an upper directory holds whole entries (a renamed directory is
    /// copied, a chmod copies data) and its diff needs no lower walk.
    public static var defaultOptions: [String] {
        ["index", "redirect_dir", "metacopy"].filter {
            FileManager.default.fileExists(atPath: "/sys/module/overlay/parameters/\($0)")
        }.map { $0 + "=off" }
    }

    /// An overlay of the directories `lowers` (the top first), read-only, or writable into
    /// `upper` with overlayfs' `work` directory when both are given.
    public static func mount(lowers: [String], upper: (upper: String, work: String)? = nil, options: [String])
        -> Mount
    {
        let lower = "lowerdir=" + lowers.joined(separator: ":")
        let own = upper.map { ["workdir=\($0.work)", "upperdir=\($0.upper)"] } ?? []
        return Mount(type: "overlay", source: "overlay", options: own + [lower] + options)
    }

    /// nil when an overlay mount works in `directory`; otherwise why not. containerd checks the
    /// same way, with a tiny mount, before it picks the overlay snapshotter.
    public static func problem(in directory: String) -> String? {
        let base = directory + "/.overlay-check-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: base) }
        do {
            for d in ["l1", "l2", "u", "w", "m"] {
                try FileManager.default.createDirectory(atPath: base + "/" + d, withIntermediateDirectories: true)
            }
            let m = mount(
                lowers: ["\(base)/l1", "\(base)/l2"], upper: ("\(base)/u", "\(base)/w"), options: defaultOptions)
            try Mounter.mount([m], at: base + "/m")
            try Mounter.unmount(base + "/m", detach: true)
            return nil
        } catch {
            return "overlay mounts do not work here (\(error))"
        }
    }
}

/// The directories of an overlay mount, as containerd's overlayfs snapshotter describes a
/// snapshot: for an Active one `upperdir` over the parents' `lowerdir` list, for a View of two or
/// more layers the `lowerdir` list alone, for one layer a bind mount of its directory.
public struct OverlayDirectories: Equatable, Sendable {
    /// `upperdir`: the layer a writable mount writes into.
    public var upper: String?
    /// `lowerdir`, the top layer first (a bind mount's source as the only one).
    public var lowers: [String]

    public init(upper: String?, lowers: [String]) {
        self.upper = upper
        self.lowers = lowers
    }

    /// Options that leave an upper directory in the form `OverlayUpper` reads (per-entry redirect
    /// and metacopy copy-ups are found there, entry by entry). Any other (`userxattr`, id maps,
    /// `volatile`) makes the mount unknown.
    static let knownOptions: Set<String> = ["index", "redirect_dir", "metacopy", "xino", "ro", "rw", "workdir"]

    /// The directories of `mounts` when they are one overlay mount with only known options, or
    /// one bind mount; nil for anything else.
    public init?(_ mounts: [Mount]) {
        guard mounts.count == 1, let m = mounts.first else { return nil }
        if m.type == "bind", !m.source.isEmpty {
            self.init(upper: nil, lowers: [m.source])
            return
        }
        guard m.type == "overlay" else { return nil }
        var upper: String?
        var lowers: [String] = []
        for option in m.options {
            let (key, value) =
                option.firstIndex(of: "=").map {
                    (String(option[..<$0]), String(option[option.index(after: $0)...]))
                } ?? (option, "")
            switch key {
            case "upperdir": upper = value
            case "lowerdir": lowers = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            default: guard Self.knownOptions.contains(key) else { return nil }
            }
        }
        guard !lowers.isEmpty, !lowers.contains(where: \.isEmpty), upper.map({ !$0.isEmpty }) ?? true else {
            return nil
        }
        self.init(upper: upper, lowers: lowers)
    }

    /// When overlayfs' own upper directory holds exactly the changes of `upper` over `lower`:
    /// that layer's directory and the layers below it (top first), whose merged tree is `lower`.
    ///
    /// Either `upper` writes into `upperdir` over the very `lowerdir` list `lower` shows (an
    /// Active snapshot against its parent's View, containerd's CreateDiff), or `upper` is a
    /// read-only stack whose top layer sits on exactly `lower`'s layers (a committed snapshot's
    /// View against its parent's, as BuildKit diffs). nil for any other pair: walk both trees.
    public static func layer(of upper: [Mount], over lower: [Mount]) -> (layer: String, lowers: [String])? {
        guard let u = OverlayDirectories(upper), let l = OverlayDirectories(lower), l.upper == nil else {
            return nil
        }
        if let layer = u.upper {
            return u.lowers == l.lowers ? (layer, l.lowers) : nil
        }
        guard u.lowers.count >= 2, Array(u.lowers.dropFirst()) == l.lowers else { return nil }
        return (u.lowers[0], l.lowers)
    }
}
