import Control
import Hummingbird
import Model

/// REST `/v1/subnet-groups`: where a cluster's nodes are placed.
struct SubnetGroupController {
    let service: SubnetGroupService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("subnet-groups", use: list)
        group.post("subnet-groups", use: create)
        group.patch("subnet-groups/:name", use: update)
        group.delete("subnet-groups/:name", use: delete)
    }

    struct SubnetBody: Encodable {
        var identifier, availabilityZone: String
    }

    struct GroupBody: Encodable {
        var name, description, vpcId, arn: String
        var subnets: [SubnetBody]
    }

    static func body(_ group: SubnetGroupView) -> GroupBody {
        GroupBody(
            name: group.name, description: group.description, vpcId: group.vpcID, arn: group.arn,
            subnets: group.subnets.map { SubnetBody(identifier: $0.identifier, availabilityZone: $0.availabilityZone) })
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try service.describe(
            name: request.uri.queryParameters.get("name"), maxResults: try RESTQuery.maxResults(request),
            nextToken: request.uri.queryParameters.get("nextToken"))
        return try CatalogController.list("subnetGroups", page.items.map(Self.body), page.nextToken)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<CreateSubnetGroupRequest>.self, from: request, context: context, allowedFields: CreateSubnetGroupRequest.restFields)
        let group = try service.create(body.request)
        return try JSONBody.response(Self.body(group), status: .created)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<UpdateSubnetGroupRequest>.self, from: request, context: context, allowedFields: UpdateSubnetGroupRequest.restFields)
        let group = try service.update(name: try context.parameters.require("name"), body.request)
        return try JSONBody.response(Self.body(group))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(Self.body(try service.delete(try context.parameters.require("name"))))
    }
}
