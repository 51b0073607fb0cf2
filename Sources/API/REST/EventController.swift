import Control
import Hummingbird
import Model
import Store

/// REST `/v1/events`: what happened to clusters and nodes, newest first.
struct EventController {
    let service: EventService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("events", use: list)
    }

    struct EventBody: Encodable {
        var sourceName: String
        var sourceType: String
        var message: String
        var date: String
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let events = try service.events(sourceName: request.uri.queryParameters.get("sourceName"))
        let body = events.map { EventBody(sourceName: $0.sourceName, sourceType: $0.sourceType.rawValue, message: $0.message, date: RESTTime.iso8601($0.createdAt)) }
        return try JSONBody.response(["events": body])
    }
}
