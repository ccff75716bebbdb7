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
        for op in refine(match(base, target), base, target) {
            switch op {
            case .copy(let offset, let length): out.copy(offset: offset, length: length)
            case .literal(let start, let end): out.literal(target[start..<end])
            }
        }
        return out.finished
    }

    /// A copy of base bytes, or a literal range of the target.
    enum Op {
        case copy(Int, Int)
        case literal(Int, Int)
    }

    /// Whole-block matches: the block after the last match is tried first (a plain compare, the
    /// common case of a file mostly unchanged); elsewhere rsync's rolling checksum finds blocks at
    /// any offset. The base's signatures are built on the first miss only.
    static func match(_ base: UnsafeRawBufferPointer, _ target: UnsafeRawBufferPointer) -> [Op] {
        let b = blockSize(forBase: base.count)
        guard base.count >= b, target.count >= b else { return target.isEmpty ? [] : [.literal(0, target.count)] }
        var ops: [Op] = []
        var blocks: [UInt32: [Int]]?
        var p = 0
        var literalStart = 0
        var expected: Int? = 0
        var rolling: Rolling?
        func matched(_ offset: Int) {
            if literalStart < p { ops.append(.literal(literalStart, p)) }
            ops.append(.copy(offset, b))
            p += b
            literalStart = p
            expected = offset + b
            rolling = nil
        }
        while p + b <= target.count {
            if let e = expected, e + b <= base.count, equal(base, e, target, p, b) {
                matched(e)
                continue
            }
            expected = nil
            if blocks == nil { blocks = signatures(base, b) }
            if rolling == nil { rolling = Rolling(target, p, b) }
            if let candidates = blocks?[rolling!.value],
                let m = candidates.first(where: { equal(base, $0, target, p, b) })
            {
                matched(m)
                continue
            }
            if p + b < target.count { rolling!.roll(out: target[p], in: target[p + b], window: b) }
            p += 1
        }
        if literalStart < target.count { ops.append(.literal(literalStart, target.count)) }
        return ops
    }

    /// The weak checksum of each whole block of the base, to the blocks that have it.
    static func signatures(_ base: UnsafeRawBufferPointer, _ b: Int) -> [UInt32: [Int]] {
        var blocks: [UInt32: [Int]] = [:]
        blocks.reserveCapacity(base.count / b)
        var i = 0
        while i + b <= base.count {
            blocks[Rolling(base, i, b).value, default: []].append(i)
            i += b
        }
        return blocks
    }

    /// Shrinks literals to the bytes that really differ: the part that continues the copy before
    /// it, the part that leads into the copy after it, and, for a same-length replacement in
    /// place, the 64-byte pieces that equal the base's. A few bytes written into a block then cost
    /// about those bytes, not the whole block.
    static func refine(_ ops: [Op], _ base: UnsafeRawBufferPointer, _ target: UnsafeRawBufferPointer) -> [Op] {
        var out: [Op] = []
        for (k, op) in ops.enumerated() {
            guard case .literal(let s, let e) = op else {
                out.append(op)
                continue
            }
            var prevEnd: Int?
            if k > 0, case .copy(let o, let l) = ops[k - 1] { prevEnd = o + l }
            var nextStart: Int?
            if k + 1 < ops.count, case .copy(let o, _) = ops[k + 1] { nextStart = o }
            var i = 0
            if let pe = prevEnd {
                while s + i < e && pe + i < base.count && target[s + i] == base[pe + i] { i += 1 }
                if i > 0 { out.append(.copy(pe, i)) }
            }
            var j = 0
            if let ns = nextStart {
                while e - 1 - j >= s + i && ns - 1 - j >= 0 && target[e - 1 - j] == base[ns - 1 - j] { j += 1 }
            }
            let (ms, me) = (s + i, e - j)
            if let pe = prevEnd, let ns = nextStart, (ns - j) - (pe + i) == me - ms {
                // In place: base[pe + i ..< ns - j] was replaced by target[ms ..< me].
                let shift = (pe + i) - ms
                var c = ms
                var literal = ms
                while c < me {
                    let n = min(64, me - c)
                    if n == 64, equal(base, c + shift, target, c, n) {
                        if literal < c { out.append(.literal(literal, c)) }
                        out.append(.copy(c + shift, n))
                        literal = c + n
                    }
                    c += n
                }
                if literal < me { out.append(.literal(literal, me)) }
            } else if ms < me {
                out.append(.literal(ms, me))
            }
            if j > 0, let ns = nextStart { out.append(.copy(ns - j, j)) }
        }
        return out
    }

    /// Rebuilds the target from `base` and the encoded `ops`, handing it to `write` in pieces;
    /// an error, before anything past it is written, once the output would exceed `limit` bytes
    /// (a few bytes of copies could otherwise repeat the base without end).
    public static func decode(
        _ ops: [UInt8], base: UnsafeRawBufferPointer, limit: Int = .max,
        write: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var written = 0
        func emit(_ piece: UnsafeRawBufferPointer) throws {
            guard piece.count <= limit - written else { throw DeltaError.tooLong(limit: limit) }
            written += piece.count
            try write(piece)
        }
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
                    try emit(UnsafeRawBufferPointer(rebasing: base[offset..<(offset + length)]))
                case 1:
                    let length = try u64()
                    guard length <= o.count - i else { throw DeltaError.truncated }
                    try emit(UnsafeRawBufferPointer(rebasing: o[i..<(i + length)]))
                    i += length
                default:
                    throw DeltaError.badTag(tag)
                }
            }
        }
    }
}

/// A delta that cannot be decoded: damaged, or made against other bytes.
public enum DeltaError: Error, CustomStringConvertible, Equatable {
    case truncated
    case outOfRange
    case badTag(UInt8)
    case tooLong(limit: Int)

    public var description: String {
        switch self {
        case .tooLong(let limit): return "the delta rebuilds more than the \(limit) bytes of its file"
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

        init(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ count: Int) {
            let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + start
            let n = UInt32(count)
            for k in 0..<count {
                let x = UInt32(p[k])
                a &+= x
                b &+= (n &- UInt32(k)) &* x
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
