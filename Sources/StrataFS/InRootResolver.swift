import CStrata
import DequeModule
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Resolves directory paths inside a root directory as if the root were `/`, with the semantics
/// of containerd's `fs.RootPath`.
///
/// Guarantees: the directory returned is always inside the root. Symlinks met on the way are
/// followed, but an absolute target restarts at the root, a target is joined to the link's own
/// directory and cleaned lexically (so `..` in a target never climbs above the root, and a missing
/// component before `..` is no obstacle), and missing components are plain names. Paths without
/// symlinks are resolved by the kernel in one call (`openat2` with `RESOLVE_IN_ROOT` and
/// `RESOLVE_NO_SYMLINKS`); any symlink, or a kernel without `openat2`, takes the
/// component-by-component walk, whose every open uses `O_NOFOLLOW`. The final component of an
/// entry is never resolved here: callers act on it with `*at` calls and `AT_SYMLINK_NOFOLLOW`.
public final class InRootResolver {
    public let root: Handle
    /// Called after a missing directory was created: its parent, its name, and its resolved path
    /// from the root.
    public var onCreateDirectory: ((Handle, [UInt8], RootedPath) throws(FSError) -> Void)?

    private var cache: [[UInt8]: Handle] = [:]
    private var hasOpenat2 = true
    public static let maxSymlinks = 255

    public init(root: Handle) { self.root = root }

    /// Forgets cached resolutions; call after removing entries or creating symlinks.
    public func invalidate() { cache.removeAll(keepingCapacity: true) }

    /// The directory at `path`, created (mode 0755) where missing when `create` is true; nil when
    /// it does not exist and `create` is false. Only a `RootedPath` gets here: no component is
    /// empty, `.`, `..` or holds a NUL.
    public func directory(_ path: RootedPath, create: Bool) throws(FSError) -> Handle? {
        let components = path.components
        if components.isEmpty { return root }
        let key = path.bytes
        if let h = cache[key] { return h }
        if hasOpenat2 {
            let how = strata_resolve_in_root | strata_resolve_no_symlinks | strata_resolve_no_magiclinks
            let relative = Array(key.dropFirst())
            let r = withCName(relative) { p in
                retrying { strata_openat2(root.fd, p, O_RDONLY | O_DIRECTORY, 0, how) }
            }
            switch r {
            case .success(let fd):
                let h = Handle(adopting: Int32(fd), displayPath: root.childPath(relative))
                remember(key, h)
                return h
            case .failure(.noFunction):
                hasOpenat2 = false
            case .failure(.noSuchFileOrDirectory) where !create:
                return nil  // a real directory chain ends in a missing name: no symlink can rescue it
            default:
                break  // a symlink on the way, or something to create: the walk decides
            }
        }
        guard let h = try walk(components, create: create) else { return nil }
        remember(key, h)
        return h
    }

    private func remember(_ key: [UInt8], _ h: Handle) {
        if cache.count > 256 { cache.removeAll(keepingCapacity: true) }
        cache[key] = h
    }

    private func walk(_ components: [[UInt8]], create: Bool) throws(FSError) -> Handle? {
        var stack: [(handle: Handle, name: [UInt8])] = [(root, [])]
        var queue = Deque(components)
        var links = 0
        while let c = queue.popFirst() {
            let top = stack[stack.count - 1].handle
            guard let meta = try top.statIfExists(c) else {
                guard create else { return nil }
                do { try top.makeDirectory(c, mode: 0o755) } catch  where error.errno == .fileExists {
                    queue.prepend(c)  // raced with another creator: resolve it again
                    continue
                }
                stack.append((try top.openDirectory(c), c))
                try onCreateDirectory?(top, c, RootedPath(resolved: stack.dropFirst().map(\.name)))
                continue
            }
            switch meta.type {
            case .directory:
                stack.append((try top.openDirectory(c), c))
            case .symlink:
                links += 1
                if links > Self.maxSymlinks {
                    throw FSError("resolve", path: top.childPath(c), errno: .tooManySymbolicLinkLevels)
                }
                let target = try top.readLink(c)
                var joined: [UInt8] = []
                if target.first != PathName.slash {
                    joined = PathName.absolute(stack.dropFirst().map(\.name))
                    joined.append(PathName.slash)
                }
                joined.append(contentsOf: target)
                // Restart at the root with the cleaned target followed by what was left.
                stack.removeSubrange(1...)
                queue.prepend(contentsOf: PathName.cleanComponents(joined))
            default:
                throw FSError("resolve", path: top.childPath(c), errno: .notDirectory)
            }
        }
        return stack[stack.count - 1].handle
    }
}
