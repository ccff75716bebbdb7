import FuzzSupport
import StrataArchive
import StrataFS
import StrataStreams

/// The tar reader alone: every header (USTAR, PAX, GNU long names, sparse maps, base-256) and all
/// data, read in each of the reader's ways (`read`, `nextData`, `withNextData`, skipped by
/// `next`), then `drain`. Errors are rejected input; a trap or a sanitizer report is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if Plant.reached(data, size) { Plant.crash("FuzzTar") }
    let input = bytes(data, size)
    // The buffer size varies with the input, so headers and data straddle refills.
    let bufferSize = [512, 4096, 65_536][Int(size % 3)]
    let reader = TarReader(MemorySource(input), bufferSize: bufferSize)
    var buffer = [UInt8](repeating: 0, count: 1000)
    do {
        var index = 0
        while let header = try reader.next() {
            _ = (header.nameString, header.fileSize, header.xattrs, header.kind)
            // The way data is read depends on the input's length too, so a one-entry archive
            // reaches each of them (skipping included) by a change of length alone.
            switch (index + size) % 4 {
            case 0:
                while try buffer.withUnsafeMutableBytes({ try reader.read(into: $0) }) > 0 {}
            case 1:
                while let slice = try reader.nextData(max: 777) { _ = slice.bytes.count }
            case 2:
                while try reader.withNextData(max: 4096, { $0.count }) > 0 {}
            default:
                break  // skipped by the next `next()`
            }
            index += 1
        }
        try reader.drain()
    } catch {
        // rejected input
    }
    return 0
}

/// `LLVMFuzzerInitialize`: the seed mode, the layers `TarWriter` writes.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
    Seeds.handle("FuzzTar") { dir in
        for (name, entries) in TarSeeds.archives { Seeds.save(try TarSeeds.write(entries), dir, name) }
    }
    return 0
}
