import Foundation
import TOMLKit

/// The configured stream processors, with what a layer's chain needs besides them: payloads
/// (bytes for a processor's descriptor 3, by processor ID) and how long a processor may run.
///
/// The TOML is containerd's own shape, so a `[stream_processors]` section copied from a
/// containerd config reads as it is; other tables in the file are ignored.
public struct StreamProcessors: Sendable {
    /// In ID order (a TOML table keeps none); the first that accepts a media type is used.
    public var processors: [StreamProcessor]
    public var payloads: [String: [UInt8]] = [:]
    /// A processor still running after this long is killed and its layer fails.
    public var timeout: Duration?

    public init(_ processors: [StreamProcessor] = []) { self.processors = processors }

    /// The processors declared in TOML text; `source` names it in errors.
    public init(toml text: String, source: String) throws {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ProcessorError.config(
                source, "line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        processors = []
        guard let section = table["stream_processors"] else { return }
        guard let entries = section.table else {
            throw ProcessorError.config(source, "stream_processors is not a table")
        }
        for (id, value) in entries.sorted(by: { $0.0 < $1.0 }) {
            guard let entry = value.table else {
                throw ProcessorError.config(source, "stream_processors.\(id) is not a table")
            }
            func strings(_ key: String) throws -> [String] {
                guard let v = entry[key] else { return [] }
                guard let array = v.array, let list = Optional(array.compactMap { $0.string }),
                    list.count == array.count
                else { throw ProcessorError.config(source, "stream_processors.\(id).\(key) is not a list of strings") }
                return list
            }
            guard let returns = entry["returns"]?.string, let path = entry["path"]?.string else {
                throw ProcessorError.config(source, "stream_processors.\(id) needs returns and path (strings)")
            }
            let accepts = try strings("accepts")
            guard !accepts.isEmpty else {
                throw ProcessorError.config(source, "stream_processors.\(id) accepts nothing")
            }
            processors.append(
                StreamProcessor(
                    id: id, accepts: accepts, returns: returns, path: path, args: try strings("args"),
                    env: try strings("env")))
        }
    }

    /// The processors declared in the TOML file at `path`.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProcessorError.config(path, "cannot be read")
        }
        try self.init(toml: String(decoding: data, as: UTF8.self), source: path)
    }

    /// The state root's configuration file, where `[stream_processors]` is declared for every
    /// command and service that uses the root.
    public static let rootConfigFile = "strata.toml"

    /// The one rule for which declaration applies: the file `config` when one is given, else the
    /// `strata.toml` of the state root at `stateRoot` when it has one, else none.
    public static func chosen(config: String?, stateRoot: String?) throws -> StreamProcessors {
        if let config { return try StreamProcessors(contentsOf: config) }
        guard let stateRoot else { return StreamProcessors() }
        let file = stateRoot + "/" + rootConfigFile
        guard FileManager.default.fileExists(atPath: file) else { return StreamProcessors() }
        return try StreamProcessors(contentsOf: file)
    }

    /// The processor for `mediaType`, if one is declared.
    public func processor(accepting mediaType: String) -> StreamProcessor? {
        processors.first { $0.accepts.contains(mediaType) }
    }

    /// A declared processor by ID.
    public func processor(id: String) -> StreamProcessor? { processors.first { $0.id == id } }

    /// Every media type a declared processor accepts, for errors.
    public var acceptedTypes: [String] { processors.flatMap(\.accepts) }
}
