import GRDB
import Model

// Snapshots and their shards.

extension Store {
    /// A snapshot with its shards.
    public struct SnapshotDetails: Sendable {
        public var snapshot: SnapshotRecord
        public var shards: [SnapshotShardRecord]
    }

    public func snapshot(named name: String) throws -> SnapshotDetails? {
        try read { db in try Transaction(db: db).snapshot(named: name) }
    }

    /// Snapshots in name order after `name`, optionally of one cluster and one source.
    public func snapshots(cluster: String?, source: String?, after name: String?, limit: Int) throws -> [SnapshotDetails] {
        try read { db in
            var request = SnapshotRecord.filter(SnapshotRecord.Columns.name > (name ?? ""))
            if let cluster { request = request.filter(SnapshotRecord.Columns.clusterName == cluster) }
            if let source { request = request.filter(SnapshotRecord.Columns.source == source) }
            let snapshots = try request.order(SnapshotRecord.Columns.name).limit(limit).fetchAll(db)
            return try snapshots.map { snapshot in
                SnapshotDetails(snapshot: snapshot, shards: try Transaction(db: db).snapshotShards(of: snapshot.name))
            }
        }
    }

    /// Names of snapshots in a status, oldest first.
    public func snapshotNames(status: SnapshotStatus) throws -> [String] {
        try read { db in
            try SnapshotRecord.filter(SnapshotRecord.Columns.status == status.rawValue).order(SnapshotRecord.Columns.createdAt)
                .select(SnapshotRecord.Columns.name, as: String.self).fetchAll(db)
        }
    }

    /// Every snapshot's record (no shards), for the scheduler.
    public func allSnapshots() throws -> [SnapshotRecord] {
        try read { db in try SnapshotRecord.order(SnapshotRecord.Columns.createdAt).fetchAll(db) }
    }

    /// Every cluster's record, for the scheduler.
    public func allClusters() throws -> [ClusterRecord] {
        try read { db in try ClusterRecord.order(ClusterRecord.Columns.name).fetchAll(db) }
    }
}

extension Transaction {
    public func snapshot(named name: String) throws -> Store.SnapshotDetails? {
        guard let snapshot = try SnapshotRecord.fetchOne(db, key: name) else { return nil }
        return Store.SnapshotDetails(snapshot: snapshot, shards: try snapshotShards(of: name))
    }

    public func snapshotShards(of name: String) throws -> [SnapshotShardRecord] {
        try SnapshotShardRecord.filter(SnapshotShardRecord.Columns.snapshotName == name).order(SnapshotShardRecord.Columns.shardIndex).fetchAll(db)
    }

    public func insert(_ snapshot: SnapshotRecord, shards: [SnapshotShardRecord]) throws {
        try snapshot.insert(db)
        for shard in shards { try shard.insert(db) }
    }

    public func update(_ snapshot: SnapshotRecord) throws {
        try snapshot.update(db)
    }

    public func update(_ shard: SnapshotShardRecord) throws {
        try shard.update(db)
    }

    public func deleteSnapshot(named name: String) throws {
        _ = try SnapshotRecord.deleteOne(db, key: name)
    }

    /// Manual snapshots of a cluster begun since `since` (for the daily quota).
    public func manualSnapshotCount(ofCluster name: String, since: Int64) throws -> Int {
        try SnapshotRecord.filter(
            SnapshotRecord.Columns.clusterName == name && SnapshotRecord.Columns.source == "manual" && SnapshotRecord.Columns.createdAt >= since
        ).fetchCount(db)
    }

    public func setRestoreState(ofCluster name: String, to state: RestoreMode?) throws {
        try ClusterRecord.filter(key: name).updateAll(db, Column("restore_state").set(to: state))
    }
}
