import GRPCCore
import NIOPosix

/// Threads for the stores' blocking calls (syscalls, SQLite, tree walks), so that a long diff
/// never holds one of the few threads of Swift's concurrency pool that every other call needs.
/// Errors leave as the gRPC status containerd expects (`RPCStatus`).
struct BlockingPool: Sendable {
    private let pool: NIOThreadPool

    init(threads: Int) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await pool.runIfActive(body)
        } catch {
            throw RPCStatus.error(for: error)
        }
    }

    func shutdown() async throws { try await pool.shutdownGracefully() }
}
