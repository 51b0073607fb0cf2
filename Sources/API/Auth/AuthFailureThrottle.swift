import Control
import HTTPTypes
import Hummingbird
import Model
import Ports
import Synchronization

/// Slows down a source that keeps failing to authenticate: after 10 refusals within a minute,
/// each further refusal is answered later, doubling from 100 ms up to 5 s. Only refusals wait, so
/// a valid key is never held back, whoever else is guessing; and nothing is locked out.
final class AuthFailureThrottle: Sendable {
    static let freeFailuresPerMinute = 10
    static let firstDelay: Duration = .milliseconds(100)
    static let longestDelay: Duration = .seconds(5)
    /// Sources remembered at once; past it the one that failed longest ago is forgotten.
    static let sources = 10_000

    private let failures = Mutex<[String: [Int64]]>([:])
    let clock: any WallClock

    init(clock: any WallClock) {
        self.clock = clock
    }

    /// Records a refusal from `source`; returns how long to hold its answer back.
    func delay(afterFailureFrom source: String) -> Duration {
        let now = clock.nowMilliseconds
        let count = failures.withLock { failures in
            var recent = (failures[source] ?? []).filter { now - $0 < 60_000 }
            recent.append(now)
            failures[source] = recent
            if failures.count > Self.sources,
                let oldest = failures.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) })?.key
            {
                failures[oldest] = nil
            }
            return recent.count
        }
        let excess = count - Self.freeFailuresPerMinute
        guard excess > 0 else { return .zero }
        let doublings = min(excess - 1, 6)
        return min(Self.firstDelay * (1 << doublings), Self.longestDelay)
    }
}

/// Counts every refusal for credentials in `/metrics` and holds a failing source's refusals back
/// (`AuthFailureThrottle`). It sees answers after they are rendered, whichever door made them.
struct AuthFailureMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let throttle: AuthFailureThrottle
    let metrics: ControlMetrics
    static let refusals: Set<String> = ["InvalidSignatureException", "UnrecognizedClientException", "InvalidCredentialsException"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response = try await next(request, context)
        // A policy's refusal is counted, never slowed: the key is valid, only not allowed that.
        if response.headers[AWSDoor.errorTypeHeader] == MemoryDBError.Code.accessDenied.rawValue {
            metrics.accessDenied(door: Door.of(request).rawValue)
            return response
        }
        guard response.status == .unauthorized || response.status == .forbidden,
            let type = response.headers[AWSDoor.errorTypeHeader], Self.refusals.contains(type)
        else { return response }
        let delay = throttle.delay(afterFailureFrom: context.remoteAddress)
        metrics.authFailure(door: Door.of(request).rawValue, delayed: delay > .zero)
        // Cancelled (the client went away): nothing left to hold back.
        if delay > .zero { try? await Task.sleep(for: delay) }
        return response
    }
}
