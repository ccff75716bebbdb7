import StrataArchive
import StrataFS
import StrataStreams

/// The entry names of an uncompressed tar stream, sorted.
public func tarEntryNames(_ source: ByteSource) throws -> [String] {
    let reader = TarReader(source)
    var names: [String] = []
    while let h = try reader.next() { names.append(PathName.display(h.name)) }
    return names.sorted()
}
