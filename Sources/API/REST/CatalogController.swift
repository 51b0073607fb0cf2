import Control
import Hummingbird
import Model

/// REST reads of users, ACLs, subnet groups, parameter groups, parameters and engine versions.
struct CatalogController {
    let service: CatalogService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("users", use: users)
        group.get("acls", use: acls)
        group.get("engine-versions", use: engineVersions)
    }

    struct UserBody: Encodable {
        var name, status, accessString, minimumEngineVersion, arn: String
        var aclNames: [String]
        var authentication: [String: String]
    }

    struct ACLBody: Encodable {
        var name, status, minimumEngineVersion, arn: String
        var userNames, clusters: [String]
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

    @Sendable func users(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (maxResults, nextToken) = try Self.paging(request)
        let page = try service.describeUsers(name: request.uri.queryParameters.get("name"), filters: [], maxResults: maxResults, nextToken: nextToken)
        return try Self.list("users", page.items.map { user in
            var authentication = ["type": user.authenticationType]
            if let count = user.passwordCount { authentication["passwordCount"] = String(count) }
            return UserBody(
                name: user.name, status: user.status, accessString: user.accessString, minimumEngineVersion: user.minimumEngineVersion,
                arn: user.arn, aclNames: user.aclNames, authentication: authentication)
        }, page.nextToken)
    }

    @Sendable func acls(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (maxResults, nextToken) = try Self.paging(request)
        let page = try service.describeACLs(name: request.uri.queryParameters.get("name"), maxResults: maxResults, nextToken: nextToken)
        return try Self.list("acls", page.items.map {
            ACLBody(name: $0.name, status: $0.status, minimumEngineVersion: $0.minimumEngineVersion, arn: $0.arn, userNames: $0.userNames, clusters: $0.clusters)
        }, page.nextToken)
    }

    @Sendable func engineVersions(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (maxResults, nextToken) = try Self.paging(request)
        let page = try service.describeEngineVersions(engine: nil, engineVersion: nil, family: nil, maxResults: maxResults, nextToken: nextToken)
        return try Self.list("engineVersions", page.items.map {
            EngineVersionBody(engine: $0.engine, engineVersion: $0.engineVersion, enginePatchVersion: $0.enginePatchVersion, parameterGroupFamily: $0.parameterGroupFamily)
        }, page.nextToken)
    }
}
