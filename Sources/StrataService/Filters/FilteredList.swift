/// A message containerd's list filters select by field (`Filter.matches`).
protocol FilterFields: Sendable {
    func field(_ path: ArraySlice<String>) -> (String, Bool)
}

extension SnapshotInfoMessage: FilterFields {}
extension ContentInfoMessage: FilterFields {}
extension StatusMessage: FilterFields {}

extension BlockingPool {
    /// The messages `make` returns that match `filters` (made on the pool; a bad filter is
    /// `InvalidArgument`), for containerd's List and ListStatuses calls.
    func filtered<M: FilterFields>(_ filters: [String], _ make: @escaping @Sendable () throws -> [M]) async throws
        -> [M]
    {
        try await run {
            let filter = try Filter(filters)
            return try make().filter { filter.matches($0.field) }
        }
    }

    /// `filtered`, sent `batch` at a time (containerd's services send 100 infos per message).
    func list<M: FilterFields>(
        _ filters: [String], batch: Int = 100, _ make: @escaping @Sendable () throws -> [M],
        send: ([M]) async throws -> Void
    ) async throws {
        let items = try await filtered(filters, make)
        for start in stride(from: 0, to: items.count, by: batch) {
            try await send(Array(items[start..<min(start + batch, items.count)]))
        }
    }
}
