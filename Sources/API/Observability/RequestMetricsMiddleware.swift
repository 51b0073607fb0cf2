import Control
import Hummingbird
import Ports

/// Counts and times every request by door and operation, for `/metrics`.
///
/// Operations are label values, so they come from closed sets: an AWS operation this server
/// knows (anything else is `unknown`) or the REST route's pattern (`unmatched` for a 404), so a
/// client cannot grow the label space.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let metrics: ControlMetrics
    let awsOperations: Set<String>
    let clock: any WallClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = clock.monotonic
        do {
            let response = try await next(request, context)
            record(request, context, status: Int(response.status.code), started: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, context, status: Int(status), started: started)
            throw error
        }
    }

    func record(_ request: Request, _ context: Context, status: Int, started: Duration) {
        let (door, operation) = Self.classify(request, context, awsOperations: awsOperations)
        metrics.request(door: door, operation: operation, status: status, duration: clock.monotonic - started)
    }

    static func classify(_ request: Request, _ context: Context, awsOperations: Set<String>) -> (door: String, operation: String) {
        if request.uri.path == "/" && request.method == .post {
            let name = AWSDoor.operationName(request)
            return ("aws", awsOperations.contains(name) ? name : "unknown")
        }
        let route = context.endpointPath ?? "unmatched"
        return (request.uri.path.hasPrefix("/v1") ? "rest" : "other", "\(request.method.rawValue) \(route)")
    }
}
