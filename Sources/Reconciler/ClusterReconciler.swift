import Ports
import Foundation
import Logging
import Control
import Model
import Store

/// One reconciliation pass for one cluster: observe the data plane, plan with the pure
/// `ClusterPlanner`, act with idempotent steps. A crash between any two steps is harmless: the
/// next pass observes where things stand and carries on from there.
public struct ClusterReconciler: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// The cluster no longer exists; stop reconciling it.
        case gone
        /// Everything is as desired; look again after the supervision interval.
        case settled
        /// Steps were taken or are pending; look again soon.
        case progressing
        /// Nothing to do but wait (a node starting, a drill's hold, a step that keeps failing);
        /// look again after this long, or when woken.
        case retry(after: Duration)
        /// A step failed ten times in a row; the reason is in the cluster's last error and its
        /// events. Looked at again after a long pause, or when woken (a new request).
        case failed(reason: String)
        /// The data plane could not be looked at (the control plane is out of descriptors), so
        /// nothing was judged or done; look again after a pause.
        case deferred(reason: String)
    }

    let store: Store
    let dataPlane: any DataPlane
    let configuration: ControlConfiguration
    let logger: Logger
    let backoff: StartBackoff
    /// Failovers, node restarts and passes, for `/metrics`; nil in tests that do not look.
    public let metrics: ControlMetrics?
    let parameterGroups: ParameterGroupService
    let accessControl: AccessControlService
    /// Woken by the liveness probe when a node starts or stops answering.
    let trigger: (any ReconcileTrigger)?
    /// Snapshot files, for restores; nil without a data plane.
    let snapshots: SnapshotStorage?
    /// Consecutive failures of the same step, per cluster.
    let failures = StepFailures()
    /// Which shards were last scanned for stray keys, with which processes.
    let strayScans: StrayScanLedger
    /// Each concern's steps.
    let executors: StepExecutors
    /// Where events are recorded and logged.
    let events: ClusterEventLog
    /// When each drained shard's primary last redirected a client.
    let drains = DrainWatch()
    /// Told of the boundary before and after each step; nil outside fault tests.
    public var faults: (any FaultInjector)?

    public init(
        store: Store, dataPlane: any DataPlane, configuration: ControlConfiguration, parameterGroups: ParameterGroupService,
        accessControl: AccessControlService, trigger: (any ReconcileTrigger)? = nil, snapshots: SnapshotStorage? = nil, logger: Logger,
        backoff: StartBackoff = StartBackoff(), metrics: ControlMetrics? = nil
    ) {
        let events = ClusterEventLog(store: store, logger: logger, clock: configuration.clock)
        let environment = StepEnvironment(store: store, events: events, configuration: configuration, logger: logger, metrics: metrics)
        let strayScans = StrayScanLedger()
        let restore = RestoreSteps(environment: environment, files: dataPlane, snapshots: snapshots)
        self.executors = StepExecutors(
            processes: ProcessSteps(environment: environment, processes: dataPlane, backoff: backoff, restore: restore),
            configuration: ConfigurationSteps(environment: environment, nodes: dataPlane),
            failover: FailoverSteps(environment: environment, nodes: dataPlane),
            resharding: ReshardingSteps(environment: environment, slots: dataPlane, strayScans: strayScans),
            restore: restore,
            maintenance: MaintenanceSteps(environment: environment, processes: dataPlane),
            deletion: DeletionSteps(environment: environment, processes: dataPlane))
        self.events = events
        self.strayScans = strayScans
        self.metrics = metrics
        self.trigger = trigger
        self.snapshots = snapshots
        self.store = store
        self.configuration = configuration
        self.backoff = backoff
        self.parameterGroups = parameterGroups
        self.accessControl = accessControl
        self.dataPlane = dataPlane
        self.logger = logger
    }

    public func reconcile(_ name: String) async throws -> Outcome {
        guard let stored = try store.storedCluster(named: name) else {
            dataPlane.unwatch(cluster: name)
            failures.forget(name)
            return .gone
        }
        let cluster = stored.cluster
        let records = stored.nodes
        let parameters = try parameterGroups.target(forGroup: cluster.parameterGroupName)
        let acl = try accessControl.target(forACL: cluster.aclName)
        let settings = NodeSettings(parameters: parameters, acl: acl)
        let trigger = trigger
        // The endpoint is probed too (through it, a node answers): its process ending wakes the
        // loop at once, as a node's does.
        var endpointProbe = NodeSpec(
            name: "\(name)/endpoint", port: cluster.endpointPort, busPort: 0, maxmemoryBytes: 0, admin: NodeCredentials.admin(of: cluster),
            tls: cluster.tlsEnabled)
        endpointProbe.isPrimary = false
        dataPlane.watch(cluster: name, nodes: records.map { NodeSpec.of($0, in: cluster) } + [endpointProbe]) { trigger?.wake(cluster: name) }
        var observed: ObservedCluster
        do {
            observed = try await observe(cluster, records, settings: settings)
        } catch let error as ProbeUnavailableError {
            return .deferred(reason: error.description)
        }
        observed.parametersTarget = parameters.marker
        observed.rebootTarget = parameters.rebootValues
        observed.engineTarget = configuration.engineVersion.patchVersion
        if cluster.snapshotBeforeUpdate && cluster.enginePatchVersion != configuration.engineVersion.patchVersion {
            let snapshot = SnapshotNames.beforeEngineUpdate(cluster: name, engine: configuration.engineVersion.patchVersion)
            observed.engineUpdateSnapshot = snapshot
            observed.engineUpdateSnapshotStatus = try store.snapshot(named: snapshot)?.snapshot.status
        }
        observed.aclTarget = acl.marker
        observed.shards = stored.shards
        observed.operations = stored.operations
        observed.drills = stored.drills
        if let final = cluster.finalSnapshot {
            observed.finalSnapshotStatus = try store.snapshot(named: final)?.snapshot.status ?? .failed
        }
        if cluster.status != .deleting { await observeSlotOwnership(&observed) }
        if cluster.status == .updating { await observeDrains(&observed) }
        let plan = ClusterPlanner.plan(observed)
        try store.saveNodes(plan.nodeUpdates, events: events.records(plan.events, cluster: name))
        events.log(plan.events, cluster: name)
        for node in observed.nodes where node.report != nil {
            backoff.reset(node.record.name)
        }
        if plan.settled {
            try noteRecovery(cluster)
            try await executors.configuration.renewCertificatesIfDue(observed)
            return .settled
        }
        guard !plan.actions.isEmpty else { return .retry(after: .milliseconds(plan.waitMilliseconds ?? 50)) }
        let nodes = Dictionary(uniqueKeysWithValues: observed.nodes.map { ($0.record.name, $0.record) })
        return try await act(plan, StepContext(cluster: cluster, nodes: nodes, settings: settings, observed: observed, plan: plan))
    }

    /// Counts a failed step. Transient by nature at first (a node still starting, a port briefly
    /// busy): the next pass retries at once. The third failure in a row becomes an event naming
    /// the step, the node and Redis' reply, and the cluster's last error; later ones back off;
    /// the tenth marks the pass failed. Never an endless silent retry.
    func stepFailed(_ action: ReconcileAction, _ error: any Error, cluster: ClusterRecord) throws -> Outcome {
        let step = Self.describe(action)
        let count = failures.failed(cluster.name, step)
        logger.debug("reconcile step failed", metadata: ["cluster.name": "\(cluster.name)", "step": "\(step)", "error": "\(error)"])
        let event = ClusterEvent.stepFailing(step: step, times: count, error: "\(error)")
        let message = event.message
        if count == 3 || count == 10 {
            try store.write { transaction in
                try transaction.setLastError(ofCluster: cluster.name, to: message)
                try events.record(event, cluster: cluster.name, in: transaction)
            }
        }
        if count >= 10 { return .failed(reason: message) }
        if count >= 3 { return .retry(after: .milliseconds(min(5000, 200 << (count - 3)))) }
        return .progressing
    }

    /// Once the cluster settles again, its last error is cleared, with an event.
    func noteRecovery(_ cluster: ClusterRecord) throws {
        failures.forget(cluster.name)
        guard cluster.lastError != nil else { return }
        try store.write { transaction in
            try transaction.setLastError(ofCluster: cluster.name, to: nil)
            try events.record(.recovered, cluster: cluster.name, in: transaction)
        }
    }

    /// A step in words, for events: what it does and to which node.
    static func describe(_ action: ReconcileAction) -> String {
        switch action {
        case .startEndpoint: return "start the cluster endpoint"
        case .stopEndpoint: return "stop the cluster endpoint"
        case .markStopped: return "mark the cluster stopped"
        case .routeEndpoint: return "route the cluster endpoint"
        case .startNode(let name): return "start node \(name)"
        case .stopNode(let name): return "stop node \(name)"
        case .killNode(let name): return "kill node \(name)"
        case .releaseNode(let name): return "bring node \(name) back after its drill"
        case .removeCluster: return "remove the cluster"
        case .setConfigEpoch(let name, let epoch): return "CLUSTER SET-CONFIG-EPOCH \(epoch) on \(name)"
        case .meet(let name, let peers): return "CLUSTER MEET \(peers.joined(separator: ", ")) from \(name)"
        case .addSlots(let name, let ranges): return "CLUSTER ADDSLOTSRANGE \(SlotRange.listDescription(ranges)) on \(name)"
        case .replicate(let name, let primaryID): return "CLUSTER REPLICATE \(primaryID) on \(name)"
        case .beginFailover(let operation): return "begin failover of shard \(operation.shardIndex) to \(operation.toNode)"
        case .resync(_, let replica, let primaryID): return "CLUSTER REPLICATE \(primaryID) on \(replica) (resync)"
        case .promote(_, let replica, let demoting): return "promote \(replica)" + (demoting.map { " over \($0)" } ?? "")
        case .finishFailover(let shard, let primary): return "record \(primary) as primary of shard \(shard)"
        case .abandonFailover(let shard, _): return "abandon failover of shard \(shard)"
        case .applyParameters: return "apply parameters (CONFIG SET) on every node"
        case .applyACL: return "apply the ACL (ACL SETUSER) on every node"
        case .markAvailable: return "mark the cluster available"
        case .completeDrill(let id): return "complete drill \(id)"
        case .cancelDeletion: return "call off the deletion"
        case .retireNode(let name): return "retire node \(name) (CLUSTER FORGET on every other node)"
        case .forgetMembers(let name, let ids): return "CLUSTER FORGET \(ids.joined(separator: ", ")) on \(name) (members no longer in the cluster)"
        case .finishUpdate: return "finish the update"
        case .applyMaxmemory: return "set maxmemory (CONFIG SET) on every node"
        case .restartNode(let name): return "restart node \(name) (rolling restart)"
        case .finishServiceUpdates: return "record the service updates applied"
        case .snapshotBeforeEngineUpdate(let snapshot): return "take snapshot \(snapshot) before the engine update"
        case .moveSlots(let from, let to, let slots): return "move slots \(SlotRange.listDescription(slots)) from \(from) to \(to)"
        case .stabilizeSlots(let name, let slots): return "CLUSTER SETSLOT STABLE \(SlotRange.listDescription(slots)) on \(name)"
        case .claimSlots(let name, let slots): return "claim unserved slots \(SlotRange.listDescription(slots)) on \(name)"
        case .purgeStrayKeys(let name, let slots): return "remove stray keys of slots \(SlotRange.listDescription(slots)) through \(name)"
        case .retireShard(let index): return "retire drained shard \(ClusterTopology.shardName(index))"
        }
    }

    // MARK: Observe

    /// What every node and the endpoint look like now. Throws `ProbeUnavailableError` when the
    /// control plane cannot look (out of descriptors): a node it cannot see is not a dead node.
    func observe(_ cluster: ClusterRecord, _ records: [NodeRecord], settings: NodeSettings) async throws -> ObservedCluster {
        let specs = records.map { NodeSpec.of($0, in: cluster, settings: settings) }
        let dataPlane = dataPlane
        let nodes = try await withThrowingTaskGroup(of: (Int, ObservedNode).self) { group in
            for (index, record) in records.enumerated() {
                let spec = specs[index]
                group.addTask {
                    let pid = try dataPlane.runningNodePID(spec)
                    let liveness = dataPlane.liveness(of: spec)
                    var report: NodeObservation?
                    // A node the probe finds silent is not asked again: that would only wait.
                    if pid != nil && !liveness.isSilent {
                        do {
                            report = try await dataPlane.observe(spec)
                        } catch let error as ProbeUnavailableError {
                            throw error
                        } catch {
                            report = nil
                        }
                    }
                    return (index, ObservedNode(record: record, pid: pid, report: report, liveness: liveness))
                }
            }
            var results = [ObservedNode?](repeating: nil, count: records.count)
            for try await (index, node) in group { results[index] = node }
            return results.compactMap { $0 }
        }
        let endpoint = Self.endpoint(of: cluster, records)
        let endpointRunning = try dataPlane.runningEndpointPID(endpoint) != nil
        // Once available, the process check suffices; before, prove the endpoint forwards.
        var endpointAnswers = endpointRunning
        if endpointRunning && cluster.status == .creating {
            endpointAnswers = await dataPlane.endpointAnswers(endpoint, as: NodeCredentials.admin(of: cluster))
        }
        return ObservedCluster(
            cluster: cluster, nodes: nodes, endpointRunning: endpointRunning, endpointAnswers: endpointAnswers,
            endpointBackends: dataPlane.endpointBackends(endpoint), now: configuration.clock.nowMilliseconds)
    }

    // MARK: Act

    /// The step executors, one per concern.
    struct StepExecutors: Sendable {
        let processes: ProcessSteps
        let configuration: ConfigurationSteps
        let failover: FailoverSteps
        let resharding: ReshardingSteps
        let restore: RestoreSteps
        let maintenance: MaintenanceSteps
        let deletion: DeletionSteps
    }

    /// The executor of each step's concern. Exhaustive: a new step must choose one.
    func executor(for step: ReconcileAction) -> any StepExecutor {
        switch step {
        case .startEndpoint, .stopEndpoint, .routeEndpoint, .startNode, .stopNode, .killNode, .setConfigEpoch, .meet, .addSlots, .replicate,
            .forgetMembers:
            return executors.processes
        case .applyParameters, .applyACL, .applyMaxmemory:
            return executors.configuration
        case .beginFailover, .resync, .promote, .finishFailover, .abandonFailover:
            return executors.failover
        case .moveSlots, .stabilizeSlots, .claimSlots, .purgeStrayKeys, .retireShard, .retireNode:
            return executors.resharding
        case .markAvailable:
            return executors.restore
        case .restartNode, .releaseNode, .finishServiceUpdates, .finishUpdate, .completeDrill, .snapshotBeforeEngineUpdate, .markStopped:
            return executors.maintenance
        case .removeCluster, .cancelDeletion:
            return executors.deletion
        }
    }

    /// Takes a pass's steps in order, each through its executor, with the batching executors
    /// ask for: every stop first and together; a plan of only slot moves (between distinct
    /// pairs) runs them at once.
    func act(_ plan: ClusterPlan, _ context: StepContext) async throws -> Outcome {
        let name = context.cluster.name
        let stops = plan.actions.compactMap { step -> String? in
            if case .stopNode(let name) = step { return name }
            return nil
        }
        if !stops.isEmpty { await executors.processes.stopTogether(stops, context) }
        if plan.actions.count > 1, plan.actions.allSatisfy({ if case .moveSlots = $0 { return true } else { return false } }) {
            let results = await executors.resharding.moveTogether(plan.actions, context)
            var firstFailure: (ReconcileAction, any Error)?
            for (step, error) in results {
                if let error {
                    firstFailure = firstFailure ?? (step, error)
                } else {
                    failures.succeeded(name, Self.describe(step))
                }
            }
            if let (step, error) = firstFailure { return try stepFailed(step, error, cluster: context.cluster) }
            return .progressing
        }
        for step in plan.actions {
            logger.debug("reconcile step", metadata: ["cluster.name": "\(name)", "step": "\(step)"])
            await reachedStep("step.before", step, cluster: name)
            do {
                // A postponed step (a start waiting out its backoff) lets the pass go on.
                if try await executor(for: step).execute(step, context) == .clusterRemoved { return .gone }
                failures.succeeded(name, Self.describe(step))
            } catch {
                return try stepFailed(step, error, cluster: context.cluster)
            }
            await reachedStep("step.after", step, cluster: name)
        }
        return .progressing
    }

    /// The endpoint with the nodes' last observed roles (a pass replaces them with the plan's).
    static func endpoint(of cluster: ClusterRecord, _ nodes: [NodeRecord]) -> EndpointSpec {
        EndpointSpec(
            clusterName: cluster.name, port: cluster.endpointPort,
            backends: nodes.sorted { $0.name < $1.name }.map { EndpointBackend(port: $0.port, role: $0.role) }, tls: cluster.tlsEnabled)
    }
}
