import Foundation

/// Times in the metadata database: nanoseconds since 1970, as integers, so they sort and compare
/// exactly; `Date` at the API.
public enum Timestamp {
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public static func date(_ ns: Int64) -> Date { Date(timeIntervalSince1970: Double(ns) / 1e9) }
}
