import Synchronization
import Ports

/// Spaces out restarts of a process that keeps dying, so a node that cannot start (its port
/// taken by a stranger, a broken disk) is retried with growing pauses instead of in a tight loop.
///
/// In memory only: after a control-plane restart every node gets a fresh first attempt. Times
/// are the control plane's clock (milliseconds), so tests move it instead of waiting.
public final class StartBackoff: Sendable {
    private struct Attempts {
        var count: Int
        var notBefore: Int64
    }

    private let state = Mutex<[String: Attempts]>([:])
    private let initial: Int64
    private let maximum: Int64

    public init(initial: Duration = .milliseconds(200), maximum: Duration = .seconds(5)) {
        self.initial = initial.milliseconds
        self.maximum = maximum.milliseconds
    }

    /// Whether `name` may be started now.
    public func mayStart(_ name: String, now: Int64) -> Bool {
        state.withLock { attempts in
            guard let entry = attempts[name] else { return true }
            return now >= entry.notBefore
        }
    }

    /// Records a start and returns how many starts in a row there have been without recovery.
    @discardableResult
    public func recordStart(_ name: String, now: Int64) -> Int {
        state.withLock { attempts in
            let count = (attempts[name]?.count ?? 0) + 1
            var pause = initial
            for _ in 1..<count where pause < maximum { pause *= 2 }
            attempts[name] = Attempts(count: count, notBefore: now + min(pause, maximum))
            return count
        }
    }

    /// Forgets a process that is healthy again.
    public func reset(_ name: String) {
        state.withLock { _ = $0.removeValue(forKey: name) }
    }
}

/// Says when a periodic chore is due again, per key.
public final class PeriodicCheck: Sendable {
    private let next = Mutex<[String: Int64]>([:])
    private let interval: Int64

    public init(interval: Duration) {
        self.interval = interval.milliseconds
    }

    /// True at most once per interval for a key (and on the first ask).
    public func isDue(_ key: String, now: Int64) -> Bool {
        next.withLock { next in
            if let due = next[key], now < due { return false }
            next[key] = now + interval
            return true
        }
    }
}

/// Consecutive failures of the same step, per cluster: a different step failing, or any step
/// succeeding, starts the count again.
final class StepFailures: Sendable {
    private let state = Mutex([String: (step: String, count: Int)]())

    /// Counts a failure of `step`; returns how many in a row.
    func failed(_ cluster: String, _ step: String) -> Int {
        state.withLock { state in
            let count = state[cluster].map { $0.step == step ? $0.count + 1 : 1 } ?? 1
            state[cluster] = (step, count)
            return count
        }
    }

    func succeeded(_ cluster: String, _ step: String) {
        state.withLock { state in
            if state[cluster]?.step == step { state[cluster] = nil }
        }
    }

    func forget(_ cluster: String) {
        _ = state.withLock { $0.removeValue(forKey: cluster) }
    }
}
