import StrataFS

/// Compares two trees entry by entry, for verifying round trips: names, types, permissions,
/// owners, sizes and contents, symlink targets, device numbers, xattrs, hardlink groups, and
/// optionally the mtimes of non-directories. Directory times are not compared: containerd's
/// semantics do not carry a directory whose only change is its mtime.
public struct TreeVerifier {
    public enum Times: Sendable {
        case ignore
        case seconds
        case nanoseconds
    }

    public var times: Times
    public var xattrs: XattrPolicy
    public var owners: Bool
    /// Compare which paths share an inode. A walking differ (containerd's, and a simple diff)
    /// does not see a change that only joins or splits a group of equal files.
    public var hardlinks = true

    public init(times: Times = .seconds, xattrs: XattrPolicy = .capability, owners: Bool = true) {
        self.times = times
        self.xattrs = xattrs
        self.owners = owners
    }

    /// nil when the trees are equal; otherwise the first difference, naming its path.
    public func firstDifference(_ a: Handle, _ b: Handle) throws -> String? {
        var state = GroupState()
        return try compare(a, b, prefix: [], &state)
    }

    struct GroupState {
        var a: [UInt64: [UInt8]] = [:]
        var b: [UInt64: [UInt8]] = [:]
    }

    private func compare(_ a: Handle, _ b: Handle, prefix: [UInt8], _ s: inout GroupState) throws -> String? {
        let an = try a.sortedNames()
        let bn = try b.sortedNames()
        if an != bn {
            let onlyA = Set(an).subtracting(bn).map(PathName.display).sorted()
            let onlyB = Set(bn).subtracting(an).map(PathName.display).sorted()
            return
                "\(PathName.display(prefix.isEmpty ? [PathName.slash] : prefix)): entries only in the first: \(onlyA), only in the second: \(onlyB)"
        }
        for name in an {
            let path = prefix + [PathName.slash] + name
            let p = PathName.display(path)
            let ma = try a.stat(name)
            let mb = try b.stat(name)
            if ma.type != mb.type { return "\(p): type \(ma.type) vs \(mb.type)" }
            if ma.permissions != mb.permissions && ma.type != .symlink {
                return "\(p): mode \(String(ma.permissions, radix: 8)) vs \(String(mb.permissions, radix: 8))"
            }
            if owners && (ma.uid != mb.uid || ma.gid != mb.gid) {
                return "\(p): owner \(ma.uid):\(ma.gid) vs \(mb.uid):\(mb.gid)"
            }
            if try a.xattrs(name, policy: xattrs) != b.xattrs(name, policy: xattrs) { return "\(p): xattrs differ" }
            switch ma.type {
            case .regular:
                if ma.size != mb.size { return "\(p): size \(ma.size) vs \(mb.size)" }
                if try !ContentComparer().equal(a, name, b, name, size: ma.size) { return "\(p): content differs" }
            case .symlink:
                if try a.readLink(name) != b.readLink(name) { return "\(p): symlink target differs" }
            case .characterDevice, .blockDevice:
                if ma.rdevMajor != mb.rdevMajor || ma.rdevMinor != mb.rdevMinor { return "\(p): device numbers differ" }
            default:
                break
            }
            if ma.type != .directory {
                switch times {
                case .ignore: break
                case .seconds where ma.modificationTime.seconds != mb.modificationTime.seconds,
                    .nanoseconds where ma.modificationTime != mb.modificationTime:
                    return "\(p): mtime \(ma.modificationTime) vs \(mb.modificationTime)"
                default: break
                }
            }
            if hardlinks && (ma.isHardLinked || mb.isHardLinked) {
                let la = s.a[ma.inode] ?? path
                let lb = s.b[mb.inode] ?? path
                s.a[ma.inode] = la
                s.b[mb.inode] = lb
                if la != lb {
                    return
                        "\(p): hardlink groups differ (linked with \(PathName.display(la)) vs \(PathName.display(lb)))"
                }
            }
            if ma.type == .directory {
                if let d = try compare(a.openDirectory(name), b.openDirectory(name), prefix: path, &s) { return d }
            }
        }
        return nil
    }
}
