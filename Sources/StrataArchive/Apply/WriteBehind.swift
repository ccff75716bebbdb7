import DequeModule
import Foundation
import StrataFS
import StrataStreams

/// Writes regular files' data and final metadata on background threads, behind the thread that
/// reads the tar stream and creates entries in order.
///
/// Why: writing file data is most of an apply's kernel time, and one thread doing it in order
/// leaves the other cores idle. What keeps it correct: the tar applier has already created each file
/// (exclusively, at its place in the stream), and every job here works on that file's open
/// descriptor, never on a path, so a later entry replacing or removing the path cannot redirect a
/// write. The one later entry that touches the same inode, a hardlink to it, waits for `drain`
/// first, and so does anything that must see finished files (directory times, the end).
///
/// A file's jobs all run on one lane, in order: data, then owner, mode and times, as the tar applier
/// does them itself. Memory is bounded: at most `maxBytes` of data and `maxFiles` open files wait.
final class WriteBehind: @unchecked Sendable {
    /// A created file whose data and metadata are still to be written.
    final class File {
        let handle: Handle
        /// The entry's name as the tar stream gave it, for errors.
        let name: [UInt8]
        let lane: Int
        init(handle: Handle, name: [UInt8], lane: Int) {
            self.handle = handle
            self.name = name
            self.lane = lane
        }
    }

    /// What is set on a file once its data is written.
    struct Metadata {
        var owner: (uid: UInt32, gid: UInt32)?
        var mode: UInt32
        var access: FileTime
        var modification: FileTime
    }

    private enum Job {
        case write(File, ChunkSlice)
        case finish(File, Metadata)
    }

    private let condition = NSCondition()
    private var lanes: [Deque<[Job]>]
    /// Batches being filled by the tar applier's thread, one per lane, not yet visible to writers.
    private var filling: [[Job]]
    private var fillingBytes = 0
    private var queuedBytes = 0
    private var openFiles = 0
    private var busy = 0
    private var stopping = false
    private var running = 0
    private var failure: EntryError?
    private var nextLane = 0
    private let maxBytes: Int
    private let maxFiles: Int

    init(threads: Int, maxBytes: Int = 64 << 20, maxFiles: Int = 512) {
        lanes = Array(repeating: [], count: threads)
        filling = Array(repeating: [], count: threads)
        self.maxBytes = maxBytes
        self.maxFiles = maxFiles
        running = threads
        for lane in 0..<threads {
            let thread = Thread { [self] in work(lane) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Takes over a newly created file; its data and metadata follow through `write` and `finish`.
    func adopt(_ handle: Handle, name: [UInt8]) throws -> File {
        let file = File(handle: handle, name: name, lane: nextLane)
        nextLane = (nextLane + 1) % lanes.count
        condition.lock()
        defer { condition.unlock() }
        if openFiles >= maxFiles { try publishAndWait(until: { self.openFiles < self.maxFiles }) }
        openFiles += 1
        return file
    }

    func write(_ file: File, _ slice: ChunkSlice) throws {
        filling[file.lane].append(.write(file, slice))
        fillingBytes += slice.range.count
        if fillingBytes >= 1 << 20 { try flush(waitingFor: { self.queuedBytes < self.maxBytes }) }
    }

    func finish(_ file: File, _ metadata: Metadata) throws {
        filling[file.lane].append(.finish(file, metadata))
        if filling[file.lane].count >= 64 { try flush(waitingFor: { true }) }
    }

    /// Returns once every file handed over so far is written and closed; throws the first failure.
    func drain() throws {
        try flush(waitingFor: { self.busy == 0 && self.lanes.allSatisfy(\.isEmpty) })
    }

    /// Stops the threads, dropping jobs not started; waits for the ones running, so nothing is
    /// written after this returns.
    func stop() {
        condition.withLock {
            stopping = true
            for i in lanes.indices { lanes[i].removeAll() }
            condition.broadcast()
            while running > 0 { condition.wait() }
        }
        filling = Array(repeating: [], count: filling.count)
    }

    /// Publishes the batches being filled, then waits until `ready` holds (under the lock).
    private func flush(waitingFor ready: () -> Bool) throws {
        condition.lock()
        defer { condition.unlock() }
        try publishAndWait(until: ready)
    }

    /// `flush` with the lock held.
    private func publishAndWait(until ready: () -> Bool) throws {
        for i in filling.indices where !filling[i].isEmpty {
            lanes[i].append(filling[i])
            filling[i] = []
        }
        queuedBytes += fillingBytes
        fillingBytes = 0
        condition.broadcast()
        while failure == nil && !ready() { condition.wait() }
        if let failure { throw failure }
    }

    private func work(_ lane: Int) {
        condition.lock()
        while true {
            while !stopping && lanes[lane].isEmpty { condition.wait() }
            if stopping { break }
            var batch = lanes[lane].removeFirst()
            busy += 1
            let failed = failure != nil
            condition.unlock()
            var bytes = 0
            var closed = 0
            var error: EntryError?
            for job in batch {
                switch job {
                case .write(let file, let slice):
                    bytes += slice.range.count
                    if !failed && error == nil {
                        error = Self.attempt(file) { () throws(FSError) in try file.handle.write(slice.bytes) }
                    }
                case .finish(let file, let m):
                    closed += 1
                    if !failed && error == nil {
                        error = Self.attempt(file) { () throws(FSError) in
                            if let owner = m.owner { try file.handle.changeOwner(uid: owner.uid, gid: owner.gid) }
                            try file.handle.changeMode(m.mode)
                            try file.handle.setTimes(access: m.access, modification: m.modification)
                        }
                    }
                }
            }
            batch.removeAll()  // closes the finished files' descriptors before taking the lock
            condition.lock()
            busy -= 1
            queuedBytes -= bytes
            openFiles -= closed
            if failure == nil, let error { failure = error }
            condition.broadcast()
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    private static func attempt(_ file: File, _ body: () throws(FSError) -> Void) -> EntryError? {
        do { try body() } catch { return EntryError(entry: PathName.display(file.name), reason: "\(error)") }
        return nil
    }
}
