import Foundation
import StrataDatabase
import StrataFS

extension FileTime {
    var date: Date { Timestamp.date(nanosecondsSince1970) }
}
