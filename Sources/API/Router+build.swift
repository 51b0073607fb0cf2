import Control
import Hummingbird
import Logging

/// The services every door calls, built once by the composition root.
public struct APIServices: Sendable {
    public var clusters: ClusterService
    public var events: EventService
    /// Nil when the server runs with `--auth none`.
    public var accessKey: AccessKey?
    /// Where callers find the keys, said in every 401.
    public var credentialsHint: String

    public init(clusters: ClusterService, events: EventService, accessKey: AccessKey?, credentialsHint: String) {
        self.clusters = clusters
        self.events = events
        self.accessKey = accessKey
        self.credentialsHint = credentialsHint
    }
}

/// Builds the router of every door over the same services.
public func buildRouter(_ services: APIServices) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: RESTErrorMiddleware())
    router.get("/health") { _, _ in
        try JSONBody.response(["status": "ok"])
    }
    let v1 = router.group("v1")
    if let key = services.accessKey {
        v1.add(middleware: BasicAuthMiddleware(key: key, hint: services.credentialsHint))
    }
    ClusterController(service: services.clusters).addRoutes(to: v1)
    EventController(service: services.events).addRoutes(to: v1)
    return router
}
