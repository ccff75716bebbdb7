/// One mount, as snapshotters describe them: containerd's `mount.Mount`.
public struct Mount: Codable, Equatable, Sendable {
    public var type: String
    public var source: String
    public var options: [String]

    public init(type: String, source: String, options: [String]) {
        self.type = type
        self.source = source
        self.options = options
    }
}
