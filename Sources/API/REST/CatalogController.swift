import Control
import Hummingbird
import Model

/// REST reads of users, ACLs, subnet groups, parameter groups, parameters and engine versions.
struct CatalogController {
    let service: CatalogService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("engine-versions", use: engineVersions)
    }

    struct EngineVersionBody: Encodable {
        var engine, engineVersion, enginePatchVersion, parameterGroupFamily: String
    }

    struct DynamicKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func paging(_ request: Request) throws -> (Int?, String?) {
        (try RESTQuery.maxResults(request), request.uri.queryParameters.get("nextToken"))
    }

    /// A page of a list, the list named after the resource as in every other REST list.
    struct ListBody<Item: Encodable>: Encodable {
        let name: String
        let items: [Item]
        let nextToken: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: DynamicKey.self)
            try container.encode(items, forKey: DynamicKey(name))
            try container.encodeIfPresent(nextToken, forKey: DynamicKey("nextToken"))
        }
    }

    static func list<T: Encodable>(_ name: String, _ items: [T], _ nextToken: String?) throws -> Response {
        try JSONBody.response(ListBody(name: name, items: items, nextToken: nextToken))
    }

    @Sendable func engineVersions(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (maxResults, nextToken) = try Self.paging(request)
        let page = try service.describeEngineVersions(engine: nil, engineVersion: nil, family: nil, maxResults: maxResults, nextToken: nextToken)
        return try Self.list("engineVersions", page.items.map {
            EngineVersionBody(engine: $0.engine, engineVersion: $0.engineVersion, enginePatchVersion: $0.enginePatchVersion, parameterGroupFamily: $0.parameterGroupFamily)
        }, page.nextToken)
    }
}
