import Control
import Hummingbird
import Model

/// REST `/v1/drills`: availability-zone outage drills (MemoryPlane's own; AWS has none).
struct DrillController {
    let service: DrillService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("drills", use: start)
        group.get("drills", use: list)
        group.get("drills/:id", use: get)
    }

    struct StartBody: Decodable {
        var cluster: String
        var availabilityZone: String?
        var node: String?
        var shard: String?
        var durationSeconds: Int?

        static let fields: Set<String> = ["cluster", "availabilityZone", "node", "shard", "durationSeconds"]
    }

    struct DrillBody: Encodable {
        var id, cluster, target, status, startedAt, endsAt: String
        var nodes: [String]
        var completedAt: String?
        var outcome: String?

        init(_ view: DrillView) {
            id = view.id
            cluster = view.cluster
            target = view.target
            status = view.status
            nodes = view.nodes
            startedAt = RESTTime.iso8601(view.startedAt)
            endsAt = RESTTime.iso8601(view.endsAt)
            completedAt = view.completedAt.map(RESTTime.iso8601)
            outcome = view.outcome
        }
    }

    struct DrillList: Encodable {
        var drills: [DrillBody]
    }

    /// One of availabilityZone, node or shard (whose primary is lost); 30 s by default.
    @Sendable func start(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(StartBody.self, from: request, context: context, allowedFields: StartBody.fields)
        let target = try DrillTarget(availabilityZone: body.availabilityZone, node: body.node, shard: body.shard)
        let view = try service.start(cluster: body.cluster, target: target, durationSeconds: body.durationSeconds ?? 30)
        return try JSONBody.response(DrillBody(view), status: .created)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(DrillList(drills: service.list(cluster: request.uri.queryParameters.get("cluster")).map(DrillBody.init)))
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(DrillBody(service.describe(context.parameters.require("id"))))
    }
}
