import Hummingbird
import Model

/// Query parameters shared by REST lists.
enum RESTQuery {
    /// `maxResults`, when given, as an integer; the service checks its range.
    static func maxResults(_ request: Request) throws -> Int? {
        try request.uri.queryParameters.get("maxResults").map { text throws -> Int in
            guard let value = Int(text) else { throw MemoryDBError.invalid("maxResults must be an integer; got '\(text)'.") }
            return value
        }
    }
}
