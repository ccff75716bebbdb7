import StrataFS

#if canImport(Glibc)
    import Glibc
#endif

/// ext4 filesystems in sparse files: a block snapshot's image. The one place that knows how Strata
/// makes, mounts and checks them.
public enum Ext4Image {
    /// A new snapshot's size when none is asked for: sparse, so it costs only what it holds.
    public static let defaultSize: Int64 = 10 << 30

    /// Options of a writable mount: no atime writes (a read would change blocks a diff then
    /// sees), no devices or setuid through it.
    public static let writableOptions = ["rw", "noatime", "nodev", "nosuid"]
    /// Options of a read-only mount of an image Strata did not just write (a guest may have):
    /// no journal replay (`noload`), nothing executed or opened as a device through it.
    public static let readOnlyOptions = ["ro", "noload", "noatime", "nodev", "nosuid", "noexec"]

    /// Makes an empty ext4 of `size` bytes in the new file `name` in `dir` (sparse: a fresh image
    /// allocates its metadata and journal only). Nothing is left when it fails.
    public static func create(_ name: [UInt8], in dir: Handle, size: Int64) throws {
        guard size >= 16 << 20, size <= 1 << 50 else {
            throw BlockError.badSize("an ext4 image of \(size) bytes: it must be 16 MiB to 1 PiB")
        }
        let file = try dir.open(name, flags: O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        do {
            try file.truncate(to: size)
            // Root-owned root directory, no reserved blocks (no other user writes there), no
            // lazy inode-table init running after the first mount and changing blocks.
            try FilesystemTool.run(
                "mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "root_owner=0:0,lazy_itable_init=0", dir.childPath(name)])
        } catch {
            try? dir.unlink(name)
            throw error
        }
    }

    /// Checks the image at `path` without changing it (`e2fsck -fn`): what a guest wrote is
    /// trusted only once this passes.
    public static func check(_ path: String) throws {
        try FilesystemTool.run("e2fsck", ["-f", "-n", path])
    }
}
