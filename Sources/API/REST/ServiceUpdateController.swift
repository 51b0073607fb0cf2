import Control
import Hummingbird
import Model

/// REST `/v1/service-updates`: DescribeServiceUpdates and BatchUpdateCluster.
struct ServiceUpdateController {
    let service: ServiceUpdateService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("service-updates", use: list)
        group.post("service-updates/apply", use: apply)
    }

    struct UpdateBody: Encodable {
        var clusterName, name, releaseDate, description, status, type, engine, nodesUpdated: String
        var autoUpdateStartDate: String?

        init(_ view: ServiceUpdateView) {
            clusterName = view.clusterName
            name = view.name
            releaseDate = RESTTime.iso8601(view.releaseDate)
            description = view.description
            status = view.status
            type = view.type
            engine = view.engine
            nodesUpdated = view.nodesUpdated
            autoUpdateStartDate = view.autoUpdateStartDate.map(RESTTime.iso8601)
        }
    }

    struct UpdateList: Encodable {
        var serviceUpdates: [UpdateBody]
        var nextToken: String?
    }

    struct ApplyBody: Decodable {
        var clusterNames: [String]
        var serviceUpdateName: String?

        static let fields: Set<String> = ["clusterNames", "serviceUpdateName"]
    }

    struct Unprocessed: Encodable {
        var clusterName, errorType, errorMessage: String
    }

    struct ApplyResult: Encodable {
        var processedClusters: [RESTCluster]
        var unprocessedClusters: [Unprocessed]
    }

    /// Filters: `clusterName` (repeatable), `status` (repeatable), `name`.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let clusters: [String] = query.getAll("clusterName").map { String($0) }
        let statuses: [String] = query.getAll("status").map { String($0) }
        let page = try service.describe(
            name: query.get("name"), clusterNames: clusters.isEmpty ? nil : clusters, statuses: statuses.isEmpty ? nil : statuses,
            maxResults: try RESTQuery.maxResults(request), nextToken: query.get("nextToken"))
        return try JSONBody.response(UpdateList(serviceUpdates: page.updates.map(UpdateBody.init), nextToken: page.nextToken))
    }

    /// The clusters apply their pending updates now (a rolling restart), not in their window.
    @Sendable func apply(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ApplyBody.self, from: request, context: context, allowedFields: ApplyBody.fields)
        let result = try service.apply(clusterNames: body.clusterNames, updateName: body.serviceUpdateName)
        return try JSONBody.response(
            ApplyResult(
                processedClusters: result.processed.map(RESTCluster.init),
                unprocessedClusters: result.unprocessed.map { Unprocessed(clusterName: $0.clusterName, errorType: $0.errorType, errorMessage: $0.errorMessage) }))
    }
}
