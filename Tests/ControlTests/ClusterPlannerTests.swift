import Control
import Runtime
import Reconciler
import Model
import Store
import Testing
import Ports

/// A 1-shard × 1-replica cluster in whatever state a test needs, built without any I/O.
struct PlannerFixture {
    var cluster = ClusterRecord(
        name: "demo", description: nil, status: .creating, nodeType: "db.t4g.small", engineVersion: "7.0",
        enginePatchVersion: "7.0.15", parameterGroupName: "default.memorydb-redis7", aclName: "open-access",
        subnetGroupName: "default", tlsEnabled: false, numShards: 1, numReplicasPerShard: 1, endpointPort: 7000,
        adminPassword: "pw", createdAt: 0)
    var primary = NodeRecord(
        name: "demo-0001-001", clusterName: "demo", shardIndex: 1, nodeIndex: 1, port: 7001,
        availabilityZone: "us-east-1a", status: .creating, role: .primary, createdAt: 0)
    var replica = NodeRecord(
        name: "demo-0001-002", clusterName: "demo", shardIndex: 1, nodeIndex: 2, port: 7002,
        availabilityZone: "us-east-1b", status: .creating, role: .replica, createdAt: 0)

    static func entry(_ id: String, port: Int, flags: Set<String>, primaryID: String? = nil, epoch: Int = 0, slots: [SlotRange] = []) -> ClusterNodesEntry {
        ClusterNodesEntry(id: id, host: "127.0.0.1", port: port, flags: flags, primaryID: primaryID, configEpoch: epoch, connected: true, slots: slots)
    }

    static let all = [SlotRange(first: 0, last: 16383)]

    /// Both nodes fresh: each knows only itself.
    func fresh() -> ObservedCluster {
        ObservedCluster(
            cluster: cluster,
            nodes: [
                ObservedNode(record: primary, pid: 10, report: NodeObservation(myID: "P", members: [Self.entry("P", port: 7001, flags: ["myself", "master"])], clusterStateOK: false, isPrimary: true, primaryLinkUp: false)),
                ObservedNode(record: replica, pid: 11, report: NodeObservation(myID: "R", members: [Self.entry("R", port: 7002, flags: ["myself", "master"])], clusterStateOK: false, isPrimary: true, primaryLinkUp: false)),
            ],
            endpointRunning: true)
    }

    /// Fully formed: met, slots served, replica synced, state ok.
    func formed(clusterState: ClusterStatus = .creating) -> ObservedCluster {
        var cluster = cluster
        cluster.status = clusterState
        let members = [
            Self.entry("P", port: 7001, flags: ["master"], epoch: 1, slots: Self.all),
            Self.entry("R", port: 7002, flags: ["slave"], primaryID: "P", epoch: 1),
        ]
        func view(_ id: String) -> [ClusterNodesEntry] {
            members.map { var entry = $0; if entry.id == id { entry.flags.insert("myself") }; return entry }
        }
        return ObservedCluster(
            cluster: cluster,
            nodes: [
                ObservedNode(record: primary, pid: 10, report: NodeObservation(myID: "P", members: view("P"), clusterStateOK: true, isPrimary: true, primaryLinkUp: false)),
                ObservedNode(record: replica, pid: 11, report: NodeObservation(myID: "R", members: view("R"), clusterStateOK: true, isPrimary: false, primaryLinkUp: true)),
            ],
            endpointRunning: true)
    }
}

@Suite struct ClusterPlannerTests {
    let fixture = PlannerFixture()

    @Test func nothingRunningStartsEndpointAndEveryNode() {
        var observed = fixture.fresh()
        observed.endpointRunning = false
        for index in observed.nodes.indices {
            observed.nodes[index].pid = nil
            observed.nodes[index].report = nil
        }
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.startEndpoint, .startNode("demo-0001-001"), .startNode("demo-0001-002")])
        #expect(!plan.settled)
    }

    @Test func startedButSilentNodesAreAwaited() {
        var observed = fixture.fresh()
        observed.nodes[1].report = nil
        #expect(ClusterPlanner.plan(observed).actions.isEmpty)
    }

    @Test func freshNodesGetEpochsThenMeetThenSlots() {
        let plan = ClusterPlanner.plan(fixture.fresh())
        #expect(plan.actions == [
            .setConfigEpoch("demo-0001-001", epoch: 1),
            .setConfigEpoch("demo-0001-002", epoch: 2),
            .meet("demo-0001-001", peers: ["demo-0001-002"]),
            .addSlots("demo-0001-001", PlannerFixture.all),
        ])
        // Redis node ids are learned from the reports.
        #expect(plan.nodeUpdates.map(\.redisNodeID) == ["P", "R"])
    }

    @Test func replicaIsAttachedOnceItKnowsItsPrimary() {
        var observed = fixture.formed()
        // The replica knows the primary but still acts as a primary of nothing.
        observed.nodes[1].report = NodeObservation(
            myID: "R",
            members: [PlannerFixture.entry("R", port: 7002, flags: ["myself", "master"], epoch: 2), PlannerFixture.entry("P", port: 7001, flags: ["master"], epoch: 1, slots: PlannerFixture.all)],
            clusterStateOK: true, isPrimary: true, primaryLinkUp: false)
        #expect(ClusterPlanner.plan(observed).actions == [.replicate("demo-0001-002", primaryID: "P")])
        // Not before it has completed the handshake with the primary.
        observed.nodes[1].report!.members[1].flags.insert("handshake")
        #expect(!ClusterPlanner.plan(observed).actions.contains(.replicate("demo-0001-002", primaryID: "P")))
    }

    @Test func aNodeThatMissedAPrimarysSlotsHearsThemByAFreshMeet() {
        var observed = fixture.formed()
        // The replica knows the primary but has not yet learned which slots it serves.
        let primaryEntry = observed.nodes[1].report!.members.firstIndex { $0.id == "P" }!
        observed.nodes[1].report!.members[primaryEntry].slots = []
        observed.nodes[1].report!.clusterStateOK = false
        #expect(ClusterPlanner.plan(observed).actions == [.meet("demo-0001-001", peers: ["demo-0001-002"])])
        // Not while that meet's handshake is still open, and never once the cluster is available.
        var handshaking = observed
        handshaking.nodes[0].report!.members.append(PlannerFixture.entry("tmp", port: 7002, flags: ["handshake"]))
        #expect(ClusterPlanner.plan(handshaking).actions.isEmpty)
        observed.cluster.status = .available
        #expect(ClusterPlanner.plan(observed).actions.isEmpty)
    }

    @Test func handshakeInProgressIsNotMetAgain() {
        var observed = fixture.fresh()
        observed.nodes[0].report!.members.append(PlannerFixture.entry("tmp", port: 7002, flags: ["handshake"]))
        observed.nodes[0].report!.members[0].configEpoch = 1
        observed.nodes[1].report!.members[0].configEpoch = 2
        #expect(!ClusterPlanner.plan(observed).actions.contains { if case .meet = $0 { return true }; return false })
    }

    @Test func readyCreatingClusterBecomesAvailableWithAllNodes() {
        let plan = ClusterPlanner.plan(fixture.formed())
        #expect(plan.actions == [.markAvailable])
        #expect(plan.nodeUpdates.allSatisfy { $0.status == .available })
    }

    @Test func unsyncedReplicaKeepsTheClusterCreating() {
        var observed = fixture.formed()
        observed.nodes[1].report!.primaryLinkUp = false
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.isEmpty)
        #expect(!plan.settled)
        #expect(plan.nodeUpdates.allSatisfy { $0.status == .creating })
    }

    @Test func availableAndHealthyIsSettled() {
        var observed = fixture.formed(clusterState: .available)
        for index in observed.nodes.indices { observed.nodes[index].record.status = .available; observed.nodes[index].record.redisNodeID = observed.nodes[index].report!.myID }
        observed.nodes[0].record.pid = 10
        observed.nodes[1].record.pid = 11
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.settled)
        #expect(plan.actions.isEmpty)
        #expect(plan.nodeUpdates.isEmpty)
    }

    @Test func deadNodeOfAnAvailableClusterIsRestartedWithAnEvent() {
        var observed = fixture.formed(clusterState: .available)
        observed.nodes[0].record.status = .available
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        let plan = ClusterPlanner.plan(observed)
        // With a replica, the shard fails over too (see FailoverPlannerTests); the old primary
        // is restarted in place either way, from its AOF.
        #expect(plan.actions.contains(.startNode("demo-0001-001")))
        #expect(plan.nodeUpdates.first { $0.name == "demo-0001-001" }?.status == .restarting)
        #expect(plan.events.contains(.nodeDown(node: "demo-0001-001", port: observed.nodes[0].record.port)))
    }

    @Test func recoveredNodeIsAvailableAgainWithAnEvent() {
        var observed = fixture.formed(clusterState: .available)
        observed.nodes[0].record.status = .restarting
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.nodeUpdates.first { $0.name == "demo-0001-001" }?.status == .available)
        #expect(plan.events == [.nodeRecovered(node: "demo-0001-001")])
    }

    @Test func deletionStopsRunningNodesThenRemovesTheCluster() {
        var observed = fixture.formed()
        observed.cluster.status = .deleting
        #expect(ClusterPlanner.plan(observed).actions == [.stopNode("demo-0001-001"), .stopNode("demo-0001-002")])
        observed.nodes[0].pid = nil
        #expect(ClusterPlanner.plan(observed).actions == [.stopNode("demo-0001-002")])
        observed.nodes[1].pid = nil
        #expect(ClusterPlanner.plan(observed).actions == [.removeCluster])
    }

    @Test func onlyUnservedSlotsAreAssigned() {
        var observed = fixture.fresh()
        observed.nodes[0].report!.members[0].slots = [SlotRange(first: 0, last: 99), SlotRange(first: 200, last: 16383)]
        observed.nodes[0].report!.members[0].configEpoch = 1
        #expect(ClusterPlanner.plan(observed).actions.contains(.addSlots("demo-0001-001", [SlotRange(first: 100, last: 199)])))
    }
}

@Suite struct EndpointReadinessTests {
    @Test func aClusterIsNotAvailableUntilItsEndpointAnswers() {
        var observed = PlannerFixture().formed()
        observed.endpointAnswers = false
        #expect(!ClusterPlanner.plan(observed).actions.contains(.markAvailable))
        observed.endpointAnswers = true
        #expect(ClusterPlanner.plan(observed).actions == [.markAvailable])
    }
}
