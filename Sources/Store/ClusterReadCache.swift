import Synchronization

/// Cluster list reads stamped with the write generation they were read at. The generation is
/// taken before reading, so a read that raced a write is stored under the old generation and
/// never served after that write.
final class ClusterReadCache: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var entries: [String: (generation: UInt64, details: [Store.ClusterDetails])] = [:]
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    func invalidate() {
        state.withLock {
            $0.generation &+= 1
            $0.entries.removeAll(keepingCapacity: true)
        }
    }

    func lookup(_ key: String, generation: UInt64) -> [Store.ClusterDetails]? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.generation == state.generation else { return nil }
            return entry.details
        }
    }

    func store(_ key: String, _ details: [Store.ClusterDetails], generation: UInt64) {
        state.withLock { state in
            guard generation == state.generation else { return }
            if state.entries.count >= 32 { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = (generation, details)
        }
    }
}
