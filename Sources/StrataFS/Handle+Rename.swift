import CStrata
import SystemPackage

extension Handle {
    /// Renames the child `name` to `newName` in `directory` (`renameat2`), atomically. With
    /// `noReplace`, an existing `newName` fails with `EEXIST` instead of being replaced.
    public func rename(_ name: [UInt8], to newName: [UInt8], in directory: Handle, noReplace: Bool = false)
        throws(FSError)
    {
        let flags = noReplace ? strata_rename_noreplace : 0
        let r = withCName(name) { n in
            withCName(newName) { t in retrying { strata_renameat2(fd, n, directory.fd, t, flags) } }
        }
        if case .failure(let e) = r { throw fail("rename", name, e) }
    }

    /// Takes an advisory `flock` on this descriptor, held until it is closed; false when another
    /// open file description holds it and `wait` is false. Locks coordinate processes sharing a
    /// state root.
    public func lock(exclusive: Bool = true, wait: Bool) throws(FSError) -> Bool {
        switch retrying({ strata_flock(fd, exclusive ? 1 : 0, wait ? 1 : 0) }) {
        case .success: return true
        case .failure(let e) where e == .wouldBlock: return false
        case .failure(let e): throw fail("flock", nil, e)
        }
    }

    /// Lets go of this descriptor's `flock`.
    public func unlock() throws(FSError) {
        if case .failure(let e) = retrying({ strata_funlock(fd) }) { throw fail("flock", nil, e) }
    }
}
