import Synchronization
import Ports

/// Tells the reconcile loops that desired state changed, so they act at once instead of at
/// their next periodic look. A loop waits on it with a timeout instead of looking again and again.
///
/// Services hold it as their `ReconcileTrigger` and the reconciler service waits on it, which is
/// also what lets the composition root build services before the reconciler that uses them.
public final class WakeSignal: ReconcileTrigger, Sendable {
    /// What a loop waits for: one cluster's changes, or any change (the discovery loop).
    package enum Key: Hashable {
        case cluster(String)
        case anyCluster
    }

    private struct State {
        /// Wake-ups that arrived while nobody waited; the next wait returns at once.
        var pending: Set<Key> = []
        var waiters: [Key: [Int: CheckedContinuation<Void, Never>]] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func wake(cluster name: String) {
        let continuations = state.withLock { state in
            var woken: [CheckedContinuation<Void, Never>] = []
            for key in [Key.cluster(name), .anyCluster] {
                if let waiting = state.waiters.removeValue(forKey: key), !waiting.isEmpty {
                    woken += waiting.values
                } else {
                    state.pending.insert(key)
                }
            }
            return woken
        }
        for continuation in continuations { continuation.resume() }
    }

    /// Drops a wake-up left for a cluster that is gone, so none piles up.
    package func forget(cluster name: String) {
        _ = state.withLock { $0.pending.remove(.cluster(name)) }
    }

    /// Waits until `key` is woken or `clock` says `timeout` passed; true when woken.
    package func wait<C: Clock>(for key: Key, timeout: Duration, clock: C) async -> Bool where C.Duration == Duration {
        if state.withLock({ $0.pending.remove(key) != nil }) { return true }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.waitUntilWoken(key)
                return !Task.isCancelled
            }
            group.addTask {
                try? await clock.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    private func waitUntilWoken(_ key: Key) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // Cancelled before registering (onCancel already ran) or woken meanwhile.
                    if Task.isCancelled || state.pending.remove(key) != nil { return true }
                    state.waiters[key, default: [:]][id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters[key]?.removeValue(forKey: id) }
            continuation?.resume()
        }
    }
}
