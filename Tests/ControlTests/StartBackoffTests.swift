import Control
import Testing

@Suite struct StartBackoffTests {
    @Test func pausesGrowAndAreCappedAndResetForgets() {
        let backoff = StartBackoff(initial: .milliseconds(100), maximum: .milliseconds(350))
        let start = ContinuousClock.now
        #expect(backoff.mayStart("n", now: start))
        #expect(backoff.recordStart("n", now: start) == 1)
        #expect(!backoff.mayStart("n", now: start + .milliseconds(99)))
        #expect(backoff.mayStart("n", now: start + .milliseconds(100)))
        #expect(backoff.recordStart("n", now: start) == 2)
        #expect(!backoff.mayStart("n", now: start + .milliseconds(199)))
        #expect(backoff.mayStart("n", now: start + .milliseconds(200)))
        backoff.recordStart("n", now: start)
        backoff.recordStart("n", now: start)
        #expect(!backoff.mayStart("n", now: start + .milliseconds(349)))
        #expect(backoff.mayStart("n", now: start + .milliseconds(350)))
        #expect(backoff.mayStart("other", now: start))
        backoff.reset("n")
        #expect(backoff.mayStart("n", now: start))
    }
}
