import Control
import Runtime
import Reconciler
import Testing
import Ports

@Suite struct StartBackoffTests {
    @Test func pausesGrowAndAreCappedAndResetForgets() {
        let backoff = StartBackoff(initial: .milliseconds(100), maximum: .milliseconds(350))
        let start: Int64 = 1_700_000_000_000
        #expect(backoff.mayStart("n", now: start))
        #expect(backoff.recordStart("n", now: start) == 1)
        #expect(!backoff.mayStart("n", now: start + 99))
        #expect(backoff.mayStart("n", now: start + 100))
        #expect(backoff.recordStart("n", now: start) == 2)
        #expect(!backoff.mayStart("n", now: start + 199))
        #expect(backoff.mayStart("n", now: start + 200))
        backoff.recordStart("n", now: start)
        backoff.recordStart("n", now: start)
        #expect(!backoff.mayStart("n", now: start + 349))
        #expect(backoff.mayStart("n", now: start + 350))
        #expect(backoff.mayStart("other", now: start))
        backoff.reset("n")
        #expect(backoff.mayStart("n", now: start))
    }
}

@Suite struct PeriodicCheckTests {
    @Test func dueOnTheFirstAskThenOncePerInterval() {
        let check = PeriodicCheck(interval: .seconds(60))
        let start: Int64 = 1_700_000_000_000
        #expect(check.isDue("a", now: start))
        #expect(!check.isDue("a", now: start + 59_999))
        #expect(check.isDue("b", now: start + 1))
        #expect(check.isDue("a", now: start + 60_000))
    }
}
