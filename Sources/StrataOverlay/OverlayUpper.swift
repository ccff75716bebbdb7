import StrataFS

/// How an overlayfs upper directory (one layer of a stack) records what it removes: a deleted
/// entry is a 0/0 character device in its place (a whiteout), and a directory that hides every
/// lower entry below it carries `trusted.overlay.opaque=y`. Whoever reads or writes a layer in
/// overlayfs' form goes through these; OCI's `.wh.` names are StrataArchive's `Whiteout`.
public enum OverlayUpper {
    /// Whether `m` is a whiteout.
    public static func isWhiteout(_ m: FileMetadata) -> Bool {
        m.type == .characterDevice && m.rdevMajor == 0 && m.rdevMinor == 0
    }

    /// Creates a whiteout named `name` in `dir` (where nothing of that name may be left), owned by
    /// `owner` when given.
    public static func writeWhiteout(_ name: [UInt8], in dir: Handle, owner: (uid: UInt32, gid: UInt32)? = nil)
        throws(FSError)
    {
        try dir.makeNode(name, mode: FileType.characterDevice.rawValue, major: 0, minor: 0)
        if let owner { try dir.changeOwner(name, uid: owner.uid, gid: owner.gid) }
    }

    /// Marks the directory `dir` opaque.
    public static func makeOpaque(_ dir: Handle) throws(FSError) {
        try dir.setXattr(key: OverlayXattr.opaque, value: OverlayXattr.opaqueValue)
    }

    /// Whether the directory `name` in `dir` (`.` for `dir` itself) is opaque.
    public static func isOpaque(_ name: [UInt8], in dir: Handle) throws(FSError) -> Bool {
        try dir.xattr(name, key: OverlayXattr.opaque) == OverlayXattr.opaqueValue
    }

    /// Whether an entry carries what this format cannot be read without: a `redirect_dir` rename
    /// (a directory) or a `metacopy` copy-up (a file). nil when it carries neither.
    public static func unreadable(_ name: [UInt8], in dir: Handle, _ m: FileMetadata) throws(FSError) -> String? {
        if m.type == .directory, try dir.xattr(name, key: OverlayXattr.redirect) != nil {
            return "a redirect_dir rename"
        }
        if m.type == .regular, try dir.xattr(name, key: OverlayXattr.metacopy) != nil { return "a metacopy copy-up" }
        return nil
    }
}
