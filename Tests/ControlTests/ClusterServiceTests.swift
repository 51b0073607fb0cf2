import Control
import Runtime
import Reconciler
import Model
import Store
import Synchronization
import Logging
import Testing
import Ports

/// Requires `body` to fail with exactly the fault `code`; records an issue when it succeeds or
/// fails otherwise.
func expectFault<T>(_ code: MemoryDBError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected \(code.rawValue), but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as MemoryDBError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code.rawValue), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Records wake-ups instead of reconciling: the service's job ends at the desired state.
final class RecordingTrigger: ReconcileTrigger {
    let woken = Mutex<[String]>([])
    func wake(cluster name: String) { woken.withLock { $0.append(name) } }
}

@Suite struct ClusterServiceTests {
    let store: Store
    let trigger = RecordingTrigger()
    let service: ClusterService

    init() throws {
        store = try Store.inMemory()
        let configuration = ControlConfiguration(nodePorts: 7000...7009, engineVersion: EngineVersion(major: 7, minor: 0, patch: 15))
        service = Self.service(store: store, trigger: trigger, configuration: configuration, ports: PortAllocator(range: 7000...7009, isBindable: { $0 != 7001 }))
    }

    /// A cluster service with its collaborators, all over `store`, waking `trigger`.
    static func service(store: Store, trigger: any ReconcileTrigger, configuration: ControlConfiguration, ports: PortAllocator) -> ClusterService {
        ClusterService(
            configuration: configuration, store: store, trigger: trigger,
            parameterGroups: ParameterGroupService(store: store, configuration: configuration, trigger: trigger),
            accessControl: AccessControlService(store: store, configuration: configuration, trigger: trigger),
            subnetGroups: SubnetGroupService(store: store, configuration: configuration), ports: ports, logger: Logger(label: "test"))
    }

    func request(_ name: String = "Demo", shards: Int = 2, replicas: Int = 1) -> CreateClusterRequest {
        CreateClusterRequest(name: name, nodeType: "db.t4g.small", numShards: shards, numReplicasPerShard: replicas, aclName: "open-access", tlsEnabled: false, tags: [Tag(key: "team", value: "cache")])
    }

    @Test func createRecordsDesiredStateAndWakesTheReconciler() throws {
        let view = try service.createCluster(request())
        #expect(view.name == "demo")
        #expect(view.status == .creating)
        #expect(view.clusterEndpoint.address == nil)
        #expect(view.clusterEndpoint.port == 7000)
        #expect(view.arn == "arn:aws:memorydb:us-east-1:000000000000:cluster/demo")
        #expect(view.availabilityMode == "MultiAZ")
        #expect(view.shards.map(\.name) == ["0001", "0002"])
        #expect(view.shards.map(\.slots) == ["0-8191", "8192-16383"])
        #expect(view.shards.flatMap(\.nodes).map(\.name) == ["demo-0001-001", "demo-0001-002", "demo-0002-001", "demo-0002-002"])
        // 7001 is busy on the machine; the allocator skips it.
        #expect(view.shards.flatMap(\.nodes).map(\.endpoint.port) == [7002, 7003, 7004, 7005])
        #expect(view.shards.flatMap(\.nodes).map(\.availabilityZone) == ["us-east-1a", "us-east-1b", "us-east-1b", "us-east-1c"])
        #expect(view.tags == [Tag(key: "team", value: "cache")])
        #expect(trigger.woken.withLock { $0 } == ["demo"])
    }

    @Test func faultsForDuplicatesUnknownACLsGroupsAndCapacity() throws {
        _ = try service.createCluster(request())
        expectFault(.clusterAlreadyExists) { try service.createCluster(request("DEMO")) }
        var acl = request("b")
        acl.aclName = "nope"
        acl.tlsEnabled = true
        expectFault(.aclNotFound) { try service.createCluster(acl) }
        var group = request("c")
        group.parameterGroupName = "custom"
        expectFault(.parameterGroupNotFound) { try service.createCluster(group) }
        expectFault(.insufficientClusterCapacity) { try service.createCluster(request("d", shards: 3, replicas: 1)) }
        #expect(try store.clusterNames() == ["demo"])
    }

    @Test func paginationIsStableAndTokensAreChecked() throws {
        let service = Self.service(
            store: store, trigger: trigger,
            configuration: ControlConfiguration(nodePorts: 7000...7999, engineVersion: EngineVersion(major: 7, minor: 0, patch: 15)),
            ports: PortAllocator(range: 7000...7999, isBindable: { _ in true }))
        for name in ["c", "a", "b"] { _ = try service.createCluster(request(name, shards: 1, replicas: 0)) }
        let first = try service.listClusters(maxResults: 2, nextToken: nil)
        #expect(first.clusters.map(\.name) == ["a", "b"])
        let second = try service.listClusters(maxResults: 2, nextToken: first.nextToken)
        #expect(second.clusters.map(\.name) == ["c"])
        #expect(second.nextToken == nil)
        expectFault(.invalidParameterValue) { try service.listClusters(maxResults: 0, nextToken: nil) }
        expectFault(.invalidParameterValue) { try service.listClusters(maxResults: nil, nextToken: "garbage") }
        // Any token of the documented grammar is a cursor: "start after this key".
        #expect(try service.listClusters(maxResults: nil, nextToken: "v1." + "a".utf8.map { String($0, radix: 16) }.joined()).clusters.map(\.name) == ["b", "c"])
        #expect(try service.listClusters(maxResults: nil, nextToken: "v1.").clusters.map(\.name) == ["a", "b", "c"])
        for bad in ["v1.0", "v1.zz", "V1.61", "djE6YQ=="] {
            expectFault(.invalidParameterValue) { try service.listClusters(maxResults: nil, nextToken: bad) }
        }
    }

    @Test func onlyAnAvailableClusterChangesOrIsDeletedAndOnlyOnce() throws {
        _ = try service.createCluster(request())
        // Creating: neither updated nor deleted, as on AWS.
        expectFault(.invalidClusterState) { try service.deleteCluster("demo") }
        expectFault(.invalidClusterState) { try service.updateCluster("demo", UpdateClusterRequest(description: "x")) }
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        #expect(try service.updateCluster("demo", UpdateClusterRequest(description: "x")).description == "x")
        #expect(try service.deleteCluster("DEMO").status == .deleting)
        #expect(try store.nodes(ofCluster: "demo").allSatisfy { $0.status == .deleting })
        expectFault(.invalidClusterState) { try service.deleteCluster("demo") }
        expectFault(.clusterNotFound) { try service.deleteCluster("missing") }
        expectFault(.clusterNotFound) { try service.describeCluster("missing") }
        #expect(try store.events(sourceName: "demo").map(\.message).prefix(2) == ["Cluster deletion started", "Cluster description updated"])
    }

    @Test func anUpdateThatChangesNothingIsNoOperationAndRefusalsSayWhy() throws {
        _ = try service.createCluster(request(shards: 1, replicas: 0))
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        let cluster = try service.describeCluster("demo")
        expectFault(.noOperation) {
            try service.updateCluster("demo", UpdateClusterRequest(maintenanceWindow: cluster.maintenanceWindow, snapshotWindow: cluster.snapshotWindow, snapshotRetentionLimit: 0))
        }
        expectFault(.noOperation) { try service.updateCluster("demo", { var request = UpdateClusterRequest(); request.numShards = 1; return request }()) }
        expectFault(.invalidParameterCombination) {
            try service.updateCluster("demo", { var request = UpdateClusterRequest(); request.numShards = 2; request.numReplicasPerShard = 1; return request }())
        }
        var sns = UpdateClusterRequest()
        sns.snsTopicArn = "arn:aws:sns:us-east-1:000000000000:topic"
        do {
            _ = try service.updateCluster("demo", sns)
            Issue.record("an SNS topic was accepted")
        } catch let error as MemoryDBError {
            #expect(error.code == .invalidParameterCombination && error.message.contains("sends no SNS notifications"))
        }
        // Nothing was recorded by the refused or empty updates.
        #expect(try store.cluster(named: "demo")?.status == .available)
        #expect(try service.updateCluster("demo", UpdateClusterRequest(description: "now")).description == "now")
    }

    @Test func growingRecordsTheNewShardsAndTheTargetLayout() throws {
        _ = try service.createCluster(request(shards: 2, replicas: 1))
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        let view = try service.updateCluster("demo", { var request = UpdateClusterRequest(); request.numShards = 3; return request }())
        #expect(view.status == .updating && view.numberOfShards == 3)
        let shards = try store.shards(ofCluster: "demo")
        #expect(shards.map(\.slots) == ["0-5461", "8192-13652", "5462-8191,13653-16383"])
        #expect(shards.map(\.primaryNode) == ["demo-0001-001", "demo-0002-001", "demo-0003-001"])
        let added = try store.nodes(ofCluster: "demo").filter { $0.shardIndex == 3 }
        #expect(added.map(\.name) == ["demo-0003-001", "demo-0003-002"])
        #expect(Set(added.map(\.availabilityZone)).count == 2)
        #expect(Set(try store.nodes(ofCluster: "demo").map(\.port)).count == 6)
        #expect(trigger.woken.withLock { $0 }.last == "demo")
    }

    @Test func nodesStartedWithOtherRebootOnlyValuesShowPendingReboot() throws {
        _ = try service.createCluster(request(shards: 1, replicas: 0))
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        #expect(try service.describeCluster("demo").parameterGroupStatus == "in-sync")
        try store.write { try $0.setPID(ofNode: "demo-0001-001", to: 42, startedWith: "activerehashing=no") }
        #expect(try service.describeCluster("demo").parameterGroupStatus == "pending-reboot")
    }

    @Test func anUpdateWhoseStepsKeepFailingCanBeDeleted() throws {
        _ = try service.createCluster(request(shards: 1, replicas: 0))
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        _ = try service.updateCluster("demo", { var request = UpdateClusterRequest(); request.numShards = 2; return request }())
        expectFault(.invalidClusterState) { try service.deleteCluster("demo") }
        try store.write { try $0.setLastError(ofCluster: "demo", to: "Step 'move slots' failed 10 times in a row") }
        #expect(try service.deleteCluster("demo").status == .deleting)
    }
}
