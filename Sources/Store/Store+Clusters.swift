import GRDB
import Model

// Clusters and their nodes.

extension Store {
    /// A cluster with its nodes and tags, read together.
    public struct ClusterDetails: Sendable {
        public var cluster: ClusterRecord
        public var nodes: [NodeRecord]
        public var tags: [TagRecord]
        public var shards: [ShardRecord]
        public var operations: [OperationRecord]
        /// The store's write generation when these were read: the same revision means the
        /// same rows, so what is rendered from them may be kept until it changes.
        public var revision: UInt64 = 0
    }

    /// Bumped by every committed write: a revision to key what is derived from stored state.
    public var revision: UInt64 { readCache.generation }

    public func cluster(named name: String) throws -> ClusterRecord? {
        try read { db in try ClusterRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM clusters WHERE name = ?"), arguments: [name]) }
    }

    public func clusterNames() throws -> [String] {
        try read { db in try ClusterRecord.select(ClusterRecord.Columns.name, as: String.self).order(ClusterRecord.Columns.name).fetchAll(db) }
    }

    /// One cluster with its nodes and tags in a single read (with cached statements: this is
    /// the hot path of every Describe call).
    public func clusterDetails(named name: String, arn: @Sendable (String) -> String) throws -> ClusterDetails? {
        let generation = readCache.generation
        return try read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM clusters WHERE name = ?")
            guard let cluster = try ClusterRecord.fetchOne(statement, arguments: [name]) else { return nil }
            return try Self.details(of: [cluster], db: db, arn: arn, revision: generation).first
        }
    }

    /// Clusters in name order after `name`, at most `limit`, each with its nodes and tags.
    public func clusterDetails(after name: String?, limit: Int, arn: @Sendable (String) -> String) throws -> [ClusterDetails] {
        let key = "\(name ?? "")\u{0}\(limit)"
        let generation = readCache.generation
        if let cached = readCache.lookup(key, generation: generation) { return cached }
        let details = try read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM clusters WHERE name > ? ORDER BY name LIMIT ?")
            let clusters = try ClusterRecord.fetchAll(statement, arguments: [name ?? "", limit])
            return try Self.details(of: clusters, db: db, arn: arn, revision: generation)
        }
        readCache.store(key, details, generation: generation)
        return details
    }

    private static func details(of clusters: [ClusterRecord], db: Database, arn: (String) -> String, revision: UInt64) throws -> [ClusterDetails] {
        let nodeStatement = try db.cachedStatement(sql: "SELECT * FROM nodes WHERE cluster_name = ? ORDER BY shard_index, node_index")
        let tagStatement = try db.cachedStatement(sql: "SELECT * FROM tags WHERE resource_arn = ? ORDER BY key")
        let shardStatement = try db.cachedStatement(sql: "SELECT * FROM shards WHERE cluster_name = ? ORDER BY shard_index")
        let operationStatement = try db.cachedStatement(sql: "SELECT * FROM operations WHERE cluster_name = ? ORDER BY shard_index")
        return try clusters.map { cluster in
            ClusterDetails(
                cluster: cluster,
                nodes: try NodeRecord.fetchAll(nodeStatement, arguments: [cluster.name]),
                tags: try TagRecord.fetchAll(tagStatement, arguments: [arn(cluster.name)]),
                shards: try ShardRecord.fetchAll(shardStatement, arguments: [cluster.name]),
                operations: try OperationRecord.fetchAll(operationStatement, arguments: [cluster.name]), revision: revision)
        }
    }

    public func nodes(ofCluster name: String) throws -> [NodeRecord] {
        try read { db in try Transaction(db: db).nodes(ofCluster: name) }
    }

    /// Names of the clusters that refer to a group or ACL.
    public func clusterNames(using reference: ClusterReference) throws -> [String] {
        try read { db in try Transaction(db: db).clusterNames(using: reference) }
    }

    /// Whether a cluster (not being deleted) using the ACL has yet to enforce `revision`
    /// (one that never applied any is behind too).
    public func anyClusterBehind(acl: String, revision: AppliedRevision) throws -> Bool {
        try read { db in
            let enforced: SQL = """
                acl_applied_name IS \(revision.name) AND acl_applied_revision IS \(revision.revision)
                AND acl_applied_restricted_generation IS \(revision.restrictedGeneration)
                """
            return try ClusterRecord.filter(
                ClusterRecord.Columns.aclName == acl && ClusterRecord.Columns.status != ClusterStatus.deleting.rawValue
            ).filter(literal: "NOT (\(enforced))").fetchCount(db) > 0
        }
    }

    /// Saves what the reconciler learned about nodes (pid, Redis id, role, status) with its
    /// events, in one transaction.
    public func saveNodes(_ nodes: [NodeRecord], events: [EventRecord] = []) throws {
        guard !nodes.isEmpty || !events.isEmpty else { return }
        try write { transaction in
            try transaction.saveObservations(nodes)
            for event in events { try transaction.record(event) }
        }
    }
}

/// What a cluster refers to by name, for "in use" checks.
public enum ClusterReference: Sendable {
    case parameterGroup(String)
    case subnetGroup(String)
    case acl(String)
}

extension Transaction {
    public func cluster(named name: String) throws -> ClusterRecord? {
        try ClusterRecord.fetchOne(db, key: name)
    }

    /// Every port a cluster endpoint or node holds.
    public func portsInUse() throws -> Set<Int> {
        let nodePorts = try NodeRecord.select(NodeRecord.Columns.port, as: Int.self).fetchAll(db)
        let endpointPorts = try ClusterRecord.select(ClusterRecord.Columns.endpointPort, as: Int.self).fetchAll(db)
        return Set(nodePorts + endpointPorts)
    }

    /// Inserts a new cluster, its nodes and its desired topology.
    public func insert(_ cluster: ClusterRecord, nodes: [NodeRecord], shards: [ShardRecord]) throws {
        try cluster.insert(db)
        for node in nodes { try node.insert(db) }
        for shard in shards { try shard.insert(db) }
    }

    /// Replaces a cluster's row with `cluster`.
    public func update(_ cluster: ClusterRecord) throws {
        try cluster.update(db)
    }

    public func setStatus(ofCluster name: String, to status: ClusterStatus) throws {
        try ClusterRecord.filter(key: name).updateAll(db, ClusterRecord.Columns.status.set(to: status.rawValue))
    }

    public func setStatus(ofNode name: String, to status: NodeStatus) throws {
        try NodeRecord.filter(key: name).updateAll(db, NodeRecord.Columns.status.set(to: status.rawValue))
    }

    /// Adds a node to an existing cluster.
    public func insert(_ node: NodeRecord) throws {
        try node.insert(db)
    }

    /// Removes one node's record (its cluster stays).
    public func deleteNode(named name: String) throws {
        _ = try NodeRecord.deleteOne(db, key: name)
    }

    public func setStatus(ofNodesOf cluster: String, to status: NodeStatus) throws {
        try NodeRecord.filter(NodeRecord.Columns.clusterName == cluster).updateAll(db, NodeRecord.Columns.status.set(to: status.rawValue))
    }

    /// Records the revision of the parameter group every node now runs.
    public func setParametersApplied(ofCluster name: String, to revision: AppliedRevision) throws {
        let columns = ClusterRecord.Columns.self
        try ClusterRecord.filter(key: name).updateAll(
            db, columns.parametersAppliedGroup.set(to: revision.name), columns.parametersAppliedRevision.set(to: revision.revision))
    }

    /// Records the revision of the ACL every node now enforces.
    public func setACLApplied(ofCluster name: String, to revision: AppliedRevision) throws {
        let columns = ClusterRecord.Columns.self
        try ClusterRecord.filter(key: name).updateAll(
            db, columns.aclAppliedName.set(to: revision.name), columns.aclAppliedRevision.set(to: revision.revision),
            columns.aclAppliedRestrictedGeneration.set(to: revision.restrictedGeneration))
    }

    /// Deletes a cluster and (by cascade) its nodes.
    public func deleteCluster(named name: String) throws {
        _ = try ClusterRecord.deleteOne(db, key: name)
    }

    public func nodes(ofCluster name: String) throws -> [NodeRecord] {
        try NodeRecord.filter(NodeRecord.Columns.clusterName == name)
            .order(NodeRecord.Columns.shardIndex, NodeRecord.Columns.nodeIndex).fetchAll(db)
    }

    /// Updates the observed fields of nodes; a node whose cluster was removed meanwhile is skipped.
    ///
    /// The records come from a pass that read them earlier: a node a request has marked
    /// `deleting` since (fewer replicas, the cluster deleted) stays `deleting`, or the pass would
    /// bring back a node being removed.
    public func saveObservations(_ nodes: [NodeRecord]) throws {
        for node in nodes {
            try NodeRecord.filter(key: node.name).updateAll(
                db,
                NodeRecord.Columns.role.set(to: node.role.rawValue), NodeRecord.Columns.redisNodeID.set(to: node.redisNodeID),
                NodeRecord.Columns.pid.set(to: node.pid), Column("used_memory").set(to: node.usedMemory))
            try NodeRecord.filter(key: node.name).filter(NodeRecord.Columns.status != NodeStatus.deleting.rawValue).updateAll(
                db, NodeRecord.Columns.status.set(to: node.status.rawValue))
        }
    }

    /// Records the PID of a node just started, so a restarted control plane adopts it, and the
    /// reboot-only parameter values and the engine version it started with.
    public func setPID(ofNode name: String, to pid: Int32, startedWith: String? = nil, engineVersion: String? = nil) throws {
        var assignments = [NodeRecord.Columns.pid.set(to: pid)]
        if let startedWith { assignments.append(Column("started_with").set(to: startedWith)) }
        if let engineVersion { assignments.append(Column("engine_version").set(to: engineVersion)) }
        try NodeRecord.filter(key: name).updateAll(db, assignments)
    }

    /// Asks for (a time) or clears (nil) the application of a cluster's pending service updates.
    public func requestUpdates(ofCluster name: String, at time: Int64?) throws {
        try ClusterRecord.filter(key: name).updateAll(db, Column("updates_requested_at").set(to: time))
    }

    public func clusterNames(using reference: ClusterReference) throws -> [String] {
        let column: Column
        let name: String
        switch reference {
        case .parameterGroup(let group): (column, name) = (ClusterRecord.Columns.parameterGroupName, group)
        case .subnetGroup(let group): (column, name) = (ClusterRecord.Columns.subnetGroupName, group)
        case .acl(let acl): (column, name) = (ClusterRecord.Columns.aclName, acl)
        }
        return try ClusterRecord.select(ClusterRecord.Columns.name, as: String.self).filter(column == name).order(ClusterRecord.Columns.name)
            .fetchAll(db)
    }
}
