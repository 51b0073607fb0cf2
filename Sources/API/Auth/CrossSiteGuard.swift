import Foundation
import Hummingbird
import HTTPTypes

/// Refuses a change a browser sends on behalf of another site: a page elsewhere can make the
/// browser POST to this server (a form needs no permission), and with `--auth none` nothing else
/// would stop it. Browsers say where a request comes from (`Origin`, `Sec-Fetch-Site`); a request
/// from this server's own pages, or from a client that is not a browser (curl, the AWS SDKs,
/// the CLI: no such headers), passes.
struct CrossSiteGuard: RouterMiddleware {
    typealias Context = APIRequestContext
    static let fetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let origin = HTTPField.Name("Origin")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get && request.method != .head && request.method != .options else { return try await next(request, context) }
        if let site = request.headers[Self.fetchSite], site == "cross-site" || site == "same-site" {
            throw APIError.csrfRefused("A change sent by a browser from another site (Sec-Fetch-Site: \(site)) is refused.")
        }
        if let origin = request.headers[Self.origin], let host = request.head.authority, !Self.sameHost(origin, host) {
            throw APIError.csrfRefused("A change sent by a browser from \(origin) is refused: only this server's own pages may change it.")
        }
        return try await next(request, context)
    }

    /// `http://127.0.0.1:8080` against `127.0.0.1:8080`.
    static func sameHost(_ origin: String, _ host: String) -> Bool {
        guard let separator = origin.range(of: "://") else { return false }
        return origin[separator.upperBound...].lowercased() == host.lowercased()
    }
}
