import Foundation
import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// The OCI image layout's fixed files: `oci-layout` (its version) and `index.json` (the images it
/// names), and the `blobs/sha256` directory.
public enum ImageLayout {
    public static let version = #"{"imageLayoutVersion":"1.0.0"}"#
    public static let emptyIndex =
        #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#

    /// Creates whatever of the layout is missing in `dir`; an existing layout is left as it is.
    static func initialize(_ dir: Handle) throws {
        for (name, text) in [("oci-layout", version), ("index.json", emptyIndex)] {
            let n = Array(name.utf8)
            guard try dir.statIfExists(n) == nil else { continue }
            // Renamed without replacing, so concurrent openers agree on one file: a loser's goes.
            do {
                try dir.writeAtomically(n, contents: Array((text + "\n").utf8), replace: false)
            } catch {
                guard (error as? FSError)?.errno == .fileExists else { throw error }
            }
        }
        var parent = dir
        for name in ["blobs", "sha256"] {
            let n = Array(name.utf8)
            try parent.makeDirectoryIfMissing(n, mode: 0o755)
            parent = try parent.openDirectory(n)
        }
    }
}
