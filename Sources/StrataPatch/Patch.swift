import Foundation

/// The two kinds of patch behind one entry point: a tree patch (`PatchApplier`, a directory) and
/// a block patch (`ImagePatch`, an image file). The patch's manifest, or what is at the path,
/// decides which; callers never choose.
public enum Patch {
    /// Applies `reader` to `root`: a directory, or the image file of a block patch.
    public static func apply(_ reader: PatchReader, to root: String) throws {
        if reader.manifest.image != nil {
            try ImagePatch.apply(reader, to: root)
        } else {
            try PatchApplier(root: root).apply(reader)
        }
    }

    /// Finishes or undoes an interrupted apply to `root`. An image is replaced by one rename, so
    /// only an unfinished copy can be left beside it: removing it rolls the apply back.
    public static func recover(_ root: String) throws -> PatchApplier.Recovery {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), !isDirectory.boolValue {
            return try ImagePatch.recover(root) > 0 ? .rolledBack : .none
        }
        return try PatchApplier(root: root).recover()
    }
}
