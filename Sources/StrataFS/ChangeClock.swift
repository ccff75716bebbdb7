#if canImport(Glibc)
    import Glibc
#endif

/// The clock a filesystem stamps inode change times with (coarse: it moves in ticks of a few
/// milliseconds).
public enum ChangeClock {
    /// A change time that every change already made under `directory`'s filesystem has reached and
    /// no later change can: it stamps a probe file, then waits until the clock has moved past that
    /// stamp. Relies on the clock not being set back meanwhile.
    public static func settle(in directory: Handle) throws(FSError) -> FileTime {
        let name = Array(".strata-clock-\(getpid())-\(UInt32.random(in: 0...UInt32.max))".utf8)
        let probe = try directory.open(name, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        defer { try? directory.unlink(name) }
        let mark = try probe.stat().changeTime
        while true {
            try probe.changeMode(0o600)  // a status change: stamps a new ctime
            if try probe.stat().changeTime > mark { return mark }
            usleep(1000)
        }
    }
}
