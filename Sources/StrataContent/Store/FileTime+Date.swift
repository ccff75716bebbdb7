import Foundation
import StrataFS
import StrataDatabase

extension FileTime {
    var date: Date { Timestamp.date(nanosecondsSince1970) }
}
