import Control
import Foundation
import Hummingbird

/// Requires the admin key pair on every REST request, as HTTP Basic (`curl -u KEY:SECRET`).
struct BasicAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let key: AccessKey
    let hint: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthenticated("Authentication required. \(hint)")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1])).flatMap({ String(data: $0, encoding: .utf8) }),
            let colon = decoded.firstIndex(of: ":")
        else {
            throw APIError.unauthenticated("The Authorization header is not HTTP Basic. \(hint)")
        }
        guard key.matches(id: String(decoded[..<colon]), secret: String(decoded[decoded.index(after: colon)...])) else {
            throw APIError.unauthenticated("The access key or secret is wrong. \(hint)")
        }
        return try await next(request, context)
    }
}
