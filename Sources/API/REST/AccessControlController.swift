import Control
import Hummingbird
import Model

/// REST `/v1/users` and `/v1/acls`: who may connect to a cluster and what they may do.
struct AccessControlController {
    let service: AccessControlService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("users", use: users)
        group.post("users", use: createUser)
        group.patch("users/:name", use: updateUser)
        group.delete("users/:name", use: deleteUser)
        group.get("acls", use: acls)
        group.post("acls", use: createACL)
        group.patch("acls/:name", use: updateACL)
        group.delete("acls/:name", use: deleteACL)
    }

    struct UserBody: Encodable {
        var name, status, accessString, minimumEngineVersion, arn: String
        var aclNames: [String]
        var authentication: AuthenticationBody
    }

    struct ACLBody: Encodable {
        var name, status, minimumEngineVersion, arn: String
        var userNames, clusters: [String]
    }

    static func body(_ user: UserView) -> UserBody {
        UserBody(
            name: user.name, status: user.status, accessString: user.accessString, minimumEngineVersion: user.minimumEngineVersion,
            arn: user.arn, aclNames: user.aclNames, authentication: AuthenticationBody(type: user.authenticationType, passwordCount: user.passwordCount))
    }

    static func body(_ acl: ACLView) -> ACLBody {
        ACLBody(name: acl.name, status: acl.status, minimumEngineVersion: acl.minimumEngineVersion, arn: acl.arn, userNames: acl.userNames, clusters: acl.clusters)
    }

    @Sendable func users(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try service.describeUsers(
            name: request.uri.queryParameters.get("name"), filters: [], maxResults: try RESTQuery.maxResults(request),
            nextToken: request.uri.queryParameters.get("nextToken"))
        return try CatalogController.list("users", page.items.map(Self.body), page.nextToken)
    }

    @Sendable func createUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<CreateUserRequest>.self, from: request, context: context, allowedFields: CreateUserRequest.restFields)
        let user = try await service.createUser(body.request)
        return try JSONBody.response(Self.body(user), status: .created)
    }

    @Sendable func updateUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<UpdateUserRequest>.self, from: request, context: context, allowedFields: UpdateUserRequest.restFields)
        let user = try await service.updateUser(name: try context.parameters.require("name"), body.request)
        return try JSONBody.response(Self.body(user))
    }

    @Sendable func deleteUser(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(Self.body(try service.deleteUser(try context.parameters.require("name"))))
    }

    @Sendable func acls(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try service.describeACLs(
            name: request.uri.queryParameters.get("name"), maxResults: try RESTQuery.maxResults(request),
            nextToken: request.uri.queryParameters.get("nextToken"))
        return try CatalogController.list("acls", page.items.map(Self.body), page.nextToken)
    }

    @Sendable func createACL(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<CreateACLRequest>.self, from: request, context: context, allowedFields: CreateACLRequest.restFields)
        let acl = try service.createACL(body.request)
        return try JSONBody.response(Self.body(acl), status: .created)
    }

    @Sendable func updateACL(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<UpdateACLRequest>.self, from: request, context: context, allowedFields: UpdateACLRequest.restFields)
        let acl = try service.updateACL(name: try context.parameters.require("name"), body.request)
        return try JSONBody.response(Self.body(acl))
    }

    @Sendable func deleteACL(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(Self.body(try service.deleteACL(try context.parameters.require("name"))))
    }
}
