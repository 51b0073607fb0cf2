import Foundation
import Synchronization
import GRDB
import Migrations
import Model

/// The control plane's state in SQLite: one writer, WAL, migrations applied at start-up.
///
/// Every mutation is one transaction, so a crash leaves either the whole change or none of it.
public struct Store: Sendable {
    private let writer: any DatabaseWriter
    /// Recent cluster reads, valid until the next write: Describe calls far outnumber changes.
    private let readCache = ClusterReadCache()

    /// Opens (creating if needed) the database file, in WAL mode with a busy timeout.
    public static func open(path: String) throws -> Store {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try Store(writer: pool)
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> Store {
        try Store(writer: DatabaseQueue())
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        var migrator = DatabaseMigrator()
        for migration in Migrations.all {
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql)
            }
        }
        try migrator.migrate(writer)
    }

    /// The identifiers of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try writer.read { db in try DatabaseMigrator().appliedIdentifiers(db).sorted() }
    }

    /// Runs a write transaction and invalidates cached reads once it has committed.
    private func write<T>(_ updates: (Database) throws -> T) throws -> T {
        defer { readCache.invalidate() }
        return try writer.write(updates)
    }

    // MARK: Clusters

    /// What a new cluster consists of, decided inside the write transaction so port choices
    /// and name checks cannot race another creation.
    public struct NewCluster: Sendable {
        public var cluster: ClusterRecord
        public var nodes: [NodeRecord]
        public var tags: [TagRecord]
        public var event: EventRecord

        public init(cluster: ClusterRecord, nodes: [NodeRecord], tags: [TagRecord], event: EventRecord) {
            self.cluster = cluster
            self.nodes = nodes
            self.tags = tags
            self.event = event
        }
    }

    /// Inserts a cluster with its nodes, tags and creation event in one transaction.
    ///
    /// `build` receives the ports already taken by any cluster or node.
    public func createCluster(
        named name: String,
        _ build: @Sendable (_ portsInUse: Set<Int>) throws -> NewCluster
    ) throws -> ClusterRecord {
        do {
            return try write { db in
                if try ClusterRecord.fetchOne(db, key: name) != nil {
                    throw MemoryDBError(.clusterAlreadyExists, "A cluster named '\(name)' already exists.")
                }
                let nodePorts = try Int.fetchAll(db, sql: "SELECT port FROM nodes")
                let endpointPorts = try Int.fetchAll(db, sql: "SELECT endpoint_port FROM clusters")
                let new = try build(Set(nodePorts + endpointPorts))
                try new.cluster.insert(db)
                for node in new.nodes { try node.insert(db) }
                for tag in new.tags { try tag.insert(db) }
                var event = new.event
                try event.insert(db)
                return new.cluster
            }
        } catch let error as MemoryDBError {
            throw error
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            throw MemoryDBError(.clusterAlreadyExists, "A cluster named '\(name)' already exists, or its port is taken.")
        }
    }

    public func cluster(named name: String) throws -> ClusterRecord? {
        try writer.read { db in try ClusterRecord.fetchOne(db, key: name) }
    }

    /// Clusters in name order, starting after `name` (exclusive), at most `limit`.
    public func clusters(after name: String?, limit: Int) throws -> [ClusterRecord] {
        try writer.read { db in
            var request = ClusterRecord.order(Column("name"))
            if let name { request = request.filter(Column("name") > name) }
            return try request.limit(limit).fetchAll(db)
        }
    }

    /// A cluster with its nodes and tags, read together.
    public struct ClusterDetails: Sendable {
        public var cluster: ClusterRecord
        public var nodes: [NodeRecord]
        public var tags: [TagRecord]
    }

    /// One cluster with its nodes and tags in a single read (with cached statements: this is
    /// the hot path of every Describe call).
    public func clusterDetails(named name: String, arn: @Sendable (String) -> String) throws -> ClusterDetails? {
        try writer.read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM clusters WHERE name = ?")
            guard let cluster = try ClusterRecord.fetchOne(statement, arguments: [name]) else { return nil }
            return try Self.details(of: [cluster], db: db, arn: arn).first
        }
    }

    /// Clusters in name order after `name`, at most `limit`, each with its nodes and tags.
    public func clusterDetails(after name: String?, limit: Int, arn: @Sendable (String) -> String) throws -> [ClusterDetails] {
        let key = "\(name ?? "")\u{0}\(limit)"
        let generation = readCache.generation
        if let cached = readCache.lookup(key, generation: generation) { return cached }
        let details = try writer.read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM clusters WHERE name > ? ORDER BY name LIMIT ?")
            let clusters = try ClusterRecord.fetchAll(statement, arguments: [name ?? "", limit])
            return try Self.details(of: clusters, db: db, arn: arn)
        }
        readCache.store(key, details, generation: generation)
        return details
    }

    private static func details(of clusters: [ClusterRecord], db: Database, arn: (String) -> String) throws -> [ClusterDetails] {
        let nodeStatement = try db.cachedStatement(sql: "SELECT * FROM nodes WHERE cluster_name = ? ORDER BY shard_index, node_index")
        let tagStatement = try db.cachedStatement(sql: "SELECT * FROM tags WHERE resource_arn = ? ORDER BY key")
        return try clusters.map { cluster in
            ClusterDetails(
                cluster: cluster,
                nodes: try NodeRecord.fetchAll(nodeStatement, arguments: [cluster.name]),
                tags: try TagRecord.fetchAll(tagStatement, arguments: [arn(cluster.name)]))
        }
    }

    public func clusterNames() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "SELECT name FROM clusters ORDER BY name") }
    }

    /// Moves a cluster to `deleting` with an event; refuses when it is already being deleted.
    public func markDeleting(_ name: String, event: EventRecord) throws -> ClusterRecord {
        try write { db in
            guard var cluster = try ClusterRecord.fetchOne(db, key: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            guard cluster.status != .deleting else {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is already being deleted.")
            }
            cluster.status = .deleting
            try cluster.update(db)
            try db.execute(sql: "UPDATE nodes SET status = ? WHERE cluster_name = ?", arguments: [NodeStatus.deleting.rawValue, name])
            var event = event
            try event.insert(db)
            return cluster
        }
    }

    /// Sets a cluster's status, with an event when one is given.
    public func setClusterStatus(_ name: String, to status: ClusterStatus, event: EventRecord?) throws {
        try write { db in
            try db.execute(sql: "UPDATE clusters SET status = ? WHERE name = ?", arguments: [status.rawValue, name])
            if var event { try event.insert(db) }
        }
    }

    /// Removes a cluster, its nodes and its tags for good, recording a final event.
    public func removeCluster(_ name: String, arn: String, event: EventRecord) throws {
        try write { db in
            _ = try ClusterRecord.deleteOne(db, key: name)
            try db.execute(sql: "DELETE FROM tags WHERE resource_arn = ?", arguments: [arn])
            var event = event
            try event.insert(db)
        }
    }

    // MARK: Nodes

    public func nodes(ofCluster name: String) throws -> [NodeRecord] {
        try writer.read { db in
            try NodeRecord.filter(Column("cluster_name") == name)
                .order(Column("shard_index"), Column("node_index")).fetchAll(db)
        }
    }

    public func allNodes() throws -> [NodeRecord] {
        try writer.read { db in try NodeRecord.order(Column("name")).fetchAll(db) }
    }

    /// Saves what the reconciler learned about nodes (pid, Redis id, role, status), with events.
    public func saveNodes(_ nodes: [NodeRecord], events: [EventRecord] = []) throws {
        guard !nodes.isEmpty || !events.isEmpty else { return }
        try write { db in
            for node in nodes {
                // A node whose cluster was removed meanwhile is simply gone.
                try db.execute(
                    sql: "UPDATE nodes SET status = ?, role = ?, redis_node_id = ?, pid = ? WHERE name = ?",
                    arguments: [node.status.rawValue, node.role.rawValue, node.redisNodeID, node.pid, node.name])
            }
            for var event in events { try event.insert(db) }
        }
    }

    /// Records the PID of a node just started, so a restarted control plane adopts it.
    public func setNodePID(_ name: String, _ pid: Int32) throws {
        try write { db in
            try db.execute(sql: "UPDATE nodes SET pid = ? WHERE name = ?", arguments: [pid, name])
        }
    }

    // MARK: Parameter groups

    public func parameterGroup(named name: String) throws -> ParameterGroupRecord? {
        try writer.read { db in try ParameterGroupRecord.fetchOne(db, key: name) }
    }

    public func parameterGroups() throws -> [ParameterGroupRecord] {
        try writer.read { db in try ParameterGroupRecord.order(Column("name")).fetchAll(db) }
    }

    /// The values a group sets that differ from its family's defaults.
    public func parameterValues(of group: String) throws -> [String: String] {
        try writer.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, value FROM parameter_values WHERE group_name = ?", arguments: [group])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["value"] as String) })
        }
    }

    public func createParameterGroup(_ group: ParameterGroupRecord, event: EventRecord) throws {
        try write { db in
            guard try ParameterGroupRecord.fetchOne(db, key: group.name) == nil else {
                throw MemoryDBError(.parameterGroupAlreadyExists, "A parameter group named '\(group.name)' already exists.")
            }
            try group.insert(db)
            var event = event
            try event.insert(db)
        }
    }

    /// Sets values (nil resets a parameter to its default) and bumps the revision; returns the
    /// names of the clusters using the group, which must now apply it.
    public func changeParameters(of name: String, set values: [String: String?], event: EventRecord) throws -> [String] {
        try write { db in
            guard var group = try ParameterGroupRecord.fetchOne(db, key: name) else {
                throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
            }
            for (parameter, value) in values {
                if let value {
                    try db.execute(
                        sql: "INSERT INTO parameter_values (group_name, name, value) VALUES (?, ?, ?) ON CONFLICT(group_name, name) DO UPDATE SET value = excluded.value",
                        arguments: [name, parameter, value])
                } else {
                    try db.execute(sql: "DELETE FROM parameter_values WHERE group_name = ? AND name = ?", arguments: [name, parameter])
                }
            }
            group.revision += 1
            try group.update(db)
            var event = event
            try event.insert(db)
            return try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE parameter_group_name = ? ORDER BY name", arguments: [name])
        }
    }

    /// Removes every value a group sets (back to the family defaults); returns the clusters using it.
    public func resetAllParameters(of name: String, event: EventRecord) throws -> [String] {
        try write { db in
            guard var group = try ParameterGroupRecord.fetchOne(db, key: name) else {
                throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
            }
            try db.execute(sql: "DELETE FROM parameter_values WHERE group_name = ?", arguments: [name])
            group.revision += 1
            try group.update(db)
            var event = event
            try event.insert(db)
            return try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE parameter_group_name = ? ORDER BY name", arguments: [name])
        }
    }

    /// Deletes a group that no cluster uses.
    public func deleteParameterGroup(_ name: String, event: EventRecord) throws {
        try write { db in
            guard try ParameterGroupRecord.fetchOne(db, key: name) != nil else {
                throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
            }
            let users = try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE parameter_group_name = ? ORDER BY name", arguments: [name])
            guard users.isEmpty else {
                throw MemoryDBError(.invalidParameterGroupState, "Parameter group '\(name)' is used by cluster(s) \(users.joined(separator: ", ")); switch them to another group first.")
            }
            _ = try ParameterGroupRecord.deleteOne(db, key: name)
            var event = event
            try event.insert(db)
        }
    }

    /// Records which group revision every node of a cluster now runs.
    public func setParametersApplied(_ cluster: String, _ marker: String, event: EventRecord?) throws {
        try setApplied("parameters_applied", of: cluster, to: marker, event: event)
    }

    private func setApplied(_ column: String, of cluster: String, to marker: String, event: EventRecord?) throws {
        try write { db in
            try db.execute(sql: "UPDATE clusters SET \(column) = ? WHERE name = ?", arguments: [marker, cluster])
            if var event { try event.insert(db) }
        }
    }

    // MARK: Subnet groups

    /// A custom subnet group with its subnets.
    public struct SubnetGroupRecord: Sendable, Equatable {
        public var name: String
        public var description: String
        public var subnets: [BuiltinResources.Subnet]

        public init(name: String, description: String, subnets: [BuiltinResources.Subnet]) {
            self.name = name
            self.description = description
            self.subnets = subnets
        }
    }

    public func subnetGroups() throws -> [SubnetGroupRecord] {
        try writer.read { db in
            let groups = try Row.fetchAll(db, sql: "SELECT name, description FROM subnet_groups ORDER BY name")
            return try groups.map { row in
                let name: String = row["name"]
                let subnets = try Row.fetchAll(
                    db, sql: "SELECT identifier, availability_zone FROM subnets WHERE group_name = ? ORDER BY identifier", arguments: [name]
                ).map { BuiltinResources.Subnet(identifier: $0["identifier"], availabilityZone: $0["availability_zone"]) }
                return SubnetGroupRecord(name: name, description: row["description"], subnets: subnets)
            }
        }
    }

    public func subnetGroup(named name: String) throws -> SubnetGroupRecord? {
        try subnetGroups().first { $0.name == name }
    }

    /// Creates a group, or with `replace` changes an existing one (description and/or subnets).
    public func saveSubnetGroup(_ group: SubnetGroupRecord, creating: Bool, replaceSubnets: Bool, event: EventRecord) throws {
        try write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM subnet_groups WHERE name = ?)", arguments: [group.name]) ?? false
            if creating {
                guard !exists else { throw MemoryDBError(.subnetGroupAlreadyExists, "A subnet group named '\(group.name)' already exists.") }
                try db.execute(
                    sql: "INSERT INTO subnet_groups (name, description, created_at) VALUES (?, ?, ?)",
                    arguments: [group.name, group.description, event.createdAt])
            } else {
                guard exists else { throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(group.name)' not found.") }
                try db.execute(sql: "UPDATE subnet_groups SET description = ? WHERE name = ?", arguments: [group.description, group.name])
            }
            if creating || replaceSubnets {
                try db.execute(sql: "DELETE FROM subnets WHERE group_name = ?", arguments: [group.name])
                for subnet in group.subnets {
                    try db.execute(
                        sql: "INSERT INTO subnets (group_name, identifier, availability_zone) VALUES (?, ?, ?)",
                        arguments: [group.name, subnet.identifier, subnet.availabilityZone])
                }
            }
            var event = event
            try event.insert(db)
        }
    }

    /// Deletes a group no cluster uses.
    public func deleteSubnetGroup(_ name: String, event: EventRecord) throws {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM subnet_groups WHERE name = ?)", arguments: [name]) ?? false else {
                throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found.")
            }
            let users = try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE subnet_group_name = ? ORDER BY name", arguments: [name])
            guard users.isEmpty else {
                throw MemoryDBError(.subnetGroupInUse, "Subnet group '\(name)' is used by cluster(s) \(users.joined(separator: ", ")).")
            }
            try db.execute(sql: "DELETE FROM subnet_groups WHERE name = ?", arguments: [name])
            var event = event
            try event.insert(db)
        }
    }

    // MARK: Users and ACLs

    public func users() throws -> [UserRecord] {
        try writer.read { db in try UserRecord.order(Column("name")).fetchAll(db) }
    }

    public func user(named name: String) throws -> UserRecord? {
        try writer.read { db in try UserRecord.fetchOne(db, key: name) }
    }

    /// ACL name → (revision, member names), for every custom ACL.
    public func acls() throws -> [(name: String, revision: Int, users: [String])] {
        try writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, revision FROM acls ORDER BY name").map { row in
                let name: String = row["name"]
                let users = try String.fetchAll(db, sql: "SELECT user_name FROM acl_users WHERE acl_name = ? ORDER BY user_name", arguments: [name])
                return (name, row["revision"], users)
            }
        }
    }

    public func createUser(_ user: UserRecord, event: EventRecord) throws {
        try write { db in
            guard try UserRecord.fetchOne(db, key: user.name) == nil else {
                throw MemoryDBError(.userAlreadyExists, "A user named '\(user.name)' already exists.")
            }
            try user.insert(db)
            var event = event
            try event.insert(db)
        }
    }

    /// Replaces a user and bumps every ACL holding it; returns the clusters that must apply it.
    public func updateUser(_ user: UserRecord, event: EventRecord) throws -> [String] {
        try write { db in
            guard try UserRecord.fetchOne(db, key: user.name) != nil else {
                throw MemoryDBError(.userNotFound, "User '\(user.name)' not found.")
            }
            try user.update(db)
            var event = event
            try event.insert(db)
            return try Self.bumpACLs(holding: user.name, db: db)
        }
    }

    /// Deletes a user, taking it out of every ACL; returns the clusters that must apply it.
    public func deleteUser(_ name: String, event: EventRecord) throws -> [String] {
        try write { db in
            guard try UserRecord.fetchOne(db, key: name) != nil else {
                throw MemoryDBError(.userNotFound, "User '\(name)' not found.")
            }
            let clusters = try Self.bumpACLs(holding: name, db: db)
            try db.execute(sql: "DELETE FROM acl_users WHERE user_name = ?", arguments: [name])
            _ = try UserRecord.deleteOne(db, key: name)
            var event = event
            try event.insert(db)
            return clusters
        }
    }

    private static func bumpACLs(holding user: String, db: Database) throws -> [String] {
        let acls = try String.fetchAll(db, sql: "SELECT acl_name FROM acl_users WHERE user_name = ?", arguments: [user])
        var clusters: [String] = []
        for acl in acls {
            try db.execute(sql: "UPDATE acls SET revision = revision + 1 WHERE name = ?", arguments: [acl])
            clusters += try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE acl_name = ?", arguments: [acl])
        }
        return clusters
    }

    public func createACL(_ name: String, users: [String], event: EventRecord) throws {
        try write { db in
            guard try !(Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM acls WHERE name = ?)", arguments: [name]) ?? false) else {
                throw MemoryDBError(.aclAlreadyExists, "An ACL named '\(name)' already exists.")
            }
            try db.execute(sql: "INSERT INTO acls (name, created_at) VALUES (?, ?)", arguments: [name, event.createdAt])
            for user in users { try db.execute(sql: "INSERT INTO acl_users (acl_name, user_name) VALUES (?, ?)", arguments: [name, user]) }
            var event = event
            try event.insert(db)
        }
    }

    /// Adds and removes members; returns the clusters that must apply the change.
    public func updateACL(_ name: String, add: [String], remove: [String], event: EventRecord) throws -> [String] {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM acls WHERE name = ?)", arguments: [name]) ?? false else {
                throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.")
            }
            for user in add {
                try db.execute(sql: "INSERT OR IGNORE INTO acl_users (acl_name, user_name) VALUES (?, ?)", arguments: [name, user])
            }
            for user in remove {
                try db.execute(sql: "DELETE FROM acl_users WHERE acl_name = ? AND user_name = ?", arguments: [name, user])
            }
            try db.execute(sql: "UPDATE acls SET revision = revision + 1 WHERE name = ?", arguments: [name])
            var event = event
            try event.insert(db)
            return try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE acl_name = ?", arguments: [name])
        }
    }

    public func deleteACL(_ name: String, event: EventRecord) throws {
        try write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM acls WHERE name = ?)", arguments: [name]) ?? false else {
                throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.")
            }
            let clusters = try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE acl_name = ? ORDER BY name", arguments: [name])
            guard clusters.isEmpty else {
                throw MemoryDBError(.invalidACLState, "ACL '\(name)' is used by cluster(s) \(clusters.joined(separator: ", ")); it can't be deleted.")
            }
            try db.execute(sql: "DELETE FROM acls WHERE name = ?", arguments: [name])
            var event = event
            try event.insert(db)
        }
    }

    /// Records which ACL revision every node of a cluster now enforces.
    public func setACLApplied(_ cluster: String, _ marker: String, event: EventRecord?) throws {
        try setApplied("acl_applied", of: cluster, to: marker, event: event)
    }

    // MARK: Events and tags

    public func addEvent(_ event: EventRecord) throws {
        try write { db in
            var event = event
            try event.insert(db)
        }
    }

    /// Events newest first, optionally for one source.
    public func events(sourceName: String? = nil, since: Int64 = 0, limit: Int = 100) throws -> [EventRecord] {
        try writer.read { db in
            var request = EventRecord.filter(Column("created_at") >= since)
            if let sourceName { request = request.filter(Column("source_name") == sourceName) }
            return try request.order(Column("id").desc).limit(limit).fetchAll(db)
        }
    }

    /// Changes a cluster that is not being deleted, with an event, in one transaction.
    public func updateCluster(_ name: String, event: EventRecord, _ change: @Sendable (inout ClusterRecord) -> Void) throws -> ClusterRecord {
        try write { db in
            guard var cluster = try ClusterRecord.fetchOne(db, key: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            guard cluster.status != .deleting else {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is being deleted.")
            }
            change(&cluster)
            try cluster.update(db)
            var event = event
            try event.insert(db)
            return cluster
        }
    }

    /// Adds or overwrites tags, refusing to go over `limit` tags in all; returns the full set.
    public func addTags(_ tags: [TagRecord], to arn: String, limit: Int) throws -> [TagRecord] {
        try write { db in
            for tag in tags { try tag.save(db) }
            let all = try TagRecord.filter(Column("resource_arn") == arn).order(Column("key")).fetchAll(db)
            guard all.count <= limit else {
                throw MemoryDBError(.tagQuotaPerResourceExceeded, "A resource may have at most \(limit) tags; this would make \(all.count).")
            }
            return all
        }
    }

    /// Removes tags by key; every key must exist. Returns the remaining set.
    public func removeTags(_ keys: [String], from arn: String) throws -> [TagRecord] {
        try write { db in
            for key in keys {
                let deleted = try TagRecord.deleteOne(db, key: ["resource_arn": arn, "key": key])
                guard deleted else {
                    throw MemoryDBError(.tagNotFound, "The resource has no tag with key '\(key)'.")
                }
            }
            return try TagRecord.filter(Column("resource_arn") == arn).order(Column("key")).fetchAll(db)
        }
    }

    /// Names of the clusters using an ACL.
    public func clusterNames(usingACL acl: String) throws -> [String] {
        try writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM clusters WHERE acl_name = ? ORDER BY name", arguments: [acl])
        }
    }

    /// Events in a time window (milliseconds), oldest first, optionally for one source or type.
    public func events(sourceName: String?, sourceType: String?, from start: Int64, to end: Int64) throws -> [EventRecord] {
        try writer.read { db in
            var request = EventRecord.filter(Column("created_at") >= start && Column("created_at") <= end)
            if let sourceName { request = request.filter(Column("source_name") == sourceName) }
            if let sourceType { request = request.filter(Column("source_type") == sourceType) }
            return try request.order(Column("id")).fetchAll(db)
        }
    }

    public func tags(of arn: String) throws -> [TagRecord] {
        try writer.read { db in
            try TagRecord.filter(Column("resource_arn") == arn).order(Column("key")).fetchAll(db)
        }
    }
}

/// Cluster list reads stamped with the write generation they were read at. The generation is
/// taken before reading, so a read that raced a write is stored under the old generation and
/// never served after that write.
final class ClusterReadCache: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var entries: [String: (generation: UInt64, details: [Store.ClusterDetails])] = [:]
    }

    private let state = Mutex(State())

    var generation: UInt64 { state.withLock { $0.generation } }

    func invalidate() {
        state.withLock {
            $0.generation &+= 1
            $0.entries.removeAll(keepingCapacity: true)
        }
    }

    func lookup(_ key: String, generation: UInt64) -> [Store.ClusterDetails]? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.generation == state.generation else { return nil }
            return entry.details
        }
    }

    func store(_ key: String, _ details: [Store.ClusterDetails], generation: UInt64) {
        state.withLock { state in
            guard generation == state.generation else { return }
            if state.entries.count >= 32 { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = (generation, details)
        }
    }
}
