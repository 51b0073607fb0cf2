import GRDB
import Model

// Desired topology (shards), operations in progress, and drills.

extension Store {
    public func shards(ofCluster name: String) throws -> [ShardRecord] {
        try read { db in try Transaction(db: db).shards(ofCluster: name) }
    }

    public func operations(ofCluster name: String) throws -> [OperationRecord] {
        try read { db in try Transaction(db: db).operations(ofCluster: name) }
    }

    public func drills(ofCluster name: String? = nil) throws -> [DrillRecord] {
        try read { db in
            var request = DrillRecord.order(DrillRecord.Columns.startedAt.desc, DrillRecord.Columns.id)
            if let name { request = request.filter(DrillRecord.Columns.clusterName == name) }
            return try request.fetchAll(db)
        }
    }

    public func drill(id: String) throws -> DrillRecord? {
        try read { db in try DrillRecord.fetchOne(db, key: id) }
    }

    /// A cluster's drills not completed yet (read on every reconcile pass: completed ones stay out).
    public func openDrills(ofCluster name: String) throws -> [DrillRecord] {
        try read { db in try Transaction(db: db).openDrills(ofCluster: name) }
    }

    /// Everything stored about a cluster that a reconcile pass plans against, read in one
    /// transaction: read piece by piece, a change committed in between (new shards and their
    /// nodes) could be half seen, e.g. a new shard without its nodes, which looks drained.
    public func storedCluster(named name: String) throws -> StoredCluster? {
        try read { db in
            let transaction = Transaction(db: db)
            guard let cluster = try transaction.cluster(named: name) else { return nil }
            return StoredCluster(
                cluster: cluster, nodes: try transaction.nodes(ofCluster: name), shards: try transaction.shards(ofCluster: name),
                operations: try transaction.operations(ofCluster: name), drills: try transaction.openDrills(ofCluster: name))
        }
    }
}

/// One moment's stored state of a cluster.
public struct StoredCluster: Sendable {
    public var cluster: ClusterRecord
    public var nodes: [NodeRecord]
    public var shards: [ShardRecord]
    public var operations: [OperationRecord]
    public var drills: [DrillRecord]
}

extension Transaction {
    public func openDrills(ofCluster name: String) throws -> [DrillRecord] {
        try DrillRecord.filter(DrillRecord.Columns.clusterName == name && DrillRecord.Columns.status != DrillRecord.Status.completed.rawValue)
            .order(DrillRecord.Columns.startedAt).fetchAll(db)
    }

    public func shards(ofCluster name: String) throws -> [ShardRecord] {
        try ShardRecord.filter(ShardRecord.Columns.clusterName == name).order(ShardRecord.Columns.shardIndex).fetchAll(db)
    }

    public func insert(_ shard: ShardRecord) throws {
        try shard.insert(db)
    }

    /// Records the slots a shard should serve (a resharding's target).
    public func setSlots(ofShard index: Int, ofCluster name: String, to slots: [SlotRange]) throws {
        try ShardRecord.filter(key: ["cluster_name": name, "shard_index": index])
            .updateAll(db, Column("slots").set(to: SlotRange.listDescription(slots)))
    }

    /// Removes a drained shard's row (its nodes are retired separately).
    public func deleteShard(_ index: Int, ofCluster name: String) throws {
        _ = try ShardRecord.deleteOne(db, key: ["cluster_name": name, "shard_index": index])
    }

    public func operations(ofCluster name: String) throws -> [OperationRecord] {
        try OperationRecord.filter(OperationRecord.Columns.clusterName == name).order(OperationRecord.Columns.shardIndex).fetchAll(db)
    }

    /// Records an operation before its first step; a shard has at most one.
    public func begin(_ operation: OperationRecord) throws {
        try operation.insert(db)
    }

    /// Notes how far an operation got, or why its last step failed.
    public func updateOperation(cluster: String, shard: Int, phase: OperationPhase? = nil, lastError: String?? = nil, fromOffset: Int64? = nil, at now: Int64) throws {
        var assignments = [OperationRecord.Columns.updatedAt.set(to: now)]
        if let phase { assignments.append(OperationRecord.Columns.phase.set(to: phase)) }
        if let lastError { assignments.append(OperationRecord.Columns.lastError.set(to: lastError)) }
        if let fromOffset { assignments.append(OperationRecord.Columns.fromOffset.set(to: fromOffset)) }
        try OperationRecord.filter(key: ["cluster_name": cluster, "shard_index": shard]).updateAll(db, assignments)
    }

    /// Ends an operation; with `newPrimary`, the shard's desired primary becomes that node.
    public func finishOperation(cluster: String, shard: Int, newPrimary: String?) throws {
        if let newPrimary {
            try ShardRecord.filter(key: ["cluster_name": cluster, "shard_index": shard])
                .updateAll(db, ShardRecord.Columns.primaryNode.set(to: newPrimary))
        }
        _ = try OperationRecord.deleteOne(db, key: ["cluster_name": cluster, "shard_index": shard])
    }

    /// Notes why the cluster's reconcile keeps failing (nil clears it).
    public func setLastError(ofCluster name: String, to message: String?) throws {
        try ClusterRecord.filter(key: name).updateAll(db, Column("last_error").set(to: message))
    }

    public func insert(_ drill: DrillRecord) throws {
        try drill.insert(db)
    }

    public func drills(ofCluster name: String, status: DrillRecord.Status) throws -> [DrillRecord] {
        try DrillRecord.filter(DrillRecord.Columns.clusterName == name && DrillRecord.Columns.status == status.rawValue).fetchAll(db)
    }

    public func drill(id: String) throws -> DrillRecord? {
        try DrillRecord.fetchOne(db, key: id)
    }

    public func update(_ drill: DrillRecord) throws {
        try drill.update(db)
    }

    /// Keeps nodes stopped until `until`, their storage to be discarded before they return.
    public func hold(nodes names: [String], until: Int64, storageLost: Bool) throws {
        try NodeRecord.filter(names.contains(NodeRecord.Columns.name)).updateAll(
            db, Column("held_until").set(to: until), Column("storage_lost").set(to: storageLost))
    }

    /// Lets a held node come back (its storage was discarded, when that was due).
    public func release(node name: String) throws {
        try NodeRecord.filter(key: name).updateAll(db, Column("held_until").set(to: nil), Column("storage_lost").set(to: false))
    }
}
