import Foundation
import Synchronization

/// The control plane's one wall clock: every timestamp Control and the API write or decide by
/// (records, events, windows, retention, drills, failover timing) is read from the clock in
/// `ControlConfiguration`, so tests set the time instead of waiting for it. Elapsed times that
/// are only reported (how long a move took) are measured with `ContinuousClock`.
public protocol WallClock: Sendable {
    /// Milliseconds since 1970, the precision the store keeps.
    var nowMilliseconds: Int64 { get }
}

extension WallClock {
    /// Now as a `Date`, for what speaks dates (a signature's X-Amz-Date).
    public var date: Date { Date(timeIntervalSince1970: Double(nowMilliseconds) / 1000) }
}

/// The machine's clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public var nowMilliseconds: Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// A clock that moves only when told: for tests of windows, retention, drills and backoff.
public final class ManualWallClock: WallClock {
    private let value: Mutex<Int64>

    public init(_ start: Int64) { value = Mutex(start) }

    public var nowMilliseconds: Int64 { value.withLock { $0 } }

    public func advance(byMilliseconds milliseconds: Int64) { value.withLock { $0 += milliseconds } }

    public func set(_ milliseconds: Int64) { value.withLock { $0 = milliseconds } }
}

extension Duration {
    /// The duration in whole milliseconds, the clock's unit.
    public var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }

    /// The duration in seconds, for events and reports of how long something took.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
