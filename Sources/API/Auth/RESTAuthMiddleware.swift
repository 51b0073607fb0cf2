import Control
import Foundation
import HTTPTypes
import Hummingbird
import Model
import NIOFoundationCompat
import Ports
import NIOCore

/// Authenticates every REST request (HTTP Basic `curl -u KEY:SECRET`, an AWS SigV4 signature,
/// or a console session cookie) and authorises it: the route's action (`RESTActions`) on the
/// resources it names must be allowed by the key's policy before the handler runs.
struct RESTAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let authenticator: Authenticator
    let authorizer: Authorizer
    let hint: String
    /// A console page's calls carry its session cookie instead of a key pair.
    let sessions: ConsoleSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var context = context
        let caller = try await authenticate(&request, context: context)
        try await authorize(caller, &request, context: context)
        context.caller = caller
        return try await next(request, context)
    }

    func authenticate(_ request: inout Request, context: Context) async throws -> Caller {
        if request.headers[.authorization] == nil, let id = ConsoleSessions.id(inCookieHeader: request.headers[.cookie]) {
            return try consoleCaller(id, request)
        }
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated("Authentication required. \(hint)")
        }
        if header.hasPrefix("AWS4-HMAC-SHA256") {
            let body = try await SigV4Request.collectBody(&request, context: context)
            do {
                return try authenticator.signer(of: SigV4Request.parts(of: request, body: body))
            } catch {
                // Credentials were given but do not hold: forbidden, with AWS's error name.
                throw APIError.signatureRefused(code: error.code.rawValue, message: error.message)
            }
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1])).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = decoded.firstIndex(of: ":")
        else {
            throw APIError.unauthenticated("The Authorization header is neither HTTP Basic nor AWS SigV4. \(hint)")
        }
        do {
            return try authenticator.holder(id: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...]))
        } catch {
            throw APIError.unauthenticated("\(error.message) \(hint)")
        }
    }

    /// The route's action on what the request names, allowed by the caller's policy; the body
    /// is read (and left readable) only when the route names resources in it.
    func authorize(_ caller: Caller, _ request: inout Request, context: Context) async throws {
        let key = "\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)"
        guard let route = RESTActions.table[key] else {
            // Every route has an entry (a test holds the table to the router); a new one without
            // is refused to everyone rather than allowed to anyone.
            throw MemoryDBError(.accessDenied, "\(key) has no action to authorise; nobody may call it until it has one.")
        }
        var body: [String: Any]?
        if route.readsBody {
            let buffer = try await SigV4Request.collectBody(&request, context: context)
            // A body that is not a JSON object names nothing here; its handler refuses it.
            body = (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any]
        }
        let target = RESTActions.target(
            of: route, request: request, parameters: context.parameters, body: body, keys: authenticator.keys, authorizer: authorizer)
        try authorizer.authorize(caller, target)
    }

    /// A live session's key, still active, and for a change its CSRF token: a page of another
    /// site can make the browser send the cookie (SameSite=Strict already stops that), never read
    /// the token.
    func consoleCaller(_ id: String, _ request: Request) throws -> Caller {
        guard let session = sessions.session(id) else {
            throw APIError.sessionRefused("The console session has ended (signed out, expired, or the server restarted); sign in again.")
        }
        if request.method != .get && request.method != .head && request.headers[ConsoleSessions.csrfHeader] != session.csrfToken {
            throw APIError.csrfRefused("A change from the console must carry the session's CSRF token (X-CSRF-Token).")
        }
        do {
            return try authenticator.active(session.accessKeyID)
        } catch {
            sessions.close(id)
            throw APIError.sessionRefused("The key this console session was opened with is no longer active; sign in with another.")
        }
    }
}

/// Turns a Hummingbird request into what `SigV4Verifier` checks.
enum SigV4Request {
    /// Reads the whole body (bounded) and leaves it readable for the handler.
    static func collectBody(_ request: inout Request, context: APIRequestContext) async throws -> ByteBuffer {
        do {
            return try await request.collectBody(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: context.maxUploadSize)
        }
    }

    static func parts(of request: Request, body: ByteBuffer) -> SigV4Verifier.Request {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + "," + field.value } ?? field.value
        }
        // HTTP/1.1's Host header arrives as the :authority pseudo-header.
        if headers["host"] == nil, let authority = request.head.authority { headers["host"] = authority }
        return SigV4Verifier.Request(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
            body: Array(buffer: body))
    }
}
