import Control
import Foundation
import HTTPTypes
import Hummingbird
import Ports
import NIOCore

/// Requires the admin key pair on every REST request: HTTP Basic (`curl -u KEY:SECRET`) or an
/// AWS SigV4 signature made with the same pair.
struct RESTAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let key: AccessKey
    let region: String
    let clock: any WallClock
    let hint: String
    /// A console page's calls carry its session cookie instead of a key pair.
    let sessions: ConsoleSessions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.headers[.authorization] == nil, let id = ConsoleSessions.id(inCookieHeader: request.headers[.cookie]) {
            try checkConsoleSession(id, request)
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated("Authentication required. \(hint)")
        }
        if header.hasPrefix("AWS4-HMAC-SHA256") {
            var request = request
            let body = try await SigV4Request.collectBody(&request, context: context)
            do {
                try SigV4Verifier(key: key, region: region).verify(SigV4Request.parts(of: request, body: body), now: clock.date)
            } catch {
                // Credentials were given but do not hold: forbidden, with AWS's error name.
                throw APIError.signatureRefused(code: error.code.rawValue, message: error.message)
            }
            return try await next(request, context)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1])).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = decoded.firstIndex(of: ":")
        else {
            throw APIError.unauthenticated("The Authorization header is neither HTTP Basic nor AWS SigV4. \(hint)")
        }
        guard key.matches(id: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...])) else {
            throw APIError.unauthenticated("The access key or secret is wrong. \(hint)")
        }
        return try await next(request, context)
    }

    /// A live session, and for a change its CSRF token: a page of another site can make the
    /// browser send the cookie (SameSite=Strict already stops that), never read the token.
    func checkConsoleSession(_ id: String, _ request: Request) throws {
        guard let session = sessions.session(id) else {
            throw APIError.sessionRefused("The console session has ended (signed out, expired, or the server restarted); sign in again.")
        }
        if request.method != .get && request.method != .head && request.headers[ConsoleSessions.csrfHeader] != session.csrfToken {
            throw APIError.csrfRefused("A change from the console must carry the session's CSRF token (X-CSRF-Token).")
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
