/// containerd's filter syntax (`filters.ParseAll`), as List and Walk requests carry it:
/// each string is selectors joined by `,` (all must match); the strings are alternatives (any may).
/// A selector is a field path (`name`, `labels."containerd.io/gc.root"`) alone (present) or with
/// `==`, `!=` or `~=` (a regular expression found anywhere) and a value, bare or quoted with `"`
/// (Go escapes), `/` or `|`. No filters, or an empty string, match everything.
/// A `~=` pattern is compiled once, by `LinearRegex` (RE2's syntax, matched in linear time as
/// Go's engine does), so no client's pattern can make a List backtrack over every label.
struct Filter: Sendable {
    private let alternatives: [[Selector]]

    struct Selector: Sendable {
        enum Operator: Sendable { case present, equal, notEqual, matches }
        var path: [String]
        var op: Operator
        var value: String
        /// The compiled pattern of a `~=` selector.
        var regex: LinearRegex?
    }

    init(_ filters: [String]) throws(FilterError) {
        var alternatives: [[Selector]] = []
        for text in filters {
            var parser = Parser(text)
            alternatives.append(try parser.selectors())
        }
        self.alternatives = alternatives
    }

    /// Whether the object whose fields `field` gives matches: `field(path)` is the value and
    /// whether it is present.
    func matches(_ field: (ArraySlice<String>) -> (String, Bool)) -> Bool {
        if alternatives.isEmpty { return true }
        return alternatives.contains { all in
            all.allSatisfy { s in
                let (value, present) = field(s.path[...])
                switch s.op {
                case .present: return present
                case .equal: return present && value == s.value
                case .notEqual: return value != s.value
                case .matches: return s.regex?.matches(value) ?? false
                }
            }
        }
    }

    /// The value of `labels.KEY` in `labels`.
    static func label(_ path: ArraySlice<String>, _ labels: [String: String]) -> (String, Bool) {
        guard path.count >= 2 else { return ("", !labels.isEmpty) }
        let key = path.dropFirst().joined(separator: ".")
        return labels[key].map { ($0, true) } ?? ("", false)
    }
}

struct FilterError: Error, CustomStringConvertible {
    var filter: String
    var reason: String
    var description: String { "invalid filter \"\(filter)\": \(reason)" }
}

extension Filter {
    /// A recursive-descent parser over one filter string.
    fileprivate struct Parser {
        let text: String
        var rest: Substring

        init(_ text: String) {
            self.text = text
            rest = text[...]
        }

        mutating func selectors() throws(FilterError) -> [Selector] {
            skipSpaces()
            if rest.isEmpty { return [] }
            var out = [try selector()]
            while true {
                skipSpaces()
                if rest.isEmpty { return out }
                guard rest.first == "," else { throw error("expected \",\" before \(rest)") }
                rest.removeFirst()
                out.append(try selector())
            }
        }

        private mutating func selector() throws(FilterError) -> Selector {
            var path = [try field()]
            while rest.first == "." {
                rest.removeFirst()
                path.append(try field())
            }
            skipSpaces()
            let ops: [(String, Selector.Operator)] = [("==", .equal), ("!=", .notEqual), ("~=", .matches)]
            guard let (token, op) = ops.first(where: { rest.hasPrefix($0.0) }) else {
                return Selector(path: path, op: .present, value: "", regex: nil)
            }
            rest.removeFirst(token.count)
            skipSpaces()
            let value = try value()
            var regex: LinearRegex?
            if op == .matches {
                do {
                    regex = try LinearRegex(value)
                } catch let e {
                    throw error("bad regular expression \(value): \(e)")
                }
            }
            return Selector(path: path, op: op, value: value, regex: regex)
        }

        private mutating func field() throws(FilterError) -> String {
            skipSpaces()
            if let q = rest.first, "\"/|".contains(q) { return try quoted() }
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard !name.isEmpty else { throw error("expected a field name at \"\(rest)\"") }
            rest.removeFirst(name.count)
            return String(name)
        }

        private mutating func value() throws(FilterError) -> String {
            if let q = rest.first, "\"/|".contains(q) { return try quoted() }
            let v = rest.prefix { $0 != "," }
            rest.removeFirst(v.count)
            let trimmed = v.trimmingSuffix { $0 == " " }
            guard !trimmed.isEmpty else { throw error("expected a value") }
            return String(trimmed)
        }

        /// A string in `"` (with Go's escapes), `/` or `|` (taken as written, a doubled closing
        /// character or `\/` standing for itself).
        private mutating func quoted() throws(FilterError) -> String {
            let quote = rest.removeFirst()
            var out = ""
            while let c = rest.first {
                rest.removeFirst()
                if c == quote { return out }
                if c == "\\", let next = rest.first {
                    rest.removeFirst()
                    if quote != "\"" {
                        out.append(next == quote ? "\(next)" : "\\\(next)")
                        continue
                    }
                    switch next {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "r": out.append("\r")
                    case "\"", "\\", "'", "/": out.append(next)
                    default: throw error("unknown escape \\\(next)")
                    }
                    continue
                }
                out.append(c)
            }
            throw error("unterminated quoted string")
        }

        private mutating func skipSpaces() {
            while rest.first == " " { rest.removeFirst() }
        }

        private func error(_ reason: String) -> FilterError { FilterError(filter: text, reason: reason) }
    }
}

extension Substring {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> Substring {
        var s = self
        while let last = s.last, predicate(last) { s.removeLast() }
        return s
    }
}
