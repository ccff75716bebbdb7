import StrataCompression
import StrataOCI
import StrataStreams

/// containerd's processor chain: from a layer's media type, each step takes the current type to
/// the next, until the plain tar type (OCI's `...layer.v1.tar` or Docker's `...rootfs.diff.tar`)
/// is reached. A declared processor that accepts the type is used first; otherwise the built-in
/// decompressors take gzip and zstd types (sniffing the bytes, as containerd does, so a `+gzip`
/// layer that is really zstd still reads). Any other type is an error naming what is configured.
///
/// The chain owns its processes: `close` ends any still running, whatever happened.
public final class ProcessorChain {
    /// The plain tar stream.
    public let output: ByteSource
    /// The steps taken: processor IDs and `gzip`/`zstd` for the built-ins.
    public let steps: [String]
    /// The built-in decompression used, if any.
    public let compression: Compression
    private let processes: [ExternalProcess]

    public static func isPlainTar(_ mediaType: String) -> Bool {
        MediaType.layerCompression(mediaType) == Compression.none
    }

    /// Builds the chain over `input` (peekable, for the built-ins' sniffing) for `mediaType`.
    public init(input: PrefetchingSource, mediaType: String, processors: StreamProcessors) throws {
        var source: ByteSource = input
        var peekable = input
        var type = mediaType
        var steps: [String] = []
        var processes: [ExternalProcess] = []
        var compression = Compression.none
        do {
            while !Self.isPlainTar(type) {
                guard steps.count < 16 else {
                    throw ProcessorError.config("stream_processors", "the chain from \(mediaType) does not end")
                }
                if let p = processors.processor(accepting: type) {
                    let process = try ExternalProcess(
                        p, input: source, mediaType: type, payload: processors.payloads[p.id],
                        timeout: processors.timeout)
                    processes.append(process)
                    peekable = PrefetchingSource(ProcessOutput(process))
                    source = peekable
                    steps.append(p.id)
                    type = p.returns
                } else if let c = MediaType.layerCompression(type), c != .none {
                    let actual = Compression.detect(try peekable.peek(10))
                    if actual != .none { source = try actual.decompressor(reading: source) }
                    compression = actual
                    steps.append(actual == .none ? "none" : actual.rawValue)
                    type = MediaType.layer
                } else {
                    throw ProcessorError.noProcessor(mediaType: type, configured: processors.acceptedTypes)
                }
            }
        } catch {
            for p in processes { p.close() }
            throw error
        }
        output = source
        self.steps = steps
        self.compression = compression
        self.processes = processes
    }

    /// Whether an external processor is in the chain.
    public var runsProcessors: Bool { !processes.isEmpty }

    /// Turns a failure of the chain's consumer (a tar error on a processor's output) into one
    /// that names the last processor and its stderr; other errors pass as they are.
    public func explain(_ error: any Error) -> any Error {
        if error is ProcessorError { return error }
        guard let last = processes.last else { return error }
        return ProcessorError.invalidOutput(id: last.processor.id, reason: "\(error)", stderr: last.stderrTail)
    }

    /// Ends every process still running and reaps it.
    public func close() { for p in processes { p.close() } }

    deinit { close() }
}

/// A processor's stdout as a source: at its end, the process must have exited 0.
final class ProcessOutput: ByteSource {
    let process: ExternalProcess
    private var ended = false

    init(_ process: ExternalProcess) { self.process = process }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if ended { return 0 }
        let n = try process.read(into: buffer)
        if n == 0 {
            ended = true
            try process.finish()
        }
        return n
    }
}
