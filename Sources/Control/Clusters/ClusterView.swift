import Model
import Store
import Ports

/// A cluster as the doors present it: the record plus shards, nodes and derived fields.
///
/// Doors only rename and reshape this; every value in it is decided here.
public struct ClusterView: Sendable, Equatable {
    public struct Endpoint: Sendable, Equatable {
        public var address: String?
        public var port: Int
    }

    public struct NodeView: Sendable, Equatable {
        public var name: String
        public var role: NodeRole
        public var status: NodeStatus
        public var availabilityZone: String
        /// Milliseconds since 1970.
        public var createTime: Int64
        public var endpoint: Endpoint
    }

    /// An operation in progress on a shard (REST shows it; AWS has no field for it).
    public struct OperationView: Sendable, Equatable {
        public var shard: String
        public var kind: String
        public var phase: String
        public var reason: String
        public var fromNode: String
        public var toNode: String
        /// Milliseconds since 1970.
        public var startedAt: Int64
        public var lastError: String?
    }

    public struct ShardView: Sendable, Equatable {
        public var name: String
        public var status: String
        public var slots: String
        public var nodes: [NodeView]
    }

    public var name: String
    public var description: String?
    public var status: ClusterStatus
    public var numberOfShards: Int
    public var shards: [ShardView]
    public var availabilityMode: String
    public var clusterEndpoint: Endpoint
    public var nodeType: String
    public var engine: String
    public var engineVersion: String
    public var enginePatchVersion: String
    public var parameterGroupName: String
    public var parameterGroupStatus: String
    public var subnetGroupName: String
    public var tlsEnabled: Bool
    public var arn: String
    public var aclName: String
    public var snapshotRetentionLimit: Int
    public var autoMinorVersionUpgrade: Bool
    /// MemoryPlane's own: DeleteCluster is refused while it is on.
    public var deletionProtection: Bool
    /// MemoryPlane's own: an engine update snapshots the cluster first.
    public var snapshotBeforeUpdate: Bool
    public var dataTiering: String
    public var maintenanceWindow: String
    public var snapshotWindow: String
    /// Each reported `active`, as AWS reports a group in effect.
    public var securityGroupIds: [String]
    public var tags: [Tag]
    public var operations: [OperationView]
    /// Why the last reconcile step kept failing, until the cluster settles again.
    public var lastError: String?

    init(
        cluster: ClusterRecord, nodes: [NodeRecord], shards shardRecords: [ShardRecord] = [], operations: [OperationRecord] = [], tags: [Tag],
        configuration: ControlConfiguration
    ) {
        name = cluster.name
        description = cluster.description
        status = cluster.status
        numberOfShards = cluster.numShards
        let even = SlotRange.evenSplit(shards: cluster.numShards)
        let stored = Dictionary(uniqueKeysWithValues: shardRecords.map { ($0.shardIndex, $0.slots) })
        let byShard = Dictionary(grouping: nodes, by: \.shardIndex)
        // A shard being drained by a resharding is listed until it is removed.
        let shardCount = max(cluster.numShards, shardRecords.map(\.shardIndex).max() ?? 0)
        shards = (1...shardCount).map { index in
            let shardNodes = byShard[index] ?? []
            let status: String
            switch cluster.status {
            case .creating: status = shardNodes.allSatisfy { $0.status == .available } ? "available" : "creating"
            case .deleting: status = "deleting"
            // AWS shows shards `modifying` while the cluster changes shape.
            case .updating: status = "modifying"
            // A stopped cluster's shards serve nothing: they say so.
            case .stopping, .stopped, .starting: status = cluster.status.rawValue
            default: status = "available"
            }
            return ShardView(
                name: ClusterTopology.shardName(index),
                status: status,
                slots: stored[index] ?? (index <= even.count ? even[index - 1].description : ""),
                nodes: shardNodes.map { node in
                    NodeView(
                        name: node.name, role: node.role, status: node.status,
                        availabilityZone: node.availabilityZone, createTime: node.createdAt,
                        endpoint: Endpoint(address: "127.0.0.1", port: node.port))
                })
        }
        availabilityMode = cluster.numReplicasPerShard > 0 ? "MultiAZ" : "SingleAZ"
        // AWS reports no endpoint address until the cluster first becomes available.
        clusterEndpoint = Endpoint(address: cluster.status == .creating ? nil : "127.0.0.1", port: cluster.endpointPort)
        nodeType = cluster.nodeType
        engine = "redis"
        engineVersion = cluster.engineVersion
        enginePatchVersion = cluster.enginePatchVersion
        parameterGroupName = cluster.parameterGroupName
        parameterGroupStatus = "in-sync"
        subnetGroupName = cluster.subnetGroupName
        tlsEnabled = cluster.tlsEnabled
        arn = configuration.arn(.cluster, cluster.name)
        aclName = cluster.aclName
        snapshotRetentionLimit = cluster.snapshotRetentionLimit
        autoMinorVersionUpgrade = cluster.autoMinorVersionUpgrade
        deletionProtection = cluster.deletionProtection
        snapshotBeforeUpdate = cluster.snapshotBeforeUpdate
        dataTiering = "false"
        maintenanceWindow = cluster.maintenanceWindow
        snapshotWindow = cluster.snapshotWindow
        // None given: the VPC's default group, as AWS reports it.
        securityGroupIds = cluster.securityGroups.isEmpty ? [BuiltinResources.defaultSecurityGroupID] : cluster.securityGroups
        self.tags = tags
        self.operations = operations.map { operation in
            OperationView(
                shard: ClusterTopology.shardName(operation.shardIndex), kind: operation.kind.rawValue, phase: operation.phase.rawValue,
                reason: operation.reason, fromNode: operation.fromNode, toNode: operation.toNode, startedAt: operation.startedAt,
                lastError: operation.lastError)
        }
        lastError = cluster.lastError
    }
}

extension ClusterView {
    /// The CreateCluster input that would make this cluster as it is now, every member that
    /// describes a cluster set (seeds such as a snapshot to restore are not kept): what a
    /// stack's plan compares its document with. A new CreateCluster member is described here.
    public var asCreateRequest: CreateClusterRequest {
        var request = CreateClusterRequest(
            name: name, nodeType: nodeType, numShards: numberOfShards,
            numReplicasPerShard: max(0, (shards.map(\.nodes.count).max() ?? 1) - 1), aclName: aclName, tlsEnabled: tlsEnabled,
            parameterGroupName: parameterGroupName, description: description, port: clusterEndpoint.port, tags: tags)
        request.subnetGroupName = subnetGroupName
        request.maintenanceWindow = maintenanceWindow
        request.snapshotWindow = snapshotWindow
        request.snapshotRetentionLimit = snapshotRetentionLimit
        request.engine = engine
        request.engineVersion = engineVersion
        request.autoMinorVersionUpgrade = autoMinorVersionUpgrade
        request.deletionProtection = deletionProtection
        request.snapshotBeforeUpdate = snapshotBeforeUpdate
        request.dataTiering = dataTiering == "true"
        request.securityGroupIds = securityGroupIds
        // Only IPv4 is offered; the members MemoryPlane refuses (multi-Region, SNS, KMS) stay unset.
        request.networkType = "ipv4"
        request.ipDiscovery = "ipv4"
        return request
    }
}
