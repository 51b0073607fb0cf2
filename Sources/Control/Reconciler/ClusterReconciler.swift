import Engine
import Foundation
import Logging
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
    /// Failovers and node restarts, for `/metrics`; nil in tests that do not look.
    public var metrics: ControlMetrics?
    let parameterGroups: ParameterGroupService
    let accessControl: AccessControlService
    /// Woken by the liveness probe when a node starts or stops answering.
    let trigger: (any ReconcileTrigger)?
    /// Snapshot files, for restores; nil without a data plane.
    let snapshots: SnapshotStorage?
    /// Consecutive failures of the same step, per cluster.
    let failures = StepFailures()
    /// Certificates are looked at once a minute per cluster, not on every supervision pass.
    let certificateCheck = PeriodicCheck(interval: .seconds(60))
    /// Which shards were last scanned for stray keys, with which processes.
    let strayScans = StrayScanLedger()
    /// When each drained shard's primary last redirected a client.
    let drains = DrainWatch()
    /// Told of the boundary before and after each step; nil outside fault tests.
    public var faults: (any FaultInjector)?

    public init(
        store: Store, dataPlane: any DataPlane, configuration: ControlConfiguration, parameterGroups: ParameterGroupService,
        accessControl: AccessControlService, trigger: (any ReconcileTrigger)? = nil, snapshots: SnapshotStorage? = nil, logger: Logger,
        backoff: StartBackoff = StartBackoff()
    ) {
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
            name: "\(name)/endpoint", port: cluster.endpointPort, busPort: 0, maxmemoryBytes: 0, admin: Self.adminCredentials(of: cluster),
            tls: cluster.tlsEnabled)
        endpointProbe.isPrimary = false
        dataPlane.watch(cluster: name, nodes: records.map { Self.spec(of: $0, in: cluster) } + [endpointProbe]) { trigger?.wake(cluster: name) }
        var observed: ObservedCluster
        do {
            observed = try await observe(cluster, records, settings: settings)
        } catch let error as ProbeUnavailableError {
            return .deferred(reason: error.description)
        }
        observed.parametersTarget = parameters.marker
        observed.rebootTarget = parameters.rebootValues
        observed.engineTarget = configuration.engineVersion.patchVersion
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
        let now = nowMilliseconds()
        try store.saveNodes(
            plan.nodeUpdates,
            events: plan.events.map { EventRecord(sourceName: name, sourceType: "node", message: $0, createdAt: now) })
        for event in plan.events {
            logger.warning("\(event)", metadata: ["cluster.name": "\(name)"])
        }
        for node in observed.nodes where node.report != nil {
            backoff.reset(node.record.name)
        }
        if plan.settled {
            try noteRecovery(cluster)
            if cluster.tlsEnabled && certificateCheck.isDue(cluster.name) {
                for node in observed.nodes {
                    if try await dataPlane.renewCertificateIfDue(Self.spec(of: node.record, in: cluster)) {
                        try store.addEvent(EventRecord(sourceName: name, sourceType: "node", message: "Node \(node.record.name) has a renewed TLS certificate", createdAt: nowMilliseconds()))
                    }
                }
            }
            return .settled
        }
        guard !plan.actions.isEmpty else { return .retry(after: .milliseconds(plan.waitMilliseconds ?? 50)) }
        let nodes = Dictionary(uniqueKeysWithValues: observed.nodes.map { ($0.record.name, $0.record) })
        let stops = plan.actions.compactMap { action -> String? in
            if case .stopNode(let name) = action { return name }
            return nil
        }
        if !stops.isEmpty { await stopAll(stops, cluster: cluster, nodes: nodes) }
        let context = ActionContext(cluster: cluster, nodes: nodes, settings: settings, observed: observed, plan: plan)
        if plan.actions.count > 1, plan.actions.allSatisfy({ if case .moveSlots = $0 { return true } else { return false } }) {
            return try await moveConcurrently(plan.actions, context)
        }
        for action in plan.actions {
            logger.debug("reconcile step", metadata: ["cluster.name": "\(name)", "step": "\(action)"])
            await reachedStep("step.before", action, cluster: name)
            do {
                if try await act(action, context) == .gone { return .gone }
                failures.succeeded(name, Self.describe(action))
            } catch {
                return try stepFailed(action, error, cluster: cluster)
            }
            await reachedStep("step.after", action, cluster: name)
        }
        return .progressing
    }

    /// Counts a failed step. Transient by nature at first (a node still starting, a port briefly
    /// busy): the next pass retries at once. The third failure in a row becomes an event naming
    /// the step, the node and Redis' reply, and the cluster's last error; later ones back off;
    /// the tenth marks the pass failed. Never an endless silent retry.
    func stepFailed(_ action: ReconcileAction, _ error: any Error, cluster: ClusterRecord) throws -> Outcome {
        let step = Self.describe(action)
        let count = failures.failed(cluster.name, step)
        logger.debug("reconcile step failed", metadata: ["cluster.name": "\(cluster.name)", "step": "\(step)", "error": "\(error)"])
        let message = "Step '\(step)' failed \(count) times in a row: \(error)"
        if count == 3 || count == 10 {
            try store.write { transaction in
                try transaction.setLastError(ofCluster: cluster.name, to: message)
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
            }
            logger.error("\(message)", metadata: ["cluster.name": "\(cluster.name)"])
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
            try transaction.record(
                EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Cluster recovered: every step succeeded", createdAt: nowMilliseconds()))
        }
    }

    /// A step in words, for events: what it does and to which node.
    static func describe(_ action: ReconcileAction) -> String {
        switch action {
        case .startEndpoint: return "start the cluster endpoint"
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
        let specs = records.map { Self.spec(of: $0, in: cluster, settings: settings) }
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
            endpointAnswers = await dataPlane.endpointAnswers(endpoint, as: Self.adminCredentials(of: cluster))
        }
        return ObservedCluster(
            cluster: cluster, nodes: nodes, endpointRunning: endpointRunning, endpointAnswers: endpointAnswers,
            endpointBackends: dataPlane.endpointBackends(endpoint), now: nowMilliseconds())
    }

    // MARK: Act

    /// What a step needs besides itself.
    struct ActionContext {
        var cluster: ClusterRecord
        var nodes: [String: NodeRecord]
        var settings: NodeSettings
        var observed: ObservedCluster
        var plan: ClusterPlan

        func spec(_ name: String) throws -> NodeSpec {
            // The planner names only nodes it was given; a miss is a planner bug, reported as such.
            guard let record = nodes[name] else { throw MemoryDBError(.internalFailure, "The plan names node \(name), which the cluster does not have.") }
            return ClusterReconciler.spec(of: record, in: cluster, settings: settings)
        }

        var endpoint: EndpointSpec {
            var endpoint = ClusterReconciler.endpoint(of: cluster, Array(nodes.values))
            endpoint.backends = plan.endpointBackends
            return endpoint
        }
    }

    private func act(_ action: ReconcileAction, _ context: ActionContext) async throws -> Outcome {
        let cluster = context.cluster
        let nodes = context.nodes
        let parameters = context.settings.parameters
        switch action {
        case .startEndpoint:
            _ = try await dataPlane.startEndpoint(context.endpoint)
        case .routeEndpoint:
            try dataPlane.setEndpointBackends(context.endpoint)
            let primaries = context.plan.endpointBackends.filter { $0.role == .primary }.map { String($0.port) }
            logger.info("endpoint routed", metadata: ["cluster.name": "\(cluster.name)", "endpoint.primaries": "\(primaries.joined(separator: ","))"])
        case .startNode(let name):
            guard backoff.mayStart(name) else { return .progressing }
            let attempts = backoff.recordStart(name)
            if attempts == 4 {
                let message = "Node \(name) failed to start 3 times in a row; retrying with longer pauses (see \(name)/redis.log)"
                try store.addEvent(EventRecord(sourceName: cluster.name, sourceType: "node", message: message, createdAt: nowMilliseconds()))
                logger.error("\(message)", metadata: ["cluster.name": "\(cluster.name)", "node.name": "\(name)"])
            }
            try seedIfRestoring(name, context)
            var spec = try context.spec(name)
            if let shard = context.observed.shards.first(where: { $0.primaryNode == name }) { spec.slots = (try? shard.slotRanges()) ?? [] }
            let pid = try await dataPlane.startNode(spec)
            if nodes[name]?.status != .creating { metrics?.nodeRestart() }
            let started = context.settings.parameters.rebootValues
            let engine = configuration.engineVersion.patchVersion
            try store.write { transaction in try transaction.setPID(ofNode: name, to: pid, startedWith: started, engineVersion: engine) }
        case .stopNode:
            // Stops are gathered so a deletion stops all nodes at once.
            break
        case .killNode(let name):
            _ = await dataPlane.killNode(try context.spec(name))
        case .releaseNode(let name):
            guard let record = nodes[name] else { break }
            if record.storageLost { try dataPlane.discardData(try context.spec(name)) }
            try store.write { transaction in
                try transaction.release(node: name)
                for var drill in try transaction.drills(ofCluster: cluster.name, status: .running) where drill.nodeNames.contains(name) {
                    drill.status = .recovering
                    try transaction.update(drill)
                }
                let storage = record.storageLost ? "; its storage was discarded and it resyncs as a replica" : ""
                try transaction.record(
                    EventRecord(sourceName: cluster.name, sourceType: "node", message: "Node \(name) is back after its drill\(storage)", createdAt: nowMilliseconds()))
            }
        case .removeCluster:
            try await dataPlane.removeEndpoint(context.endpoint)
            for record in nodes.values { try dataPlane.removeNodeFiles(Self.spec(of: record, in: cluster)) }
            try store.write { transaction in
                try transaction.deleteCluster(named: cluster.name)
                try transaction.removeAllTags(of: configuration.arn("cluster", cluster.name))
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Cluster deleted", createdAt: nowMilliseconds()))
            }
            dataPlane.unwatch(cluster: cluster.name)
            logger.info("cluster deleted", metadata: ["cluster.name": "\(cluster.name)"])
            return .gone
        case .setConfigEpoch(let name, let epoch):
            try await dataPlane.setConfigEpoch(try context.spec(name), epoch: epoch)
        case .meet(let name, let peers):
            for peer in peers { try await dataPlane.meet(try context.spec(name), peer: try context.spec(peer)) }
        case .addSlots(let name, let ranges):
            try await dataPlane.addSlots(try context.spec(name), ranges)
        case .replicate(let name, let primaryID):
            try await dataPlane.replicate(try context.spec(name), primaryID: primaryID)
        case .beginFailover(var operation):
            metrics?.failover(kind: operation.kind.rawValue)
            try await beginFailover(&operation, context)
        case .resync(let shard, let replica, let primaryID):
            try await dataPlane.replicate(try context.spec(replica), primaryID: primaryID)
            try store.write { try $0.updateOperation(cluster: cluster.name, shard: shard, phase: "resyncing", at: nowMilliseconds()) }
        case .promote(let shard, let replica, let demoting):
            try await promote(shard: shard, replica: replica, demoting: demoting, context)
        case .finishFailover(let shard, let newPrimary):
            try finishFailover(shard: shard, newPrimary: newPrimary, context)
        case .abandonFailover(let shard, let reason):
            try store.write { transaction in
                try transaction.finishOperation(cluster: cluster.name, shard: shard, newPrimary: nil)
                try transaction.record(
                    EventRecord(
                        sourceName: cluster.name, sourceType: "cluster",
                        message: "Failover of shard \(ClusterTopology.shardName(shard)) abandoned: \(reason); its primary is restarted in place",
                        createdAt: nowMilliseconds()))
            }
        case .applyParameters(let marker):
            for name in nodes.keys.sorted() {
                try await dataPlane.applyParameters(try context.spec(name), parameters.immediateValues)
            }
            try recordApplied(
                cluster, first: cluster.parametersApplied.isEmpty, "Parameter group \(cluster.parameterGroupName) applied to every node"
            ) { try $0.setParametersApplied(ofCluster: cluster.name, to: marker) }
        case .applyACL(let marker):
            for name in nodes.keys.sorted() {
                try await dataPlane.applyACL(try context.spec(name))
            }
            try recordApplied(cluster, first: cluster.aclApplied.isEmpty, "ACL \(cluster.aclName) applied to every node") {
                try $0.setACLApplied(ofCluster: cluster.name, to: marker)
            }
        case .markAvailable:
            let restored = try await finishRestore(context)
            let elapsed = Double(nowMilliseconds() - cluster.createdAt) / 1000
            try store.write { transaction in
                if let restored {
                    try transaction.setRestoreState(ofCluster: cluster.name, to: nil)
                    try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: restored, createdAt: nowMilliseconds()))
                }
                try transaction.setStatus(ofCluster: cluster.name, to: .available)
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Cluster is available", createdAt: nowMilliseconds()))
            }
            if let snapshots { try? FileManager.default.removeItem(atPath: snapshots.restoreDirectory(of: cluster.name)) }
            logger.info("cluster available", metadata: ["cluster.name": "\(cluster.name)", "cluster.seconds_to_available": "\(elapsed)"])
        case .cancelDeletion(let reason):
            try store.write { transaction in
                guard var current = try transaction.cluster(named: cluster.name) else { return }
                current.status = .available
                current.finalSnapshot = nil
                try transaction.update(current)
                try transaction.setStatus(ofNodesOf: cluster.name, to: .available)
                try transaction.record(
                    EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Cluster deletion called off: \(reason); nothing was stopped", createdAt: nowMilliseconds()))
            }
        case .retireNode(let name):
            guard let record = nodes[name] else { break }
            if let id = record.redisNodeID {
                // Only the nodes that answer now: one that is down forgets it when it is back
                // (`forgetMembers`), and waiting for it here would keep it down.
                for other in nodes.values where other.name != name && other.status != .deleting && context.observed.node(other.name)?.report != nil {
                    try await dataPlane.forget(try context.spec(other.name), id: id)
                }
            }
            try dataPlane.removeNodeFiles(try context.spec(name))
            try store.write { transaction in
                try transaction.deleteNode(named: name)
                try transaction.record(
                    EventRecord(
                        sourceName: cluster.name, sourceType: "node", message: "Node \(name) removed: stopped, forgotten by every other node, its files deleted",
                        createdAt: nowMilliseconds()))
            }
        case .restartNode(let name):
            let spec = try context.spec(name)
            var what: [String] = []
            if let node = context.observed.node(name) {
                if node.record.startedWithOtherValues(than: context.settings.parameters.rebootValues) {
                    what.append("the reboot-only parameters of group \(cluster.parameterGroupName)")
                }
                let running = node.record.runningEngine(clusterPatch: cluster.enginePatchVersion)
                if running != configuration.engineVersion.patchVersion {
                    what.append("engine \(configuration.engineVersion.patchVersion) (was \(running))")
                }
            }
            let applied: String = what.isEmpty ? "its configuration" : what.joined(separator: " and ")
            let clock = ContinuousClock()
            let stopped = clock.now
            await dataPlane.stopNode(spec)
            let pid = try await dataPlane.startNode(spec)
            let started = context.settings.parameters.rebootValues
            let engine = configuration.engineVersion.patchVersion
            try store.write { transaction in
                try transaction.setPID(ofNode: name, to: pid, startedWith: started, engineVersion: engine)
                let primary = context.observed.shards.contains { $0.primaryNode == name }
                let elapsed = clock.now - stopped
                let note = primary
                    ? String(format: "; its shard has no replica, so it takes no writes until the node is back (about 2 s; stopped for %.2f s)", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                    : ""
                try transaction.record(
                    EventRecord(
                        sourceName: cluster.name, sourceType: "node",
                        message: "Node \(name) restarted to apply \(applied)\(note)", createdAt: nowMilliseconds()))
            }
        case .finishServiceUpdates:
            let target = configuration.engineVersion.patchVersion
            try store.write { transaction in
                guard var current = try transaction.cluster(named: cluster.name) else { return }
                let nodes = try transaction.nodes(ofCluster: cluster.name)
                var message = "Service updates applied: every node runs the parameter group's values"
                let patch = current.enginePatchVersion
                let everywhere = nodes.allSatisfy { node in node.runningEngine(clusterPatch: patch) == target }
                if everywhere && patch != target {
                    message += " and engine \(target) (was \(patch))"
                    current.enginePatchVersion = target
                }
                current.updatesRequestedAt = nil
                try transaction.update(current)
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
            }
        case .moveSlots(let from, let to, let ranges):
            try await moveSlots(from: from, to: to, ranges, context)
        case .stabilizeSlots(let name, let ranges):
            try await dataPlane.stabilizeSlots(ranges.flatMap { Array($0.first...$0.last) }, on: try context.spec(name))
            try store.addEvent(
                EventRecord(
                    sourceName: cluster.name, sourceType: "node",
                    message: "Node \(name): closed open migrations of slots \(SlotRange.listDescription(ranges)) that no resharding step explains", createdAt: nowMilliseconds()))
        case .claimSlots(let name, let ranges):
            try await claimSlots(ranges, on: name, context)
        case .forgetMembers(let name, let ids):
            for id in ids { try await dataPlane.forget(try context.spec(name), id: id) }
        case .purgeStrayKeys(let primary, let ranges):
            try await purgeStrayKeys(ranges, through: primary, context)
        case .retireShard(let index):
            try store.write { transaction in
                let members = try transaction.nodes(ofCluster: cluster.name).filter { $0.shardIndex == index }
                for member in members { try transaction.setStatus(ofNode: member.name, to: .deleting) }
                try transaction.deleteShard(index, ofCluster: cluster.name)
                try transaction.record(
                    EventRecord(
                        sourceName: cluster.name, sourceType: "cluster",
                        message: "Shard \(ClusterTopology.shardName(index)) drained: no node serves its slots any more; retiring \(members.map(\.name).joined(separator: ", "))",
                        createdAt: nowMilliseconds()))
            }
        case .applyMaxmemory:
            for name in nodes.keys.sorted() where nodes[name]?.status != .deleting {
                try await dataPlane.setMaxmemory(try context.spec(name))
            }
            let bytes = NodeType.catalog[cluster.nodeType]?.memoryBytes ?? 0
            try store.addEvent(
                EventRecord(
                    sourceName: cluster.name, sourceType: "cluster",
                    message: "maxmemory set to \(bytes) bytes on every node (node type \(cluster.nodeType)), no restart", createdAt: nowMilliseconds()))
        case .finishUpdate:
            try store.write { transaction in
                try transaction.setStatus(ofCluster: cluster.name, to: .available)
                try transaction.record(
                    EventRecord(
                        sourceName: cluster.name, sourceType: "cluster",
                        message: "Cluster update complete: \(cluster.numShards) shard(s) of \(1 + cluster.numReplicasPerShard) node(s)", createdAt: nowMilliseconds()))
            }
        case .completeDrill(let id):
            try store.write { transaction in
                guard var drill = try transaction.drill(id: id) else { return }
                let now = nowMilliseconds()
                drill.status = .completed
                drill.completedAt = now
                drill.outcome = String(
                    format: "every node back and in sync %.1f s after the drill ended (%.1f s after it began)",
                    Double(now - drill.endsAt) / 1000, Double(now - drill.startedAt) / 1000)
                try transaction.update(drill)
                try transaction.record(
                    EventRecord(sourceName: cluster.name, sourceType: "cluster", message: "Drill \(id) completed: \(drill.outcome ?? "")", createdAt: now))
            }
        }
        return .progressing
    }

    // MARK: Restore

    /// Before a restored shard's primary first starts, its RDB becomes the base of its AOF.
    private func seedIfRestoring(_ name: String, _ context: ActionContext) throws {
        guard context.cluster.restoreState == RestorePlan.Mode.seed.rawValue, let snapshots, let record = context.nodes[name],
            context.observed.shards.first(where: { $0.shardIndex == record.shardIndex })?.primaryNode == name
        else { return }
        let spec = try context.spec(name)
        let file = snapshots.restoreFile(cluster: context.cluster.name, shard: record.shardIndex)
        guard !dataPlane.hasData(spec), FileManager.default.fileExists(atPath: file) else { return }
        try dataPlane.seed(spec, fromRDB: file)
        logger.info("node seeded from snapshot", metadata: ["cluster.name": "\(context.cluster.name)", "node.name": "\(name)"])
    }

    /// A restore's last step before the cluster is available: seeded shards hold their data
    /// already; otherwise every RDB's keys are moved to the primaries that serve their slots
    /// (again from the start after a crash: MIGRATE replaces what an earlier attempt moved).
    /// Returns the event to record, or nil when the cluster is not a restore.
    private func finishRestore(_ context: ActionContext) async throws -> String? {
        let cluster = context.cluster
        guard let state = cluster.restoreState, let snapshots else { return nil }
        let source = cluster.restoreSource ?? "?"
        let described = source.hasPrefix("arns:") ? "exported RDB files" : "snapshot \(source)"
        if state == RestorePlan.Mode.seed.rawValue {
            return "Cluster restored from \(described): each shard started from its own RDB"
        }
        let owners = try context.observed.shards.map { shard in
            SlotOwner(node: try context.spec(shard.primaryNode), slots: try shard.slotRanges())
        }
        let directory = snapshots.restoreDirectory(of: cluster.name)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".rdb") }.sorted()
        guard !files.isEmpty else { throw SnapshotFileError("the restore's files are missing from \(directory)") }
        let clock = ContinuousClock()
        let started = clock.now
        var moved = 0
        for file in files {
            // importRDB consumes what it is given; the prepared file stays until the end.
            let copy = try snapshots.stagingPath("import-\(cluster.name)")
            try FileManager.default.copyItem(atPath: "\(directory)/\(file)", toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            moved += try await dataPlane.importRDB(copy, into: owners)
        }
        let elapsed = clock.now - started
        return String(
            format: "Cluster restored from %@: %d keys moved to the primaries of their slots in %.2f s", described, moved,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    // MARK: Resharding steps

    /// Slot moves between distinct pairs of nodes, at once; the first failure is the pass's.
    private func moveConcurrently(_ actions: [ReconcileAction], _ context: ActionContext) async throws -> Outcome {
        let failed = await withTaskGroup(of: (ReconcileAction, (any Error)?).self) { group in
            for action in actions {
                group.addTask {
                    guard case .moveSlots(let from, let to, let ranges) = action else { return (action, nil) }
                    do {
                        try await self.moveSlots(from: from, to: to, ranges, context)
                        return (action, nil)
                    } catch {
                        return (action, error)
                    }
                }
            }
            var failures: [(ReconcileAction, any Error)] = []
            for await (action, error) in group {
                if let error {
                    failures.append((action, error))
                } else {
                    self.failures.succeeded(context.cluster.name, Self.describe(action))
                }
            }
            return failures.first
        }
        if let (action, error) = failed { return try stepFailed(action, error, cluster: context.cluster) }
        return .progressing
    }

    private func moveSlots(from: String, to: String, _ ranges: [SlotRange], _ context: ActionContext) async throws {
        guard let sourceID = context.observed.node(from)?.report?.myID, let targetID = context.observed.node(to)?.report?.myID else { return }
        let primaries = Set(context.observed.shards.map(\.primaryNode))
        let others = try context.observed.nodes.filter { primaries.contains($0.record.name) && $0.record.name != from && $0.record.name != to }
            .map { try context.spec($0.record.name) }
        let clock = ContinuousClock()
        let started = clock.now
        let slots = ranges.flatMap { Array($0.first...$0.last) }
        let report = try await dataPlane.moveSlots(slots, from: try context.spec(from), sourceID: sourceID, to: try context.spec(to), targetID: targetID, announcingTo: others)
        let elapsed = clock.now - started
        let shardOf = { (name: String) in ClusterTopology.shardName(context.nodes[name]?.shardIndex ?? 0) }
        let message = String(
            format: "Moved %d slot(s) (%@) with %d key(s) from shard %@ (%@) to shard %@ (%@) in %.2f s; %d group(s), each held on the source for at most %.1f ms (%@)",
            slots.count, SlotRange.listDescription(ranges), report.keys, shardOf(from), from, shardOf(to), to,
            Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, report.groups, report.longestHoldMilliseconds,
            report.longestHoldBreakdown)
        try store.addEvent(EventRecord(sourceName: context.cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
        logger.info("\(message)", metadata: ["cluster.name": "\(context.cluster.name)"])
    }

    // MARK: Failover steps

    private func beginFailover(_ operation: inout OperationRecord, _ context: ActionContext) async throws {
        if operation.kind == .zoneFailover {
            // As if the zone vanished: the primary goes at once; its last offset is kept to
            // measure what the replica had not received.
            operation.fromOffset = await dataPlane.killNode(try context.spec(operation.fromNode))
        }
        let replicaZone = context.nodes[operation.toNode]?.availabilityZone ?? "?"
        let message = "Shard \(ClusterTopology.shardName(operation.shardIndex)) failing over: \(operation.reason); promoting \(operation.toNode) in \(replicaZone)"
        let record = operation
        try store.write { transaction in
            try transaction.begin(record)
            try transaction.record(EventRecord(sourceName: context.cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
        }
        logger.warning("\(message)", metadata: ["cluster.name": "\(context.cluster.name)"])
    }

    private func promote(shard: Int, replica: String, demoting: String?, _ context: ActionContext) async throws {
        let cluster = context.cluster
        try store.write { try $0.updateOperation(cluster: cluster.name, shard: shard, phase: "promoting", at: nowMilliseconds()) }
        let operation = context.observed.operations.first { $0.shardIndex == shard }
        do {
            let report = try await dataPlane.promote(try context.spec(replica), demoting: try demoting.map { try context.spec($0) })
            let zone = context.nodes[replica]?.availabilityZone ?? "?"
            var message = "Promoted \(replica) in \(zone)"
            if let demoting {
                message += "; \(demoting) held writes for \(report.pausedMilliseconds) ms while it caught up to offset \(report.primaryOffset ?? 0), so no acknowledged write was lost"
            } else if let lost = operation?.fromOffset {
                message += "; replica was \(max(0, lost - report.replicaOffset)) bytes behind the lost primary (offset \(report.replicaOffset) of \(lost))"
            } else {
                message += "; the lost primary's last offset is unknown (it did not answer before it went), so the gap cannot be measured"
            }
            try store.write { transaction in
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
            }
        } catch {
            try? store.write { try $0.updateOperation(cluster: cluster.name, shard: shard, lastError: .some("\(error)"), at: nowMilliseconds()) }
            if let error = error as? PromotionError, error.tookOver, let demoting {
                // Fence: a primary that did not step down must not take writes the new one lacks.
                _ = await dataPlane.killNode(try context.spec(demoting))
                try? store.addEvent(
                    EventRecord(
                        sourceName: cluster.name, sourceType: "node",
                        message: "Node \(demoting) did not step down after \(replica) took over; it was killed (fenced) and restarts as a replica",
                        createdAt: nowMilliseconds()))
            }
            throw error
        }
    }

    private func finishFailover(shard: Int, newPrimary: String, _ context: ActionContext) throws {
        let cluster = context.cluster
        guard let operation = context.observed.operations.first(where: { $0.shardIndex == shard }) else { return }
        let now = nowMilliseconds()
        let zone = context.nodes[newPrimary]?.availabilityZone ?? "?"
        let rejoin = operation.kind == .zoneFailover ? "\(operation.fromNode) rejoins as its replica when its zone returns" : "\(operation.fromNode) is its replica"
        let message = String(
            format: "Shard %@ failed over in %.2f s: %@ (%@) is primary; %@", ClusterTopology.shardName(shard), Double(now - operation.startedAt) / 1000,
            newPrimary, zone, rejoin)
        try store.write { transaction in
            try transaction.finishOperation(cluster: cluster.name, shard: shard, newPrimary: newPrimary)
            try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: message, createdAt: now))
        }
        logger.notice("\(message)", metadata: ["cluster.name": "\(cluster.name)", "failover.kind": "\(operation.kind.rawValue)"])
    }

    /// Records a revision every node now runs, with an event unless it is the creation's first.
    private func recordApplied(_ cluster: ClusterRecord, first: Bool, _ message: String, _ mark: (Transaction) throws -> Void) throws {
        try store.write { transaction in
            try mark(transaction)
            if !first {
                try transaction.record(EventRecord(sourceName: cluster.name, sourceType: "cluster", message: message, createdAt: nowMilliseconds()))
            }
        }
    }

    /// Stops every node named by a `stopNode` step, all at once.
    func stopAll(_ names: [String], cluster: ClusterRecord, nodes: [String: NodeRecord]) async {
        let dataPlane = dataPlane
        await withTaskGroup(of: Void.self) { group in
            for record in names.compactMap({ nodes[$0] }) {
                let spec = Self.spec(of: record, in: cluster)
                group.addTask { await dataPlane.stopNode(spec) }
            }
        }
    }

    /// What every node of a cluster is configured with beyond its identity.
    struct NodeSettings {
        var parameters: ParameterTarget
        var acl: ACLTarget
    }

    static func spec(of node: NodeRecord, in cluster: ClusterRecord, settings: NodeSettings? = nil) -> NodeSpec {
        var spec = NodeSpec(
            name: node.name, port: node.port, busPort: node.busPort,
            maxmemoryBytes: (NodeType.catalog[cluster.nodeType]?.memoryBytes ?? 1 << 30),
            admin: adminCredentials(of: cluster),
            recordedPID: node.pid, tls: cluster.tlsEnabled)
        spec.isPrimary = node.role == .primary
        if let settings {
            spec.parameters = settings.parameters.values
            spec.aclUsers = settings.acl.users
            spec.defaultUserRules = settings.acl.defaultUserRules
        }
        return spec
    }

    static func adminCredentials(of cluster: ClusterRecord) -> NodeCredentials {
        NodeCredentials(user: ClusterService.adminUserName, password: cluster.adminPassword)
    }

    /// The endpoint with the nodes' last observed roles (a pass replaces them with the plan's).
    static func endpoint(of cluster: ClusterRecord, _ nodes: [NodeRecord]) -> EndpointSpec {
        EndpointSpec(
            clusterName: cluster.name, port: cluster.endpointPort,
            backends: nodes.sorted { $0.name < $1.name }.map { EndpointBackend(port: $0.port, role: $0.role) }, tls: cluster.tlsEnabled)
    }
}
