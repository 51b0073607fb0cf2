import Control
import Hummingbird
import Model

/// REST `/v1/parameter-groups`: the default groups and custom ones, with their parameters.
struct ParameterGroupController {
    let service: ParameterGroupService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("parameter-groups", use: list)
        group.post("parameter-groups", use: create)
        group.get("parameter-groups/:name/parameters", use: parameters)
        group.patch("parameter-groups/:name", use: update)
        group.post("parameter-groups/:name/reset", use: reset)
        group.delete("parameter-groups/:name", use: delete)
    }

    struct GroupBody: Encodable {
        var name, family, description, arn: String
    }

    struct ParameterBody: Encodable {
        var name, value, description, dataType, allowedValues, minimumEngineVersion, changeType: String
    }

    struct UpdateBody: Decodable {
        /// Parameter name → new value.
        var parameters: [String: String]
    }

    struct ResetBody: Decodable {
        var allParameters: Bool?
        var parameterNames: [String]?
    }

    static func body(_ group: ParameterGroupView) -> GroupBody {
        GroupBody(name: group.name, family: group.family, description: group.description, arn: group.arn)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try service.describeGroups(
            name: request.uri.queryParameters.get("name"), maxResults: try RESTQuery.maxResults(request),
            nextToken: request.uri.queryParameters.get("nextToken"))
        return try CatalogController.list("parameterGroups", page.items.map(Self.body), page.nextToken)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(
            TabledBody<CreateParameterGroupRequest>.self, from: request, context: context, allowedFields: CreateParameterGroupRequest.restFields)
        let group = try service.createGroup(body.request)
        return try JSONBody.response(Self.body(group), status: .created)
    }

    @Sendable func parameters(_ request: Request, context: APIRequestContext) async throws -> Response {
        let page = try service.describeParameters(
            group: try context.parameters.require("name"), maxResults: try RESTQuery.maxResults(request),
            nextToken: request.uri.queryParameters.get("nextToken"))
        return try CatalogController.list("parameters", page.items.map {
            ParameterBody(
                name: $0.name, value: $0.defaultValue, description: $0.description, dataType: $0.dataType.rawValue,
                allowedValues: $0.allowedValues, minimumEngineVersion: $0.minimumEngineVersion,
                changeType: $0.appliesImmediately ? "immediate" : "requires-reboot")
        }, page.nextToken)
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(UpdateBody.self, from: request, context: context, allowedFields: ["parameters"])
        let group = try service.updateParameters(
            group: try context.parameters.require("name"), values: body.parameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return try JSONBody.response(Self.body(group))
    }

    @Sendable func reset(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ResetBody.self, from: request, context: context, allowedFields: ["allParameters", "parameterNames"])
        let group = try service.resetParameters(
            group: try context.parameters.require("name"), all: body.allParameters ?? false, names: body.parameterNames ?? [])
        return try JSONBody.response(Self.body(group))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(Self.body(try service.deleteGroup(try context.parameters.require("name"))))
    }
}
