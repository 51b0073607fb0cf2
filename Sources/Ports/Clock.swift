import Foundation
import Synchronization

/// The control plane's one clock: every timestamp Control, the reconciler and the API write or
/// decide by (records, events, windows, retention, drills, failover timing, deadlines, how long
/// something took) is read from the clock in `ControlConfiguration`, so tests set the time
/// instead of waiting for it. Only sleeping is left to the system (a wait with a timeout).
public protocol WallClock: Sendable {
    /// Milliseconds since 1970, the precision the store keeps.
    var nowMilliseconds: Int64 { get }
    /// A reading that only moves forward (a wall clock set back does not move it): for
    /// deadlines and for how long something took, as a difference of two readings.
    var monotonic: Duration { get }
}

extension WallClock {
    /// Now as a `Date`, for what speaks dates (a signature's X-Amz-Date).
    public var date: Date { Date(timeIntervalSince1970: Double(nowMilliseconds) / 1000) }
}

/// The machine's clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public var nowMilliseconds: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    private static let origin = ContinuousClock.now

    public var monotonic: Duration { ContinuousClock.now - Self.origin }
}

/// A clock that moves only when told: for tests of windows, retention, drills and backoff.
public final class ManualWallClock: WallClock {
    private let value: Mutex<Int64>

    public init(_ start: Int64) { value = Mutex(start) }

    public var nowMilliseconds: Int64 { value.withLock { $0 } }

    /// Moves with the wall time it is told (never set back by a test that means it).
    public var monotonic: Duration { .milliseconds(value.withLock { $0 }) }

    public func advance(byMilliseconds milliseconds: Int64) { value.withLock { $0 += milliseconds } }

    public func set(_ milliseconds: Int64) { value.withLock { $0 = milliseconds } }
}

extension Duration {
    /// The duration in whole milliseconds, the clock's unit.
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// The duration in seconds, for events and reports of how long something took.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
