import Crypto
import Foundation
import HTTPTypes
import Ports
import Synchronization

/// The web console's sessions: signing in with the API's key pair gives the browser an opaque
/// session id in an `HttpOnly`, `SameSite=Strict` cookie, so the page never keeps the secret,
/// and a CSRF token the page sends with every change (`X-CSRF-Token`). In memory only: a
/// restart of `serve` signs everyone out; signing out revokes at once.
public final class ConsoleSessions: Sendable {
    public struct Session: Sendable, Equatable {
        public var accessKeyID: String
        public var csrfToken: String
        /// Milliseconds since 1970.
        public var expiresAt: Int64
    }

    /// How long a session lasts after sign-in.
    public static let lifetime: Duration = .seconds(12 * 3600)
    public static let cookieName = "memoryplane_session"
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// Sent by the console page on every call, so the audit trail names the door even with
    /// `--auth none` (no session then).
    public static let consoleHeader = HTTPField.Name("X-MemoryPlane-Console")!
    /// More than this many sessions at once: the oldest goes (a loop signing in cannot grow memory).
    static let maximum = 1000

    private let sessions = Mutex<[String: Session]>([:])
    let clock: any WallClock

    public init(clock: any WallClock) {
        self.clock = clock
    }

    /// A new session for the key; returns its id and the session.
    func open(accessKeyID: String) -> (id: String, session: Session) {
        let id = Self.randomToken()
        let session = Session(
            accessKeyID: accessKeyID, csrfToken: Self.randomToken(),
            expiresAt: clock.nowMilliseconds + Self.lifetime.milliseconds)
        sessions.withLock { sessions in
            let now = clock.nowMilliseconds
            sessions = sessions.filter { $0.value.expiresAt > now }
            if sessions.count >= Self.maximum, let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
                sessions[oldest] = nil
            }
            sessions[id] = session
        }
        return (id, session)
    }

    /// The live session with this id; nil when unknown, expired or revoked.
    func session(_ id: String) -> Session? {
        let now = clock.nowMilliseconds
        return sessions.withLock { sessions in
            guard let session = sessions[id] else { return nil }
            guard session.expiresAt > now else {
                sessions[id] = nil
                return nil
            }
            return session
        }
    }

    func close(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// The session id a request's cookie carries, if any.
    static func id(inCookieHeader header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == cookieName { return String(pair[1]) }
        }
        return nil
    }

    /// 32 random bytes, hex.
    static func randomToken() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { bytes in bytes.map { String(format: "%02x", $0) }.joined() }
    }
}
