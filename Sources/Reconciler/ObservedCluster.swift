import Ports
import Control
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
    /// The parameter group revision the nodes should run; nil: not compared.
    public var parametersTarget: AppliedRevision?
    /// The ACL revision the nodes should enforce; nil: not compared.
    public var aclTarget: AppliedRevision?
    /// Milliseconds since 1970 when this was observed: the planner's only clock.
    public var now: Int64
    /// The status of the final snapshot a deletion waits for, when it has one.
    public var finalSnapshotStatus: SnapshotStatus?
    /// The reboot-only parameter values nodes should have started with; nil: no rolling restarts.
    public var rebootTarget: String?
    /// The engine version nodes should run (the configured binary's); nil: not compared.
    public var engineTarget: String?
    /// The snapshot an engine update takes first (nil when the cluster runs the engine already,
    /// or opted out), and its status (nil: not taken yet).
    public var engineUpdateSnapshot: String?
    public var engineUpdateSnapshotStatus: SnapshotStatus?
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
        parametersTarget: AppliedRevision? = nil, aclTarget: AppliedRevision? = nil, now: Int64 = 0
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
