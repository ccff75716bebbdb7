#if canImport(Glibc)
    import Glibc
#endif

/// Keeps `Cleanup` (which deletes every snapshot directory without a record) from running while a
/// Prepare, View, Commit or Remove has a directory between its steps: those share the gate,
/// Cleanup takes it alone. Held only on the blocking pool's threads.
final class CleanupGate: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)

    init() { pthread_rwlock_init(lock, nil) }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    func shared<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func exclusive<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}
