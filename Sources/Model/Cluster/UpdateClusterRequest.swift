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

    /// The members given that MemoryPlane cannot change yet, by their REST names (the AWS door
    /// renames them in its messages): they are refused by name, never ignored.
    public var notYetChangeable: [String] {
        var fields: [String] = []
        if engine != nil { fields.append("engine") }
        if engineVersion != nil { fields.append("engineVersion") }
        if snsTopicArn != nil { fields.append("snsTopicArn") }
        if snsTopicStatus != nil { fields.append("snsTopicStatus") }
        if ipDiscovery != nil { fields.append("ipDiscovery") }
        return fields
    }

    /// Whether anything at all was asked for.
    public var isEmpty: Bool {
        description == nil && parameterGroupName == nil && aclName == nil && securityGroupIds == nil && maintenanceWindow == nil
            && snapshotWindow == nil && snapshotRetentionLimit == nil && numReplicasPerShard == nil && numShards == nil && nodeType == nil
            && notYetChangeable.isEmpty
    }
}
