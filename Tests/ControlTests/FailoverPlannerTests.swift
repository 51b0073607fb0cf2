import Control
import Runtime
import Reconciler
import Model
import Store
import Testing
import Ports

/// The failover decisions of the pure planner: when a shard fails over, to which replica, and
/// each step of an operation in progress, judged from one observation.
@Suite struct FailoverPlannerTests {
    let fixture = PlannerFixture()

    /// An available, healthy 1×1 cluster: P primary with every slot, R its synced replica.
    func healthy() -> ObservedCluster {
        var observed = fixture.formed(clusterState: .available)
        for index in observed.nodes.indices {
            observed.nodes[index].record.status = .available
            observed.nodes[index].record.redisNodeID = observed.nodes[index].report?.myID
            observed.nodes[index].liveness = .answering
        }
        observed.now = 1_000_000
        return observed
    }

    func operation(_ kind: OperationKind, phase: OperationPhase = .restarting, startedAt: Int64 = 999_000) -> OperationRecord {
        OperationRecord(
            clusterName: "demo", shardIndex: 1, kind: kind, fromNode: "demo-0001-001", toNode: "demo-0001-002", phase: phase,
            reason: "test", startedAt: startedAt)
    }

    func begun(_ plan: ClusterPlan) -> OperationRecord? {
        for action in plan.actions { if case .beginFailover(let operation) = action { return operation } }
        return nil
    }

    /// The healthy cluster, but its shard serves no slot (a new shard before its first move).
    func slotless() -> ObservedCluster {
        var observed = healthy()
        for index in observed.nodes.indices {
            guard var members = observed.nodes[index].report?.members else { continue }
            for member in members.indices { members[member].slots = [] }
            observed.nodes[index].report?.members = members
        }
        return observed
    }

    @Test func aNewShardsEmptyPrimaryIsRestartedInPlaceWithoutAFailover() {
        var observed = slotless()
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        observed.nodes[0].liveness = .unreachable
        let plan = ClusterPlanner.plan(observed)
        #expect(begun(plan) == nil)
        #expect(plan.actions.contains(.startNode("demo-0001-001")))
    }

    @Test func aFailoverOfAShardServingNoSlotEndsWithWhicheverNodeIsPrimary() {
        // Its primary came back as a primary: nothing to fail over.
        var observed = slotless()
        observed.operations = [operation(.automaticFailover)]
        #expect(ClusterPlanner.plan(observed).actions.contains { if case .abandonFailover = $0 { return true } else { return false } })
        // Its replica was promoted (the primary stayed away 10 s): that is the shard's primary now.
        observed.nodes[0].report = nil
        observed.nodes[0].pid = nil
        observed.nodes[1].report?.isPrimary = true
        if let index = observed.nodes[1].report?.members.firstIndex(where: \.isMyself) {
            observed.nodes[1].report?.members[index].primaryID = nil
            observed.nodes[1].report?.members[index].flags = ["myself", "master"]
        }
        #expect(ClusterPlanner.plan(observed).actions.contains(.finishFailover(shard: 1, newPrimary: "demo-0001-002")))
    }

    @Test func aPrimaryBackThatClaimsNothingEndsItsFailover() {
        // The views give the shard slots (a source handed them over) that its primary never
        // claimed before it died: back, it only imports them. Promoting its replica would take
        // over nothing; the failover ends and the ownership rules have the primary claim them.
        var observed = healthy()
        observed.operations = [operation(.automaticFailover)]
        if let index = observed.nodes[0].report?.members.firstIndex(where: \.isMyself) {
            observed.nodes[0].report?.members[index].slots = []
            observed.nodes[0].report?.members[index].importing = [0: "elsewhere"]
        }
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains { if case .abandonFailover = $0 { return true } else { return false } })
        #expect(!plan.actions.contains { if case .promote = $0 { return true } else { return false } })
    }

    @Test func aCrashedPrimaryWithAReplicaFailsOverLosslessly() {
        var observed = healthy()
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        observed.nodes[0].liveness = .unreachable
        let plan = ClusterPlanner.plan(observed)
        let operation = begun(plan)
        #expect(operation?.kind == .automaticFailover)
        #expect(operation?.toNode == "demo-0001-002")
        #expect(operation?.reason.contains("process ended") == true)
        // Restarted in place, from its AOF: the replica will take its whole stream from it.
        #expect(plan.actions.contains(.startNode("demo-0001-001")))
    }

    /// The restarted node answers `-LOADING` while it reads its AOF: the endpoint must stop handing
    /// clients to it before it listens again, so routing precedes the restart.
    @Test func theEndpointStopsRoutingToACrashedPrimaryBeforeItIsRestarted() {
        var observed = healthy()
        observed.endpointRunning = true
        observed.endpointBackends = [EndpointBackend(port: 7001, role: .primary), EndpointBackend(port: 7002, role: .replica)]
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        observed.nodes[0].liveness = .unreachable
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.endpointBackends.last == EndpointBackend(port: 7001, role: .replica))
        let route = plan.actions.firstIndex(of: .routeEndpoint)
        let start = plan.actions.firstIndex(of: .startNode("demo-0001-001"))
        #expect(route != nil && start != nil)
        if let route, let start { #expect(route < start) }
    }

    @Test func aCrashedReplicaIsOnlyRestarted() {
        var observed = healthy()
        observed.nodes[1].pid = nil
        observed.nodes[1].report = nil
        let plan = ClusterPlanner.plan(observed)
        #expect(begun(plan) == nil)
        #expect(plan.actions == [.startNode("demo-0001-002")])
    }

    @Test func aHungPrimaryIsFencedByKillingItThenFailedOver() {
        var observed = healthy()
        observed.nodes[0].report = nil
        observed.nodes[0].liveness = .silent(milliseconds: 620)
        let plan = ClusterPlanner.plan(observed)
        #expect(begun(plan)?.reason.contains("no reply for 620 ms") == true)
        #expect(plan.actions.filter { $0 == .killNode("demo-0001-001") }.count == 1)
        #expect(plan.events.contains {
            if case .nodeHung(node: "demo-0001-001", _, silentMilliseconds: 620, _) = $0 { return true } else { return false }
        })
    }

    @Test func aHungPrimaryWithoutReplicaIsKilledAndRestartedInPlace() {
        var observed = healthy()
        observed.nodes.removeLast()
        observed.nodes[0].report = nil
        observed.nodes[0].liveness = .silent(milliseconds: 700)
        let plan = ClusterPlanner.plan(observed)
        #expect(begun(plan) == nil)
        #expect(plan.actions == [.killNode("demo-0001-001")])
    }

    @Test func aSlowButAnsweringNodeIsLeftAlone() {
        var observed = healthy()
        // The observation timed out, but the liveness probe is answered: not hung.
        observed.nodes[0].report = nil
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.isEmpty)
        #expect(begun(plan) == nil)
    }

    @Test func theReplicaResyncsWithTheRestartedPrimaryThenIsPromoted() {
        var observed = healthy()
        observed.operations = [operation(.automaticFailover)]
        // Restarted primary answers; the replica's link is still down and idle: nudge it.
        observed.nodes[1].report?.primaryLinkUp = false
        var plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.resync(shard: 1, replica: "demo-0001-002", primaryID: "P")])
        // Already nudged just now and syncing: wait, do not start the sync over.
        observed.operations[0].phase = .resyncing
        observed.operations[0].updatedAt = observed.now - 100
        observed.nodes[1].report?.syncInProgress = true
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.isEmpty)
        #expect(plan.waitMilliseconds == 10)
        // Synced: promote, demoting the old primary (pause, catch up, take over).
        observed.nodes[1].report?.syncInProgress = false
        observed.nodes[1].report?.primaryLinkUp = true
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.promote(shard: 1, replica: "demo-0001-002", demoting: "demo-0001-001")])
    }

    @Test func aPromotedReplicaServingTheSlotsFinishesTheOperation() {
        var observed = healthy()
        observed.operations = [operation(.automaticFailover, phase: .promoting)]
        observed.nodes[1].report?.isPrimary = true
        observed.nodes[1].report?.members = [PlannerFixture.entry("R", port: 7002, flags: ["myself", "master"], epoch: 2, slots: PlannerFixture.all)]
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains(.finishFailover(shard: 1, newPrimary: "demo-0001-002")))
        // The endpoint follows the node serving the slots.
        #expect(plan.endpointBackends.first == EndpointBackend(port: 7002, role: .primary))
    }

    @Test func anOldPrimaryThatNeverComesBackIsGivenUpOnAfterTenSeconds() {
        var observed = healthy()
        observed.nodes[0].report = nil
        observed.nodes[0].pid = nil
        observed.operations = [operation(.automaticFailover, startedAt: observed.now - 10_500)]
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains(.promote(shard: 1, replica: "demo-0001-002", demoting: nil)))
    }

    @Test func aLostZoneFailsOverAtOnceAndKeepsTheNodeDown() {
        var observed = healthy()
        observed.nodes[0].record.heldUntil = observed.now + 5000
        observed.nodes[0].record.storageLost = true
        var plan = ClusterPlanner.plan(observed)
        #expect(begun(plan)?.kind == .zoneFailover)
        #expect(!plan.actions.contains(.startNode("demo-0001-001")))
        // Next pass: the primary is gone; the replica takes over with what it has.
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        observed.operations = [operation(.zoneFailover, phase: .promoting)]
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.promote(shard: 1, replica: "demo-0001-002", demoting: nil)])
        #expect(!plan.actions.contains(.startNode("demo-0001-001")))
    }

    @Test func aHeldNodeComesBackWhenItsHoldEnds() {
        var observed = healthy()
        observed.nodes[0].record.heldUntil = observed.now - 1
        observed.nodes[0].pid = nil
        observed.nodes[0].report = nil
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.contains(.releaseNode("demo-0001-001")))
    }

    @Test func aShardServedByAnotherNodeThanRecordedIsPutBack() {
        var observed = healthy()
        // Roles swapped behind the control plane's back: R serves, P replicates R.
        observed.nodes[1].report?.isPrimary = true
        observed.nodes[1].report?.members = [PlannerFixture.entry("R", port: 7002, flags: ["myself", "master"], epoch: 2, slots: PlannerFixture.all)]
        observed.nodes[0].report?.isPrimary = false
        observed.nodes[0].report?.primaryLinkUp = true
        observed.nodes[0].report?.members = [
            PlannerFixture.entry("P", port: 7001, flags: ["myself", "slave"], primaryID: "R", epoch: 1),
            PlannerFixture.entry("R", port: 7002, flags: ["master"], epoch: 2, slots: PlannerFixture.all),
        ]
        let plan = ClusterPlanner.plan(observed)
        let operation = begun(plan)
        #expect(operation?.kind == .failover)
        #expect(operation?.fromNode == "demo-0001-002" && operation?.toNode == "demo-0001-001")
    }

    @Test func theEndpointListsPrimariesFirst() {
        let plan = ClusterPlanner.plan(healthy())
        #expect(plan.endpointBackends == [EndpointBackend(port: 7001, role: .primary), EndpointBackend(port: 7002, role: .replica)])
    }
}
