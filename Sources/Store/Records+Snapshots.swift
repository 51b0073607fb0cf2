import Foundation
import GRDB
import Model

/// A cluster's configuration as a snapshot keeps it (botocore's `ClusterConfiguration`, plus what
/// a restore needs to recreate the cluster: replicas, TLS, ACL).
public struct SnapshotConfiguration: Sendable, Codable, Equatable {
    public var name: String
    public var description: String?
    public var nodeType: String
    public var engineVersion: String
    public var maintenanceWindow: String
    public var port: Int
    public var parameterGroupName: String
    public var subnetGroupName: String
    public var snapshotRetentionLimit: Int
    public var snapshotWindow: String
    public var numShards: Int
    public var numReplicasPerShard: Int
    public var tlsEnabled: Bool
    public var aclName: String

    public init(of cluster: ClusterRecord) {
        name = cluster.name
        description = cluster.description
        nodeType = cluster.nodeType
        engineVersion = cluster.engineVersion
        maintenanceWindow = cluster.maintenanceWindow
        port = cluster.endpointPort
        parameterGroupName = cluster.parameterGroupName
        subnetGroupName = cluster.subnetGroupName
        snapshotRetentionLimit = cluster.snapshotRetentionLimit
        snapshotWindow = cluster.snapshotWindow
        numShards = cluster.numShards
        numReplicasPerShard = cluster.numReplicasPerShard
        tlsEnabled = cluster.tlsEnabled
        aclName = cluster.aclName
    }
}

/// A snapshot's status, as AWS spells it (plus `failed`, for one that could not be completed).
public enum SnapshotStatus: String, Sendable, Codable {
    case creating, available, copying, deleting, failed
}

/// A snapshot: which cluster, when, what it looked like, and how far it got.
public struct SnapshotRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "snapshots"

    public enum Columns {
        public static let name = Column(CodingKeys.name)
        public static let clusterName = Column(CodingKeys.clusterName)
        public static let status = Column(CodingKeys.status)
        public static let source = Column(CodingKeys.source)
        public static let createdAt = Column(CodingKeys.createdAt)
        public static let lastError = Column(CodingKeys.lastError)
        public static let verification = Column(CodingKeys.verification)
    }

    public var name: String
    public var clusterName: String
    public var status: SnapshotStatus
    /// `manual` or `automated`.
    public var source: String
    public var kmsKeyId: String?
    public var createdAt: Int64
    /// JSON of `SnapshotConfiguration`.
    public var configuration: String
    public var lastError: String?
    /// JSON of the last verification.
    public var verification: String?

    public enum CodingKeys: String, CodingKey {
        case name, status, source, configuration, verification
        case clusterName = "cluster_name"
        case kmsKeyId = "kms_key_id"
        case createdAt = "created_at"
        case lastError = "last_error"
    }

    public init(name: String, cluster: ClusterRecord, source: String, createdAt: Int64) {
        self.name = name
        clusterName = cluster.name
        status = .creating
        self.source = source
        self.createdAt = createdAt
        let data = (try? JSONEncoder().encode(SnapshotConfiguration(of: cluster))) ?? Data("{}".utf8)
        configuration = String(decoding: data, as: UTF8.self)
    }

    /// The configuration; a row no version of this program writes throws.
    public func clusterConfiguration() throws -> SnapshotConfiguration {
        do {
            return try JSONDecoder().decode(SnapshotConfiguration.self, from: Data(configuration.utf8))
        } catch {
            throw UnknownStoredValue(column: "snapshots.configuration", value: configuration)
        }
    }
}

/// One shard of a snapshot: its slots and, once taken, its encrypted RDB.
public struct SnapshotShardRecord: Sendable, Codable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "snapshot_shards"

    public enum Columns {
        public static let snapshotName = Column(CodingKeys.snapshotName)
        public static let shardIndex = Column(CodingKeys.shardIndex)
    }

    public var snapshotName: String
    public var shardIndex: Int
    public var slots: String
    public var replicaCount: Int
    public var file: String?
    public var size: Int64?
    public var sha256: String?
    public var keyCount: Int?
    public var digest: String?
    public var completedAt: Int64?

    public enum CodingKeys: String, CodingKey {
        case slots, file, size, sha256, digest
        case snapshotName = "snapshot_name"
        case shardIndex = "shard_index"
        case replicaCount = "replica_count"
        case keyCount = "key_count"
        case completedAt = "completed_at"
    }

    public init(snapshotName: String, shardIndex: Int, slots: String, replicaCount: Int) {
        self.snapshotName = snapshotName
        self.shardIndex = shardIndex
        self.slots = slots
        self.replicaCount = replicaCount
    }

    public var isComplete: Bool { file != nil && sha256 != nil }
}
