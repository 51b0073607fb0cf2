import Control
import Hummingbird
import Model

/// REST `/v1/tags`: tags of any resource, by ARN.
struct TagController {
    let service: TagService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("tags", use: list)
        group.post("tags", use: add)
        group.delete("tags", use: remove)
    }

    struct AddBody: Decodable {
        var resourceArn: String
        var tags: [TagBody]
    }

    struct RemoveBody: Decodable {
        var resourceArn: String
        var tagKeys: [String]
    }

    static func response(_ tags: [Tag]) throws -> Response {
        try JSONBody.response(["tags": tags.map(TagBody.init)])
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let arn = request.uri.queryParameters.get("resourceArn") else {
            throw MemoryDBError.invalid("The query parameter resourceArn is required.")
        }
        return try Self.response(service.listTags(arn))
    }

    @Sendable func add(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(AddBody.self, from: request, context: context, allowedFields: ["resourceArn", "tags"])
        return try Self.response(service.tagResource(body.resourceArn, tags: body.tags.map(\.tag)))
    }

    @Sendable func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(RemoveBody.self, from: request, context: context, allowedFields: ["resourceArn", "tagKeys"])
        return try Self.response(service.untagResource(body.resourceArn, keys: body.tagKeys))
    }
}
