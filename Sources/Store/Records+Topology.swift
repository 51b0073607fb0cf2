import GRDB
import Model

/// A shard's desired state: the slots it serves and the node that should be its primary.
public struct ShardRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "shards"

    public enum Columns {
        public static let clusterName = Column(CodingKeys.clusterName)
        public static let shardIndex = Column(CodingKeys.shardIndex)
        public static let primaryNode = Column(CodingKeys.primaryNode)
    }

    public var clusterName: String
    /// 1-based; shard 1 is "0001".
    public var shardIndex: Int
    /// Slot ranges as stored ("0-5460,6000-6100").
    public var slots: String
    /// The node that should be primary; every other node of the shard should replicate it.
    public var primaryNode: String

    public enum CodingKeys: String, CodingKey {
        case slots
        case clusterName = "cluster_name"
        case shardIndex = "shard_index"
        case primaryNode = "primary_node"
    }

    public init(clusterName: String, shardIndex: Int, slots: [SlotRange], primaryNode: String) {
        self.clusterName = clusterName
        self.shardIndex = shardIndex
        self.slots = SlotRange.listDescription(slots)
        self.primaryNode = primaryNode
    }

    /// The slot ranges; a row no version of this program writes throws.
    public func slotRanges() throws -> [SlotRange] {
        guard let ranges = SlotRange.parseList(slots) else { throw UnknownStoredValue(column: "shards.slots", value: slots) }
        return ranges
    }
}

/// What an operation on a shard is.
public enum OperationKind: String, Sendable, Codable, CaseIterable {
    /// FailoverShard: a graceful swap while both nodes run.
    case failover
    /// The primary crashed or hung and its storage survives: it is restarted from its AOF, the
    /// replica catches up with it, then takes over. Nothing acknowledged is lost.
    case automaticFailover = "automatic-failover"
    /// The primary was lost with its storage (an availability-zone drill): the replica takes
    /// over at once with what it has.
    case zoneFailover = "zone-failover"
}

/// How far a shard's operation got, for operators (`DescribeClusters`' operations).
public enum OperationPhase: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    /// A hung primary is killed before anything else.
    case fencing
    /// The old primary restarts from its AOF.
    case restarting
    /// The replica catches up with the restarted primary.
    case resyncing
    /// The replica takes over.
    case promoting
}

/// The operation in progress on a shard: recorded before its first step, removed in the
/// transaction that records its outcome, so a control plane killed in between finishes it.
public struct OperationRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "operations"

    public enum Columns {
        public static let clusterName = Column(CodingKeys.clusterName)
        public static let shardIndex = Column(CodingKeys.shardIndex)
        public static let phase = Column(CodingKeys.phase)
        public static let updatedAt = Column(CodingKeys.updatedAt)
        public static let lastError = Column(CodingKeys.lastError)
        public static let fromOffset = Column(CodingKeys.fromOffset)
    }

    public var clusterName: String
    public var shardIndex: Int
    public var kind: OperationKind
    /// The primary being replaced.
    public var fromNode: String
    /// The replica being promoted.
    public var toNode: String
    /// How far it got, for operators.
    public var phase: OperationPhase
    /// Why it started, in words ("process ended", "no reply for 600 ms", "FailoverShard").
    public var reason: String
    /// The old primary's replication offset when it was lost, when it could be read.
    public var fromOffset: Int64?
    public var startedAt: Int64
    public var updatedAt: Int64
    public var lastError: String?

    public enum CodingKeys: String, CodingKey {
        case kind, phase, reason
        case clusterName = "cluster_name"
        case shardIndex = "shard_index"
        case fromNode = "from_node"
        case toNode = "to_node"
        case fromOffset = "from_offset"
        case startedAt = "started_at"
        case updatedAt = "updated_at"
        case lastError = "last_error"
    }

    public init(
        clusterName: String, shardIndex: Int, kind: OperationKind, fromNode: String, toNode: String, phase: OperationPhase, reason: String,
        fromOffset: Int64? = nil, startedAt: Int64
    ) {
        self.clusterName = clusterName
        self.shardIndex = shardIndex
        self.kind = kind
        self.fromNode = fromNode
        self.toNode = toNode
        self.phase = phase
        self.reason = reason
        self.fromOffset = fromOffset
        self.startedAt = startedAt
        self.updatedAt = startedAt
    }
}

/// An availability-zone drill: nodes stopped on purpose, brought back as replicas afterwards.
public struct DrillRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "drills"

    public enum Status: String, Sendable, Codable {
        /// The nodes are down.
        case running
        /// The nodes are back and resyncing.
        case recovering
        /// Every node is back and the cluster settled.
        case completed
    }

    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let clusterName = Column(CodingKeys.clusterName)
        public static let status = Column(CodingKeys.status)
        public static let startedAt = Column(CodingKeys.startedAt)
    }

    public var id: String
    public var clusterName: String
    /// What was lost, in words.
    public var target: String
    /// Comma-separated node names.
    public var nodes: String
    public var status: Status
    public var startedAt: Int64
    public var endsAt: Int64
    public var completedAt: Int64?
    public var outcome: String?

    public enum CodingKeys: String, CodingKey {
        case id, target, nodes, status, outcome
        case clusterName = "cluster_name"
        case startedAt = "started_at"
        case endsAt = "ends_at"
        case completedAt = "completed_at"
    }

    public init(id: String, clusterName: String, target: String, nodes: [String], startedAt: Int64, endsAt: Int64) {
        self.id = id
        self.clusterName = clusterName
        self.target = target
        self.nodes = StoredList.text(nodes)
        self.status = .running
        self.startedAt = startedAt
        self.endsAt = endsAt
    }

    /// The drill's nodes (stored as a JSON array).
    public var nodeNames: [String] { StoredList.items(nodes) }
}
