import Foundation
import Migrations
import Model
import Store
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

    @Test func reopeningAFileDatabaseKeepsItsData() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        _ = try Store.open(path: path).createCluster(named: "demo") { _ in StoreFixtures.newCluster("demo", ports: [7000, 7001]) }
        #expect(try Store.open(path: path).cluster(named: "demo")?.status == .creating)
    }
}

enum StoreFixtures {
    static func newCluster(_ name: String, ports: [Int]) -> Store.NewCluster {
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
        return Store.NewCluster(
            cluster: cluster, nodes: nodes, tags: [TagRecord(resourceArn: "arn:\(name)", key: "team", value: "a")],
            event: EventRecord(sourceName: name, sourceType: "cluster", message: "created", createdAt: 1))
    }
}

@Suite struct ClusterStoreTests {
    @Test func createStoresClusterNodesTagsAndEventTogether() throws {
        let store = try Store.inMemory()
        _ = try store.createCluster(named: "demo") { inUse in
            #expect(inUse.isEmpty)
            return StoreFixtures.newCluster("demo", ports: [7000, 7001, 7002])
        }
        #expect(try store.nodes(ofCluster: "demo").map(\.name) == ["demo-0001-001", "demo-0001-002"])
        #expect(try store.tags(of: "arn:demo").map(\.key) == ["team"])
        #expect(try store.events(sourceName: "demo").map(\.message) == ["created"])
        _ = try store.createCluster(named: "other") { inUse in
            #expect(inUse == [7000, 7001, 7002])
            return StoreFixtures.newCluster("other", ports: [7003, 7004])
        }
    }

    @Test func duplicateNameIsAlreadyExistsAndLeavesNothingBehind() throws {
        let store = try Store.inMemory()
        _ = try store.createCluster(named: "demo") { _ in StoreFixtures.newCluster("demo", ports: [7000, 7001]) }
        #expect(throws: MemoryDBError(.clusterAlreadyExists, "A cluster named 'demo' already exists.")) {
            try store.createCluster(named: "demo") { _ in StoreFixtures.newCluster("demo", ports: [7005, 7006]) }
        }
        #expect(try store.allNodes().count == 1)
    }

    @Test func aFailingBuildWritesNothing() throws {
        let store = try Store.inMemory()
        #expect(throws: MemoryDBError.self) {
            try store.createCluster(named: "demo") { _ in throw MemoryDBError.invalid("no ports") }
        }
        // A port clash inside the transaction rolls the whole creation back.
        _ = try store.createCluster(named: "a") { _ in StoreFixtures.newCluster("a", ports: [7000, 7001]) }
        #expect(throws: MemoryDBError.self) {
            try store.createCluster(named: "b") { _ in StoreFixtures.newCluster("b", ports: [7002, 7001]) }
        }
        #expect(try store.clusterNames() == ["a"])
        #expect(try store.allNodes().map(\.clusterName) == ["a"])
    }

    @Test func pagesFollowNameOrder() throws {
        let store = try Store.inMemory()
        for (index, name) in ["c", "a", "b"].enumerated() {
            _ = try store.createCluster(named: name) { _ in StoreFixtures.newCluster(name, ports: [7000 + index * 2, 7001 + index * 2]) }
        }
        #expect(try store.clusters(after: nil, limit: 2).map(\.name) == ["a", "b"])
        #expect(try store.clusters(after: "b", limit: 2).map(\.name) == ["c"])
    }

    @Test func deletionIsMarkedOnceThenRemovesEverything() throws {
        let store = try Store.inMemory()
        _ = try store.createCluster(named: "demo") { _ in StoreFixtures.newCluster("demo", ports: [7000, 7001]) }
        let event = EventRecord(sourceName: "demo", sourceType: "cluster", message: "deleting", createdAt: 2)
        #expect(try store.markDeleting("demo", event: event).status == .deleting)
        #expect(try store.nodes(ofCluster: "demo").allSatisfy { $0.status == .deleting })
        #expect(throws: MemoryDBError.self) { try store.markDeleting("demo", event: event) }
        #expect(throws: MemoryDBError.self) { try store.markDeleting("missing", event: event) }
        try store.removeCluster("demo", arn: "arn:demo", event: EventRecord(sourceName: "demo", sourceType: "cluster", message: "deleted", createdAt: 3))
        #expect(try store.cluster(named: "demo") == nil)
        #expect(try store.allNodes().isEmpty)
        #expect(try store.tags(of: "arn:demo").isEmpty)
        #expect(try store.events(sourceName: "demo").first?.message == "deleted")
    }

    @Test func nodeObservationsAreSaved() throws {
        let store = try Store.inMemory()
        _ = try store.createCluster(named: "demo") { _ in StoreFixtures.newCluster("demo", ports: [7000, 7001]) }
        var node = try #require(try store.nodes(ofCluster: "demo").first)
        node.status = .available
        node.redisNodeID = "abc"
        node.pid = 42
        try store.saveNodes([node])
        #expect(try store.nodes(ofCluster: "demo").first == node)
        try store.setNodePID(node.name, 43)
        #expect(try store.nodes(ofCluster: "demo").first?.pid == 43)
    }
}
