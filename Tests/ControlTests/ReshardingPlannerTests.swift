import Control
import Runtime
import Reconciler
import Model
import Store
import Testing
import Ports

/// Each step of a slot migration in the pure planner, judged only from what the nodes report
/// (their slots and their open `[slot->-id]` / `[slot-<-id]` migrations), so that a control
/// plane killed between any two steps finishes the move from Redis' own state.
@Suite struct ReshardingPlannerTests {
    static func range(_ first: Int, _ last: Int) -> SlotRange { SlotRange(first: first, last: last) }

    /// Two shards of one primary each, A (shard 1) and B (shard 2), both `updating`: `served`
    /// says what each claims in its own view, `desired` what the stored shards ask of it.
    func cluster(
        servedA: [SlotRange], servedB: [SlotRange], desiredA: [SlotRange], desiredB: [SlotRange], numShards: Int = 2,
        knowEachOther: Bool = true, edit: (inout ClusterNodesEntry, inout ClusterNodesEntry) -> Void = { _, _ in }
    ) -> ObservedCluster {
        var record = PlannerFixture().cluster
        record.status = .updating
        record.numShards = numShards
        record.numReplicasPerShard = 0
        var a = PlannerFixture.entry("A", port: 7001, flags: ["master"], epoch: 1, slots: servedA)
        var b = PlannerFixture.entry("B", port: 7002, flags: ["master"], epoch: 2, slots: servedB)
        edit(&a, &b)
        func view(of id: String) -> [ClusterNodesEntry] {
            var mine = id == "A" ? a : b
            mine.flags.insert("myself")
            guard knowEachOther else { return [mine] }
            var other = id == "A" ? b : a
            other.migrating = [:]
            other.importing = [:]
            return id == "A" ? [mine, other] : [other, mine]
        }
        func node(_ name: String, shard: Int, port: Int, id: String) -> ObservedNode {
            ObservedNode(
                record: NodeRecord(name: name, clusterName: "demo", shardIndex: shard, nodeIndex: 1, port: port, availabilityZone: "us-east-1a", status: .available, role: .primary, createdAt: 0),
                pid: Int32(port), report: NodeObservation(myID: id, members: view(of: id), clusterStateOK: true, isPrimary: true, primaryLinkUp: false),
                liveness: .answering)
        }
        return ObservedCluster(
            cluster: record, nodes: [node("demo-0001-001", shard: 1, port: 7001, id: "A"), node("demo-0002-001", shard: 2, port: 7002, id: "B")],
            shards: [
                ShardRecord(clusterName: "demo", shardIndex: 1, slots: desiredA, primaryNode: "demo-0001-001"),
                ShardRecord(clusterName: "demo", shardIndex: 2, slots: desiredB, primaryNode: "demo-0002-001"),
            ],
            endpointRunning: true, endpointBackends: [EndpointBackend(port: 7001, role: .primary), EndpointBackend(port: 7002, role: .primary)])
    }

    @Test func aNewShardReceivesItsSlotsABatchAtATime() {
        let observed = cluster(servedA: PlannerFixture.all, servedB: [], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)])
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.moveSlots(from: "demo-0001-001", to: "demo-0002-001", slots: [Self.range(8192, 8192 + ClusterPlanner.slotsPerMove - 1)])])
        #expect(!plan.settled)
    }

    @Test func nothingMovesBeforeBothNodesKnowEachOther() {
        let observed = cluster(servedA: PlannerFixture.all, servedB: [], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)], knowEachOther: false)
        let plan = ClusterPlanner.plan(observed)
        #expect(!plan.actions.contains { if case .moveSlots = $0 { return true } else { return false } })
        #expect(plan.actions.contains { if case .meet = $0 { return true } else { return false } })
    }

    @Test func aMoveInterruptedAfterImportingIsTakenUpAgain() {
        // Killed after the target's IMPORTING, before the source handed the slot over.
        let observed = cluster(
            servedA: [Self.range(0, 16383)], servedB: [], desiredA: [Self.range(0, 16382)], desiredB: [Self.range(16383, 16383)]
        ) { _, b in
            b.importing = [16383: "A"]
        }
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.moveSlots(from: "demo-0001-001", to: "demo-0002-001", slots: [Self.range(16383, 16383)])])
    }

    @Test func aSlotHandedOverButNotYetTakenIsClaimedByItsImporter() {
        // The source gave the slot up (its keys went with the copy), the target never claimed it
        // (killed first): nobody claims the slot; the target still imports it and holds the keys.
        var observed = cluster(
            servedA: [Self.range(0, 16382)], servedB: [], desiredA: [Self.range(0, 16382)], desiredB: [Self.range(16383, 16383)]
        ) { _, b in
            b.importing = [16383: "A"]
        }
        // The target's view still has the source serving it (importing ignores gossip).
        observed.nodes[1].report?.members[0].slots = [Self.range(0, 16383)]
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.claimSlots("demo-0002-001", slots: [Self.range(16383, 16383)])])
    }

    @Test func anUnclaimedSlotGoesToTheNodeHoldingItsKeysThenMovesOn() {
        // Nobody claims slot 100 and nobody imports it; B holds its keys (a promoted replica of
        // a target that claimed it and died before anyone heard). B claims it; the layout then
        // moves it to A like any other slot.
        var observed = cluster(
            servedA: [Self.range(0, 99), Self.range(101, 8191)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 8191)],
            desiredB: [Self.range(8192, 16383)])
        observed.slotKeys = [100: ["demo-0002-001": 7]]
        #expect(ClusterPlanner.plan(observed).actions == [.claimSlots("demo-0002-001", slots: [Self.range(100, 100)])])
        // With no keys anywhere, its shard's primary takes it.
        observed.slotKeys = [:]
        #expect(ClusterPlanner.plan(observed).actions == [.claimSlots("demo-0001-001", slots: [Self.range(100, 100)])])
    }

    @Test func aSlotTwoPrimariesClaimIsLeftToTheirEpochs() {
        // Both claim 8192 for a moment (the target claimed, the source has not heard yet): no
        // move and no retirement before Redis settles it.
        let observed = cluster(
            servedA: [Self.range(0, 8192)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)])
        let work = ClusterPlanner.slotWork(observed)
        #expect(work.contested == [8192] && !work.isDone)
        #expect(work.moves.isEmpty)
        #expect(!ClusterPlanner.plan(observed).actions.contains(.finishUpdate))
    }

    @Test func strayKeysArePurgedThroughTheirShardsPrimaryOnceTheSlotHasOneOwner() {
        var observed = cluster(
            servedA: [Self.range(0, 8191)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)])
        observed.strayKeys = ["demo-0001-001": [9000, 9001]]
        #expect(ClusterPlanner.plan(observed).actions == [.purgeStrayKeys("demo-0001-001", slots: [Self.range(9000, 9001)])])
        // Keys in a slot it serves itself are no strays.
        observed.strayKeys = ["demo-0001-001": [10]]
        #expect(ClusterPlanner.plan(observed).actions == [.finishUpdate])
    }

    @Test func aSlotLeftMigratingOnItsOwnerIsClosed() {
        // A source never has a slot MIGRATING here; one found so (another tool's) is closed.
        let observed = cluster(
            servedA: [Self.range(0, 8191)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)]
        ) { a, _ in
            a.migrating = [5: "B"]
        }
        #expect(ClusterPlanner.plan(observed).actions == [.stabilizeSlots("demo-0001-001", slots: [Self.range(5, 5)])])
    }

    @Test func aTargetThatHasNotHeardWhoServesTheSlotsWaits() {
        var observed = cluster(servedA: PlannerFixture.all, servedB: [], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)])
        observed.nodes[1].report?.members[0].slots = []
        let work = ClusterPlanner.slotWork(observed)
        #expect(work.moves.isEmpty && work.waiting == 8192 && !work.isDone)
        #expect(ClusterPlanner.plan(observed).actions.isEmpty)
    }

    @Test func aTargetImportingSlotsItNeverHeardTheOwnerOfClosesThem() {
        // Redis ignores gossip about a slot it imports: this would wait forever.
        var observed = cluster(servedA: PlannerFixture.all, servedB: [], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)]) { _, b in
            b.importing = [8192: "A"]
        }
        observed.nodes[1].report?.members[0].slots = []
        #expect(ClusterPlanner.plan(observed).actions == [.stabilizeSlots("demo-0002-001", slots: [Self.range(8192, 8192)])])
    }

    @Test func anOpenMigrationNoMoveExplainsIsClosed() {
        // The layout holds, but B still imports a slot A keeps (a layout since changed).
        let observed = cluster(
            servedA: [Self.range(0, 8191)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)]
        ) { _, b in
            b.importing = [100: "A"]
        }
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.stabilizeSlots("demo-0002-001", slots: [Self.range(100, 100)])])
    }

    @Test func aDrainedShardIsRetiredOnceEveryViewAgreesThenTheUpdateEnds() {
        // Shrinking to one shard: B has handed over everything, but A's view still shows B serving.
        var observed = cluster(
            servedA: PlannerFixture.all, servedB: [], desiredA: PlannerFixture.all, desiredB: [], numShards: 1)
        observed.nodes[0].report?.members[1].slots = [Self.range(8192, 16383)]
        var plan = ClusterPlanner.plan(observed)
        #expect(!plan.actions.contains(.retireShard(2)))
        #expect(!plan.actions.contains(.finishUpdate))
        // Gossip caught up, but B still sent a client on a moment ago: it stays until clients
        // have learned the layout (none redirected for 2 s).
        observed.nodes[0].report?.members[1].slots = []
        observed.drainQuiet = [2: 500]
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions.isEmpty && !plan.settled)
        observed.drainQuiet = [2: ClusterPlanner.drainQuietMilliseconds]
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.retireShard(2)])
        // Retired: its nodes are gone with its record, and the one shard left holds everything.
        observed.nodes.removeLast()
        observed.shards.removeLast()
        observed.nodes[0].report?.members.removeLast()
        observed.endpointBackends = [EndpointBackend(port: 7001, role: .primary)]
        plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.finishUpdate])
    }

    @Test func aRemovedShardGivesItsSlotsAwayBeforeItIsRetired() {
        let observed = cluster(
            servedA: [Self.range(0, 8191)], servedB: [Self.range(8192, 16383)], desiredA: PlannerFixture.all, desiredB: [], numShards: 1)
        let plan = ClusterPlanner.plan(observed)
        #expect(plan.actions == [.moveSlots(from: "demo-0002-001", to: "demo-0001-001", slots: [Self.range(8192, 8192 + ClusterPlanner.slotsPerMove - 1)])])
    }

    @Test func anOldPrimaryOfTheSameShardIsNeverASource() {
        // B is not a recorded primary here (shard 2 is recorded as served by A too): whatever it
        // claims is the failover's business; no keys of it are moved.
        var observed = cluster(servedA: PlannerFixture.all, servedB: [Self.range(0, 10)], desiredA: PlannerFixture.all, desiredB: [])
        observed.shards[1].primaryNode = "demo-0001-001"
        let work = ClusterPlanner.slotWork(observed)
        #expect(work.moves.isEmpty)
    }

    /// Shards A (0-8191) and B (8192-16383) serving; new shards C and D to take the upper halves.
    func fourShards() -> ObservedCluster {
        var observed = cluster(servedA: [Self.range(0, 8191)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 4095)], desiredB: [Self.range(8192, 12287)])
        for (index, name) in ["demo-0003-001", "demo-0004-001"].enumerated() {
            let id = index == 0 ? "C" : "D"
            var members = observed.nodes[0].report?.members.map { member -> ClusterNodesEntry in
                var member = member
                member.flags.remove("myself")
                return member
            } ?? []
            members.append(PlannerFixture.entry(id, port: 7003 + index, flags: ["myself", "master"], epoch: 3 + index))
            observed.nodes.append(
                ObservedNode(
                    record: NodeRecord(name: name, clusterName: "demo", shardIndex: 3 + index, nodeIndex: 1, port: 7003 + index, availabilityZone: "us-east-1c", status: .available, role: .primary, createdAt: 0),
                    pid: Int32(7003 + index), report: NodeObservation(myID: id, members: members, clusterStateOK: true, isPrimary: true, primaryLinkUp: false), liveness: .answering))
            observed.shards.append(
                ShardRecord(clusterName: "demo", shardIndex: 3 + index, slots: [index == 0 ? Self.range(4096, 8191) : Self.range(12288, 16383)], primaryNode: name))
            for existing in observed.nodes.indices.dropLast() {
                observed.nodes[existing].report?.members.append(PlannerFixture.entry(id, port: 7003 + index, flags: ["master"], epoch: 3 + index))
            }
        }
        observed.cluster.numShards = 4
        observed.endpointBackends = (7001...7004).map { EndpointBackend(port: $0, role: .primary) }
        return observed
    }

    @Test func movesBetweenDistinctPairsAreTakenAtOnce() {
        // Two sources, two new targets: one move each, never two on one node.
        let moves = ClusterPlanner.plan(fourShards()).actions
        #expect(moves == [
            .moveSlots(from: "demo-0001-001", to: "demo-0003-001", slots: [Self.range(4096, 4096 + ClusterPlanner.slotsPerMove - 1)]),
            .moveSlots(from: "demo-0002-001", to: "demo-0004-001", slots: [Self.range(12288, 12288 + ClusterPlanner.slotsPerMove - 1)]),
        ])
    }

    @Test func slotsKeepMovingBetweenWholeShardsWhileAnotherIsAway() {
        // Two sources, two new targets; the first new target was killed mid-move and is starting
        // again: the move to the second goes on, the first waits for its target.
        var observed = fourShards()
        observed.nodes[2].report = nil  // restarted, still loading
        let moves = ClusterPlanner.plan(observed).actions.filter { if case .moveSlots = $0 { return true } else { return false } }
        #expect(moves == [.moveSlots(from: "demo-0002-001", to: "demo-0004-001", slots: [Self.range(12288, 12288 + ClusterPlanner.slotsPerMove - 1)])])
    }

    @Test func anEvenLayoutIsDone() {
        let observed = cluster(servedA: [Self.range(0, 8191)], servedB: [Self.range(8192, 16383)], desiredA: [Self.range(0, 8191)], desiredB: [Self.range(8192, 16383)])
        #expect(ClusterPlanner.slotWork(observed).isDone)
        #expect(ClusterPlanner.plan(observed).actions == [.finishUpdate])
    }
}
