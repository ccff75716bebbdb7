import Foundation

/// Runs directory jobs on worker threads ahead of the consumer, and hands their items to the
/// consumer in tar order.
///
/// Workers take jobs from a stack, so they run depth-first just ahead of the consumer. At most
/// `window` finished jobs wait to be consumed (each holds one directory's entries and two open
/// descriptors), so memory stays bounded however large the tree. When the consumer needs a job
/// no worker has started, it runs the job itself; with no workers the walk is sequential.
final class WalkScheduler: @unchecked Sendable {
    private let comparer: DirectoryComparer
    private let condition = NSCondition()
    private var stack: [DirectoryJob] = []
    private var waiting = 0
    private var stopping = false
    private var liveWorkers = 0
    private let window: Int

    init(comparer: DirectoryComparer, window: Int = 256) {
        self.comparer = comparer
        self.window = window
    }

    /// Walks from `root`, giving every change to `sink`; false when the sink stopped the walk.
    func run(_ root: DirectoryJob, workers: Int, sink: inout some ChangeSink) throws -> Bool {
        for _ in 0..<workers {
            condition.withLock { liveWorkers += 1 }
            let thread = Thread { [self] in work() }
            thread.stackSize = 1 << 20
            thread.start()
        }
        defer {
            condition.withLock {
                stopping = true
                condition.broadcast()
                while liveWorkers > 0 { condition.wait() }
            }
        }
        return try consume(root, &sink)
    }

    private func work() {
        condition.lock()
        while true {
            while !stopping && (stack.isEmpty || waiting >= window) { condition.wait() }
            if stopping { break }
            let job = stack.removeLast()
            job.state = .running
            condition.unlock()
            execute(job)
            condition.lock()
        }
        liveWorkers -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs a job (the lock is not held) and publishes its result and children.
    private func execute(_ job: DirectoryJob) {
        var items: [DirectoryJob.Item] = []
        var failure: Error?
        do { items = try comparer.run(job) } catch { failure = error }
        condition.withLock {
            job.items = items
            job.error = failure
            job.state = .done
            waiting += 1
            for case .descend(let child) in items.reversed() { stack.append(child) }
            condition.broadcast()
        }
    }

    private func consume(_ job: DirectoryJob, _ sink: inout some ChangeSink) throws -> Bool {
        condition.lock()
        while job.state != .done {
            if job.state == .pending {
                // No worker has started it (the root is never queued): run it here.
                if let index = stack.lastIndex(where: { $0 === job }) { stack.remove(at: index) }
                job.state = .running
                condition.unlock()
                execute(job)
                condition.lock()
            } else {
                condition.wait()
            }
        }
        let items = job.items
        let error = job.error
        job.items = []
        waiting -= 1
        condition.broadcast()
        condition.unlock()
        if let error { throw error }
        for item in items {
            switch item {
            case .change(let c):
                if try sink.handle(c) == .stop { return false }
            case .descend(let child):
                if try !consume(child, &sink) { return false }
            }
        }
        return true
    }
}
