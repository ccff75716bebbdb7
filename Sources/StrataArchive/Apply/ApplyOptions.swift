import StrataFS

/// How a tar stream is applied (`TarApplier`).
public struct ApplyOptions {
    /// Set owners from the headers. Defaults to true only when running as root, as GNU tar does.
    public var sameOwner: Bool
    /// Overlay upper mode: the lower directories, most immediate first. Whiteouts become 0/0
    /// character devices, opaque markers the `trusted.overlay.opaque` xattr, and directories
    /// created implicitly copy their attributes from the first lower that has them.
    public var overlayLowers: [Handle]?
    /// `.all` when the layer was written with every xattr (`strata diff --xattrs all`): a directory
    /// merged onto an existing one then loses the xattrs its header no longer carries, since a tar
    /// entry cannot express an xattr's removal. `.capability` keeps them, as containerd does.
    public var xattrs: XattrPolicy = .capability
    /// Receives warnings for things skipped on purpose (for example `trusted.*` xattrs).
    public var onWarning: ((String) -> Void)?
    /// Threads that write regular files' data and metadata behind the thread reading the stream
    /// (see `WriteBehind`); 0 does everything in stream order on the calling thread.
    public var writers = 2
    /// Called after each entry with the entry count and the tar bytes read so far.
    public var onEntry: ((Int, Int64) -> Void)?

    public init(sameOwner: Bool? = nil, overlayLowers: [Handle]? = nil) {
        self.sameOwner = sameOwner ?? (Identity.effectiveUID == 0)
        self.overlayLowers = overlayLowers
    }
}

/// A failure while applying a tar stream, naming the entry.
public struct EntryError: Error, CustomStringConvertible {
    public var entry: String
    public var reason: String

    public init(entry: String, reason: String) {
        self.entry = entry
        self.reason = reason
    }

    public var description: String { "entry \(entry): \(reason)" }
}
