/// A tag as AWS models it: a key of 1–128 characters and a value of at most 256.
public struct Tag: Sendable, Hashable, Codable {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    /// Checks the tag limits AWS enforces, naming the offending tag.
    public static func validate(_ tags: [Tag]) throws(MemoryDBError) {
        guard tags.count <= 200 else {
            throw MemoryDBError(.tagQuotaPerResourceExceeded, "tags: at most 200 tags per resource; got \(tags.count).")
        }
        var seen = Set<String>()
        for tag in tags {
            guard (1...128).contains(tag.key.unicodeScalars.count) else {
                throw .invalid("tags: a tag key must be 1 to 128 characters; got \(tag.key.unicodeScalars.count).")
            }
            guard tag.value.unicodeScalars.count <= 256 else {
                throw .invalid("tags: the value of tag '\(tag.key)' must be at most 256 characters.")
            }
            try TextRules.refuseControlCharacters(tag.key, field: "tags: a tag key")
            try TextRules.refuseControlCharacters(tag.value, field: "tags: the value of tag '\(tag.key)'")
            guard !tag.key.lowercased().hasPrefix("aws:") else {
                throw .invalid("tags: tag keys must not begin with 'aws:' ('\(tag.key)').")
            }
            guard seen.insert(tag.key).inserted else {
                throw .invalid("tags: the key '\(tag.key)' is given more than once.")
            }
        }
    }
}

/// What a caller asks for when creating a cluster, before validation; every door builds one.
public struct CreateClusterRequest: Sendable, Equatable {
    public var name: String
    public var nodeType: String
    public var numShards: Int?
    public var numReplicasPerShard: Int?
    public var aclName: String
    public var tlsEnabled: Bool?
    public var parameterGroupName: String?
    public var description: String?
    public var port: Int?
    public var tags: [Tag]
    public var subnetGroupName: String?
    public var maintenanceWindow: String?
    public var snapshotWindow: String?
    public var snapshotRetentionLimit: Int?
    public var engine: String?
    public var engineVersion: String?
    public var autoMinorVersionUpgrade: Bool?
    public var dataTiering: Bool?
    /// MemoryPlane's own (REST, CLI, stacks, console; AWS's CreateCluster has no such member).
    public var deletionProtection: Bool?
    /// MemoryPlane's own: false opts out of the snapshot an engine update takes first.
    public var snapshotBeforeUpdate: Bool?
    /// Recorded and reported `active`; MemoryPlane's nodes listen on loopback only, so there is
    /// no network for a security group to filter.
    public var securityGroupIds: [String]?
    /// Members MemoryPlane cannot honour yet; each is refused by name (`notYetSupported`).
    public var multiRegionClusterName: String?
    public var snsTopicArn: String?
    public var kmsKeyId: String?
    public var snapshotArns: [String]?
    public var snapshotName: String?
    /// Only `ipv4` is offered.
    public var networkType: String?
    public var ipDiscovery: String?

    /// The members given that MemoryPlane cannot honour yet, by their REST names (the AWS door
    /// renames them in its messages).
    public var notYetSupported: [String] {
        var fields: [String] = []
        if multiRegionClusterName != nil { fields.append("multiRegionClusterName") }
        if snsTopicArn != nil { fields.append("snsTopicArn") }
        if kmsKeyId != nil { fields.append("kmsKeyId") }
        if let networkType, networkType != "ipv4" { fields.append("networkType \(networkType)") }
        if let ipDiscovery, ipDiscovery != "ipv4" { fields.append("ipDiscovery \(ipDiscovery)") }
        return fields
    }

    public init(
        name: String, nodeType: String, numShards: Int? = nil, numReplicasPerShard: Int? = nil,
        aclName: String, tlsEnabled: Bool? = nil, parameterGroupName: String? = nil,
        description: String? = nil, port: Int? = nil, tags: [Tag] = []
    ) {
        self.name = name
        self.nodeType = nodeType
        self.numShards = numShards
        self.numReplicasPerShard = numReplicasPerShard
        self.aclName = aclName
        self.tlsEnabled = tlsEnabled
        self.parameterGroupName = parameterGroupName
        self.description = description
        self.port = port
        self.tags = tags
    }
}

/// A create request that passed every rule that needs no stored state.
public struct ClusterSpec: Sendable, Equatable {
    public static let maxNodesPerCluster = 500
    public static let maxShards = 500
    public static let maxReplicasPerShard = 5
    public static let maxDescriptionLength = 1024

    public var name: String
    public var nodeType: NodeType
    public var numShards: Int
    public var numReplicasPerShard: Int
    public var aclName: String
    public var tlsEnabled: Bool
    public var parameterGroupName: String?
    public var description: String?
    public var port: Int?
    public var tags: [Tag]
    public var maintenanceWindow: String
    public var snapshotWindow: String
    public var autoMinorVersionUpgrade: Bool
    /// Off unless asked for.
    public var deletionProtection: Bool
    /// On unless opted out.
    public var snapshotBeforeUpdate: Bool
    public var subnetGroupName: String
    public var securityGroupIds: [String]
    public var snapshotRetentionLimit: Int
    /// Restore: the data comes from this snapshot, or from these exported RDB files.
    public var restoreSnapshotName: String?
    public var restoreARNs: [ExportedObject]?

    public var nodesPerShard: Int { 1 + numReplicasPerShard }
    public var totalNodes: Int { numShards * nodesPerShard }

    /// A description's rules, the same on create and update.
    public static func validate(description: String?) throws(MemoryDBError) {
        guard let description else { return }
        guard description.unicodeScalars.count <= maxDescriptionLength else {
            throw .invalid("description must be at most \(maxDescriptionLength) characters; got \(description.unicodeScalars.count).")
        }
        try TextRules.refuseControlCharacters(description, field: "description")
    }

    /// 0–35 days as AWS allows (0: no automatic snapshots).
    public static func validate(snapshotRetentionLimit limit: Int?) throws(MemoryDBError) {
        guard let limit else { return }
        guard (0...35).contains(limit) else {
            throw .invalid("snapshotRetentionLimit must be between 0 and 35 days; got \(limit).")
        }
    }

    /// Applies MemoryDB's defaults and limits to a request.
    public init(validating request: CreateClusterRequest) throws(MemoryDBError) {
        name = try ResourceName.normalise(request.name, field: "name")
        nodeType = try NodeType.named(request.nodeType)
        if nodeType.requiresDataTiering {
            throw MemoryDBError(
                .invalidParameterCombination,
                "nodeType '\(nodeType.name)' requires data tiering, which MemoryPlane does not support.")
        }
        numShards = request.numShards ?? 1
        guard (1...Self.maxShards).contains(numShards) else {
            throw .invalid("numShards must be between 1 and \(Self.maxShards); got \(numShards).")
        }
        numReplicasPerShard = request.numReplicasPerShard ?? 1
        guard (0...Self.maxReplicasPerShard).contains(numReplicasPerShard) else {
            throw .invalid("numReplicasPerShard must be between 0 and \(Self.maxReplicasPerShard); got \(numReplicasPerShard).")
        }
        guard numShards * (1 + numReplicasPerShard) <= Self.maxNodesPerCluster else {
            throw MemoryDBError(
                .nodeQuotaForClusterExceeded,
                "numShards × (1 + numReplicasPerShard) = \(numShards * (1 + numReplicasPerShard)) nodes; a cluster may have at most \(Self.maxNodesPerCluster)."
            )
        }
        aclName = try ResourceName.normalise(request.aclName, field: "aclName")
        tlsEnabled = request.tlsEnabled ?? true
        if !tlsEnabled && aclName != "open-access" {
            throw MemoryDBError(
                .invalidParameterCombination,
                "tlsEnabled=false requires aclName 'open-access'; got '\(aclName)'.")
        }
        if let group = request.parameterGroupName {
            // Built-in group names contain a dot, so only case is normalised here; existence is
            // checked against the stored groups by the service layer.
            parameterGroupName = group.lowercased()
        }
        try Self.validate(description: request.description)
        self.description = request.description
        if let port = request.port {
            guard (1024...65535).contains(port) else {
                throw .invalid("port must be between 1024 and 65535; got \(port).")
            }
        }
        self.port = request.port
        try Tag.validate(request.tags)
        tags = request.tags
        if let field = request.notYetSupported.first {
            throw MemoryDBError(.invalidParameterCombination, "\(field) is not supported by MemoryPlane yet; leave it out.")
        }
        if let engine = request.engine, engine.lowercased() != "redis" {
            throw .invalid("engine '\(engine)' is not installed; MemoryPlane runs redis.")
        }
        try Self.validate(snapshotRetentionLimit: request.snapshotRetentionLimit)
        snapshotRetentionLimit = request.snapshotRetentionLimit ?? 0
        if request.snapshotName != nil && request.snapshotArns != nil {
            throw MemoryDBError(.invalidParameterCombination, "Give snapshotName or snapshotArns, not both.")
        }
        restoreSnapshotName = request.snapshotName?.lowercased()
        if let arns = request.snapshotArns {
            guard !arns.isEmpty else { throw .invalid("snapshotArns must name at least one exported RDB file.") }
            guard arns.count <= Self.maxShards else { throw .invalid("snapshotArns: at most \(Self.maxShards) files; got \(arns.count).") }
            var parsed: [ExportedObject] = []
            for arn in arns {
                let object = try SnapshotNames.parseS3ARN(arn)
                parsed.append(ExportedObject(bucket: object.bucket, key: object.key))
            }
            restoreARNs = parsed
        }
        if request.dataTiering == true {
            throw MemoryDBError(.invalidParameterCombination, "dataTiering is not supported by MemoryPlane; leave it false.")
        }
        maintenanceWindow = try request.maintenanceWindow.map { text throws(MemoryDBError) in try Windows.validateMaintenance(text) } ?? "sun:23:00-mon:01:30"
        snapshotWindow = try request.snapshotWindow.map { text throws(MemoryDBError) in try Windows.validateSnapshot(text) } ?? "05:00-06:00"
        if Windows.overlap(maintenance: maintenanceWindow, snapshot: snapshotWindow) {
            throw MemoryDBError(.invalidParameterCombination, "maintenanceWindow \(maintenanceWindow) and snapshotWindow \(snapshotWindow) overlap; choose windows apart.")
        }
        autoMinorVersionUpgrade = request.autoMinorVersionUpgrade ?? true
        deletionProtection = request.deletionProtection ?? false
        snapshotBeforeUpdate = request.snapshotBeforeUpdate ?? true
        subnetGroupName = request.subnetGroupName?.lowercased() ?? BuiltinResources.defaultSubnetGroupName
        securityGroupIds = try SecurityGroups.validate(request.securityGroupIds ?? [])
    }
}

/// VPC security group ids as MemoryDB takes them: at most 5, each `sg-` and letters or digits.
public enum SecurityGroups {
    public static let maxPerCluster = 5

    public static func validate(_ ids: [String]) throws(MemoryDBError) -> [String] {
        guard ids.count <= maxPerCluster else {
            throw .invalid("securityGroupIds: at most \(maxPerCluster) security groups; got \(ids.count).")
        }
        var seen = Set<String>()
        for id in ids {
            let body = id.dropFirst(3)
            guard id.hasPrefix("sg-"), (1...64).contains(body.count), body.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw .invalid("securityGroupIds: '\(id)' is not a security group id (sg- followed by letters and digits).")
            }
            guard seen.insert(id).inserted else { throw .invalid("securityGroupIds: '\(id)' is given twice.") }
        }
        return ids
    }
}
