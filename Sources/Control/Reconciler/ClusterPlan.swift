import Engine
import Model
import Store

/// What the reconciler saw of one cluster in one pass, beside what is desired of it.
public struct ObservedCluster: Sendable {
    public var cluster: ClusterRecord
    public var nodes: [ObservedNode]
    /// Desired topology: each shard's slots and desired primary, in shard order.
    public var shards: [ShardRecord]
    /// Operations in progress, one per shard at most.
    public var operations: [OperationRecord]
    /// Drills not completed yet.
    public var drills: [DrillRecord]
    public var endpointRunning: Bool
    /// Whether a command sent through the endpoint got its reply: a cluster is not reported
    /// available before clients can reach it the way the API tells them to.
    public var endpointAnswers: Bool
    /// The backends the endpoint reads now; nil when not known (then they are left alone).
    public var endpointBackends: [EndpointBackend]?
    /// The parameter group revision the nodes should run (`<group>@<revision>`).
    public var parametersTarget: String
    /// The ACL revision the nodes should enforce (`<acl>@<revision>`).
    public var aclTarget: String
    /// Milliseconds since 1970 when this was observed: the planner's only clock.
    public var now: Int64
    /// The status of the final snapshot a deletion waits for, when it has one.
    public var finalSnapshotStatus: SnapshotStatus?
    /// The reboot-only parameter values nodes should have started with; nil: no rolling restarts.
    public var rebootTarget: String?
    /// The engine version nodes should run (the configured binary's); nil: not compared.
    public var engineTarget: String?
    /// For slots no live primary claims: how many keys each live primary holds there (only
    /// non-zero counts). Looked at only when such slots exist.
    public var slotKeys: [Int: [String: Int]] = [:]
    /// Redis ids of the nodes leaving the cluster this pass (their retirement forgets them).
    public var departing: Set<String> = []
    /// For each drained shard: how long its primary has answered no client with `-MOVED`
    /// (milliseconds), so it is retired only once clients have learned the new layout.
    public var drainQuiet: [Int: Int64] = [:]
    /// Slots in which a node holds keys that its shard neither serves nor imports, by node name
    /// (replicas included). Scanned after a shard's processes change, once ownership is settled.
    public var strayKeys: [String: [Int]] = [:]

    public init(
        cluster: ClusterRecord, nodes: [ObservedNode], shards: [ShardRecord]? = nil, operations: [OperationRecord] = [],
        drills: [DrillRecord] = [], endpointRunning: Bool, endpointAnswers: Bool? = nil, endpointBackends: [EndpointBackend]? = nil,
        parametersTarget: String? = nil, aclTarget: String? = nil, now: Int64 = 0
    ) {
        self.aclTarget = aclTarget ?? cluster.aclApplied
        self.cluster = cluster
        self.nodes = nodes
        // Without a stored topology (a test's fixture): the creation layout.
        self.shards = shards ?? SlotRange.evenSplit(shards: cluster.numShards).enumerated().map { index, range in
            let first = nodes.filter { $0.record.shardIndex == index + 1 }.min { $0.record.nodeIndex < $1.record.nodeIndex }
            return ShardRecord(clusterName: cluster.name, shardIndex: index + 1, slots: [range], primaryNode: first?.record.name ?? "")
        }
        self.operations = operations
        self.drills = drills
        self.endpointRunning = endpointRunning
        self.endpointAnswers = endpointAnswers ?? endpointRunning
        self.parametersTarget = parametersTarget ?? cluster.parametersApplied
        self.now = now
        self.endpointBackends = endpointBackends
    }

    /// Nodes by name.
    func node(_ name: String) -> ObservedNode? { nodes.first { $0.record.name == name } }

    /// Whether a drill keeps the node stopped now.
    func isHeld(_ node: ObservedNode) -> Bool { (node.record.heldUntil ?? 0) > now }
}

/// What the reconciler saw of one node: its record, its process, and its own report.
public struct ObservedNode: Sendable {
    public var record: NodeRecord
    /// The running process, proven ours; nil when none runs.
    public var pid: Int32?
    /// Nil when the process does not answer (yet).
    public var report: NodeObservation?
    /// What the persistent liveness probe says: `silent` means alive and not answering.
    public var liveness: NodeLiveness

    public init(record: NodeRecord, pid: Int32?, report: NodeObservation?, liveness: NodeLiveness = .unknown) {
        self.record = record
        self.pid = pid
        self.report = report
        self.liveness = liveness
    }

    /// Its process runs and has stopped answering the liveness probe: hung.
    var isHung: Bool { pid != nil && liveness.isSilent }
}

/// One idempotent step towards the desired state.
public enum ReconcileAction: Sendable, Equatable {
    case startEndpoint
    /// Rewrite the endpoint's backend list (primaries first).
    case routeEndpoint
    case startNode(String)
    case stopNode(String)
    /// SIGKILL: fence a hung primary, or lose a node with its zone in a drill.
    case killNode(String)
    /// A drill's hold on the node ended: discard its data when its storage counts as lost, and
    /// let it start again.
    case releaseNode(String)
    /// Stop the endpoint, delete every file of the cluster and its records.
    case removeCluster
    case setConfigEpoch(String, epoch: Int)
    /// The first node meets each of the others it does not know yet.
    case meet(String, peers: [String])
    case addSlots(String, [SlotRange])
    case replicate(String, primaryID: String)
    /// Record a failover before its first step (and, for a lost zone, kill the old primary first
    /// and keep the offset it last reported).
    case beginFailover(OperationRecord)
    /// A replica of the restarted old primary reconnects now rather than at its next retry.
    case resync(shard: Int, replica: String, primaryID: String)
    /// Promote the replica; with `demoting`, losslessly (pause, catch up, take over).
    case promote(shard: Int, replica: String, demoting: String?)
    /// The replica serves the shard's slots: record it as the desired primary, with the event.
    case finishFailover(shard: Int, newPrimary: String)
    /// The failover cannot go on (its replica is gone): drop it; the old primary stays primary.
    case abandonFailover(shard: Int, reason: String)
    /// Set the group's immediate parameters on every node, then record the revision applied.
    case applyParameters(marker: String)
    /// Push the ACL's users to every node, then record the revision enforced.
    case applyACL(marker: String)
    /// Mark the cluster available; a restore's data is put in place first (keys imported, or
    /// the seeded shards confirmed).
    case markAvailable
    /// A node leaving a live cluster (fewer replicas) is stopped: every other node forgets it,
    /// and its files and record go.
    case retireNode(String)
    /// The node still knows members that are no longer part of the cluster (retired while it
    /// was down): it forgets them.
    case forgetMembers(String, ids: [String])
    /// An update's new shape holds: the cluster is available again.
    case finishUpdate
    /// Move slots with their keys from one primary to another (a resharding's step).
    case moveSlots(from: String, to: String, slots: [SlotRange])
    /// Close open migrations no move explains (CLUSTER SETSLOT STABLE), discarding the copies
    /// an import holds.
    case stabilizeSlots(String, slots: [SlotRange])
    /// Claim slots no live primary claims, on the node holding their keys.
    case claimSlots(String, slots: [SlotRange])
    /// Delete, through this primary, the keys it or its replicas hold in slots another primary
    /// serves.
    case purgeStrayKeys(String, slots: [SlotRange])
    /// A shard beyond the cluster's count serves nothing any more: its nodes are retired and
    /// its record removed.
    case retireShard(Int)
    /// Set every node's maxmemory to its node type's (a node type change), with no restart.
    case applyMaxmemory
    /// Stop a node gracefully and start it again (a rolling restart's step: reboot-only
    /// parameters changed, or the engine binary).
    case restartNode(String)
    /// Every node runs what its group and the engine say: the pending service updates are
    /// applied (the request is cleared, EnginePatchVersion recorded).
    case finishServiceUpdates
    /// The final snapshot a deletion waited for failed: the deletion is called off.
    case cancelDeletion(reason: String)
    /// Every node of the drill is back, in sync: record its outcome.
    case completeDrill(String)
}

/// The decision of one pass: steps to take, node records to save, events to record.
public struct ClusterPlan: Sendable, Equatable {
    public var actions: [ReconcileAction] = []
    /// Node records whose status, role, Redis id or PID changed.
    public var nodeUpdates: [NodeRecord] = []
    public var events: [ClusterEvent] = []
    /// True when the cluster is as desired and only needs watching.
    public var settled = false
    /// Nothing to do but wait (a node starting, a drill's hold): look again after this long.
    public var waitMilliseconds: Int64?
    /// The backends the endpoint should read: each shard's primary, then the replicas.
    public var endpointBackends: [EndpointBackend] = []
}

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
        planFailovers(observed, into: &plan)
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
        if plan.actions.isEmpty && observed.cluster.parametersApplied != observed.parametersTarget {
            plan.actions.append(.applyParameters(marker: observed.parametersTarget))
            return plan
        }
        if plan.actions.isEmpty && observed.cluster.aclApplied != observed.aclTarget {
            plan.actions.append(.applyACL(marker: observed.aclTarget))
            return plan
        }
        if plan.actions.isEmpty && isReady(observed) && observed.endpointAnswers {
            if observed.cluster.status == .creating {
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

    // MARK: Rolling restarts

    /// Whether a node runs with other reboot-only values than its group now has, or from
    /// another engine binary than the configured one.
    static func needsRestart(_ node: ObservedNode, _ observed: ObservedCluster) -> Bool {
        parametersStale(node, observed) || engineStale(node, observed)
    }

    static func parametersStale(_ node: ObservedNode, _ observed: ObservedCluster) -> Bool {
        guard let target = observed.rebootTarget else { return false }
        return node.record.startedWithOtherValues(than: target)
    }

    static func engineStale(_ node: ObservedNode, _ observed: ObservedCluster) -> Bool {
        guard let engine = observed.engineTarget else { return false }
        return node.record.runningEngine(clusterPatch: observed.cluster.enginePatchVersion) != engine
    }

    /// Pending work (a rolling restart) runs in the cluster's weekly maintenance window, or at
    /// once after BatchUpdateCluster asked for it.
    static func mayApplyUpdates(_ observed: ObservedCluster) -> Bool {
        observed.cluster.updatesRequestedAt != nil
            || Windows.contains(maintenanceWindow: observed.cluster.maintenanceWindow, weekMinute: Windows.weekMinute(ofMilliseconds: observed.now))
    }

    /// One step of a rolling restart, taken only on a ready cluster (the previous step done)
    /// when updates may be applied: replicas first, one at a time; then each stale primary
    /// hands its shard to a synced replica (a lossless failover) and is restarted as a replica;
    /// a primary without a replica is restarted in place. Once nothing is stale, a request for
    /// the updates (or a new engine patch now run everywhere) is recorded as done.
    static func rollingRestartStep(_ observed: ObservedCluster) -> ReconcileAction? {
        guard observed.cluster.status == .available, observed.operations.isEmpty else { return nil }
        let stale = observed.nodes.filter { needsRestart($0, observed) }
        if stale.isEmpty {
            var patched = false
            if let engine = observed.engineTarget, engine != observed.cluster.enginePatchVersion { patched = true }
            return observed.cluster.updatesRequestedAt != nil || patched ? .finishServiceUpdates : nil
        }
        guard mayApplyUpdates(observed) else { return nil }
        let primaries = Set(observed.shards.map(\.primaryNode))
        if let replica = stale.first(where: { !primaries.contains($0.record.name) }) {
            return .restartNode(replica.record.name)
        }
        for shard in observed.shards {
            guard let primary = observed.node(shard.primaryNode), needsRestart(primary, observed) else { continue }
            let replica = observed.nodes.first { $0.record.shardIndex == shard.shardIndex && $0.record.name != primary.record.name && ($0.report?.primaryLinkUp ?? false) }
            guard let replica else { return .restartNode(primary.record.name) }
            return .beginFailover(
                OperationRecord(
                    clusterName: observed.cluster.name, shardIndex: shard.shardIndex, kind: .failover, fromNode: primary.record.name,
                    toNode: replica.record.name, phase: .promoting,
                    reason: "rolling restart: \(restartReason(primary, observed))", startedAt: observed.now))
        }
        return nil
    }

    /// Why a node is restarted, in words.
    static func restartReason(_ node: ObservedNode, _ observed: ObservedCluster) -> String {
        var reasons: [String] = []
        if parametersStale(node, observed) {
            reasons.append("reboot-only parameters of group \(observed.cluster.parameterGroupName) changed")
        }
        if engineStale(node, observed), let engine = observed.engineTarget {
            reasons.append("engine \(node.record.runningEngine(clusterPatch: observed.cluster.enginePatchVersion)) → \(engine)")
        }
        return reasons.joined(separator: "; ")
    }

    // MARK: Failover

    /// Per shard: start a failover when its desired primary is lost and a replica can take
    /// over, and carry an operation in progress one step further.
    static func planFailovers(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let operations = Dictionary(uniqueKeysWithValues: observed.operations.map { ($0.shardIndex, $0) })
        for shard in observed.shards {
            if let operation = operations[shard.shardIndex] {
                continueFailover(operation, observed, into: &plan)
            } else if [.available, .updating, .snapshotting].contains(observed.cluster.status) {
                startFailoverIfNeeded(shard, observed, into: &plan)
            }
        }
    }

    static func startFailoverIfNeeded(_ shard: ShardRecord, _ observed: ObservedCluster, into plan: inout ClusterPlan) {
        guard let primary = observed.node(shard.primaryNode) else { return }
        let held = observed.isHeld(primary)
        let lost: String
        if held {
            // Already failed over (a replica serves the slots) when the primary is down for long.
            guard primary.pid != nil || !(observed.nodes.contains { $0.record.shardIndex == shard.shardIndex && ($0.report?.servesSlots ?? false) && $0.record.name != primary.record.name }) else { return }
            lost = "its availability zone \(primary.record.availabilityZone) was lost (drill)"
        } else if primary.pid == nil {
            lost = "its process ended"
        } else if primary.isHung {
            lost = "it stopped answering (no reply for \(silence(primary)) ms)"
        } else {
            restoreRecordedPrimary(shard, primary, observed, into: &plan)
            return
        }
        // A shard that serves no slot yet (a new shard before its first move) holds nothing to
        // fail over: its primary is restarted in place, and the moves wait for it.
        if !held && !servesAnySlot(shard.shardIndex, observed) { return }
        guard let replica = bestReplica(of: shard, excluding: primary, observed) else {
            // No replica to promote: restart in place (a hung one is killed first).
            if primary.isHung && !held { plan.actions.append(.killNode(primary.record.name)) }
            return
        }
        let kind: OperationKind = held ? .zoneFailover : .automaticFailover
        let operation = OperationRecord(
            clusterName: observed.cluster.name, shardIndex: shard.shardIndex, kind: kind, fromNode: primary.record.name,
            toNode: replica.record.name, phase: held ? .promoting : (primary.isHung ? .fencing : .restarting),
            reason: "primary \(primary.record.name) failed: \(lost)", startedAt: observed.now)
        plan.actions.append(.beginFailover(operation))
        if primary.isHung && !held { plan.actions.append(.killNode(primary.record.name)) }
    }

    /// A shard served by another node than its recorded primary, with no operation to explain
    /// it, is put back: the record is the truth, and a graceful failover restores it.
    static func restoreRecordedPrimary(_ shard: ShardRecord, _ primary: ObservedNode, _ observed: ObservedCluster, into plan: inout ClusterPlan) {
        guard let report = primary.report, !report.servesSlots,
            let serving = observed.nodes.first(where: { $0.record.shardIndex == shard.shardIndex && ($0.report?.servesSlots ?? false) }),
            report.primaryID == serving.report?.myID, report.primaryLinkUp
        else { return }
        plan.actions.append(
            .beginFailover(
                OperationRecord(
                    clusterName: observed.cluster.name, shardIndex: shard.shardIndex, kind: .failover, fromNode: serving.record.name,
                    toNode: primary.record.name, phase: .promoting,
                    reason: "shard \(shard.shardIndex) was served by \(serving.record.name), not its recorded primary \(primary.record.name); restoring it",
                    startedAt: observed.now)))
    }

    /// Whether any member of the shard claims a slot (in its own view, or in a view of it that
    /// some node holds: a silent primary's slots are still its own).
    static func servesAnySlot(_ shard: Int, _ observed: ObservedCluster) -> Bool {
        let members = observed.nodes.filter { $0.record.shardIndex == shard }
        if members.contains(where: { $0.report?.servesSlots ?? false }) { return true }
        let ids = Set(members.compactMap { $0.record.redisNodeID })
        return observed.nodes.contains { node in
            node.report?.members.contains { ids.contains($0.id) && $0.isPrimary && !$0.slots.isEmpty } ?? false
        }
    }

    /// The replica to promote: one that answers and runs (not held), preferring one linked to
    /// the primary, then the furthest along its stream, then the lowest node index.
    static func bestReplica(of shard: ShardRecord, excluding primary: ObservedNode, _ observed: ObservedCluster) -> ObservedNode? {
        let candidates = observed.nodes.filter { node in
            node.record.shardIndex == shard.shardIndex && node.record.name != primary.record.name && node.report != nil
                && node.pid != nil && !observed.isHeld(node) && !node.isHung
        }
        let primaryID = primary.record.redisNodeID
        return candidates.max { a, b in
            let aLinked = a.report?.primaryID == primaryID
            let bLinked = b.report?.primaryID == primaryID
            if aLinked != bLinked { return !aLinked }
            let aOffset = a.report?.replicationOffset ?? 0
            let bOffset = b.report?.replicationOffset ?? 0
            if aOffset != bOffset { return aOffset < bOffset }
            return a.record.nodeIndex > b.record.nodeIndex
        }
    }

    /// The next step of an operation, judged from what is observed now (level-based: the same
    /// observation always yields the same step, so a restarted control plane carries on).
    static func continueFailover(_ operation: OperationRecord, _ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let shard = operation.shardIndex
        guard let replica = observed.node(operation.toNode), let primary = observed.node(operation.fromNode) else {
            plan.actions.append(.abandonFailover(shard: shard, reason: "a node of the failover no longer exists"))
            return
        }
        if replica.report?.servesSlots ?? false {
            plan.actions.append(.finishFailover(shard: shard, newPrimary: replica.record.name))
            return
        }
        // The old primary back as a primary that claims no slot, with a replica that claims none
        // either: there is nothing to take over. Either the shard serves no slot yet (a new shard
        // before its first move), or the slots the views give it were handed to it before it
        // claimed them (a hand-over cut short by its death): the ownership rules then have it
        // claim them, with the keys it holds.
        if operation.kind != .zoneFailover, let report = primary.report, report.isPrimary, !report.servesSlots,
            !(replica.report?.servesSlots ?? false)
        {
            plan.actions.append(.abandonFailover(shard: shard, reason: "\(primary.record.name) is back and claims no slot, so there is nothing to take over"))
            return
        }
        // A shard serving no slot whose old primary stays away: the promoted replica is its
        // primary once it says so.
        if !servesAnySlot(shard, observed), let report = replica.report, report.isPrimary, report.primaryID == nil {
            plan.actions.append(.finishFailover(shard: shard, newPrimary: replica.record.name))
            return
        }
        if replica.pid == nil || observed.isHeld(replica) || replica.isHung {
            plan.actions.append(.abandonFailover(shard: shard, reason: "replica \(replica.record.name) is down too"))
            return
        }
        guard replica.report != nil else { return }
        if operation.kind == .zoneFailover {
            plan.actions.append(.promote(shard: shard, replica: replica.record.name, demoting: nil))
            return
        }
        if primary.isHung {
            plan.actions.append(.killNode(primary.record.name))
            return
        }
        // The old primary restarts from its AOF (planProcesses starts it); once it answers, the
        // replica takes its whole stream, then takes over. One that does not come back within
        // 10 s (its files are damaged) is given up on: the replica takes over with what it has.
        guard let primaryReport = primary.report, primaryReport.servesSlots else {
            if operation.kind == .automaticFailover && observed.now - operation.startedAt > 10_000 {
                plan.actions.append(.promote(shard: shard, replica: replica.record.name, demoting: nil))
            }
            return
        }
        guard let replicaReport = replica.report else { return }
        if replicaReport.primaryID == primaryReport.myID && replicaReport.primaryLinkUp {
            plan.actions.append(.promote(shard: shard, replica: replica.record.name, demoting: primary.record.name))
        } else if !replicaReport.syncInProgress && (operation.phase != .resyncing || observed.now - operation.updatedAt > 1000) {
            plan.actions.append(.resync(shard: shard, replica: replica.record.name, primaryID: primaryReport.myID))
        }
    }

    /// Each shard's primary (the node serving its slots, else the desired one), then replicas.
    ///
    /// A node that does not answer (restarting, still loading its data) is listed after every
    /// node that does, so a client is not handed to a node that would answer `-LOADING`; before
    /// any node of a shard answers (creation), its desired primary is listed as primary.
    static func endpointBackends(_ observed: ObservedCluster) -> [EndpointBackend] {
        var primaries: [EndpointBackend] = []
        var replicas: [EndpointBackend] = []
        var silent: [EndpointBackend] = []
        for shard in observed.shards {
            let members = observed.nodes.filter { $0.record.shardIndex == shard.shardIndex }.sorted { $0.record.nodeIndex < $1.record.nodeIndex }
            // Two claimants for a moment after a takeover: the higher config epoch has won.
            let serving = members.filter { ($0.report?.servesSlots ?? false) && !observed.isHeld($0) }
                .max { ($0.report?.myself?.configEpoch ?? 0) < ($1.report?.myself?.configEpoch ?? 0) }
            let anyAnswers = members.contains { $0.report != nil }
            let primary = serving?.record.name ?? shard.primaryNode
            for member in members {
                let answers = member.report != nil || !anyAnswers
                if member.record.name == primary && answers {
                    primaries.append(EndpointBackend(port: member.record.port, role: .primary))
                } else if answers {
                    replicas.append(EndpointBackend(port: member.record.port, role: .replica))
                } else {
                    silent.append(EndpointBackend(port: member.record.port, role: .replica))
                }
            }
        }
        return primaries + replicas + silent
    }

    // MARK: Bootstrap

    /// Epochs, introductions, slots and replication, each only where still missing.
    static func planBootstrap(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let nodes = observed.nodes
        // Distinct config epochs on fresh nodes spare Redis its epoch-collision dance.
        for (index, node) in nodes.enumerated() {
            guard let report = node.report, report.members.count == 1, (report.myself?.configEpoch ?? 0) == 0 else { continue }
            plan.actions.append(.setConfigEpoch(node.record.name, epoch: index + 1))
        }
        // Introduce every pair directly: gossip alone takes seconds to spread news of a node.
        for (index, node) in nodes.enumerated() {
            guard let report = node.report else { continue }
            let handshaking = Set(report.members.filter(\.inHandshake).map(\.port))
            let peers = nodes[(index + 1)...].filter { peer in
                guard let peerReport = peer.report else { return false }
                return !report.knownPeerIDs.contains(peerReport.myID)
                    && !peerReport.knownPeerIDs.contains(report.myID)
                    && !handshaking.contains(peer.record.port)
            }
            if !peers.isEmpty { plan.actions.append(.meet(node.record.name, peers: peers.map(\.record.name))) }
        }
        // While creating: a node that knows a primary but not yet the slots it serves hears them
        // at once from a fresh MEET (Redis applies the slot claims of any known sender) instead of
        // waiting a second or more for gossip. Once available, gossip alone keeps views in step.
        // The same for nodes joining a cluster being updated, while they still miss a
        // primary's slots (their `cluster_state` is not ok): a resharding waits for them.
        let updating = observed.cluster.status == .updating
        if observed.cluster.status == .creating || updating {
            for primary in nodes {
                guard let report = primary.report, report.isPrimary, let slots = report.myself?.slots, !slots.isEmpty else { continue }
                let handshaking = Set(report.members.filter(\.inHandshake).map(\.port))
                let behind = nodes.filter { node in
                    guard node.record.name != primary.record.name, let view = node.report, !(updating && view.clusterStateOK),
                        let entry = view.members.first(where: { $0.id == report.myID })
                    else { return false }
                    return entry.slots != slots && !handshaking.contains(node.record.port)
                }
                if !behind.isEmpty { plan.actions.append(.meet(primary.record.name, peers: behind.map(\.record.name))) }
            }
        }
        // A node that was down when a member was retired still knows it: it forgets it now.
        let members = Set(nodes.compactMap { $0.report?.myID ?? $0.record.redisNodeID }).union(observed.departing)
        for node in nodes {
            guard let report = node.report else { continue }
            let strangers = report.members.filter { !$0.isMyself && !$0.inHandshake && !members.contains($0.id) }.map(\.id)
            if !strangers.isEmpty { plan.actions.append(.forgetMembers(node.record.name, ids: strangers.sorted())) }
        }
        // While creating, slots no member serves go to their shard's desired primary. Later, a
        // slot nobody serves may have its keys on some node: `planResharding` gives it to them.
        guard observed.cluster.status == .creating else {
            planReplication(observed, into: &plan)
            return
        }
        let claimed = claimedSlots(observed)
        for shard in observed.shards {
            guard let primary = observed.node(shard.primaryNode), let ranges = try? shard.slotRanges() else { continue }
            let missing = ranges.flatMap { unclaimed($0, claimed: claimed) }
            if !missing.isEmpty { plan.actions.append(.addSlots(primary.record.name, missing)) }
        }
        planReplication(observed, into: &plan)
    }

    /// Every other node of a shard replicates its desired primary, once it knows the primary.
    static func planReplication(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let nodes = observed.nodes
        for shard in observed.shards {
            guard let primary = observed.node(shard.primaryNode), let primaryID = primary.report?.myID else { continue }
            for node in nodes where node.record.shardIndex == shard.shardIndex && node.record.name != primary.record.name {
                guard let report = node.report, report.primaryID != primaryID else { continue }
                guard report.knownPeerIDs.contains(primaryID), report.myself?.slots.isEmpty ?? true else { continue }
                plan.actions.append(.replicate(node.record.name, primaryID: primaryID))
            }
        }
    }

    /// The shard's desired primary.
    static func primary(ofShard shard: Int, in observed: ObservedCluster) -> ObservedNode? {
        guard let record = observed.shards.first(where: { $0.shardIndex == shard }) else { return nil }
        return observed.node(record.primaryNode)
    }

    /// Ready: everyone knows everyone, `cluster_state:ok` everywhere, each desired primary
    /// serves, replicas synced to it, and every slot served.
    static func isReady(_ observed: ObservedCluster) -> Bool {
        let reports = observed.nodes.compactMap(\.report)
        guard reports.count == observed.nodes.count else { return false }
        let ids = Set(reports.map(\.myID))
        for node in observed.nodes {
            guard let report = node.report else { return false }
            guard report.clusterStateOK, report.knownPeerIDs.isSuperset(of: ids.subtracting([report.myID])) else { return false }
            guard let primary = primary(ofShard: node.record.shardIndex, in: observed), let primaryID = primary.report?.myID else {
                return false
            }
            if node.record.name == primary.record.name {
                guard report.isPrimary else { return false }
            } else {
                guard report.primaryID == primaryID, report.primaryLinkUp else { return false }
            }
        }
        return claimedSlots(observed).allSatisfy { $0 }
    }

    /// Which slots any member is seen serving, by any node's report.
    static func claimedSlots(_ observed: ObservedCluster) -> [Bool] {
        var claimed = [Bool](repeating: false, count: SlotRange.slotCount)
        for report in observed.nodes.compactMap(\.report) {
            for member in report.members where member.isPrimary {
                for range in member.slots {
                    for slot in range.first...range.last { claimed[slot] = true }
                }
            }
        }
        return claimed
    }

    /// The sub-ranges of `range` that nobody serves.
    static func unclaimed(_ range: SlotRange, claimed: [Bool]) -> [SlotRange] {
        var result: [SlotRange] = []
        var start: Int?
        for slot in range.first...range.last {
            if !claimed[slot] {
                if start == nil { start = slot }
            } else if let first = start {
                result.append(SlotRange(first: first, last: slot - 1))
                start = nil
            }
        }
        if let first = start { result.append(SlotRange(first: first, last: range.last)) }
        return result
    }
}
