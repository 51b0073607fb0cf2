/// What a caller asks UpdateCluster to change, with every member of AWS's UpdateCluster; each
/// door fills in what it was sent and the service decides, in one place, what may change.
public struct UpdateClusterRequest: Sendable {
    public var description: String?
    public var parameterGroupName: String?
    public var aclName: String?
    public var securityGroupIds: [String]?
    public var maintenanceWindow: String?
    public var snapshotWindow: String?
    public var snapshotRetentionLimit: Int?
    public var nodeType: String?
    public var engine: String?
    public var engineVersion: String?
    /// ShardConfiguration.ShardCount.
    public var numShards: Int?
    /// ReplicaConfiguration.ReplicaCount.
    public var numReplicasPerShard: Int?
    public var snsTopicArn: String?
    public var snsTopicStatus: String?
    public var ipDiscovery: String?
    /// MemoryPlane's own (REST only). Turning it off is an update of its own, audited like any.
    public var deletionProtection: Bool?
    /// MemoryPlane's own (REST only).
    public var snapshotBeforeUpdate: Bool?

    public init(
        description: String? = nil, parameterGroupName: String? = nil, aclName: String? = nil, securityGroupIds: [String]? = nil,
        maintenanceWindow: String? = nil, snapshotWindow: String? = nil, snapshotRetentionLimit: Int? = nil
    ) {
        self.description = description
        self.parameterGroupName = parameterGroupName
        self.aclName = aclName
        self.securityGroupIds = securityGroupIds
        self.maintenanceWindow = maintenanceWindow
        self.snapshotWindow = snapshotWindow
        self.snapshotRetentionLimit = snapshotRetentionLimit
    }

    /// The members given that MemoryPlane cannot change, by their REST names (the AWS door
    /// renames them in its messages), each with the reason: refused by name, never ignored.
    public var refused: [(field: String, reason: String)] {
        var fields: [(String, String)] = []
        let engine = "the engine and its version are those of the redis-server the server runs (--engine-path)"
        if self.engine != nil { fields.append(("engine", engine)) }
        if engineVersion != nil { fields.append(("engineVersion", engine)) }
        let sns = "MemoryPlane sends no SNS notifications; read events with DescribeEvents (GET /v1/events)"
        if snsTopicArn != nil { fields.append(("snsTopicArn", sns)) }
        if snsTopicStatus != nil { fields.append(("snsTopicStatus", sns)) }
        if ipDiscovery != nil { fields.append(("ipDiscovery", "nodes listen on IPv4 loopback only")) }
        return fields
    }

    /// The members that change the cluster's shape, by their REST names: each is a node-type
    /// change, a resharding or a replica change of its own, so a caller that wants several
    /// sends one update each and waits for the cluster between them.
    public static let shapeMembers: Set<String> = ["nodeType", "numShards", "numReplicasPerShard"]

    /// Whether anything at all was asked for.
    public var isEmpty: Bool {
        description == nil && parameterGroupName == nil && aclName == nil && securityGroupIds == nil && maintenanceWindow == nil
            && snapshotWindow == nil && snapshotRetentionLimit == nil && numReplicasPerShard == nil && numShards == nil && nodeType == nil
            && deletionProtection == nil && snapshotBeforeUpdate == nil && refused.isEmpty
    }
}
