import StrataFS
import StrataOverlay

extension TarApplier {
    /// Writes an entry's data; sparse entries are written chunk by chunk at their offsets, leaving
    /// holes, and the file is sized to its real length.
    func writeContent(_ f: Handle, _ h: TarHeader, _ reader: TarReader) throws {
        guard let map = h.sparseMap else {
            while reader.remainingData > 0 {
                try reader.withNextData(max: 1 << 20) { try f.write($0) }
            }
            return
        }
        for (offset, length) in map {  // in order and inside the file: `TarReader.checkSparse`
            var left = length
            var at = offset
            while left > 0 {
                let n = try reader.withNextData(max: Int(clamping: min(left, 1 << 20))) { chunk -> Int in
                    try f.write(chunk, at: at)
                    return chunk.count
                }
                if n == 0 { throw EntryError(entry: h.nameString, reason: "sparse data is shorter than its map") }
                left -= Int64(n)
                at += Int64(n)
            }
        }
        try f.truncate(to: h.fileSize)
    }

    /// Applies an opaque marker: everything in the directory not unpacked from this layer goes
    /// (overlay mode: the directory gets the opaque xattr instead).
    func makeOpaque(_ dir: Handle) throws {
        if options.overlayLowers != nil {
            try OverlayUpper.makeOpaque(dir)
            return
        }
        let id = try dir.stat()
        for entry in try dir.entries()
        where !createdEntries.contains(CreatedKey(device: id.device, inode: id.inode, name: entry.name)) {
            try dir.removeAll(entry.name)
        }
        resolver.invalidate()
    }
}
