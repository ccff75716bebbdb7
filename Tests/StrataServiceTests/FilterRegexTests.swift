import Foundation
import StrataTestSupport
import Testing

@testable import StrataService

/// `~=` filters in linear time (issue 23, defect 6): RE2's semantics, no backtracking.
@Suite struct FilterRegexTests {
    static func matches(_ pattern: String, _ value: String) throws -> Bool {
        try Filter(["labels.x~=" + "\"" + pattern.replacingOccurrences(of: "\\", with: "\\\\") + "\""]).matches {
            Filter.label($0, ["x": value])
        }
    }

    @Test(arguments: [
        ("abc", "xxabcxx", true), ("^abc$", "abc", true), ("^abc$", "abcd", false), ("a.c", "a\nc", false),
        ("(?s)a.c", "a\nc", true), ("^(foo|bar)+$", "foobarfoo", true), ("^(foo|bar)+$", "foobaz", false),
        ("[0-9]{3}-[a-f]+", "id 123-beef", true), ("[^a-z]", "abc", false), ("[^a-z]", "abC", true),
        ("(?i)HELLO", "say hello", true), ("\\d+\\.\\d+", "v1.25", true), ("\\bword\\b", "a word here", true),
        ("\\bword\\b", "swordfish", false), ("colou?r", "color", true), ("a{2,3}", "a", false),
        ("a{2,3}", "xaax", true), ("x*", "", true), ("^$", "", true), ("(?m)^b$", "a\nb\nc", true),
        ("^b$", "a\nb\nc", false), ("[[:digit:]]+z", "12z", true), ("\\x41\\x{42}", "AB", true),
        ("a|b|c", "zzc", true), ("(?:ab)*c", "ababc", true), ("(?P<n>ab)c", "abc", true), ("a{,3}", "a{,3}", true),
        ("[]a]", "]", true), ("[a-]", "-", true), ("(a*)*b", "aaab", true), ("(a*)*b", "aaaa", false),
    ])
    func matchesAsGoDoes(pattern: String, value: String, expected: Bool) throws {
        #expect(try Self.matches(pattern, value) == expected, "\(pattern) on \(value.debugDescription)")
    }

    @Test(arguments: ["(a)\\1", "a**", "a+*", "*a", "(?=a)", "(?<=a)b", "\\p{L}", "a{1001}", "(ab", "[a", "a\\"])
    func patternsRE2RefusesAreRefused(pattern: String) {
        #expect(throws: FilterError.self, "\(pattern)") { _ = try Filter(["labels.x~=\"\(pattern)\""]) }
    }

    @Test func caps() {
        let long = String(repeating: "a", count: LinearRegex.maxPatternLength + 1)
        #expect(throws: FilterError.self) { _ = try Filter(["labels.x~=" + long]) }
        #expect(throws: FilterError.self) { _ = try Filter(["labels.x~=((a{1000}){1000}){1000}"]) }
    }

    /// Patterns that make a backtracking engine take exponential time, over long labels: each
    /// match is linear, so all of them take well under a second.
    @Test(.timeLimit(.minutes(1))) func catastrophicPatternsRunInLinearTime() throws {
        let value = String(repeating: "a", count: 4000) + "!"
        let started = ContinuousClock.now
        for pattern in ["^(a+)+$", "^(a|aa)+$", "^(a|a?)+$", "(x+x+)+y", "^(a*)*b$", "(.*a){20}$"] {
            #expect(try !Self.matches(pattern, value), "\(pattern)")
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(5), "\(elapsed)")
    }
}
