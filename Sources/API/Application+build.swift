import Control
import Runtime
import Hummingbird
import Ports
import HummingbirdCore
import Logging

/// The one composition root of the HTTP server: every door over the control plane's services,
/// with the reconciler as a background service when there is one. `serve` runs what this
/// returns; the API tests drive the same thing with Hummingbird's test client.
public func buildApplication(
    controlPlane: ControlPlane, accessKeys: AccessKeyService?, credentialsHint: String,
    caCertificate: @escaping @Sendable () throws -> String,
    server: HTTPServerBuilder = .http1(), configuration: ApplicationConfiguration = .init(), metricsPublic: Bool = false, audit: Bool = true,
    secureCookies: Bool = false, logger: Logger
) -> some ApplicationProtocol {
    var services = APIServices(controlPlane: controlPlane, accessKeys: accessKeys, credentialsHint: credentialsHint, caCertificate: caCertificate)
    services.metricsPublic = metricsPublic
    services.secureCookies = secureCookies
    if !audit { services.audit = nil }
    return Application(
        router: buildRouter(services), server: server, configuration: configuration,
        services: controlPlane.backgroundServices, logger: logger)
}

extension APIServices {
    /// The doors' view of a control plane: its services plus how callers authenticate.
    public init(
        controlPlane: ControlPlane, accessKeys: AccessKeyService?, credentialsHint: String, caCertificate: @escaping @Sendable () throws -> String
    ) {
        self.init(
            clusters: controlPlane.clusters, events: controlPlane.events, tags: controlPlane.tags, catalog: controlPlane.catalog,
            parameterGroups: controlPlane.parameterGroups, subnetGroups: controlPlane.subnetGroups,
            accessControl: controlPlane.accessControl, drills: controlPlane.drills, snapshots: controlPlane.snapshots,
            serviceUpdates: controlPlane.serviceUpdates, stacks: controlPlane.stacks, reservedNodes: controlPlane.reservedNodes,
            metrics: controlPlane.metrics,
            collector: controlPlane.collector, observability: controlPlane.observability, accessKeys: accessKeys,
            authorizer: Authorizer(store: controlPlane.store, configuration: controlPlane.configuration), region: controlPlane.configuration.region,
            credentialsHint: credentialsHint, caCertificate: caCertificate)
        audit = controlPlane.audit
        // A stack keeps access keys through the same registry the doors check.
        stacks.accessKeys = accessKeys
        clock = controlPlane.configuration.clock
        alarms = controlPlane.alarms
        advisor = controlPlane.advisor
    }
}
