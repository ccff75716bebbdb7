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
