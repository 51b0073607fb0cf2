@testable import API
import Ports
import Testing

/// The console's sessions on a clock the test moves: they last their lifetime, a sign-out ends
/// one at once, each has its own CSRF token, and the cookie is found among others.
@Suite struct ConsoleSessionsTests {
    @Test func aSessionLastsItsLifetimeAndSigningOutEndsIt() {
        let clock = ManualWallClock(1_700_000_000_000)
        let sessions = ConsoleSessions(clock: clock)
        let (id, session) = sessions.open(accessKeyID: "AKMPTEST")
        #expect(sessions.session(id) == session)
        #expect(session.accessKeyID == "AKMPTEST" && session.csrfToken.count == 64 && id.count == 64 && id != session.csrfToken)
        clock.advance(byMilliseconds: ConsoleSessions.lifetime.milliseconds - 1)
        #expect(sessions.session(id) != nil)
        clock.advance(byMilliseconds: 1)
        #expect(sessions.session(id) == nil)

        let (other, _) = sessions.open(accessKeyID: "AKMPTEST")
        sessions.close(other)
        #expect(sessions.session(other) == nil)
        #expect(sessions.session("not-a-session") == nil)
    }

    @Test func twoSessionsHaveTheirOwnTokens() {
        let sessions = ConsoleSessions(clock: ManualWallClock(0))
        let first = sessions.open(accessKeyID: "A"), second = sessions.open(accessKeyID: "A")
        #expect(first.id != second.id && first.session.csrfToken != second.session.csrfToken)
    }

    @Test func theCookieIsFoundAmongOthers() {
        #expect(ConsoleSessions.id(inCookieHeader: "a=1; memoryplane_session=abc; b=2") == "abc")
        #expect(ConsoleSessions.id(inCookieHeader: "memoryplane_session_x=abc") == nil)
        #expect(ConsoleSessions.id(inCookieHeader: nil) == nil)
    }

    @Test func sessionsAreBoundedTheOldestGoesFirst() {
        let clock = ManualWallClock(0)
        let sessions = ConsoleSessions(clock: clock)
        let first = sessions.open(accessKeyID: "A").id
        for _ in 0..<ConsoleSessions.maximum {
            clock.advance(byMilliseconds: 1)
            _ = sessions.open(accessKeyID: "A")
        }
        #expect(sessions.session(first) == nil)
    }
}
