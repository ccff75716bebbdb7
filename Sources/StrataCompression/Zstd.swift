import CZstd
import StrataStreams

/// zstd compression with libzstd: two worker threads (a fixed count, so the bytes do not depend
/// on the machine) and a content checksum in every frame.
final class ZstdCompressor: ByteSink {
    private let ctx: OpaquePointer
    private let out = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(ZSTD_CStreamOutSize()), alignment: 16)
    private let next: ByteSink

    init(level: Int, into next: ByteSink) throws {
        guard Compression.zstd.levels.contains(level) else { throw CompressionError.invalidLevel(.zstd, level) }
        guard let ctx = ZSTD_createCCtx() else { throw CompressionError.codec(.zstd, "cannot allocate a context") }
        self.ctx = ctx
        self.next = next
        _ = ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, Int32(level))
        _ = ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1)
        _ = ZSTD_CCtx_setParameter(ctx, ZSTD_c_nbWorkers, 2)
    }

    deinit {
        ZSTD_freeCCtx(ctx)
        out.deallocate()
    }

    func write(_ b: UnsafeRawBufferPointer) throws {
        var input = ZSTD_inBuffer(src: b.baseAddress, size: b.count, pos: 0)
        while input.pos < input.size { _ = try step(&input, ZSTD_e_continue) }
    }

    func finish() throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end) != 0 {}
        try next.finish()
    }

    private func step(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective) throws -> Int {
        var output = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
        let r = ZSTD_compressStream2(ctx, &output, &input, mode)
        if ZSTD_isError(r) != 0 { throw CompressionError.codec(.zstd, String(cString: ZSTD_getErrorName(r))) }
        if output.pos > 0 { try next.write(UnsafeRawBufferPointer(rebasing: out[..<output.pos])) }
        return r
    }
}

/// zstd decompression with libzstd; skippable frames and concatenated frames are read as one
/// stream, and a stream that ends inside a frame is an error.
final class ZstdDecompressor: ByteSource {
    private let ctx: OpaquePointer
    private let source: ByteSource
    private let inBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(ZSTD_DStreamInSize()), alignment: 16)
    private var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
    private var sourceEnded = false
    private var frameOpen = false

    init(_ source: ByteSource) throws {
        guard let ctx = ZSTD_createDCtx() else { throw CompressionError.codec(.zstd, "cannot allocate a context") }
        self.ctx = ctx
        self.source = source
        _ = ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, 31)
    }

    deinit {
        ZSTD_freeDCtx(ctx)
        inBuf.deallocate()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if input.pos == input.size && !sourceEnded {
                let n = try source.read(into: inBuf)
                if n == 0 { sourceEnded = true }
                input = ZSTD_inBuffer(src: inBuf.baseAddress, size: n, pos: 0)
            }
            if input.pos == input.size && sourceEnded && !frameOpen { return 0 }
            var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let r = ZSTD_decompressStream(ctx, &output, &input)
            if ZSTD_isError(r) != 0 { throw CompressionError.corrupt(.zstd, String(cString: ZSTD_getErrorName(r))) }
            frameOpen = r != 0
            if output.pos > 0 { return output.pos }
            if input.pos == input.size && sourceEnded {
                if frameOpen { throw CompressionError.truncated(.zstd) }
                return 0
            }
        }
    }
}
