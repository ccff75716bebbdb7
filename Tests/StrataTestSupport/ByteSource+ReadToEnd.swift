import StrataCompression

extension ByteSource {
    /// Everything the source gives until its end, read `chunk` bytes at a time.
    public func readToEnd(chunk: Int = 65_536) throws -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: buffer[..<n])
        }
    }
}
