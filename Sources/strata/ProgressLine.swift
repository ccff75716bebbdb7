import Foundation
import StrataFS
import StrataLayers

/// A one-line progress display on stderr (entries, bytes, rate), shown only on a terminal and
/// redrawn at most ten times a second.
final class ProgressLine {
    private let enabled: Bool
    private let start = Date()
    private var last = Date.distantPast
    private let verb: String
    private var latest = LayerProgress(entries: 0, bytes: 0)

    init(_ verb: String) {
        self.verb = verb
        enabled = Identity.isTerminal(2)
    }

    func update(_ p: LayerProgress) {
        guard enabled else { return }
        latest = p
        let now = Date()
        guard now.timeIntervalSince(last) >= 0.1 else { return }
        last = now
        draw(p, now)
    }

    /// Draws the final figures `p` and ends the line.
    func finish(_ p: LayerProgress) {
        latest = p
        finish()
    }

    /// Draws the last figures and ends the line.
    func finish() {
        guard enabled else { return }
        draw(latest, Date())
        FileHandle.standardError.write(Data("\n".utf8))
    }

    private func draw(_ p: LayerProgress, _ now: Date) {
        let seconds = max(now.timeIntervalSince(start), 0.001)
        let mb = Double(p.bytes) / 1_000_000
        let line = String(format: "\r%@ %d entries, %.1f MB, %.1f MB/s   ", verb, p.entries, mb, mb / seconds)
        FileHandle.standardError.write(Data(line.utf8))
    }
}
