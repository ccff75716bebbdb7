/// Byte-level path helpers. Linux names are bytes, not strings: Strata keeps them as `[UInt8]`
/// so that no name is ever altered by a text decoding.
public enum PathName {
    public static let slash: UInt8 = 0x2F
    public static let dot: UInt8 = 0x2E

    /// The components of `path` after lexical cleaning as if it were rooted at `/`
    /// (like Go's `filepath.Clean("/" + path)`): empty and `.` components vanish, and `..`
    /// removes the previous component but never climbs above the root.
    public static func cleanComponents(_ path: [UInt8]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for part in path.split(separator: slash, omittingEmptySubsequences: true) {
            if part.count == 1 && part.first == dot { continue }
            if part.count == 2 && part.allSatisfy({ $0 == dot }) {
                if !out.isEmpty { out.removeLast() }
                continue
            }
            out.append(Array(part))
        }
        return out
    }

    /// Joins components into a path with a leading `/` (`/` for none).
    public static func absolute(_ components: [[UInt8]]) -> [UInt8] {
        if components.isEmpty { return [slash] }
        var out: [UInt8] = []
        for c in components {
            out.append(slash)
            out.append(contentsOf: c)
        }
        return out
    }

    /// Raw bytes of a Swift string path.
    public static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// Text for messages; invalid UTF-8 is shown with replacement characters.
    public static func display(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Text for messages about a name that may hold NUL bytes: each shown as `\0`, so that the
    /// message shows the whole name (a C consumer would stop at the first).
    public static func displayShowingNUL(_ bytes: [UInt8]) -> String {
        guard bytes.contains(0) else { return display(bytes) }
        return bytes.split(separator: 0, omittingEmptySubsequences: false).map { display(Array($0)) }.joined(
            separator: "\\0")
    }
}
