import Control
import Hummingbird
import Ports
import Logging

/// The services every door calls, built once by the composition root.
public struct APIServices: Sendable {
    public var clusters: ClusterService
    public var events: EventService
    public var tags: TagService
    public var catalog: CatalogService
    public var parameterGroups: ParameterGroupService
    public var subnetGroups: SubnetGroupService
    public var accessControl: AccessControlService
    public var drills: DrillService
    public var snapshots: SnapshotService
    public var serviceUpdates: ServiceUpdateService
    public var stacks: StackService
    public var reservedNodes: ReservedNodeService
    public var metrics: ControlMetrics
    public var collector: MetricsCollector?
    public var observability: ObservabilityService?
    public var audit: AuditTrail?
    public var alarms: AlarmService?
    public var advisor: AdvisorService?
    /// `/metrics` without authentication (`--metrics-public`).
    public var metricsPublic = false
    /// The access keys callers authenticate with; nil when the server runs with `--auth none`.
    public var accessKeys: AccessKeyService?
    /// Applies a key's policy to every call.
    public var authorizer: Authorizer
    /// The region signatures must be scoped to (the server's `--region`).
    public var region: String
    /// Where callers find the keys, said in every 401.
    public var credentialsHint: String
    /// The PEM of the CA that signs node certificates (made on first need).
    public var caCertificate: @Sendable () throws -> String
    /// The control plane's clock: a signature's age is judged by it.
    public var clock: any WallClock = SystemWallClock()
    /// The console's session cookie is `Secure` (the API is served over TLS).
    public var secureCookies = false

    /// Checks a request's key; nil with `--auth none`.
    var authenticator: Authenticator? {
        accessKeys.map { Authenticator(keys: $0, region: region, clock: clock) }
    }

    public init(
        clusters: ClusterService, events: EventService, tags: TagService, catalog: CatalogService,
        parameterGroups: ParameterGroupService, subnetGroups: SubnetGroupService, accessControl: AccessControlService, drills: DrillService, snapshots: SnapshotService,
        serviceUpdates: ServiceUpdateService, stacks: StackService, reservedNodes: ReservedNodeService, metrics: ControlMetrics, collector: MetricsCollector?,
        observability: ObservabilityService?, accessKeys: AccessKeyService?, authorizer: Authorizer, region: String, credentialsHint: String,
        caCertificate: @escaping @Sendable () throws -> String
    ) {
        self.authorizer = authorizer
        self.accessControl = accessControl
        self.reservedNodes = reservedNodes
        self.drills = drills
        self.snapshots = snapshots
        self.serviceUpdates = serviceUpdates
        self.stacks = stacks
        self.metrics = metrics
        self.collector = collector
        self.observability = observability
        self.parameterGroups = parameterGroups
        self.subnetGroups = subnetGroups
        self.caCertificate = caCertificate
        self.clusters = clusters
        self.events = events
        self.tags = tags
        self.catalog = catalog
        self.accessKeys = accessKeys
        self.region = region
        self.credentialsHint = credentialsHint
    }
}

/// Builds the router of every door over the same services: the AWS JSON 1.1 door at `POST /`,
/// REST under `/v1`, and `/health`.
public func buildRouter(_ services: APIServices) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    let routes = RouteTable()
    let door = AWSDoor(services: services)
    let awsOperations = Set(door.operations.keys)
    // Outermost first: the trail and the metrics see every answer as it is sent, errors rendered.
    let sessions = ConsoleSessions(clock: services.clock)
    if let audit = services.audit {
        router.add(middleware: AuditMiddleware(trail: audit, awsOperations: awsOperations, sessions: sessions, keys: services.accessKeys))
    }
    router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics, awsOperations: awsOperations, clock: services.clock))
    router.add(middleware: AuthFailureMiddleware(throttle: AuthFailureThrottle(clock: services.clock), metrics: services.metrics))
    router.add(middleware: RESTErrorMiddleware(routes: routes))
    router.add(middleware: CrossSiteGuard())
    router.get("/health") { _, _ in
        try JSONBody.response(["status": "ok"])
    }
    // The CA certificate is public: clients fetch it before they have anything else.
    router.get("/v1/ca.pem") { _, _ in
        var buffer = ByteBuffer()
        buffer.writeString(try services.caCertificate())
        return Response(status: .ok, headers: [.contentType: "application/x-pem-file"], body: .init(byteBuffer: buffer))
    }
    door.addRoutes(to: router)
    ConsoleController(authenticator: services.authenticator, sessions: sessions, secureCookies: services.secureCookies).addRoutes(to: router)
    let observability = ObservabilityController(
        metrics: services.metrics, collector: services.collector, observability: services.observability, clusters: services.clusters,
        alarms: services.alarms, advisor: services.advisor)
    let authentication = services.authenticator.map {
        RESTAuthMiddleware(authenticator: $0, authorizer: services.authorizer, hint: services.credentialsHint, sessions: sessions)
    }
    let scrape = router.group("metrics")
    if let authentication, !services.metricsPublic { scrape.add(middleware: authentication) }
    scrape.get(use: observability.scrape)
    let v1 = router.group("v1")
    if let authentication { v1.add(middleware: authentication) }
    AccessKeyController(registry: services.accessKeys).addRoutes(to: v1)
    ClusterController(service: services.clusters).addRoutes(to: v1)
    EventController(service: services.events).addRoutes(to: v1)
    TagController(service: services.tags).addRoutes(to: v1)
    CatalogController(service: services.catalog).addRoutes(to: v1)
    ParameterGroupController(service: services.parameterGroups).addRoutes(to: v1)
    SubnetGroupController(service: services.subnetGroups).addRoutes(to: v1)
    AccessControlController(service: services.accessControl).addRoutes(to: v1)
    DrillController(service: services.drills).addRoutes(to: v1)
    SnapshotController(service: services.snapshots).addRoutes(to: v1)
    ServiceUpdateController(service: services.serviceUpdates).addRoutes(to: v1)
    ReservedNodeController(service: services.reservedNodes).addRoutes(to: v1)
    observability.addRoutes(to: v1)
    if let audit = services.audit { AuditController(trail: audit).addRoutes(to: v1) }
    StackController(
        service: services.stacks,
        store: StackNames(parameterGroups: services.parameterGroups, subnetGroups: services.subnetGroups, accessControl: services.accessControl),
        authorizer: services.authorizer
    ).addRoutes(to: v1)
    routes.record(router.routes.map { ("\($0.path)", $0.method) })
    return router
}
