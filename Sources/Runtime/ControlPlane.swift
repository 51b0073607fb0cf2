import Ports
import Foundation
import Logging
import PriceLists
import Control
import Model
import Reconciler
import ServiceLifecycle
import Store

/// What a data plane can do beyond the `DataPlane` port, given explicitly by the composition root
/// (never discovered with a cast): metrics for the collector, alarms, slow logs and the advisor,
/// and warm nodes for fast creations. Without one, that part of the control plane is off.
public struct DataPlaneCapabilities: Sendable {
    public var metrics: (any MetricsSource)?
    public var warmNodes: (any WarmNodeSource)?

    public init(metrics: (any MetricsSource)? = nil, warmNodes: (any WarmNodeSource)? = nil) {
        self.metrics = metrics
        self.warmNodes = warmNodes
    }
}

/// Every service of the control plane, wired once. `serve`, the API tests and the integration
/// tests all build it this way, so what they exercise is what runs.
///
/// Services receive what they depend on; none constructs another. With no data plane there is
/// no reconciler (route tests): wake-ups then go nowhere.
public struct ControlPlane: Sendable {
    public let configuration: ControlConfiguration
    public let store: Store
    public let signal: WakeSignal
    public let clusters: ClusterService
    public let events: EventService
    public let tags: TagService
    public let catalog: CatalogService
    public let parameterGroups: ParameterGroupService
    public let subnetGroups: SubnetGroupService
    public let accessControl: AccessControlService
    public let drills: DrillService
    public let snapshots: SnapshotService
    public let serviceUpdates: ServiceUpdateService
    public let stacks: StackService
    /// Reserved-node offerings (from the price list) and purchases.
    public let reservedNodes: ReservedNodeService
    /// Every mutating call, stack step and refused signature, with who made it.
    public let audit: AuditTrail
    /// The background reconcile loops; nil without a data plane.
    public let reconciler: ReconcilerService?
    /// Takes snapshots and runs their schedule; nil without a data plane and snapshot storage.
    public let snapshotWorker: SnapshotWorker?
    /// The control plane's own metrics (requests, reconcile passes, failovers, restarts).
    public let metrics: ControlMetrics
    /// Reads every node's metrics in the background; nil without a data plane that can.
    public let collector: MetricsCollector?
    /// Stops opted-in clusters once idle (`--stop-idle-after`); nil when not asked for.
    public let idleStopper: IdleStopper?
    /// Slow logs; nil without a data plane that can read them.
    public let observability: ObservabilityService?
    /// Thresholds over the collected metrics, raising and clearing alarm events.
    public let alarms: AlarmService
    /// The operations guide's rules as findings.
    public let advisor: AdvisorService

    /// Refills the warm pool (`--warm-nodes`); nil when none is kept.
    public let warmPool: WarmPoolService?

    /// What runs in the background for as long as the server does.
    public var backgroundServices: [any Service] {
        var services: [any Service] = []
        if let reconciler { services.append(reconciler) }
        if let snapshotWorker { services.append(snapshotWorker) }
        if let collector { services.append(collector) }
        if let warmPool { services.append(warmPool) }
        if let idleStopper { services.append(idleStopper) }
        services.append(audit)
        return services
    }

    public init(
        configuration: ControlConfiguration, store: Store, dataPlane: (any DataPlane)?, capabilities: DataPlaneCapabilities = DataPlaneCapabilities(),
        normaliser: any AccessRulesNormaliser = CanonicalOrderNormaliser(), ports: PortAllocator? = nil,
        supervisionInterval: Duration = .seconds(10), snapshotStorage: SnapshotStorage? = nil, metricsInterval: Duration = .seconds(10), auditRetentionDays: Int = 90,
        faults: (any FaultInjector)? = nil, priceList: PriceList? = nil, stopIdleAfter: Duration? = nil, logger: Logger
    ) {
        // The bundled sample reads by construction (a test parses it); nil only if it were broken.
        let prices = priceList ?? (try? PriceListFile.parse(Data(BundledPriceList.bytes), name: BundledPriceList.name))
            ?? PriceList(source: "none", publicationDate: "", onDemand: [:], offerings: [])
        reservedNodes = ReservedNodeService(store: store, configuration: configuration, priceList: prices)
        self.configuration = configuration
        self.store = store
        let signal = WakeSignal()
        self.signal = signal
        parameterGroups = ParameterGroupService(store: store, configuration: configuration, trigger: signal)
        accessControl = AccessControlService(store: store, configuration: configuration, trigger: signal, normaliser: normaliser)
        subnetGroups = SubnetGroupService(store: store, configuration: configuration)
        clusters = ClusterService(
            configuration: configuration, store: store, trigger: signal, parameterGroups: parameterGroups, accessControl: accessControl,
            subnetGroups: subnetGroups, ports: ports, snapshotStorage: dataPlane == nil ? nil : snapshotStorage,
            warmPool: capabilities.warmNodes?.warmPool, logger: logger)
        if let source = capabilities.warmNodes, let pool = source.warmPool, pool.size > 0 {
            warmPool = WarmPoolService(
                pool: pool, source: source, store: store, ports: ports ?? PortAllocator(range: configuration.nodePorts), logger: logger)
        } else {
            warmPool = nil
        }
        events = EventService(store: store, clock: configuration.clock)
        drills = DrillService(store: store, trigger: signal, clock: configuration.clock)
        snapshots = SnapshotService(
            configuration: configuration, store: store, storage: dataPlane == nil ? nil : snapshotStorage, trigger: signal, clusters: clusters,
            dataPlane: dataPlane, logger: logger)
        serviceUpdates = ServiceUpdateService(
            store: store, configuration: configuration, parameterGroups: parameterGroups, clusters: clusters, trigger: signal, logger: logger)
        tags = TagService(store: store, configuration: configuration)
        let audit = AuditTrail(store: store, retentionDays: auditRetentionDays, clock: configuration.clock, logger: logger)
        self.audit = audit
        var stacks = StackService(
            store: store, configuration: configuration, clusters: clusters, parameterGroups: parameterGroups, subnetGroups: subnetGroups,
            accessControl: accessControl, tags: tags, audit: audit, logger: logger)
        stacks.priceList = prices
        self.stacks = stacks
        catalog = CatalogService(store: store, configuration: configuration)
        let metrics = ControlMetrics()
        self.metrics = metrics
        let alarms = AlarmService(store: store, clock: configuration.clock, logger: logger)
        self.alarms = alarms
        collector = capabilities.metrics.map { source in
            MetricsCollector(store: store, source: source, interval: metricsInterval, clock: configuration.clock, logger: logger, onPass: { readings in alarms.evaluate(readings) })
        }
        observability = capabilities.metrics.map { ObservabilityService(store: store, source: $0) }
        if let stopIdleAfter, let collector {
            idleStopper = IdleStopper(
                collector: collector, clusters: clusters, store: store, configuration: configuration, idleFor: stopIdleAfter, logger: logger)
        } else {
            idleStopper = nil
        }
        advisor = AdvisorService(
            store: store, clusters: clusters, parameterGroups: parameterGroups, collector: collector, source: capabilities.metrics, clock: configuration.clock,
            reservedNodes: reservedNodes)
        if let dataPlane {
            var cycle = ClusterReconciler(
                store: store, dataPlane: dataPlane, configuration: configuration, parameterGroups: parameterGroups,
                accessControl: accessControl, trigger: signal, snapshots: snapshotStorage, logger: logger, metrics: metrics)
            cycle.faults = faults
            reconciler = ReconcilerService(
                store: store, reconciler: cycle, signal: signal, logger: logger, supervisionInterval: supervisionInterval)
            snapshotWorker = snapshotStorage.map { storage in
                SnapshotWorker(store: store, dataPlane: dataPlane, storage: storage, configuration: configuration, signal: signal, logger: logger)
            }
        } else {
            reconciler = nil
            snapshotWorker = nil
        }
    }
}
