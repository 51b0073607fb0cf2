@testable import API
import Ports
import Testing

/// Refusals from one source on a clock the test moves: ten a minute are free, then each waits
/// twice as long as the last (100 ms to 5 s); a minute later they are free again; another source
/// is not held back by the first.
@Suite struct AuthFailureThrottleTests {
    @Test func aSourceThatKeepsFailingWaitsLongerAndLonger() {
        let clock = ManualWallClock(1_700_000_000_000)
        let throttle = AuthFailureThrottle(clock: clock)
        let free = (0..<AuthFailureThrottle.freeFailuresPerMinute).map { _ in throttle.delay(afterFailureFrom: "10.0.0.1") }
        #expect(free.allSatisfy { $0 == .zero })
        let delays = (0..<8).map { _ in throttle.delay(afterFailureFrom: "10.0.0.1") }
        #expect(delays == [100, 200, 400, 800, 1600, 3200, 5000, 5000].map { Duration.milliseconds($0) })
        #expect(throttle.delay(afterFailureFrom: "10.0.0.2") == .zero)
        clock.advance(byMilliseconds: 60_000)
        #expect(throttle.delay(afterFailureFrom: "10.0.0.1") == .zero)
    }
}
