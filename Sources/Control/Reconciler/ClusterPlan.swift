import Engine
import Model
import Store

/// What the reconciler saw of one cluster in one pass.
public struct ObservedCluster: Sendable {
    public var cluster: ClusterRecord
    public var nodes: [ObservedNode]
    public var endpointRunning: Bool
    /// Whether a command sent through the endpoint got its reply: a cluster is not reported
    /// available before clients can reach it the way the API tells them to.
    public var endpointAnswers: Bool
    /// The parameter group revision the nodes should run (`<group>@<revision>`).
    public var parametersTarget: String
    /// The ACL revision the nodes should enforce (`<acl>@<revision>`).
    public var aclTarget: String

    public init(
        cluster: ClusterRecord, nodes: [ObservedNode], endpointRunning: Bool, endpointAnswers: Bool? = nil, parametersTarget: String? = nil,
        aclTarget: String? = nil
    ) {
        self.aclTarget = aclTarget ?? cluster.aclApplied
        self.cluster = cluster
        self.nodes = nodes
        self.endpointRunning = endpointRunning
        self.endpointAnswers = endpointAnswers ?? endpointRunning
        self.parametersTarget = parametersTarget ?? cluster.parametersApplied
    }
}

/// What the reconciler saw of one node: its record, its process, and its own report.
public struct ObservedNode: Sendable {
    public var record: NodeRecord
    /// The running process, proven ours; nil when none runs.
    public var pid: Int32?
    /// Nil when the process does not answer (yet).
    public var report: NodeObservation?

    public init(record: NodeRecord, pid: Int32?, report: NodeObservation?) {
        self.record = record
        self.pid = pid
        self.report = report
    }
}

/// One idempotent step towards the desired state.
public enum ReconcileAction: Sendable, Equatable {
    case startEndpoint
    case startNode(String)
    case stopNode(String)
    /// Stop the endpoint, delete every file of the cluster and its records.
    case removeCluster
    case setConfigEpoch(String, epoch: Int)
    /// The first node meets each of the others it does not know yet.
    case meet(String, peers: [String])
    case addSlots(String, [SlotRange])
    case replicate(String, primaryID: String)
    /// Set the group's immediate parameters on every node, then record the revision applied.
    case applyParameters(marker: String)
    /// Push the ACL's users to every node, then record the revision enforced.
    case applyACL(marker: String)
    case markAvailable
}

/// The decision of one pass: steps to take, node records to save, events to record.
public struct ClusterPlan: Sendable, Equatable {
    public var actions: [ReconcileAction] = []
    /// Node records whose status, role, Redis id or PID changed.
    public var nodeUpdates: [NodeRecord] = []
    public var events: [String] = []
    /// True when the cluster is as desired and only needs watching.
    public var settled = false
}

/// Decides the next steps for a cluster from what was observed. Pure: no I/O, no clock.
public enum ClusterPlanner {
    public static func plan(_ observed: ObservedCluster) -> ClusterPlan {
        var plan = ClusterPlan()
        if observed.cluster.status == .deleting {
            planDeletion(observed, into: &plan)
            return plan
        }
        planProcesses(observed, into: &plan)
        updateNodeRecords(observed, into: &plan)
        // Cluster-level steps need every node answering; until then, only processes are tended.
        let reports = observed.nodes.compactMap(\.report)
        guard reports.count == observed.nodes.count else { return plan }
        planBootstrap(observed, into: &plan)
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
            } else {
                plan.settled = true
            }
        }
        return plan
    }

    static func planDeletion(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let running = observed.nodes.filter { $0.pid != nil }
        if running.isEmpty {
            plan.actions.append(.removeCluster)
        } else {
            plan.actions += running.map { .stopNode($0.record.name) }
        }
    }

    static func planProcesses(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        if !observed.endpointRunning { plan.actions.append(.startEndpoint) }
        for node in observed.nodes where node.pid == nil {
            plan.actions.append(.startNode(node.record.name))
        }
    }

    /// Status, role and id as observed. During creation nodes turn `available` together when
    /// the cluster is ready; afterwards each node on its own. A node found dead is `restarting`.
    static func updateNodeRecords(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let clusterReady = isReady(observed)
        for node in observed.nodes {
            var record = node.record
            if let pid = node.pid { record.pid = pid }
            if let report = node.report {
                record.redisNodeID = report.myID
                record.role = report.isPrimary ? .primary : .replica
                let healthy = report.clusterStateOK && (report.isPrimary || report.primaryLinkUp)
                if observed.cluster.status == .creating ? clusterReady : healthy {
                    record.status = .available
                }
            } else if node.pid == nil, record.status == .available {
                record.status = .restarting
                plan.events.append("Node \(record.name) is down; restarting it on port \(record.port)")
            }
            if node.record.status == .restarting && record.status == .available {
                plan.events.append("Node \(record.name) recovered")
            }
            if record != node.record { plan.nodeUpdates.append(record) }
        }
    }

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
        if observed.cluster.status == .creating {
            for primary in nodes {
                guard let report = primary.report, report.isPrimary, let slots = report.myself?.slots, !slots.isEmpty else { continue }
                let handshaking = Set(report.members.filter(\.inHandshake).map(\.port))
                let behind = nodes.filter { node in
                    guard node.record.name != primary.record.name, let view = node.report,
                        let entry = view.members.first(where: { $0.id == report.myID })
                    else { return false }
                    return entry.slots != slots && !handshaking.contains(node.record.port)
                }
                if !behind.isEmpty { plan.actions.append(.meet(primary.record.name, peers: behind.map(\.record.name))) }
            }
        }
        // Slots no member of the cluster serves go to their shard's primary.
        let claimed = claimedSlots(observed)
        let desired = SlotRange.evenSplit(shards: observed.cluster.numShards)
        for shard in 1...observed.cluster.numShards {
            guard let primary = primary(ofShard: shard, in: observed) else { continue }
            let missing = unclaimed(desired[shard - 1], claimed: claimed)
            if !missing.isEmpty { plan.actions.append(.addSlots(primary.record.name, missing)) }
        }
        // Every other node of a shard replicates its primary, once it knows the primary.
        for shard in 1...observed.cluster.numShards {
            guard let primary = primary(ofShard: shard, in: observed), let primaryID = primary.report?.myID else { continue }
            for node in nodes where node.record.shardIndex == shard && node.record.name != primary.record.name {
                guard let report = node.report, report.primaryID != primaryID else { continue }
                guard report.knownPeerIDs.contains(primaryID), report.myself?.slots.isEmpty ?? true else { continue }
                plan.actions.append(.replicate(node.record.name, primaryID: primaryID))
            }
        }
    }

    /// The shard's primary: the node serving slots as a primary, else the node that starts as one.
    static func primary(ofShard shard: Int, in observed: ObservedCluster) -> ObservedNode? {
        let members = observed.nodes.filter { $0.record.shardIndex == shard }
        if let serving = members.first(where: { ($0.report?.isPrimary ?? false) && !($0.report?.myself?.slots.isEmpty ?? true) }) {
            return serving
        }
        return members.min { $0.record.nodeIndex < $1.record.nodeIndex }
    }

    /// Ready: everyone knows everyone, `cluster_state:ok` everywhere, replicas synced to the
    /// right primary, and every slot served.
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
            if node.record.name != primary.record.name {
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
