import CStrata
import SystemPackage

extension Handle {
    /// The xattrs of the child `name` (not following a symlink) that `policy` carries.
    /// Filesystems without xattr support give none, as containerd tolerates `ENOTSUP`.
    public func xattrs(_ name: [UInt8], policy: XattrPolicy) throws(FSError) -> Xattrs {
        if policy == .capability {
            guard let v = try xattr(name, key: XattrPolicy.capabilityName) else { return Xattrs() }
            return Xattrs([(XattrPolicy.capabilityName, v)])
        }
        var out: [(name: String, value: [UInt8])] = []
        for key in try xattrNames(name) where policy.includes(key) {
            if let v = try xattr(name, key: key) { out.append((key, v)) }
        }
        return Xattrs(out)
    }

    /// The names of every xattr of the child.
    public func xattrNames(_ name: [UInt8]) throws(FSError) -> [String] {
        let r = withCName(name) { n in
            Self.filling(initial: 1024) { b in
                retrying { strata_listxattrat(fd, n, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count) }
            }
        }
        switch r {
        case .success(let bytes): return bytes.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        case .failure(.notSupported), .failure(.noData): return []
        case .failure(let e): throw fail("listxattr", name, e)
        }
    }

    /// One xattr of the child, or nil when it is absent or xattrs are unsupported.
    public func xattr(_ name: [UInt8], key: String) throws(FSError) -> [UInt8]? {
        let r = withCName(name) { n in
            withCKey(key) { k in
                Self.filling(initial: 256) { b in retrying { strata_getxattrat(fd, n, k, b.baseAddress, b.count) } }
            }
        }
        switch r {
        case .success(let bytes): return bytes
        case .failure(.noData), .failure(.notSupported): return nil
        case .failure(let e): throw fail("getxattr \(key)", name, e)
        }
    }

    /// Sets an xattr on the child without following a symlink.
    public func setXattr(_ name: [UInt8], key: String, value: [UInt8], createOnly: Bool = false) throws(FSError) {
        let flags: Int32 = createOnly ? 1 : 0  // XATTR_CREATE
        let r = withCName(name) { n in
            withCKey(key) { k in
                value.withUnsafeBytes { v in retrying { strata_setxattrat(fd, n, k, v.baseAddress, v.count, flags) } }
            }
        }
        if case .failure(let e) = r { throw fail("setxattr \(key)", name, e) }
    }

    public func removeXattr(_ name: [UInt8], key: String) throws(FSError) {
        let r = withCName(name) { n in withCKey(key) { k in retrying { strata_removexattrat(fd, n, k) } } }
        if case .failure(let e) = r { throw fail("removexattr \(key)", name, e) }
    }
}

extension Handle {
    /// Sets an xattr on this descriptor's own file (not valid for `O_PATH` handles).
    public func setXattr(key: String, value: [UInt8]) throws(FSError) {
        let r = withCKey(key) { k in
            value.withUnsafeBytes { v in retrying { strata_fsetxattr(fd, k, v.baseAddress, v.count, 0) } }
        }
        if case .failure(let e) = r { throw fail("setxattr \(key)", nil, e) }
    }
}
