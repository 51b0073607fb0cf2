import Control
import Runtime
import Reconciler
import Model
import Store
import Testing
import Ports

/// Replica count changes in the pure planner: leaving nodes are stopped, then retired, while
/// the rest of the cluster plans without them; the update ends once the new shape holds.
@Suite struct UpdatePlannerTests {
    let fixture = PlannerFixture()

    func updating() -> ObservedCluster {
        var observed = fixture.formed(clusterState: .updating)
        for index in observed.nodes.indices {
            observed.nodes[index].record.status = .available
            observed.nodes[index].liveness = .answering
        }
        return observed
    }

    @Test func aLeavingReplicaIsStoppedThenRetiredAndTheUpdateEnds() {
        var observed = updating()
        observed.nodes[1].record.status = .deleting
        observed.nodes[1].record.redisNodeID = "R"
        var plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.killNode("demo-0001-002")])
        // The endpoint no longer lists it.
        #expect(plan.endpointBackends == [EndpointBackend(port: 7001, role: .primary)])
        observed.nodes[1].pid = nil
        observed.nodes[1].report = nil
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.retireNode("demo-0001-002")])
        // Retired: the primary alone is the cluster, and the update is done.
        observed.nodes.removeLast()
        observed.nodes[0].report?.members.removeAll { $0.id == "R" }
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.finishUpdate])
    }

    @Test func aNodeThatWasDownWhenAMemberLeftForgetsItWhenBack() {
        // R was retired while P was down: P still lists it, and nobody else will ever tell it.
        var observed = updating()
        observed.cluster.status = .available
        var stranger = observed.nodes[1].report!.members.first { $0.isMyself }!
        stranger.id = "GONE"
        stranger.flags = ["slave", "fail"]
        observed.nodes[0].report?.members.append(stranger)
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains(.forgetMembers("demo-0001-001", ids: ["GONE"])))
        #expect(!plan.actions.contains { if case .forgetMembers("demo-0001-002", _) = $0 { return true } else { return false } })
    }

    @Test func aLeavingNodeIsNeverFailedOverTo() {
        var observed = updating()
        observed.cluster.status = .available
        observed.nodes[1].record.status = .deleting
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        let plan = ClusterPlanner.plan(observed)
        #expect(!plan.actions.contains { if case .beginFailover = $0 { return true } else { return false } })
        #expect(plan.actions.contains(.startNode("demo-0001-001")))
    }

    @Test func aNewReplicaIsAttachedBeforeTheUpdateEnds() {
        var observed = updating()
        // A third node, fresh: it knows only itself.
        var record = observed.nodes[1].record
        record.name = "demo-0001-003"
        record.nodeIndex = 3
        record.port = 7003
        record.status = .creating
        observed.nodes.append(
            ObservedNode(
                record: record, pid: 12,
                report: NodeObservation(
                    myID: "N", members: [PlannerFixture.entry("N", port: 7003, flags: ["myself", "master"])], clusterStateOK: false, isPrimary: true,
                    primaryLinkUp: false),
                liveness: .answering))
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains(.setConfigEpoch("demo-0001-003", epoch: 3)))
        #expect(plan.actions.contains { if case .meet(_, let peers) = $0 { return peers.contains("demo-0001-003") } else { return false } })
        #expect(!plan.actions.contains(.finishUpdate))
    }
}

/// Service updates in the pure planner: a new engine binary or reboot-only values wait for the
/// maintenance window (or BatchUpdateCluster), then roll replicas first; the patch version is
/// recorded once every node runs it.
@Suite struct ServiceUpdatePlannerTests {
    /// Wednesday 2026-11-25 12:00 UTC.
    static let wednesdayNoon: Int64 = 1_795_608_000_000

    func available(engineOnNodes: String = "7.0.15") -> ObservedCluster {
        var observed = PlannerFixture().formed(clusterState: .available)
        for index in observed.nodes.indices {
            observed.nodes[index].record.status = .available
            observed.nodes[index].record.engineVersion = engineOnNodes
            observed.nodes[index].liveness = .answering
        }
        observed.endpointBackends = [EndpointBackend(port: 7001, role: .primary), EndpointBackend(port: 7002, role: .replica)]
        observed.engineTarget = "7.0.16"
        observed.now = Self.wednesdayNoon
        observed.cluster.maintenanceWindow = "sun:23:00-mon:01:30"
        return observed
    }

    @Test func theWeekMinuteOfAKnownTimeIsWednesdayNoon() {
        #expect(Windows.weekMinute(ofMilliseconds: Self.wednesdayNoon) == 3 * 1440 + 720)
        #expect(Windows.contains(maintenanceWindow: "wed:11:30-wed:12:30", weekMinute: 3 * 1440 + 720))
        #expect(!Windows.contains(maintenanceWindow: "sun:23:00-mon:01:30", weekMinute: 3 * 1440 + 720))
        #expect(Windows.contains(maintenanceWindow: "sat:23:00-sun:01:00", weekMinute: 30))
        #expect(Windows.nextStart(ofMaintenanceWindow: "thu:12:00-thu:13:00", after: Self.wednesdayNoon) == Self.wednesdayNoon + 86_400_000)
    }

    @Test func aNewEngineWaitsForTheMaintenanceWindow() {
        let plan = ClusterPlanner.plan(available())
        #expect(plan.actions.isEmpty && plan.settled)
    }

    @Test func inTheWindowReplicasRestartFirstThenThePrimaryFailsOver() {
        var observed = available()
        observed.cluster.maintenanceWindow = "wed:11:30-wed:12:30"
        #expect(ClusterPlanner.plan(observed).actions == [.restartNode("demo-0001-002")])
        observed.nodes[1].record.engineVersion = "7.0.16"
        guard case .beginFailover(let operation)? = ClusterPlanner.plan(observed).actions.first else {
            Issue.record("the primary is not failed over first")
            return
        }
        #expect(operation.fromNode == "demo-0001-001" && operation.toNode == "demo-0001-002" && operation.reason.contains("engine 7.0.15 → 7.0.16"))
    }

    @Test func batchUpdateClusterStartsItAtOnceAndTheEndIsRecorded() {
        var observed = available()
        observed.cluster.updatesRequestedAt = Self.wednesdayNoon
        #expect(ClusterPlanner.plan(observed).actions == [.restartNode("demo-0001-002")])
        // Every node on the new engine: EnginePatchVersion follows, the request is cleared.
        for index in observed.nodes.indices { observed.nodes[index].record.engineVersion = "7.0.16" }
        #expect(ClusterPlanner.plan(observed).actions == [.finishServiceUpdates])
        observed.cluster.updatesRequestedAt = nil
        observed.cluster.enginePatchVersion = "7.0.16"
        #expect(ClusterPlanner.plan(observed).settled)
    }

    /// An engine update snapshots the cluster before its first restart; a failed snapshot holds
    /// the update back; one that opted out (no snapshot name observed) restarts at once.
    @Test func anEngineUpdateSnapshotsTheClusterFirst() {
        var observed = available()
        observed.cluster.updatesRequestedAt = Self.wednesdayNoon
        let name = SnapshotNames.beforeEngineUpdate(cluster: "demo", engine: "7.0.16")
        #expect(name == "automatic.demo-before-engine-7-0-16")
        observed.engineUpdateSnapshot = name
        #expect(ClusterPlanner.plan(observed).actions == [.snapshotBeforeEngineUpdate(name)])
        observed.engineUpdateSnapshotStatus = .creating
        #expect(ClusterPlanner.plan(observed).actions.isEmpty)
        observed.engineUpdateSnapshotStatus = .failed
        #expect(ClusterPlanner.plan(observed).actions.isEmpty)
        observed.engineUpdateSnapshotStatus = .available
        #expect(ClusterPlanner.plan(observed).actions == [.restartNode("demo-0001-002")])
        observed.engineUpdateSnapshot = nil
        observed.engineUpdateSnapshotStatus = nil
        #expect(ClusterPlanner.plan(observed).actions == [.restartNode("demo-0001-002")])
    }

    /// Kept at least a day even with a retention limit of 0; a failed one is kept until deleted.
    @Test func theSnapshotBeforeAnUpdateOutlivesARetentionLimitOfZero() throws {
        let cluster = ClusterRecord(
            name: "demo", description: nil, status: .available, nodeType: "db.t4g.small", engineVersion: "7.0", enginePatchVersion: "7.0.15",
            parameterGroupName: "default.memorydb-redis7", aclName: "open-access", subnetGroupName: "default", tlsEnabled: false, numShards: 1,
            numReplicasPerShard: 0, endpointPort: 7000, adminPassword: "x", createdAt: 0)
        var snapshot = SnapshotRecord(name: SnapshotNames.beforeEngineUpdate(cluster: "demo", engine: "7.0.16"), cluster: cluster, source: "automated", createdAt: 0)
        snapshot.status = .available
        #expect(SnapshotSchedule.decide(clusters: [cluster], snapshots: [snapshot], now: 3_600_000).expire.isEmpty)
        #expect(SnapshotSchedule.decide(clusters: [cluster], snapshots: [snapshot], now: 86_400_000).expire == [snapshot.name])
        snapshot.status = .failed
        #expect(SnapshotSchedule.decide(clusters: [cluster], snapshots: [snapshot], now: 10 * 86_400_000).expire.isEmpty)
    }
}

/// Stopping and starting a cluster in the pure planner: endpoint, replicas, primaries, then
/// `stopped`; a stopped cluster is left alone; a starting one starts every node and fails none over.
@Suite struct StopStartPlannerTests {
    func formed(_ status: ClusterStatus) -> ObservedCluster {
        var observed = PlannerFixture().formed(clusterState: .available)
        for index in observed.nodes.indices { observed.nodes[index].record.status = .available }
        observed.cluster.status = status
        return observed
    }

    @Test func stoppingTakesTheEndpointThenReplicasThenPrimaries() {
        var observed = formed(.stopping)
        #expect(ClusterPlanner.plan(observed).actions == [.stopEndpoint, .stopNode("demo-0001-002")])
        observed.endpointRunning = false
        observed.nodes[1].pid = nil
        observed.nodes[1].report = nil
        #expect(ClusterPlanner.plan(observed).actions == [.stopNode("demo-0001-001")])
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        #expect(ClusterPlanner.plan(observed).actions == [.markStopped])
        observed.cluster.status = .stopped
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.isEmpty && plan.settled && plan.events.isEmpty && plan.nodeUpdates.isEmpty)
    }

    @Test func startingBringsEveryNodeUpAndFailsNoneOver() {
        var observed = formed(.starting)
        for index in observed.nodes.indices {
            observed.nodes[index].record.status = .stopped
            observed.nodes[index].pid = nil
            observed.nodes[index].report = nil
            observed.nodes[index].liveness = .unreachable
        }
        observed.endpointRunning = false
        // The replica came up first: no failover, no node reported down.
        observed.nodes[1].pid = 21
        observed.nodes[1].liveness = .answering
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains(.startNode("demo-0001-001")) && plan.actions.contains(.startEndpoint))
        #expect(!plan.actions.contains { if case .beginFailover = $0 { true } else { false } })
        #expect(plan.events.isEmpty)
    }
}

/// The idle stopper's decision: a cluster's clock restarts whenever its command total moves.
@Suite struct IdleStopperTests {
    @Test func aClusterIsIdleOnceItsTotalStaysPutForTheLimit() {
        let limit = Duration.seconds(60)
        var state = IdleStopper.decide(totals: ["a": 10, "b": 5], previous: [:], now: 0, idleFor: limit)
        #expect(state.idle.isEmpty)
        state = IdleStopper.decide(totals: ["a": 10, "b": 7], previous: state.activity, now: 30_000, idleFor: limit)
        #expect(state.idle.isEmpty && state.activity["b"]?.since == 30_000)
        state = IdleStopper.decide(totals: ["a": 10, "b": 7], previous: state.activity, now: 60_000, idleFor: limit)
        #expect(state.idle == ["a"])
        state = IdleStopper.decide(totals: ["b": 7], previous: state.activity, now: 90_000, idleFor: limit)
        #expect(state.idle == ["b"] && state.activity["a"] == nil)
    }
}
