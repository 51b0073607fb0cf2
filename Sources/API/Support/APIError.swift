import Foundation
import Hummingbird
import Logging
import Model
import Synchronization

/// Failures that belong to HTTP itself rather than to MemoryDB: size, routing, credentials.
/// They render with a modelled fault name, as every error does.
enum APIError: Error {
    case bodyTooLarge(limit: Int)
    case unauthenticated(String)
    /// A SigV4 signature that does not hold (403, as AWS answers), with AWS's error name.
    case signatureRefused(code: String, message: String)
    /// The console's sign-in refused, or its session gone: 401 without a Basic challenge (a
    /// browser would answer one with its own password dialog).
    case sessionRefused(String)
    /// A change from a console session without its CSRF token (403).
    case csrfRefused(String)
}

/// The router's paths and their methods, filled once the routes are built.
final class RouteTable: Sendable {
    private let entries = Mutex<[(segments: [Substring], method: String)]>([])

    func record(_ routes: [(path: String, method: HTTPRequest.Method)]) {
        entries.withLock { entries in
            entries = routes.map { (Self.segments($0.path), $0.method.rawValue) }
        }
    }

    /// The methods served on `path` (captures match any segment); nil when no route has the path.
    func methods(forPath path: String) -> [String]? {
        let wanted = Self.segments(path)
        let methods = entries.withLock { entries in
            entries.filter { entry in
                entry.segments.count == wanted.count
                    && zip(entry.segments, wanted).allSatisfy { pattern, part in
                        pattern.hasPrefix(":") || pattern.hasPrefix("{") || pattern == "*" || pattern == part
                    }
            }.map(\.method)
        }
        return methods.isEmpty ? nil : Array(Set(methods)).sorted()
    }

    static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}

/// Renders every error as `{"error": {"code", "message"}}` with a fitting status.
///
/// Domain errors map by fault; Hummingbird's own (no such route, bad method) keep their status;
/// anything else is a bug, logged with detail and answered as a 500 without internals.
struct RESTErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    /// Every route, to tell "no such path" (404) from "not with this method" (405).
    var routes = RouteTable()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as MemoryDBError {
            return Door.rest.render(error)
        } catch let error as APIError {
            switch error {
            case .bodyTooLarge(let limit):
                return Door.rest.bodyTooLarge(limit: limit)
            case .unauthenticated(let message):
                var response = Self.render(status: .unauthorized, code: "InvalidCredentialsException", message: message)
                response.headers[.wwwAuthenticate] = "Basic realm=\"memoryplane\""
                return response
            case .signatureRefused(let code, let message):
                return Self.render(status: .forbidden, code: code, message: message)
            case .sessionRefused(let message):
                return Self.render(status: .unauthorized, code: "InvalidCredentialsException", message: message)
            case .csrfRefused(let message):
                return Self.render(status: .forbidden, code: "InvalidCredentialsException", message: message)
            }
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = routes.methods(forPath: request.uri.path), !allowed.isEmpty {
                var response = Self.render(
                    status: .methodNotAllowed, code: MemoryDBError.Code.invalidParameterValue.rawValue,
                    message: "\(request.method) is not allowed on \(request.uri.path); allowed: \(allowed.joined(separator: ", ")).")
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            }
            let message: String
            switch error.status {
            case .notFound: message = "No route \(request.method) \(request.uri.path)."
            case .methodNotAllowed: message = "\(request.method) is not allowed on \(request.uri.path)."
            case .contentTooLarge: message = "The request body is too large."
            default: message = error.body ?? error.status.reasonPhrase
            }
            return Self.render(status: error.status, code: MemoryDBError.Code.invalidParameterValue.rawValue, message: message)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return Self.render(status: .internalServerError, code: MemoryDBError.Code.internalFailure.rawValue, message: "Internal error; see the server log.")
        }
    }

    static func render(status: HTTPResponse.Status, code: String, message: String) -> Response {
        Door.rest.render(status: status, code: code, message: message)
    }
}
