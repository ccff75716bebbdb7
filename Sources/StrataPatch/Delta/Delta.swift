#if canImport(Glibc)
    import Glibc
#endif

/// A block-level delta: how to rebuild a target file from a base file, as a list of copies of
/// base ranges and literal bytes, found with rsync's rolling checksum so that inserted or removed
/// bytes shift the matches instead of breaking them.
///
/// Encoded form: a sequence of ops, each a tag byte then little-endian fields:
/// `0` copy (offset u64, length u64) from the base; `1` literal (length u64, bytes).
public enum Delta {
    /// rsync's rule: about the square root of the base size, a multiple of 8, within bounds.
    public static func blockSize(forBase size: Int) -> Int {
        let root = Int(Double(size).squareRoot()) & ~7
        return min(max(root, 1024), 128 << 10)
    }

    /// The ops turning `base` into `target`.
    public static func encode(base: UnsafeRawBufferPointer, target: UnsafeRawBufferPointer) -> [UInt8] {
        var out = Encoder()
        let b = blockSize(forBase: base.count)
        guard base.count >= b, target.count >= b else {
            out.literal(target[...])
            return out.finished
        }
        // Signatures of the base's whole blocks: weak checksum to candidate blocks.
        var blocks: [UInt32: [Int]] = [:]
        blocks.reserveCapacity(base.count / b)
        var i = 0
        while i + b <= base.count {
            blocks[Rolling(base[i..<(i + b)]).value, default: []].append(i)
            i += b
        }
        var p = 0
        var literalStart = 0
        var rolling = Rolling(target[0..<b])
        while p + b <= target.count {
            if let candidates = blocks[rolling.value],
                let match = candidates.first(where: { Self.equal(base, $0, target, p, b) })
            {
                out.literal(target[literalStart..<p])
                out.copy(offset: match, length: b)
                p += b
                literalStart = p
                if p + b <= target.count { rolling = Rolling(target[p..<(p + b)]) }
                continue
            }
            if p + b < target.count { rolling.roll(out: target[p], in: target[p + b], window: b) }
            p += 1
        }
        out.literal(target[literalStart..<target.count])
        return out.finished
    }

    /// Rebuilds the target from `base` and the encoded `ops`, handing it to `write` in pieces.
    public static func decode(
        _ ops: [UInt8], base: UnsafeRawBufferPointer, write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try ops.withUnsafeBytes { o in
            var i = 0
            func u64() throws -> Int {
                guard i + 8 <= o.count else { throw DeltaError.truncated }
                let v = o.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian
                i += 8
                guard v <= UInt64(Int.max) else { throw DeltaError.outOfRange }
                return Int(v)
            }
            while i < o.count {
                let tag = o[i]
                i += 1
                switch tag {
                case 0:
                    let offset = try u64()
                    let length = try u64()
                    guard offset <= base.count, length <= base.count - offset else { throw DeltaError.outOfRange }
                    try write(UnsafeRawBufferPointer(rebasing: base[offset..<(offset + length)]))
                case 1:
                    let length = try u64()
                    guard length <= o.count - i else { throw DeltaError.truncated }
                    try write(UnsafeRawBufferPointer(rebasing: o[i..<(i + length)]))
                    i += length
                default:
                    throw DeltaError.badTag(tag)
                }
            }
        }
    }
}

/// A delta that cannot be decoded: damaged, or made against other bytes.
public enum DeltaError: Error, CustomStringConvertible {
    case truncated
    case outOfRange
    case badTag(UInt8)

    public var description: String {
        switch self {
        case .truncated: return "the delta ends inside an operation"
        case .outOfRange: return "the delta copies beyond the base file's end"
        case .badTag(let t): return "the delta has an unknown operation \(t)"
        }
    }
}

extension Delta {

    /// Bytes equal (memcmp; the weak checksum only proposes).
    private static func equal(
        _ a: UnsafeRawBufferPointer, _ ai: Int, _ t: UnsafeRawBufferPointer, _ ti: Int, _ n: Int
    ) -> Bool {
        memcmp(a.baseAddress! + ai, t.baseAddress! + ti, n) == 0
    }

    /// rsync's weak checksum: two 16-bit sums, updated in O(1) as the window slides.
    struct Rolling {
        var a: UInt32 = 0
        var b: UInt32 = 0

        init(_ window: Slice<UnsafeRawBufferPointer>) {
            let n = UInt32(window.count)
            var k: UInt32 = 0
            for byte in window {
                a &+= UInt32(byte)
                b &+= (n &- k) &* UInt32(byte)
                k += 1
            }
        }

        var value: UInt32 { (a & 0xffff) | (b << 16) }

        mutating func roll(out old: UInt8, in new: UInt8, window: Int) {
            a = a &- UInt32(old) &+ UInt32(new)
            b = b &- UInt32(window) &* UInt32(old) &+ a
        }
    }

    /// Builds the encoded ops, merging adjacent copies.
    struct Encoder {
        var bytes: [UInt8] = []
        private var pendingCopy: (offset: Int, length: Int)?

        mutating func copy(offset: Int, length: Int) {
            if let c = pendingCopy, c.offset + c.length == offset {
                pendingCopy = (c.offset, c.length + length)
            } else {
                flushCopy()
                pendingCopy = (offset, length)
            }
        }

        mutating func literal(_ data: Slice<UnsafeRawBufferPointer>) {
            guard !data.isEmpty else { return }
            flushCopy()
            bytes.append(1)
            append(UInt64(data.count))
            bytes.append(contentsOf: data)
        }

        private mutating func flushCopy() {
            guard let c = pendingCopy else { return }
            bytes.append(0)
            append(UInt64(c.offset))
            append(UInt64(c.length))
            pendingCopy = nil
        }

        private mutating func append(_ v: UInt64) {
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        }

        var finished: [UInt8] {
            mutating get {
                flushCopy()
                return bytes
            }
        }
    }
}
