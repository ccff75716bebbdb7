import Foundation
import StrataFS
import StrataMetadata

extension FileTime {
    var date: Date { Timestamp.date(nanosecondsSince1970) }
}
