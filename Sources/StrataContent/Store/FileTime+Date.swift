import Foundation
import StrataFS
import StrataMetadata

extension FileTime {
    /// The time as the metadata database stores it.
    var nanosecondsSince1970: Int64 { seconds * 1_000_000_000 + Int64(nanoseconds) }
    var date: Date { Timestamp.date(nanosecondsSince1970) }
}
