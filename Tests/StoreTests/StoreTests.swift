import Foundation
import Migrations
import Model
import GRDB
@testable import Store
import Testing

@Suite struct MigrationTests {
    @Test func everySQLFileInMigrationsIsRegisteredInOrder() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty)
        #expect(Migrations.fileNames == files)
        for (index, name) in files.enumerated() {
            #expect(name.hasPrefix(String(format: "%04d_", index + 1)), "\(name) is out of sequence")
        }
    }

    @Test func migrationsAreAppliedAndRecorded() throws {
        let store = try Store.inMemory()
        #expect(try store.appliedMigrations() == Migrations.all.map(\.identifier))
    }

    /// Migration 0016: lists written comma-joined by earlier versions read back as the same lists,
    /// stored as JSON arrays from then on.
    @Test func commaJoinedListsBecomeJSONArrays() throws {
        let queue = try DatabaseQueue()
        var migrator = DatabaseMigrator()
        for migration in Migrations.all.prefix(while: { $0.identifier != "0016_lists_as_json" }) {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO users (name, access_string, authentication_type, password_hashes, created_at)
                    VALUES ('two', 'on ~* +@all', 'password', 'ab,cd', 1), ('none', 'on ~* +@all', 'no-password', '', 1)
                    """)
        }
        let store = try Store(writer: queue)
        #expect(try store.user(named: "two")?.hashes == ["ab", "cd"])
        #expect(try store.user(named: "none")?.hashes == [])
        let stored = try queue.read { try String.fetchAll($0, sql: "SELECT password_hashes FROM users ORDER BY name") }
        #expect(stored == ["[]", #"["ab","cd"]"#])
    }

    /// Migration 0017: `<name>@<revision>` markers earlier versions wrote read back as the same
    /// revisions, stored in columns of their own from then on.
    @Test func appliedMarkersBecomeColumns() throws {
        let queue = try DatabaseQueue()
        var migrator = DatabaseMigrator()
        for migration in Migrations.all.prefix(while: { $0.identifier != "0017_applied_revisions_as_columns" }) {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            for (name, port, parameters, acl) in [
                ("now", 7000, "tuned@3", "apps@12/restricted-2"), ("older", 7001, "default.memorydb-redis7@0", "apps@1"), ("fresh", 7002, "", ""),
            ] {
                try db.execute(
                    sql: """
                        INSERT INTO clusters (name, status, node_type, engine_version, engine_patch_version, parameter_group_name, acl_name,
                            subnet_group_name, tls_enabled, num_shards, num_replicas_per_shard, endpoint_port, admin_password, created_at,
                            parameters_applied, acl_applied)
                        VALUES (?, 'available', 'db.t4g.small', '7.0', '7.0.15', 'tuned', 'apps', 'default', 1, 1, 0, ?, 'secret', 1, ?, ?)
                        """, arguments: [name, port, parameters, acl])
            }
        }
        let store = try Store(writer: queue)
        #expect(try store.cluster(named: "now")?.parametersApplied == AppliedRevision(name: "tuned", revision: 3))
        #expect(try store.cluster(named: "now")?.aclApplied == AppliedRevision(name: "apps", revision: 12, restrictedGeneration: 2))
        #expect(try store.cluster(named: "older")?.parametersApplied == AppliedRevision(name: "default.memorydb-redis7", revision: 0))
        #expect(try store.cluster(named: "older")?.aclApplied == AppliedRevision(name: "apps", revision: 1))
        #expect(try store.cluster(named: "fresh")?.parametersApplied == nil)
        #expect(try store.cluster(named: "fresh")?.aclApplied == nil)
    }

    @Test func aClustersSecurityGroupsAreStoredAsAJSONArray() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001])
        try store.write { transaction in
            var cluster = try #require(try transaction.cluster(named: "demo"))
            cluster.securityGroups = ["sg-1", "sg-2"]
            try transaction.update(cluster)
        }
        #expect(try store.cluster(named: "demo")?.securityGroups == ["sg-1", "sg-2"])
        #expect(try store.cluster(named: "demo")?.securityGroupIds == #"["sg-1","sg-2"]"#)
    }

    @Test func reopeningAFileDatabaseKeepsItsData() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        try StoreFixtures.create(Store.open(path: path), "demo", ports: [7000, 7001])
        #expect(try Store.open(path: path).cluster(named: "demo")?.status == .creating)
    }

    /// WAL with `synchronous = NORMAL`, on every connection of the pool (readers and the writer):
    /// a commit reaches the WAL before `write` returns, and is fsynced at checkpoints.
    @Test func aFileDatabaseCommitsToItsWALWithoutAnFsyncPerCommit() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store.open(path: directory.appendingPathComponent("db.sqlite").path)
        #expect(try store.writer.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        #expect(try store.writer.read { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)
        #expect(try store.writer.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
    }
}

enum StoreFixtures {
    static func cluster(_ name: String, ports: [Int]) -> (ClusterRecord, [NodeRecord]) {
        let cluster = ClusterRecord(
            name: name, description: nil, status: .creating, nodeType: "db.t4g.small", engineVersion: "7.0",
            enginePatchVersion: "7.0.15", parameterGroupName: "default.memorydb-redis7", aclName: "open-access",
            subnetGroupName: "default", tlsEnabled: false, numShards: 1, numReplicasPerShard: ports.count - 2,
            endpointPort: ports[0], adminPassword: "pw", createdAt: 1)
        let nodes = ports.dropFirst().enumerated().map { index, port in
            NodeRecord(
                name: "\(name)-0001-00\(index + 1)", clusterName: name, shardIndex: 1, nodeIndex: index + 1, port: port,
                availabilityZone: "us-east-1a", status: .creating, role: index == 0 ? .primary : .replica, createdAt: 1)
        }
        return (cluster, nodes)
    }

    /// A cluster with its nodes, a tag and an event, written as the service writes them.
    static func create(_ store: Store, _ name: String, ports: [Int], aclName: String = "open-access") throws {
        var (cluster, nodes) = Self.cluster(name, ports: ports)
        cluster.aclName = aclName
        try store.write { transaction in
            try transaction.insert(cluster, nodes: nodes, shards: [StoreFixtures.shard(of: name)])
            try transaction.save([TagRecord(resourceArn: "arn:\(name)", key: "team", value: "a")])
            try transaction.record(EventRecord(sourceName: name, sourceType: .cluster, message: "created", createdAt: 1))
        }
    }

    /// The one shard of a fixture cluster: every slot, node 1 primary.
    static func shard(of name: String) -> ShardRecord {
        ShardRecord(clusterName: name, shardIndex: 1, slots: SlotRange.evenSplit(shards: 1), primaryNode: "\(name)-0001-001")
    }

    static func event(_ name: String, _ type: EventSourceType = .cluster, _ message: String = "changed", at time: Int64 = 2) -> EventRecord {
        EventRecord(sourceName: name, sourceType: type, message: message, createdAt: time)
    }
}

@Suite struct ClusterStoreTests {
    @Test func aClusterItsNodesTagsAndEventCommitTogether() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001, 7002])
        #expect(try store.nodes(ofCluster: "demo").map(\.name) == ["demo-0001-001", "demo-0001-002"])
        #expect(try store.tags(of: "arn:demo").map(\.key) == ["team"])
        #expect(try store.events(sourceName: "demo").map(\.message) == ["created"])
        #expect(try store.write { try $0.portsInUse() } == [7000, 7001, 7002])
    }

    /// A reconcile pass reads the cluster, its nodes and its shards as of one moment.
    @Test func aClustersStoredStateComesTogether() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001, 7002])
        let stored = try #require(try store.storedCluster(named: "demo"))
        #expect(stored.cluster.name == "demo")
        #expect(stored.nodes.map(\.name) == ["demo-0001-001", "demo-0001-002"])
        #expect(stored.shards == [StoreFixtures.shard(of: "demo")])
        #expect(stored.operations.isEmpty && stored.drills.isEmpty)
        #expect(try store.storedCluster(named: "nope") == nil)
    }

    @Test func aFailingTransactionWritesNothing() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "a", ports: [7000, 7001])
        // A port clash inside the transaction rolls the whole creation back, event and tags too.
        #expect {
            try StoreFixtures.create(store, "b", ports: [7002, 7001])
        } throws: { error in
            (error as? MemoryDBError)?.code == .invalidParameterValue
        }
        #expect {
            try store.write { transaction in
                let (cluster, nodes) = StoreFixtures.cluster("c", ports: [7010, 7011])
                try transaction.insert(cluster, nodes: nodes, shards: [StoreFixtures.shard(of: "c")])
                try transaction.record(StoreFixtures.event("c"))
                throw MemoryDBError(.insufficientClusterCapacity, "no ports")
            }
        } throws: { error in
            (error as? MemoryDBError)?.code == .insufficientClusterCapacity
        }
        #expect(try store.clusterNames() == ["a"])
        #expect(try store.events(sourceName: "b").isEmpty && store.events(sourceName: "c").isEmpty)
        #expect(try store.tags(of: "arn:b").isEmpty)
    }

    @Test func detailsPageInNameOrder() throws {
        let store = try Store.inMemory()
        for (index, name) in ["c", "a", "b"].enumerated() {
            try StoreFixtures.create(store, name, ports: [7000 + index * 2, 7001 + index * 2])
        }
        let arn: @Sendable (String) -> String = { "arn:\($0)" }
        #expect(try store.clusterDetails(after: nil, limit: 2, arn: arn).map(\.cluster.name) == ["a", "b"])
        #expect(try store.clusterDetails(after: "b", limit: 2, arn: arn).map(\.cluster.name) == ["c"])
        #expect(try store.clusterDetails(named: "a", arn: arn)?.tags.map(\.key) == ["team"])
    }

    @Test func theReadCacheIsDroppedByEveryWrite() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "a", ports: [7000, 7001])
        let arn: @Sendable (String) -> String = { "arn:\($0)" }
        #expect(try store.clusterDetails(after: nil, limit: 10, arn: arn).map(\.cluster.status) == [.creating])
        try store.write { try $0.setStatus(ofCluster: "a", to: .available) }
        #expect(try store.clusterDetails(after: nil, limit: 10, arn: arn).map(\.cluster.status) == [.available])
        try StoreFixtures.create(store, "b", ports: [7002, 7003])
        #expect(try store.clusterDetails(after: nil, limit: 10, arn: arn).map(\.cluster.name) == ["a", "b"])
        // A transaction that failed still invalidates (harmless) and changes nothing.
        _ = try? store.write { transaction in
            try transaction.setStatus(ofCluster: "a", to: .deleting)
            throw MemoryDBError.invalid("abort")
        }
        #expect(try store.clusterDetails(after: nil, limit: 10, arn: arn).first?.cluster.status == .available)
    }

    @Test func deletingAClusterRemovesItsNodes() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001])
        try store.write { transaction in
            try transaction.setStatus(ofNodesOf: "demo", to: .deleting)
        }
        #expect(try store.nodes(ofCluster: "demo").allSatisfy { $0.status == .deleting })
        try store.write { transaction in
            try transaction.deleteCluster(named: "demo")
            try transaction.removeAllTags(of: "arn:demo")
            try transaction.record(StoreFixtures.event("demo", .cluster, "deleted", at: 3))
        }
        #expect(try store.cluster(named: "demo") == nil)
        #expect(try store.nodes(ofCluster: "demo").isEmpty)
        #expect(try store.tags(of: "arn:demo").isEmpty)
        #expect(try store.events(sourceName: "demo").first?.message == "deleted")
    }

    @Test func nodeObservationsAndPIDsAreSaved() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001])
        var node = try #require(try store.nodes(ofCluster: "demo").first)
        node.status = .available
        node.redisNodeID = "abc"
        node.pid = 42
        try store.saveNodes([node], events: [StoreFixtures.event("demo", .node, "observed")])
        #expect(try store.nodes(ofCluster: "demo").first == node)
        try store.write { try $0.setPID(ofNode: node.name, to: 43) }
        #expect(try store.nodes(ofCluster: "demo").first?.pid == 43)
        #expect(try store.events(sourceName: "demo").first?.message == "observed")
    }

    @Test func anObservationReadBeforeARemovalNeverBringsTheNodeBack() throws {
        // A reconcile pass read the node as available; a request then marked it for removal
        // (fewer replicas); the pass saving what it observed must not undo that.
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001])
        var observed = try #require(try store.nodes(ofCluster: "demo").last)
        observed.status = .available
        try store.write { try $0.setStatus(ofNode: observed.name, to: .deleting) }
        observed.pid = 99
        try store.saveNodes([observed])
        let saved = try #require(try store.nodes(ofCluster: "demo").last)
        #expect(saved.status == .deleting)
        #expect(saved.pid == 99)
    }

    @Test func anUnknownStoredStatusFailsLoudly() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "demo", ports: [7000, 7001])
        try store.write { transaction in
            var cluster = try #require(try transaction.cluster(named: "demo"))
            cluster.status = .available
            try transaction.update(cluster)
        }
        try store.execute(sql: "UPDATE clusters SET status = 'exploded' WHERE name = 'demo'")
        #expect(throws: (any Error).self) { try store.cluster(named: "demo") }
    }

    @Test func clustersAreFoundByWhatTheyUse() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "a", ports: [7000, 7001], aclName: "apps")
        try StoreFixtures.create(store, "b", ports: [7002, 7003])
        #expect(try store.clusterNames(using: .acl("apps")) == ["a"])
        #expect(try store.clusterNames(using: .acl("open-access")) == ["b"])
        #expect(try store.clusterNames(using: .parameterGroup("default.memorydb-redis7")) == ["a", "b"])
        #expect(try store.clusterNames(using: .subnetGroup("default")) == ["a", "b"])
        let second = AppliedRevision(name: "apps", revision: 2, restrictedGeneration: 2)
        #expect(try store.anyClusterBehind(acl: "apps", revision: second))
        try store.write { try $0.setACLApplied(ofCluster: "a", to: second) }
        #expect(try !store.anyClusterBehind(acl: "apps", revision: second))
        #expect(try store.anyClusterBehind(acl: "apps", revision: AppliedRevision(name: "apps", revision: 2, restrictedGeneration: 3)))
        #expect(try store.anyClusterBehind(acl: "apps", revision: AppliedRevision(name: "apps", revision: 3, restrictedGeneration: 2)))
        try store.write { try $0.setParametersApplied(ofCluster: "a", to: AppliedRevision(name: "tuned", revision: 4)) }
        #expect(try store.cluster(named: "a")?.parametersApplied == AppliedRevision(name: "tuned", revision: 4))
        #expect(try store.cluster(named: "b")?.parametersApplied == nil)
    }
}

@Suite struct GroupStoreTests {
    @Test func parameterValuesChangeResetAndBumpTheRevision() throws {
        let store = try Store.inMemory()
        try store.write { try $0.insert(ParameterGroupRecord(name: "tuned", family: "memorydb_redis7", description: "", createdAt: 1)) }
        let group = try #require(try store.parameterGroup(named: "tuned"))
        #expect(group.revision == 1)
        try store.write { try $0.changeParameters(of: group, set: ["timeout": "300", "maxmemory-policy": "allkeys-lru"]) }
        #expect(try store.parameterValues(of: "tuned") == ["timeout": "300", "maxmemory-policy": "allkeys-lru"])
        let changed = try #require(try store.parameterGroup(named: "tuned"))
        #expect(changed.revision == 2)
        try store.write { try $0.changeParameters(of: changed, set: ["timeout": nil]) }
        #expect(try store.parameterValues(of: "tuned") == ["maxmemory-policy": "allkeys-lru"])
        try store.write { try $0.resetAllParameters(of: #require(try $0.parameterGroup(named: "tuned"))) }
        #expect(try store.parameterValues(of: "tuned").isEmpty)
        #expect(try store.parameterGroup(named: "tuned")?.revision == 4)
        try store.write { try $0.deleteParameterGroup(named: "tuned") }
        #expect(try store.parameterGroups().isEmpty)
    }

    @Test func subnetGroupsKeepTheirSubnets() throws {
        let store = try Store.inMemory()
        let subnets = [BuiltinResources.Subnet(identifier: "subnet-b", availabilityZone: "us-east-1b"), .init(identifier: "subnet-a", availabilityZone: "us-east-1a")]
        try store.write { try $0.insert(SubnetGroupRecord(name: "mine", description: "d", subnets: subnets), createdAt: 1) }
        #expect(try store.subnetGroup(named: "mine")?.subnets.map(\.identifier) == ["subnet-a", "subnet-b"])
        try store.write { try $0.update(SubnetGroupRecord(name: "mine", description: "e", subnets: []), replaceSubnets: false) }
        #expect(try store.subnetGroup(named: "mine")?.description == "e")
        #expect(try store.subnetGroup(named: "mine")?.subnets.count == 2)
        try store.write { try $0.update(SubnetGroupRecord(name: "mine", description: "e", subnets: [subnets[0]]), replaceSubnets: true) }
        #expect(try store.subnetGroup(named: "mine")?.subnets.map(\.identifier) == ["subnet-b"])
        try store.write { try $0.deleteSubnetGroup(named: "mine") }
        #expect(try store.subnetGroups().isEmpty)
    }
}

@Suite struct AccessControlStoreTests {
    func user(_ name: String) -> UserRecord {
        UserRecord(name: name, accessString: "on ~* +@all", authenticationType: "password", passwordHashes: ["ab", "cd"], createdAt: 1)
    }

    @Test func usersAndACLMembershipsBumpRevisionsAndNameTheirClusters() throws {
        let store = try Store.inMemory()
        try store.write { transaction in
            try transaction.insert(user("app"))
            try transaction.insert(user("ops"))
            try transaction.insertACL(named: "apps", users: ["app"], createdAt: 1)
        }
        try StoreFixtures.create(store, "guarded", ports: [7000, 7001], aclName: "apps")
        #expect(try store.user(named: "app")?.hashes == ["ab", "cd"])
        #expect(try store.acl(named: "apps") == ACLRecord(name: "apps", revision: 1, users: ["app"]))
        #expect(try store.write { try $0.changeMembers(ofACL: "apps", add: ["ops"], remove: []) } == ["guarded"])
        #expect(try store.acl(named: "apps") == ACLRecord(name: "apps", revision: 2, users: ["app", "ops"]))
        var changed = user("ops")
        changed.accessString = "on ~app:* +@read"
        #expect(try store.write { try $0.update(changed) } == ["guarded"])
        #expect(try store.acl(named: "apps")?.revision == 3)
        #expect(try store.write { try $0.deleteUser(named: "ops") } == ["guarded"])
        #expect(try store.acl(named: "apps") == ACLRecord(name: "apps", revision: 4, users: ["app"]))
        #expect(try store.users().map(\.name) == ["app"])
        try store.write { try $0.deleteACL(named: "apps") }
        #expect(try store.acls().isEmpty)
    }
}

@Suite struct TagAndEventStoreTests {
    @Test func tagsOverwriteByKeyAndGoOneByOneOrAllAtOnce() throws {
        let store = try Store.inMemory()
        try store.write { try $0.save([TagRecord(resourceArn: "arn:x", key: "a", value: "1"), TagRecord(resourceArn: "arn:x", key: "b", value: "2")]) }
        try store.write { try $0.save([TagRecord(resourceArn: "arn:x", key: "a", value: "3")]) }
        #expect(try store.tags(of: "arn:x").map(\.value) == ["3", "2"])
        #expect(try store.write { try $0.removeTag("a", of: "arn:x") })
        #expect(try !store.write { try $0.removeTag("a", of: "arn:x") })
        try store.write { try $0.removeAllTags(of: "arn:x") }
        #expect(try store.tags(of: "arn:x").isEmpty)
    }

    @Test func eventsComeNewestFirstAndFilter() throws {
        let store = try Store.inMemory()
        try store.addEvent(StoreFixtures.event("a", .cluster, "first", at: 10))
        try store.addEvent(StoreFixtures.event("b", .user, "second", at: 20))
        try store.addEvent(StoreFixtures.event("a", .node, "third", at: 30))
        #expect(try store.events().map(\.message) == ["third", "second", "first"])
        #expect(try store.events(sourceName: "a").map(\.message) == ["third", "first"])
        #expect(try store.events(sourceName: nil, sourceType: .user, from: 0, to: 100).map(\.message) == ["second"])
        #expect(try store.events(sourceName: nil, sourceType: nil, from: 15, to: 30).map(\.message) == ["third", "second"])
        #expect(try store.events(since: 25).map(\.message) == ["third"])
    }

    @Test func theOrphanTagMigrationKeepsLiveAndBuiltInTags() throws {
        let store = try Store.inMemory()
        try StoreFixtures.create(store, "live", ports: [7000, 7001])
        let arn = { (type: String, name: String) in "arn:aws:memorydb:us-east-1:000000000000:\(type)/\(name)" }
        let tagged = [
            arn("cluster", "live"), arn("cluster", "gone"), arn("user", "default"), arn("user", "gone"), arn("acl", "open-access"),
            arn("acl", "gone"), arn("parametergroup", "default.memorydb-redis7"), arn("parametergroup", "gone"), arn("subnetgroup", "default"),
            arn("subnetgroup", "gone"),
        ]
        try store.write { transaction in
            try transaction.save(tagged.map { TagRecord(resourceArn: $0, key: "k", value: "v") })
        }
        try store.execute(sql: Migrations.all.first { $0.identifier == "0006_orphan_tags" }!.sql)
        let kept = tagged.filter { !((try? store.tags(of: $0)) ?? []).isEmpty }
        #expect(kept == [arn("cluster", "live"), arn("user", "default"), arn("acl", "open-access"), arn("parametergroup", "default.memorydb-redis7"), arn("subnetgroup", "default")])
    }
}
