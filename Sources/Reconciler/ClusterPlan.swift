import Ports
import Control
import Model
import Store

/// Decides the next steps for a cluster from what was observed. Pure: no I/O; the only clock is
/// `ObservedCluster.now`.
public enum ClusterPlanner {
    public static func plan(_ observed: ObservedCluster) -> ClusterPlan {
        var plan = ClusterPlan()
        if observed.cluster.status == .deleting {
            switch observed.finalSnapshotStatus {
            case .creating?:
                // Nothing is stopped before the final snapshot is taken.
                plan.waitMilliseconds = 200
            case .failed?, .deleting?:
                plan.actions.append(.cancelDeletion(reason: "its final snapshot \(observed.cluster.finalSnapshot ?? "") could not be taken"))
            default:
                planDeletion(observed, into: &plan)
            }
            return plan
        }
        if observed.cluster.status == .stopping || observed.cluster.status == .stopped {
            planStop(observed, into: &plan)
            return plan
        }
        // Nodes leaving a live cluster are stopped and retired; everything else plans without them.
        var observed = observed
        let retiring = observed.nodes.filter { $0.record.status == .deleting }
        observed.nodes.removeAll { $0.record.status == .deleting }
        observed.departing = Set(retiring.compactMap { $0.report?.myID ?? $0.record.redisNodeID })
        for node in retiring {
            plan.actions.append(node.pid != nil ? .killNode(node.record.name) : .retireNode(node.record.name))
        }
        plan.endpointBackends = endpointBackends(observed)
        // Routing comes before any process is started: a node being restarted must already be
        // listed last when it begins to listen, or the endpoint could hand a client to it while it
        // still answers `-LOADING`.
        if observed.endpointRunning, let current = observed.endpointBackends, current != plan.endpointBackends {
            plan.actions.append(.routeEndpoint)
        }
        // Failover steps come next: a lost zone's primary is killed by `beginFailover`, which
        // reads its last offset before the generic kill of held nodes would.
        // A cluster starting again brings every node up together: none has failed.
        if observed.cluster.status != .starting { planFailovers(observed, into: &plan) }
        planProcesses(observed, into: &plan)
        updateNodeRecords(observed, into: &plan)
        // Cluster-level steps need every node answering; until then, only processes are tended.
        let reports = observed.nodes.compactMap(\.report)
        guard reports.count == observed.nodes.count, observed.operations.isEmpty else {
            if plan.actions.isEmpty && observed.cluster.status == .updating { planMovesAroundTrouble(observed, into: &plan) }
            if plan.actions.isEmpty { plan.waitMilliseconds = observed.operations.isEmpty ? waitWhileNodesAreAway(observed) : 10 }
            return plan
        }
        planBootstrap(observed, into: &plan)
        if plan.actions.isEmpty { planResharding(observed, into: &plan) }
        if plan.actions.isEmpty, let memory = NodeType.catalog[observed.cluster.nodeType]?.memoryBytes,
            observed.nodes.contains(where: { ($0.report?.maxmemory).map { $0 != memory } ?? false })
        {
            plan.actions.append(.applyMaxmemory)
            return plan
        }
        if plan.actions.isEmpty, let target = observed.parametersTarget, observed.cluster.parametersApplied != target {
            plan.actions.append(.applyParameters(marker: target))
            return plan
        }
        if plan.actions.isEmpty, let target = observed.aclTarget, observed.cluster.aclApplied != target {
            plan.actions.append(.applyACL(marker: target))
            return plan
        }
        if plan.actions.isEmpty && isReady(observed) && observed.endpointAnswers {
            if observed.cluster.status == .creating || observed.cluster.status == .starting {
                plan.actions.append(.markAvailable)
            } else if observed.cluster.status == .updating {
                // A shard still draining (a view that has not heard yet) is waited for.
                if slotWork(observed).isDone { plan.actions.append(.finishUpdate) }
            } else if let step = rollingRestartStep(observed) {
                plan.actions.append(step)
            } else if let drill = observed.drills.first(where: { drill in
                drill.nodeNames.allSatisfy { name in observed.node(name).map { $0.record.heldUntil == nil } ?? true }
            }) {
                plan.actions.append(.completeDrill(drill.id))
            } else {
                plan.settled = true
            }
        }
        if plan.actions.isEmpty && !plan.settled { plan.waitMilliseconds = 50 }
        return plan
    }

    /// How long to wait when the only thing missing is a node that is away: until the earliest
    /// drill hold ends, at most a second (a node starting wakes the loop through its probe).
    static func waitWhileNodesAreAway(_ observed: ObservedCluster) -> Int64 {
        let holds = observed.nodes.compactMap { $0.record.heldUntil }.filter { $0 > observed.now }
        if observed.nodes.allSatisfy({ $0.report != nil || observed.isHeld($0) }), let end = holds.min() {
            return max(10, min(1000, end - observed.now))
        }
        return 50
    }

    /// Stopping: the endpoint first (no new client is let in), then the replicas, then the
    /// primaries, each with SIGTERM (the AOF is fsynced on every write, so every acknowledged
    /// write is on disk); replicas first so no replica outlives its primary long enough to
    /// think it failed. Stopped: nothing runs and nothing is started.
    static func planStop(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        if observed.endpointRunning { plan.actions.append(.stopEndpoint) }
        let running = observed.nodes.filter { $0.pid != nil }
        let primaries = Set(observed.shards.map(\.primaryNode))
        let replicas = running.filter { !primaries.contains($0.record.name) }
        plan.actions += (replicas.isEmpty ? running : replicas).map { .stopNode($0.record.name) }
        if plan.actions.isEmpty {
            if observed.cluster.status == .stopping { plan.actions.append(.markStopped) } else { plan.settled = true }
        }
    }

    static func planDeletion(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let running = observed.nodes.filter { $0.pid != nil }
        if running.isEmpty {
            plan.actions.append(.removeCluster)
        } else {
            plan.actions += running.map { .stopNode($0.record.name) }
        }
    }

    /// Start what is not running, except nodes a drill holds down; kill those that still run;
    /// let a node whose hold ended come back.
    static func planProcesses(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        if !observed.endpointRunning { plan.actions.append(.startEndpoint) }
        for node in observed.nodes {
            let name = node.record.name
            if observed.isHeld(node) {
                if node.pid != nil && !plan.actions.contains(.killNode(name)) { plan.actions.append(.killNode(name)) }
            } else if node.record.heldUntil != nil {
                plan.actions.append(.releaseNode(name))
            } else if node.pid == nil {
                plan.actions.append(.startNode(name))
            } else if node.isHung && !plan.actions.contains(.killNode(name)) {
                // Alive and not serving: it will not recover by itself in any useful time.
                plan.actions.append(.killNode(name))
            }
        }
    }

    /// Status, role and id as observed. During creation nodes turn `available` together when
    /// the cluster is ready; afterwards each node on its own. A node found dead is `restarting`.
    static func updateNodeRecords(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let clusterReady = isReady(observed)
        for node in observed.nodes {
            var record = node.record
            if let pid = node.pid { record.pid = pid }
            // A node started before what it started with was recorded is taken as up to date.
            if record.startedWith == nil, node.report != nil, let target = observed.rebootTarget { record.startedWith = target }
            if let report = node.report {
                // Kept to the MiB, and written only when it moved by one: not a write per pass.
                let used = report.usedMemory / 1_048_576 * 1_048_576
                if report.usedMemory > 0 && abs(used - (record.usedMemory ?? -(1 << 40))) >= 1_048_576 { record.usedMemory = used }
                record.redisNodeID = report.myID
                record.role = report.isPrimary ? .primary : .replica
                let healthy = report.clusterStateOK && (report.isPrimary || report.primaryLinkUp)
                if observed.cluster.status == .creating ? clusterReady : healthy {
                    record.status = .available
                }
            } else if node.pid == nil || node.isHung, record.status == .available {
                record.status = .restarting
                if observed.isHeld(node) {
                    plan.events.append(.nodeDownForDrill(node: record.name, zone: record.availabilityZone))
                } else if node.isHung {
                    plan.events.append(.nodeHung(node: record.name, pid: node.pid, silentMilliseconds: silence(node), port: record.port))
                } else {
                    plan.events.append(.nodeDown(node: record.name, port: record.port))
                }
            }
            if node.record.status == .restarting && record.status == .available {
                plan.events.append(.nodeRecovered(node: record.name))
            }
            if record != node.record { plan.nodeUpdates.append(record) }
        }
    }

    static func silence(_ node: ObservedNode) -> Int64 {
        if case .silent(let milliseconds) = node.liveness { return milliseconds }
        return 0
    }
}
