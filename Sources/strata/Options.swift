import ArgumentParser
import StrataCompression
import StrataFS

extension Compression: ExpressibleByArgument {}
extension XattrPolicy: ExpressibleByArgument {}

/// `--mtime s|ns`: the precision of mtimes written into layers.
enum MtimePrecision: String, ExpressibleByArgument, CaseIterable {
    case s
    case ns
}
