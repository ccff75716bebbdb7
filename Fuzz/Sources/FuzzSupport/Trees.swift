#if canImport(Glibc)
    import Glibc
#endif

/// A scratch directory for the seed mode (outside any sandbox: seeds are made by an ordinary run).
public func scratchDirectory(_ label: String) -> String {
    var template = Array("/tmp/strata-fuzz-\(label)-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { fatalError("mkdtemp: errno \(errno)") }
    return String(cString: p)
}
