/// An external stream processor as containerd declares one in `[stream_processors."ID"]`: a
/// binary that turns a layer of one of the `accepts` media types into one of type `returns`,
/// reading the layer on stdin and writing the result on stdout.
public struct StreamProcessor: Sendable, Equatable, Codable {
    public var id: String
    public var accepts: [String]
    public var returns: String
    /// The binary: a path, or a name looked up in `PATH`.
    public var path: String
    public var args: [String]
    /// `NAME=VALUE` entries added to the processor's environment.
    public var env: [String]

    public init(id: String, accepts: [String], returns: String, path: String, args: [String] = [], env: [String] = []) {
        self.id = id
        self.accepts = accepts
        self.returns = returns
        self.path = path
        self.args = args
        self.env = env
    }
}
