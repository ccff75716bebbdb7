import Foundation
import StrataFS
import StrataOCI
import StrataStreams
import Synchronization

/// Per-blob progress of a push or pull on stderr, one line per blob (its digest, state, bytes of
/// total, rate), redrawn in place at most ten times a second; shown only on a terminal.
final class TransferProgress: Sendable {
    private struct Line {
        var digest: Digest
        var total: Int64
        var bytes: Int64 = 0
        var state: String
        let started = Date()
    }

    private struct State {
        var lines: [Line] = []
        var drawn = 0
        var last = Date.distantPast
    }

    private let enabled = Identity.isTerminal(2)
    private let verb: String
    private let state = Mutex(State())

    init(_ verb: String) { self.verb = verb }

    /// `d` has `bytes` of its bytes across.
    func progress(_ d: Descriptor, _ bytes: Int64) {
        update(d, force: false) {
            $0.bytes = bytes
            $0.state = self.verb
        }
    }

    /// `d` is settled: `state` says how ("done", "present", "mounted").
    func settled(_ d: Descriptor, _ state: String) {
        update(d, force: true) {
            $0.bytes = d.size
            $0.state = state
        }
    }

    private func update(_ d: Descriptor, force: Bool, _ change: @escaping (inout Line) -> Void) {
        guard enabled else { return }
        state.withLock { s in
            if let i = s.lines.firstIndex(where: { $0.digest == d.digest }) {
                change(&s.lines[i])
            } else {
                var line = Line(digest: d.digest, total: d.size, state: verb)
                change(&line)
                s.lines.append(line)
            }
            let now = Date()
            guard force || now.timeIntervalSince(s.last) >= 0.1 else { return }
            s.last = now
            var text = s.drawn > 0 ? "\u{1B}[\(s.drawn)A" : ""
            for l in s.lines {
                let mb = Double(l.bytes) / 1_000_000
                let rate = mb / max(now.timeIntervalSince(l.started), 0.001)
                let hex = l.digest.description.split(separator: ":").last.map { String($0.prefix(12)) } ?? ""
                let figures = String(
                    format: "%8.1f / %.1f MB  %6.1f MB/s", mb, Double(l.total) / 1_000_000, rate)
                let label = l.state.padding(toLength: 8, withPad: " ", startingAt: 0)
                text += "\r\u{1B}[K\(hex) \(label) \(figures)\n"
            }
            s.drawn = s.lines.count
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
}
