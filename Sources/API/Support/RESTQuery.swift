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

    /// `wait`: true or false (absent is false).
    static func wait(_ request: Request) throws -> Bool {
        try flag(request, "wait")
    }

    /// A boolean query parameter: true or false (absent is false).
    static func flag(_ request: Request, _ name: String) throws -> Bool {
        switch request.uri.queryParameters.get(name) {
        case nil, "false": return false
        case "true": return true
        case let other?: throw MemoryDBError.invalid("\(name) must be true or false; got '\(other)'.")
        }
    }
}
