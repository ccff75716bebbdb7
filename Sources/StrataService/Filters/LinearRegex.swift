/// The regular expressions of containerd's `~=` filters, matched in linear time.
///
/// containerd matches them with Go's `regexp` (RE2: no backtracking), so a client's pattern can
/// never make the daemon work exponentially. This is the same guarantee by the same means: a
/// Thompson NFA, simulated over the value's Unicode scalars one at a time (a Pike VM without
/// captures), so a match costs at most `value scalars × program size` steps, whatever the
/// pattern. Patterns are also capped: `maxPatternLength` scalars, counted repetitions up to
/// `maxRepeat` (RE2's limit), and a program of at most `maxProgramSize` instructions.
///
/// The syntax is RE2's, as Go parses it, less what RE2 has no linear-time meaning for or that
/// filters do not need: literals and `\`-escaped punctuation; `.`; `[...]` and `[^...]` with
/// ranges, `\d \s \w` (and negations) and `[:alpha:]`-style classes; `\d \D \s \S \w \W`;
/// `\n \t \r \f \v \a`, `\x41`, `\x{263a}`; anchors `^ $ \A \z \b \B`; groups `(...)`, `(?:...)`,
/// `(?P<name>...)`, `(?<name>...)`; flags `i m s U` as `(?flags)` or `(?flags:...)`; `|`;
/// `* + ? {n} {n,} {n,m}`, each optionally lazy (`?`, the same for a yes/no match).
/// Backreferences (RE2 has none), `\p{...}` classes and `\Q...\E` are refused with an error, as
/// is a repetition of a repetition (`a**`), which Go refuses too.
struct LinearRegex: Sendable {
    static let maxPatternLength = 1024
    static let maxRepeat = 1000
    static let maxProgramSize = 10_000

    private let program: [Instruction]

    /// Compiles `pattern`; the error says what in it is not accepted.
    init(_ pattern: String) throws(LinearRegexError) {
        let scalars = Array(pattern.unicodeScalars)
        guard scalars.count <= Self.maxPatternLength else {
            throw LinearRegexError("longer than \(Self.maxPatternLength) characters")
        }
        var parser = RegexParser(scalars)
        let node = try parser.parse()
        var compiler = RegexCompiler()
        try compiler.emit(node)
        compiler.program.append(.match)
        guard compiler.program.count <= Self.maxProgramSize else {
            throw LinearRegexError(
                "too large (more than \(Self.maxProgramSize) instructions once repetitions are counted)")
        }
        program = compiler.program
    }

    /// Whether the pattern matches anywhere in `text` (Go's `MatchString`).
    func matches(_ text: String) -> Bool {
        let input = Array(text.unicodeScalars)
        var current = ThreadList(count: program.count)
        var next = ThreadList(count: program.count)
        for i in 0...input.count {
            add(0, at: i, input, to: &current)  // unanchored: a thread may start anywhere
            for pc in current.threads {
                switch program[pc] {
                case .match: return true
                case .scalar(let set) where i < input.count && set.contains(input[i]):
                    add(pc + 1, at: i + 1, input, to: &next)
                default: break
                }
            }
            if i == input.count { break }
            swap(&current, &next)
            next.clear()
        }
        return false
    }

    /// Adds the thread at `pc` and every thread it reaches without consuming a scalar.
    private func add(_ start: Int, at i: Int, _ input: [Unicode.Scalar], to list: inout ThreadList) {
        var stack = [start]
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .jump(let to): stack.append(to)
            case .split(let first, let second): stack.append(contentsOf: [second, first])
            case .assert(let a) where a.holds(at: i, in: input): stack.append(pc + 1)
            default: break
            }
        }
    }
}

struct LinearRegexError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private enum Instruction: Sendable {
    case scalar(ScalarSet)
    case split(Int, Int)
    case jump(Int)
    case assert(Assertion)
    case match
}

private enum Assertion: Sendable {
    case beginText, endText, beginLine, endLine, wordBoundary, notWordBoundary

    func holds(at i: Int, in input: [Unicode.Scalar]) -> Bool {
        switch self {
        case .beginText: return i == 0
        case .endText: return i == input.count
        case .beginLine: return i == 0 || input[i - 1] == "\n"
        case .endLine: return i == input.count || input[i] == "\n"
        case .wordBoundary, .notWordBoundary:
            let before = i > 0 && ScalarSet.isWord(input[i - 1])
            let after = i < input.count && ScalarSet.isWord(input[i])
            return (before != after) == (self == .wordBoundary)
        }
    }
}

/// A set of scalars: ranges, negated or not, compared case-insensitively under `(?i)`.
private struct ScalarSet: Sendable {
    var ranges: [ClosedRange<UInt32>]
    var negated = false
    var foldCase = false

    func contains(_ c: Unicode.Scalar) -> Bool {
        var found = has(c.value)
        if !found && foldCase {
            for variant in [c.properties.lowercaseMapping, c.properties.uppercaseMapping] {
                if let v = variant.unicodeScalars.first, variant.unicodeScalars.count == 1, has(v.value) {
                    found = true
                }
            }
        }
        return found != negated
    }

    private func has(_ v: UInt32) -> Bool { ranges.contains { $0.contains(v) } }

    /// The scalars not in `ranges` (for `\D` inside a class, and `[^...]` is `negated`).
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = max(next, r.upperBound &+ 1)
        }
        if next <= 0x10FFFF { out.append(next...0x10FFFF) }
        return out
    }

    static let digit: [ClosedRange<UInt32>] = [0x30...0x39]
    static let space: [ClosedRange<UInt32>] = [0x09...0x0A, 0x0C...0x0D, 0x20...0x20]  // Go's \s
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]

    static func isWord(_ c: Unicode.Scalar) -> Bool { word.contains { $0.contains(c.value) } }

    /// The POSIX classes Go accepts inside brackets (`[[:alpha:]]`).
    static let posix: [String: [ClosedRange<UInt32>]] = [
        "alnum": [0x30...0x39, 0x41...0x5A, 0x61...0x7A], "alpha": [0x41...0x5A, 0x61...0x7A],
        "ascii": [0x00...0x7F], "blank": [0x09...0x09, 0x20...0x20], "cntrl": [0x00...0x1F, 0x7F...0x7F],
        "digit": digit, "graph": [0x21...0x7E], "lower": [0x61...0x7A], "print": [0x20...0x7E],
        "punct": [0x21...0x2F, 0x3A...0x40, 0x5B...0x60, 0x7B...0x7E], "space": [0x09...0x0D, 0x20...0x20],
        "upper": [0x41...0x5A], "word": word, "xdigit": [0x30...0x39, 0x41...0x46, 0x61...0x66],
    ]
}

private indirect enum RegexNode {
    case set(ScalarSet)
    case assert(Assertion)
    case concat([RegexNode])
    case alternate([RegexNode])
    /// `max` nil: unbounded.
    case repetition(RegexNode, min: Int, max: Int?)
}

private struct RegexFlags {
    var foldCase = false
    var multiLine = false
    var dotAll = false
}

/// A recursive-descent parser of the accepted syntax (see `LinearRegex`).
private struct RegexParser {
    let s: [Unicode.Scalar]
    var i = 0
    var flags = RegexFlags()
    var depth = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    mutating func parse() throws(LinearRegexError) -> RegexNode {
        let node = try alternation()
        guard i == s.count else { throw LinearRegexError("unexpected ) at offset \(i)") }
        return node
    }

    private var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    private mutating func alternation() throws(LinearRegexError) -> RegexNode {
        var branches = [try concatenation()]
        while peek == "|" {
            i += 1
            branches.append(try concatenation())
        }
        return branches.count == 1 ? branches[0] : .alternate(branches)
    }

    private mutating func concatenation() throws(LinearRegexError) -> RegexNode {
        var items: [RegexNode] = []
        while let c = peek, c != "|", c != ")" {
            guard let atom = try atom() else { continue }
            items.append(try quantified(atom))
        }
        return .concat(items)
    }

    /// One atom; nil for a flag group `(?i)`, which only changes the flags.
    private mutating func atom() throws(LinearRegexError) -> RegexNode? {
        let c = s[i]
        i += 1
        switch c {
        case "(": return try group()
        case "[": return .set(try bracket())
        case ".":
            var set = ScalarSet(ranges: [0...0x10FFFF])
            if !flags.dotAll { set = ScalarSet(ranges: [0x0A...0x0A], negated: true) }
            return .set(set)
        case "^": return .assert(flags.multiLine ? .beginLine : .beginText)
        case "$": return .assert(flags.multiLine ? .endLine : .endText)
        case "*", "+", "?": throw LinearRegexError("missing argument to repetition operator \(c)")
        case "\\": return try escape()
        default: return .set(literal(c))
        }
    }

    private func literal(_ c: Unicode.Scalar) -> ScalarSet {
        ScalarSet(ranges: [c.value...c.value], foldCase: flags.foldCase)
    }

    private mutating func group() throws(LinearRegexError) -> RegexNode? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 100 else { throw LinearRegexError("groups nested more than 100 deep") }
        let saved = flags
        if peek == "?" {
            i += 1
            if peek == "P" || (peek == "<" && i + 1 < s.count && s[i + 1] != "=" && s[i + 1] != "!") {
                if peek == "P" { i += 1 }
                guard peek == "<" else { throw LinearRegexError("invalid named group at offset \(i)") }
                while let c = peek, c != ">" { i += 1 }
                guard peek == ">" else { throw LinearRegexError("unterminated group name") }
                i += 1
            } else {
                var negate = false
                var sawFlag = false
                while let c = peek, c != ")", c != ":" {
                    i += 1
                    switch c {
                    case "-" where !negate: negate = true
                    case "i": flags.foldCase = !negate
                    case "m": flags.multiLine = !negate
                    case "s": flags.dotAll = !negate
                    case "U": break  // greediness: the same for a yes/no match
                    default:
                        throw LinearRegexError(
                            "unsupported group syntax (?\(c) (lookaround and backreferences are not RE2)")
                    }
                    sawFlag = true
                }
                guard let end = peek, sawFlag || end == ":" else { throw LinearRegexError("missing flags after (?") }
                i += 1
                if end == ")" { return nil }  // (?flags): the rest of the enclosing group
            }
        }
        let inner = try alternation()
        flags = saved
        guard peek == ")" else { throw LinearRegexError("missing closing )") }
        i += 1
        return inner
    }

    private mutating func quantified(_ atom: RegexNode) throws(LinearRegexError) -> RegexNode {
        guard let (min, max) = try quantifier() else { return atom }
        if peek == "?" { i += 1 }  // lazy
        if let c = peek, "*+?".unicodeScalars.contains(c) || (c == "{" && isCountedRepeat(at: i)) {
            throw LinearRegexError("invalid nested repetition operator at offset \(i)")
        }
        return .repetition(atom, min: min, max: max)
    }

    private mutating func quantifier() throws(LinearRegexError) -> (Int, Int?)? {
        switch peek {
        case "*":
            i += 1
            return (0, nil)
        case "+":
            i += 1
            return (1, nil)
        case "?":
            i += 1
            return (0, 1)
        case "{" where isCountedRepeat(at: i):
            i += 1
            let min = number()!
            var max: Int? = min
            if peek == "," {
                i += 1
                max = number()
            }
            i += 1  // }
            guard min <= Self.limit, (max ?? 0) <= Self.limit, max.map({ $0 >= min }) ?? true else {
                throw LinearRegexError("invalid repeat count (at most \(LinearRegex.maxRepeat), min ≤ max)")
            }
            return (min, max)
        default: return nil
        }
    }

    private static let limit = LinearRegex.maxRepeat

    /// Whether `{` at `j` starts `{n}`, `{n,}` or `{n,m}` (otherwise Go takes it literally).
    private func isCountedRepeat(at j: Int) -> Bool {
        var k = j + 1
        func digits() -> Bool {
            let start = k
            while k < s.count, ("0"..."9").contains(s[k]), k - start < 8 { k += 1 }
            return k > start
        }
        guard digits() else { return false }
        if k < s.count, s[k] == "," {
            k += 1
            _ = digits()
        }
        return k < s.count && s[k] == "}"
    }

    private mutating func number() -> Int? {
        var n: Int?
        while let c = peek, ("0"..."9").contains(c), (n ?? 0) < 100_000_000 {
            n = (n ?? 0) * 10 + Int(c.value - 0x30)
            i += 1
        }
        return n
    }

    private mutating func escape() throws(LinearRegexError) -> RegexNode {
        guard let c = peek else { throw LinearRegexError("trailing backslash") }
        switch c {
        case "A":
            i += 1
            return .assert(.beginText)
        case "z":
            i += 1
            return .assert(.endText)
        case "b":
            i += 1
            return .assert(.wordBoundary)
        case "B":
            i += 1
            return .assert(.notWordBoundary)
        default:
            let (ranges, negated) = try classEscape()
            return .set(ScalarSet(ranges: ranges, negated: negated, foldCase: flags.foldCase))
        }
    }

    /// An escape that stands for scalars (after the `\`): a class or one scalar.
    private mutating func classEscape() throws(LinearRegexError) -> ([ClosedRange<UInt32>], Bool) {
        guard let c = peek else { throw LinearRegexError("trailing backslash") }
        i += 1
        let one = { (v: UInt32) in ([v...v], false) }
        switch c {
        case "d": return (ScalarSet.digit, false)
        case "D": return (ScalarSet.digit, true)
        case "s": return (ScalarSet.space, false)
        case "S": return (ScalarSet.space, true)
        case "w": return (ScalarSet.word, false)
        case "W": return (ScalarSet.word, true)
        case "n": return one(0x0A)
        case "t": return one(0x09)
        case "r": return one(0x0D)
        case "f": return one(0x0C)
        case "v": return one(0x0B)
        case "a": return one(0x07)
        case "x": return one(try hex())
        case "1"..."9": throw LinearRegexError("backreferences (\\\(c)) are not supported, as in RE2")
        case "p", "P", "Q", "E", "C", "0":
            throw LinearRegexError("unsupported escape \\\(c)")
        default:
            guard c.isASCII, !c.properties.isAlphabetic, !("0"..."9").contains(c) else {
                throw LinearRegexError("invalid escape \\\(c)")
            }
            return one(c.value)
        }
    }

    private mutating func hex() throws(LinearRegexError) -> UInt32 {
        let braced = peek == "{"
        if braced { i += 1 }
        var v: UInt32 = 0
        var count = 0
        while count < (braced ? 8 : 2), let c = peek, c.isASCII, let d = UInt32(String(c), radix: 16) {
            v = v * 16 + d
            count += 1
            i += 1
        }
        if braced {
            guard peek == "}" else { throw LinearRegexError("invalid \\x{...} escape") }
            i += 1
        }
        guard count > 0, braced || count == 2, v <= 0x10FFFF else { throw LinearRegexError("invalid \\x escape") }
        return v
    }

    /// A bracket class, after the `[`.
    private mutating func bracket() throws(LinearRegexError) -> ScalarSet {
        var negated = false
        if peek == "^" {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard let c = peek else { throw LinearRegexError("missing closing ]") }
            if c == "]" && !first { break }
            first = false
            if c == "[", i + 1 < s.count, s[i + 1] == ":" {
                let start = i + 2
                var k = start
                while k + 1 < s.count, !(s[k] == ":" && s[k + 1] == "]") { k += 1 }
                var name = String(String.UnicodeScalarView(s[start..<min(k, s.count)]))
                let negate = name.hasPrefix("^")
                if negate { name.removeFirst() }
                guard k + 1 < s.count, let set = ScalarSet.posix[name] else {
                    throw LinearRegexError("invalid character class [:\(name):]")
                }
                ranges += negate ? ScalarSet.complement(set) : set
                i = k + 2
                continue
            }
            let low: UInt32
            i += 1
            if c == "\\" {
                let (set, negate) = try classEscape()
                if set.count > 1 || negate {
                    ranges += negate ? ScalarSet.complement(set) : set
                    continue
                }
                low = set[0].lowerBound
            } else {
                low = c.value
            }
            var high = low
            if peek == "-", i + 1 < s.count, s[i + 1] != "]" {
                i += 1
                let d = s[i]
                i += 1
                if d == "\\" {
                    let (set, negate) = try classEscape()
                    guard set.count == 1, !negate, set[0].count == 1 else {
                        throw LinearRegexError("invalid character class range")
                    }
                    high = set[0].lowerBound
                } else {
                    high = d.value
                }
                guard low <= high else { throw LinearRegexError("invalid character class range") }
            }
            ranges.append(low...high)
        }
        i += 1
        return ScalarSet(ranges: ranges, negated: negated, foldCase: flags.foldCase)
    }
}

/// Emits the Thompson program of a node, checking its size as it grows.
private struct RegexCompiler {
    var program: [Instruction] = []

    mutating func emit(_ node: RegexNode) throws(LinearRegexError) {
        guard program.count <= LinearRegex.maxProgramSize else {
            throw LinearRegexError("too large (more than \(LinearRegex.maxProgramSize) instructions)")
        }
        switch node {
        case .set(let set): program.append(.scalar(set))
        case .assert(let a): program.append(.assert(a))
        case .concat(let items):
            for item in items { try emit(item) }
        case .alternate(let branches):
            // split L1, next; L1: a; jump end; next: split L2, ...
            var jumps: [Int] = []
            for (n, branch) in branches.enumerated() {
                if n < branches.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    try emit(branch)
                    jumps.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch)
                }
            }
            for j in jumps { program[j] = .jump(program.count) }
        case .repetition(let body, let min, let max):
            for _ in 0..<min { try emit(body) }
            if let max {
                // (body (body (...)?)?)?: each optional copy may stop the rest.
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, 0))
                    try emit(body)
                }
                for s in splits { program[s] = .split(s + 1, program.count) }
            } else {
                // L: split body, end; body; jump L
                let split = program.count
                program.append(.split(split + 1, 0))
                try emit(body)
                program.append(.jump(split))
                program[split] = .split(split + 1, program.count)
            }
        }
    }
}

/// The threads of one step: each program counter at most once, in the order added.
private struct ThreadList {
    private(set) var threads: [Int] = []
    private var present: [Bool]

    init(count: Int) { present = Array(repeating: false, count: count) }

    mutating func insert(_ pc: Int) -> Bool {
        guard !present[pc] else { return false }
        present[pc] = true
        threads.append(pc)
        return true
    }

    mutating func clear() {
        for pc in threads { present[pc] = false }
        threads.removeAll(keepingCapacity: true)
    }
}
