import Control
import Engine
import Model
import Store
import Testing

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
