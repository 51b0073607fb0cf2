import ConsoleAssets
import Control
import Foundation
import HTTPTypes
import Hummingbird
import Model
import NIOCore

/// The web console: its page and files at `/console/` (embedded in the binary), and its
/// sessions at `/console/session`. `GET /` sends a browser there; `POST /` stays the AWS door.
/// The page calls the REST API like any client, with its session cookie instead of a key pair.
struct ConsoleController {
    /// Nil with `--auth none`: the console needs no sign-in, as the API needs none.
    let authenticator: Authenticator?
    let sessions: ConsoleSessions
    /// `Secure` on the cookie when the API is served over TLS.
    let secureCookies: Bool

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("/") { _, _ in Self.redirect(to: "/console/") }
        // The page links its files by absolute path, so it works at /console and /console/ alike.
        router.get("/console", use: file)
        router.get("/console/:file", use: file)
        router.get("/console/session", use: describeSession)
        router.post("/console/session", use: signIn)
        router.delete("/console/session", use: signOut)
    }

    static func redirect(to path: String) -> Response {
        Response(status: .seeOther, headers: [.location: path])
    }

    @Sendable func file(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = context.parameters.get("file") ?? "index.html"
        guard let asset = ConsoleAssets.files[name] else { throw HTTPError(.notFound) }
        var headers: HTTPFields = [.contentType: asset.contentType, .cacheControl: "no-cache"]
        // The page runs only its own scripts and talks only to this server.
        headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    struct SessionBody: Encodable {
        var authRequired: Bool
        var signedIn: Bool
        var accessKeyId: String?
        var csrfToken: String?
    }

    struct SignInBody: Decodable {
        var accessKeyId: String
        var secretAccessKey: String
    }

    @Sendable func describeSession(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard authenticator != nil else { return try JSONBody.response(SessionBody(authRequired: false, signedIn: true)) }
        guard let id = ConsoleSessions.id(inCookieHeader: request.headers[.cookie]), let session = sessions.session(id) else {
            return try JSONBody.response(SessionBody(authRequired: true, signedIn: false))
        }
        return try JSONBody.response(SessionBody(authRequired: true, signedIn: true, accessKeyId: session.accessKeyID, csrfToken: session.csrfToken))
    }

    /// Checks the key pair as the API does and answers with the session cookie and the CSRF
    /// token (the secret is never kept by the page).
    @Sendable func signIn(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(SignInBody.self, from: request, context: context, allowedFields: ["accessKeyId", "secretAccessKey"])
        guard let authenticator else { return try JSONBody.response(SessionBody(authRequired: false, signedIn: true)) }
        let caller: Caller
        do {
            caller = try authenticator.holder(id: body.accessKeyId, secret: body.secretAccessKey)
        } catch {
            throw APIError.sessionRefused(error.message)
        }
        let (id, session) = sessions.open(accessKeyID: caller.key.id)
        var response = try JSONBody.response(
            SessionBody(authRequired: true, signedIn: true, accessKeyId: session.accessKeyID, csrfToken: session.csrfToken))
        response.headers[.setCookie] = cookie(id, maxAge: Int(ConsoleSessions.lifetime.components.seconds))
        return response
    }

    @Sendable func signOut(_ request: Request, context: APIRequestContext) async throws -> Response {
        if let id = ConsoleSessions.id(inCookieHeader: request.headers[.cookie]) { sessions.close(id) }
        var response = try JSONBody.response(SessionBody(authRequired: authenticator != nil, signedIn: false))
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    func cookie(_ value: String, maxAge: Int) -> String {
        "\(ConsoleSessions.cookieName)=\(value); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)" + (secureCookies ? "; Secure" : "")
    }
}
