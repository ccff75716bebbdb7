import StrataFS

/// overlayfs' copy-up of a directory, for a layer written straight into an upper directory: a
/// directory created there implicitly (the parent of an entry, not an entry itself) gets the
/// owner, mode, times and xattrs of the directory it covers in the first lower layer that has
/// one, as overlayfs would have given it.
public struct OverlayCopyUp {
    /// The lower layers' roots, the most immediate first.
    public let lowers: [InRootResolver]
    /// Copy owners too (the caller runs as root and keeps owners).
    public var sameOwner: Bool

    public init(lowers: [Handle], sameOwner: Bool) {
        self.lowers = lowers.map(InRootResolver.init(root:))
        self.sameOwner = sameOwner
    }

    /// Copies the attributes onto the directory `name` just created in `parent`, whose path in
    /// the layer is `path`. `trusted.*` xattrs are not copied (overlayfs' own among them).
    public func copy(_ name: [UInt8], in parent: Handle, path: RootedPath) throws(FSError) {
        for lower in lowers {
            guard let dir = try lower.directory(path.parent, create: false), let meta = try dir.statIfExists(name)
            else { continue }
            guard meta.type == .directory else { return }
            if sameOwner { try parent.changeOwner(name, uid: meta.uid, gid: meta.gid) }
            try parent.changeMode(name, meta.permissions)
            try parent.setTimes(name, access: meta.accessTime, modification: meta.modificationTime)
            for key in try dir.xattrNames(name) where !key.hasPrefix("trusted.") {
                guard let v = try dir.xattr(name, key: key) else { continue }
                do throws(FSError) {
                    try parent.setXattr(name, key: key, value: v, createOnly: true)
                } catch {
                    guard error.errno == .fileExists || error.errno == .notSupported else { throw error }
                }
            }
            return
        }
    }
}
