/// overlayfs' own attributes of the entries in its layers: bookkeeping, never a file's content.
public enum OverlayXattr {
    /// `y` on a directory whose lower layers' entries are hidden.
    public static let opaque = "trusted.overlay.opaque"
    public static let redirect = "trusted.overlay.redirect"
    public static let metacopy = "trusted.overlay.metacopy"
    public static let opaqueValue = Array("y".utf8)

    /// `trusted.overlay.*`, or `user.overlay.*` as overlayfs writes them with `userxattr`.
    public static func isOverlay(_ name: String) -> Bool {
        name.hasPrefix("trusted.overlay.") || name.hasPrefix("user.overlay.")
    }
}
