#if canImport(Glibc)
    import Glibc
#endif

extension Handle {
    /// Writes the child `name` whole or not at all: `body` fills a new file beside it under a
    /// temporary name, which is synced and renamed into place (replacing an existing `name`, or,
    /// with `replace` false, failing with `EEXIST` and leaving it), then the directory is synced.
    /// On any error the temporary file is removed. `readable` opens it for reading too.
    @discardableResult
    public func writeAtomically<R>(
        _ name: [UInt8], mode: UInt32 = 0o644, replace: Bool = true, readable: Bool = false,
        _ body: (Handle) throws -> R
    ) throws -> R {
        let temp = Array(".".utf8) + name + Array(".strata-\(getpid())-\(UInt32.random(in: 0...UInt32.max))".utf8)
        let file = try open(temp, flags: (readable ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode)
        do {
            let result = try body(file)
            try file.sync()
            FaultPoint.reach("atomic.synced")
            try rename(temp, to: name, in: self, noReplace: !replace)
            try sync()
            return result
        } catch {
            try? unlink(temp)
            throw error
        }
    }

    /// `writeAtomically` with the whole contents at hand.
    public func writeAtomically(_ name: [UInt8], contents: [UInt8], mode: UInt32 = 0o644, replace: Bool = true) throws {
        try writeAtomically(name, mode: mode, replace: replace) { f in try contents.withUnsafeBytes { try f.write($0) }
        }
    }
}
