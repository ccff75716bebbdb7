import StrataFS

/// Writes a byte stream to an open file.
public final class HandleSink: ByteSink {
    let handle: Handle
    public init(_ handle: Handle) { self.handle = handle }
    public func write(_ bytes: UnsafeRawBufferPointer) throws { try handle.write(bytes) }
    public func finish() throws {}
}

/// Reads a byte stream from an open file.
public final class HandleSource: ByteSource {
    let handle: Handle
    public init(_ handle: Handle) { self.handle = handle }
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try handle.read(into: buffer) }
}
