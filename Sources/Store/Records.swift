import GRDB
import Model

/// How a new cluster gets a snapshot's data.
public enum RestoreMode: String, Sendable, Codable, DatabaseValueConvertible {
    /// Same shard count: each shard's primary starts from its shard's RDB (the base of its AOF).
    case seed
    /// Another shard count, or exported files: once the cluster is formed, each RDB's keys are
    /// moved to the primaries that serve their slots.
    case `import`
}

/// A cluster as stored: what was asked for and the status the reconciler reports.
public struct ClusterRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "clusters"

    /// Typed columns for queries.
    public enum Columns {
        public static let name = Column(CodingKeys.name)
        public static let status = Column(CodingKeys.status)
        public static let parameterGroupName = Column(CodingKeys.parameterGroupName)
        public static let aclName = Column(CodingKeys.aclName)
        public static let subnetGroupName = Column(CodingKeys.subnetGroupName)
        public static let endpointPort = Column(CodingKeys.endpointPort)
        public static let parametersAppliedGroup = Column(CodingKeys.parametersAppliedGroup)
        public static let parametersAppliedRevision = Column(CodingKeys.parametersAppliedRevision)
        public static let aclAppliedName = Column(CodingKeys.aclAppliedName)
        public static let aclAppliedRevision = Column(CodingKeys.aclAppliedRevision)
        public static let aclAppliedRestrictedGeneration = Column(CodingKeys.aclAppliedRestrictedGeneration)
    }

    public var name: String
    public var description: String?
    public var status: ClusterStatus
    public var nodeType: String
    public var engineVersion: String
    public var enginePatchVersion: String
    public var parameterGroupName: String
    public var aclName: String
    public var subnetGroupName: String
    public var tlsEnabled: Bool
    public var numShards: Int
    public var numReplicasPerShard: Int
    public var endpointPort: Int
    public var adminPassword: String
    /// Milliseconds since 1970.
    public var createdAt: Int64
    /// `ddd:hh24:mi-ddd:hh24:mi`, UTC.
    public var maintenanceWindow: String
    /// `hh24:mi-hh24:mi`, UTC.
    public var snapshotWindow: String
    public var autoMinorVersionUpgrade: Bool
    private var parametersAppliedGroup: String?
    private var parametersAppliedRevision: Int?
    private var aclAppliedName: String?
    private var aclAppliedRevision: Int?
    private var aclAppliedRestrictedGeneration: Int?
    /// Security group ids as a JSON array (recorded and reported; nodes listen on loopback only).
    public var securityGroupIds: String
    /// Why the last reconcile step kept failing; nil once a pass settles.
    public var lastError: String?
    /// Days automatic snapshots are kept (0: none are taken).
    public var snapshotRetentionLimit: Int = 0
    /// Created from a snapshot: its name, or `arns:` and the export ARNs as a JSON list.
    public var restoreSource: String?
    /// How a restore puts its data in place; nil once it is in place, and for clusters that are
    /// not restores.
    public var restoreState: RestoreMode?
    /// The snapshot DeleteCluster takes before anything is stopped.
    public var finalSnapshot: String?
    /// When BatchUpdateCluster asked for pending service updates now; nil: maintenance window.
    public var updatesRequestedAt: Int64?
    /// DeleteCluster is refused on every door while it is on (beyond AWS MemoryDB, as RDS has it).
    public var deletionProtection = false
    /// An engine update's rolling restart snapshots the cluster first (on unless opted out).
    public var snapshotBeforeUpdate = true

    public enum CodingKeys: String, CodingKey {
        case name, description, status
        case nodeType = "node_type"
        case engineVersion = "engine_version"
        case enginePatchVersion = "engine_patch_version"
        case parameterGroupName = "parameter_group_name"
        case aclName = "acl_name"
        case subnetGroupName = "subnet_group_name"
        case tlsEnabled = "tls_enabled"
        case numShards = "num_shards"
        case numReplicasPerShard = "num_replicas_per_shard"
        case endpointPort = "endpoint_port"
        case adminPassword = "admin_password"
        case createdAt = "created_at"
        case maintenanceWindow = "maintenance_window"
        case snapshotWindow = "snapshot_window"
        case autoMinorVersionUpgrade = "auto_minor_version_upgrade"
        case parametersAppliedGroup = "parameters_applied_group"
        case parametersAppliedRevision = "parameters_applied_revision"
        case aclAppliedName = "acl_applied_name"
        case aclAppliedRevision = "acl_applied_revision"
        case aclAppliedRestrictedGeneration = "acl_applied_restricted_generation"
        case securityGroupIds = "security_group_ids"
        case lastError = "last_error"
        case snapshotRetentionLimit = "snapshot_retention_limit"
        case restoreSource = "restore_source"
        case restoreState = "restore_state"
        case finalSnapshot = "final_snapshot"
        case updatesRequestedAt = "updates_requested_at"
        case deletionProtection = "deletion_protection"
        case snapshotBeforeUpdate = "snapshot_before_update"
    }

    /// Decodes a row by column name; faster than the Codable path on every Describe call.
    public init(row: Row) throws {
        name = row["name"]
        description = row["description"]
        status = try ClusterStatus.stored(row, "status", table: "clusters")
        nodeType = row["node_type"]
        engineVersion = row["engine_version"]
        enginePatchVersion = row["engine_patch_version"]
        parameterGroupName = row["parameter_group_name"]
        aclName = row["acl_name"]
        subnetGroupName = row["subnet_group_name"]
        tlsEnabled = row["tls_enabled"]
        numShards = row["num_shards"]
        numReplicasPerShard = row["num_replicas_per_shard"]
        endpointPort = row["endpoint_port"]
        adminPassword = row["admin_password"]
        createdAt = row["created_at"]
        maintenanceWindow = row["maintenance_window"]
        snapshotWindow = row["snapshot_window"]
        autoMinorVersionUpgrade = row["auto_minor_version_upgrade"]
        parametersAppliedGroup = row["parameters_applied_group"]
        parametersAppliedRevision = row["parameters_applied_revision"]
        aclAppliedName = row["acl_applied_name"]
        aclAppliedRevision = row["acl_applied_revision"]
        aclAppliedRestrictedGeneration = row["acl_applied_restricted_generation"]
        securityGroupIds = row["security_group_ids"]
        lastError = row["last_error"]
        snapshotRetentionLimit = row["snapshot_retention_limit"]
        restoreSource = row["restore_source"]
        let restore: String? = row["restore_state"]
        restoreState = try restore.map { text in
            guard let mode = RestoreMode(rawValue: text) else { throw UnknownStoredValue(column: "clusters.restore_state", value: text) }
            return mode
        }
        finalSnapshot = row["final_snapshot"]
        updatesRequestedAt = row["updates_requested_at"]
        deletionProtection = row["deletion_protection"]
        snapshotBeforeUpdate = row["snapshot_before_update"]
    }

    public init(
        name: String, description: String?, status: ClusterStatus, nodeType: String,
        engineVersion: String, enginePatchVersion: String, parameterGroupName: String,
        aclName: String, subnetGroupName: String, tlsEnabled: Bool, numShards: Int,
        numReplicasPerShard: Int, endpointPort: Int, adminPassword: String, createdAt: Int64,
        maintenanceWindow: String = "sun:23:00-mon:01:30", snapshotWindow: String = "05:00-06:00",
        autoMinorVersionUpgrade: Bool = true, parametersApplied: AppliedRevision? = nil, aclApplied: AppliedRevision? = nil,
        securityGroupIds: [String] = []
    ) {
        self.name = name
        self.description = description
        self.status = status
        self.nodeType = nodeType
        self.engineVersion = engineVersion
        self.enginePatchVersion = enginePatchVersion
        self.parameterGroupName = parameterGroupName
        self.aclName = aclName
        self.subnetGroupName = subnetGroupName
        self.tlsEnabled = tlsEnabled
        self.numShards = numShards
        self.numReplicasPerShard = numReplicasPerShard
        self.endpointPort = endpointPort
        self.adminPassword = adminPassword
        self.createdAt = createdAt
        self.maintenanceWindow = maintenanceWindow
        self.snapshotWindow = snapshotWindow
        self.autoMinorVersionUpgrade = autoMinorVersionUpgrade
        parametersAppliedGroup = parametersApplied?.name
        parametersAppliedRevision = parametersApplied?.revision
        aclAppliedName = aclApplied?.name
        aclAppliedRevision = aclApplied?.revision
        aclAppliedRestrictedGeneration = aclApplied?.restrictedGeneration
        self.securityGroupIds = StoredList.text(securityGroupIds)
    }

    /// The parameter group revision every node runs; nil until the first is applied (a new
    /// cluster's nodes start with their group in their config).
    public var parametersApplied: AppliedRevision? {
        get { parametersAppliedGroup.flatMap { name in parametersAppliedRevision.map { AppliedRevision(name: name, revision: $0) } } }
        set {
            parametersAppliedGroup = newValue?.name
            parametersAppliedRevision = newValue?.revision
        }
    }

    /// The ACL revision every node enforces; nil until the first is applied.
    public var aclApplied: AppliedRevision? {
        get {
            aclAppliedName.flatMap { name in
                aclAppliedRevision.map { AppliedRevision(name: name, revision: $0, restrictedGeneration: aclAppliedRestrictedGeneration) }
            }
        }
        set {
            aclAppliedName = newValue?.name
            aclAppliedRevision = newValue?.revision
            aclAppliedRestrictedGeneration = newValue?.restrictedGeneration
        }
    }

    /// The security group ids as a list (stored as a JSON array).
    public var securityGroups: [String] {
        get { StoredList.items(securityGroupIds) }
        set { securityGroupIds = StoredList.text(newValue) }
    }
}

/// A data node as stored: its fixed identity (name, port, zone, Redis id) and last observed state.
public struct NodeRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "nodes"

    /// Typed columns for queries.
    public enum Columns {
        public static let name = Column(CodingKeys.name)
        public static let clusterName = Column(CodingKeys.clusterName)
        public static let shardIndex = Column(CodingKeys.shardIndex)
        public static let nodeIndex = Column(CodingKeys.nodeIndex)
        public static let port = Column(CodingKeys.port)
        public static let status = Column(CodingKeys.status)
        public static let role = Column(CodingKeys.role)
        public static let redisNodeID = Column(CodingKeys.redisNodeID)
        public static let pid = Column(CodingKeys.pid)
    }

    public var name: String
    public var clusterName: String
    /// 1-based; shard 1 is "0001".
    public var shardIndex: Int
    /// 1-based; node 1 of a shard starts as its primary.
    public var nodeIndex: Int
    public var port: Int
    public var availabilityZone: String
    public var status: NodeStatus
    public var role: NodeRole
    public var redisNodeID: String?
    public var pid: Int32?
    public var createdAt: Int64
    /// Set by a drill: the node is kept stopped until then (milliseconds since 1970).
    public var heldUntil: Int64?
    /// Set by a drill: the node's data is discarded before it comes back, as if its disk was lost.
    public var storageLost: Bool = false
    /// Bytes the node was last seen using (rounded to MiB); nil before it was first observed.
    public var usedMemory: Int64?
    /// The reboot-only parameter values its running process started with; nil when unknown.
    public var startedWith: String?
    /// The engine version of the binary its running process started from; nil when unknown.
    public var engineVersion: String?

    public enum CodingKeys: String, CodingKey {
        case name, port, status, role, pid
        case heldUntil = "held_until"
        case storageLost = "storage_lost"
        case usedMemory = "used_memory"
        case startedWith = "started_with"
        case engineVersion = "engine_version"
        case clusterName = "cluster_name"
        case shardIndex = "shard_index"
        case nodeIndex = "node_index"
        case availabilityZone = "availability_zone"
        case redisNodeID = "redis_node_id"
        case createdAt = "created_at"
    }

    /// Decodes a row by column name; faster than the Codable path on every Describe call.
    public init(row: Row) throws {
        name = row["name"]
        clusterName = row["cluster_name"]
        shardIndex = row["shard_index"]
        nodeIndex = row["node_index"]
        port = row["port"]
        availabilityZone = row["availability_zone"]
        status = try NodeStatus.stored(row, "status", table: "nodes")
        role = try NodeRole.stored(row, "role", table: "nodes")
        redisNodeID = row["redis_node_id"]
        pid = row["pid"]
        createdAt = row["created_at"]
        heldUntil = row["held_until"]
        storageLost = row["storage_lost"]
        usedMemory = row["used_memory"]
        startedWith = row["started_with"]
        engineVersion = row["engine_version"]
    }

    public init(
        name: String, clusterName: String, shardIndex: Int, nodeIndex: Int, port: Int,
        availabilityZone: String, status: NodeStatus, role: NodeRole, redisNodeID: String? = nil,
        pid: Int32? = nil, createdAt: Int64
    ) {
        self.name = name
        self.clusterName = clusterName
        self.shardIndex = shardIndex
        self.nodeIndex = nodeIndex
        self.port = port
        self.availabilityZone = availabilityZone
        self.status = status
        self.role = role
        self.redisNodeID = redisNodeID
        self.pid = pid
        self.createdAt = createdAt
    }

    /// The cluster bus port: the client port + 10000, as Redis does by default.
    public var busPort: Int { port + 10000 }
}

/// What an event is about, as DescribeEvents' SourceType names it.
public enum EventSourceType: String, Sendable, Codable, CaseIterable, DatabaseValueConvertible {
    case node
    case cluster
    case parameterGroup = "parameter-group"
    case subnetGroup = "subnet-group"
    case user
    case acl
}

/// Something that happened to a resource, as DescribeEvents reports it.
public struct EventRecord: Sendable, Codable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "events"

    /// Typed columns for queries.
    public enum Columns {
        public static let id = Column(CodingKeys.id)
        public static let sourceName = Column(CodingKeys.sourceName)
        public static let sourceType = Column(CodingKeys.sourceType)
        public static let createdAt = Column(CodingKeys.createdAt)
    }

    public var id: Int64?
    public var sourceName: String
    public var sourceType: EventSourceType
    public var message: String
    public var createdAt: Int64

    public enum CodingKeys: String, CodingKey {
        case id, message
        case sourceName = "source_name"
        case sourceType = "source_type"
        case createdAt = "created_at"
    }

    public init(sourceName: String, sourceType: EventSourceType, message: String, createdAt: Int64) {
        self.sourceName = sourceName
        self.sourceType = sourceType
        self.message = message
        self.createdAt = createdAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A tag on a resource, keyed by the resource's ARN.
public struct TagRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "tags"

    /// Typed columns for queries.
    public enum Columns {
        public static let resourceArn = Column(CodingKeys.resourceArn)
        public static let key = Column(CodingKeys.key)
        public static let value = Column(CodingKeys.value)
    }

    public var resourceArn: String
    public var key: String
    public var value: String

    public enum CodingKeys: String, CodingKey {
        case key, value
        case resourceArn = "resource_arn"
    }

    public init(row: Row) throws {
        resourceArn = row["resource_arn"]
        key = row["key"]
        value = row["value"]
    }

    public init(resourceArn: String, key: String, value: String) {
        self.resourceArn = resourceArn
        self.key = key
        self.value = value
    }
}

extension NodeRecord {
    /// Whether its process started with other reboot-only values than `target`: a rolling
    /// restart is due. One started before the values were recorded counts as current.
    public func startedWithOtherValues(than target: String) -> Bool {
        guard let startedWith else { return false }
        return startedWith != target
    }

    /// The engine version its process runs; one started before versions were recorded runs
    /// its cluster's EnginePatchVersion.
    public func runningEngine(clusterPatch: String) -> String { engineVersion ?? clusterPatch }
}

/// A custom parameter group.
public struct ParameterGroupRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "parameter_groups"

    /// Typed columns for queries.
    public enum Columns {
        public static let name = Column(CodingKeys.name)
        public static let family = Column(CodingKeys.family)
        public static let revision = Column(CodingKeys.revision)
    }

    public var name: String
    public var family: String
    public var description: String
    public var revision: Int
    public var createdAt: Int64
    /// When its values last changed; nil before the first change.
    public var revisedAt: Int64?

    public enum CodingKeys: String, CodingKey {
        case name, family, description, revision
        case createdAt = "created_at"
        case revisedAt = "revised_at"
    }

    public init(name: String, family: String, description: String, revision: Int = 1, createdAt: Int64) {
        self.name = name
        self.family = family
        self.description = description
        self.revision = revision
        self.createdAt = createdAt
    }
}

/// A user: access string (normalised) and the SHA-256 hashes of its passwords.
public struct UserRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "users"

    /// Typed columns for queries.
    public enum Columns {
        public static let name = Column(CodingKeys.name)
    }

    public var name: String
    public var accessString: String
    /// `password` or `no-password`.
    public var authenticationType: String
    /// Hex SHA-256 of each password, comma-separated; never the passwords themselves.
    public var passwordHashes: String
    public var createdAt: Int64

    public enum CodingKeys: String, CodingKey {
        case name
        case accessString = "access_string"
        case authenticationType = "authentication_type"
        case passwordHashes = "password_hashes"
        case createdAt = "created_at"
    }

    public init(name: String, accessString: String, authenticationType: String, passwordHashes: [String], createdAt: Int64) {
        self.name = name
        self.accessString = accessString
        self.authenticationType = authenticationType
        self.passwordHashes = StoredList.text(passwordHashes)
        self.createdAt = createdAt
    }

    /// The password hashes (stored as a JSON array).
    public var hashes: [String] {
        get { StoredList.items(passwordHashes) }
        set { passwordHashes = StoredList.text(newValue) }
    }
}
