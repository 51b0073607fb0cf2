@testable import Control
@testable import Reconciler
import Runtime
import Logging
import Model
import Store
import Testing
import Ports

/// The reconcile loop itself, against `FakeDataPlane`: what it observes, decides and does, pass
/// by pass, with no process started.
@Suite struct ReconcilerTests {
    let store: Store
    let dataPlane = FakeDataPlane()
    let controlPlane: ControlPlane
    let reconciler: ClusterReconciler
    /// Time moves only when a test moves it.
    let clock = ManualWallClock(SystemWallClock().nowMilliseconds)

    init() throws {
        store = try Store.inMemory()
        var configuration = ControlConfiguration(nodePorts: 7000...7099, engineVersion: EngineVersion(major: 7, minor: 0, patch: 15))
        configuration.clock = clock
        controlPlane = ControlPlane(
            configuration: configuration, store: store, dataPlane: dataPlane, ports: PortAllocator(range: 7000...7099, isBindable: { _ in true }),
            logger: Logger(label: "test"))
        reconciler = ClusterReconciler(
            store: store, dataPlane: dataPlane, configuration: configuration, parameterGroups: controlPlane.parameterGroups,
            accessControl: controlPlane.accessControl, logger: Logger(label: "test"), backoff: StartBackoff(initial: .zero, maximum: .zero))
    }

    func create(_ name: String = "demo", shards: Int = 2, replicas: Int = 1, acl: String = "open-access") throws {
        _ = try controlPlane.clusters.createCluster(
            CreateClusterRequest(name: name, nodeType: "db.t4g.small", numShards: shards, numReplicasPerShard: replicas, aclName: acl, tlsEnabled: acl == "open-access" ? false : true))
    }

    /// The cluster's events in words, newest first: tests look for a `ClusterEvent`'s message.
    func recorded(_ name: String = "demo") throws -> [String] {
        try store.events(sourceName: name).map(\.message)
    }

    /// Runs passes until one settles (or the cluster is gone); returns how many it took.
    @discardableResult
    func reconcileUntilSettled(_ name: String = "demo", passes: Int = 50) async throws -> Int {
        for pass in 1...passes {
            switch try await reconciler.reconcile(name) {
            case .settled, .gone: return pass
            case .progressing, .deferred, .retry, .failed: continue
            }
        }
        Issue.record("\(name) did not settle in \(passes) passes; calls: \(dataPlane.calls)")
        return passes
    }

    @Test func creationStartsMeetsAssignsReplicatesAndBecomesAvailable() async throws {
        try create()
        try await reconcileUntilSettled()
        let view = try controlPlane.clusters.describeCluster("demo")
        #expect(view.status == .available)
        #expect(view.shards.flatMap(\.nodes).allSatisfy { $0.status == .available })
        let calls = dataPlane.calls
        #expect(calls.filter { $0.hasPrefix("start demo") }.count == 4)
        #expect(calls.contains("addslots demo-0001-001 0-8191"))
        #expect(calls.contains("addslots demo-0002-001 8192-16383"))
        #expect(calls.contains("replicate demo-0001-002") && calls.contains("replicate demo-0002-002"))
        // Parameters, then the ACL, then availability: each applied once, to every node.
        let parameters = calls.firstIndex { $0.hasPrefix("parameters") }
        let acl = calls.firstIndex { $0.hasPrefix("acl") }
        #expect(parameters != nil && acl != nil && parameters! < acl!)
        #expect(calls.filter { $0.hasPrefix("parameters") }.count == 4)
        #expect(try recorded().contains(ClusterEvent.available.message))
        // Settled: another pass does nothing.
        let before = dataPlane.calls.count
        #expect(try await reconciler.reconcile("demo") == .settled)
        #expect(dataPlane.calls.count == before)
    }

    @Test func aNodeThatFailsToStartIsRetriedAndReportedAfterThreeFailures() async throws {
        dataPlane.script { $0.failingStarts["demo-0001-001"] = 4 }
        try create(shards: 1, replicas: 0)
        try await reconcileUntilSettled()
        #expect(dataPlane.calls.filter { $0 == "start demo-0001-001" }.count == 5)
        #expect(try recorded().contains(ClusterEvent.nodeStartRetrying(node: "demo-0001-001").message))
        #expect(try controlPlane.clusters.describeCluster("demo").status == .available)
    }

    @Test func aNodeThatNeverAnswersKeepsTheClusterCreatingWithoutRestarts() async throws {
        dataPlane.script { $0.silent = ["demo-0001-002"] }
        try create(shards: 1, replicas: 1)
        for _ in 0..<20 { _ = try await reconciler.reconcile("demo") }
        #expect(try controlPlane.clusters.describeCluster("demo").status == .creating)
        // Its process runs: silence is not death, so it is not started again.
        #expect(dataPlane.calls.filter { $0 == "start demo-0001-002" }.count == 1)
        dataPlane.script { $0.silent = [] }
        try await reconcileUntilSettled()
        #expect(try controlPlane.clusters.describeCluster("demo").status == .available)
    }

    @Test func aKilledNodeIsRestartedAndReported() async throws {
        try create(shards: 1, replicas: 0)
        try await reconcileUntilSettled()
        let first = dataPlane.pid(of: "demo-0001-001")
        dataPlane.kill("demo-0001-001")
        _ = try await reconciler.reconcile("demo")
        #expect(dataPlane.pid(of: "demo-0001-001") != nil && dataPlane.pid(of: "demo-0001-001") != first)
        #expect(try recorded().contains(ClusterEvent.nodeDown(node: "demo-0001-001", port: try #require(store.nodes(ofCluster: "demo").first { $0.name == "demo-0001-001" }).port).message))
    }

    @Test func probesThatCannotLookJudgeNothing() async throws {
        try create(shards: 1, replicas: 0)
        try await reconcileUntilSettled()
        let calls = dataPlane.calls.count
        dataPlane.script { $0.probesUnavailable = true }
        let outcome = try await reconciler.reconcile("demo")
        guard case .deferred(let reason) = outcome else {
            Issue.record("expected a deferred pass, got \(outcome)")
            return
        }
        #expect(reason.contains("/proc"))
        #expect(dataPlane.calls.count == calls, "nothing may be started or stopped while blind")
        #expect(try store.nodes(ofCluster: "demo").allSatisfy { $0.status == .available })
    }

    @Test func aParameterChangeReachesEveryNode() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        _ = try controlPlane.parameterGroups.createGroup(name: "tuned", family: "memorydb_redis7", description: nil, tags: [])
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        _ = try controlPlane.clusters.updateCluster("demo", UpdateClusterRequest(parameterGroupName: "tuned"))
        #expect(try controlPlane.clusters.describeCluster("demo").parameterGroupStatus == "applying")
        let before = dataPlane.calls.count
        try await reconcileUntilSettled()
        let applied = dataPlane.calls.dropFirst(before).filter { $0.hasPrefix("parameters") }
        #expect(applied.count == 2)
        #expect(try controlPlane.clusters.describeCluster("demo").parameterGroupStatus == "in-sync")
    }

    @Test func deletionStopsEveryNodeThenRemovesEverything() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        _ = try controlPlane.clusters.deleteCluster("demo")
        try await reconcileUntilSettled()
        let calls = dataPlane.calls
        #expect(calls.contains("stop demo-0001-001") && calls.contains("stop demo-0001-002"))
        #expect(calls.contains("remove endpoint") && calls.contains("remove demo-0001-001"))
        #expect(try store.cluster(named: "demo") == nil)
        #expect(try store.tags(of: controlPlane.configuration.arn(.cluster, "demo")).isEmpty)
        #expect(try await reconciler.reconcile("demo") == .gone)
    }

    @Test func theLoopActsOnAWakeUpWithoutWaitingForItsInterval() async throws {
        // Supervision every minute: only the wake-up can make the loop notice the new cluster soon.
        let service = ReconcilerService(
            store: store, reconciler: reconciler, signal: controlPlane.signal, logger: Logger(label: "test"),
            supervisionInterval: .seconds(60), progressInterval: .milliseconds(5))
        let loops = Task { try await service.run() }
        defer { loops.cancel() }
        try create(shards: 1, replicas: 0)
        let view = try await controlPlane.clusters.waitUntilSettled("demo", timeout: .seconds(20))
        #expect(view?.status == .available)
    }

    // MARK: Failover

    @Test func aKilledPrimaryIsReplacedByItsReplicaAndTheRecordFollows() async throws {
        try create(shards: 2, replicas: 1)
        try await reconcileUntilSettled()
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        dataPlane.kill("demo-0001-001")
        try await reconcileUntilSettled()
        // Restarted in place (from its AOF), then the replica took over over it, losslessly.
        #expect(dataPlane.calls.contains("promote demo-0001-002 over demo-0001-001"))
        #expect(dataPlane.pid(of: "demo-0001-001") != nil)
        #expect(try store.shards(ofCluster: "demo").first?.primaryNode == "demo-0001-002")
        #expect(try store.operations(ofCluster: "demo").isEmpty)
        let view = try controlPlane.clusters.describeCluster("demo")
        #expect(view.shards[0].nodes.map(\.role) == [.replica, .primary])
        #expect(view.shards[1].nodes.map(\.role) == [.primary, .replica])
        let events = try store.events(sourceName: "demo").map(\.message)
        #expect(events.contains { $0.contains("Shard 0001 failing over: primary demo-0001-001 failed: its process ended") })
        #expect(events.contains { $0.hasPrefix("Shard 0001 failed over in") })
        // The endpoint now sends clients to the new primary first.
        #expect(dataPlane.calls.contains { $0.hasPrefix("route endpoint") })
    }

    @Test func aHungPrimaryIsKilledBeforeItsReplicaTakesOver() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        dataPlane.script { $0.hung = ["demo-0001-001"] }
        try await reconcileUntilSettled()
        let calls = dataPlane.calls
        let kill = try #require(calls.firstIndex(of: "kill demo-0001-001"))
        let promote = try #require(calls.firstIndex(of: "promote demo-0001-002 over demo-0001-001"))
        #expect(kill < promote, "the old primary is fenced before anything is promoted")
        #expect(try store.shards(ofCluster: "demo").first?.primaryNode == "demo-0001-002")
    }

    @Test func anOperationRecordedByAnotherControlPlaneIsFinished() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        // FailoverShard recorded the operation, then that control plane died: a fresh reconciler
        // (nothing in memory) finishes it from the record alone.
        _ = try controlPlane.clusters.failoverShard(cluster: "demo", shard: "0001")
        let fresh = ClusterReconciler(
            store: store, dataPlane: dataPlane, configuration: controlPlane.configuration, parameterGroups: controlPlane.parameterGroups,
            accessControl: controlPlane.accessControl, logger: Logger(label: "test"))
        for _ in 0..<20 where try await fresh.reconcile("demo") != .settled {}
        #expect(try store.shards(ofCluster: "demo").first?.primaryNode == "demo-0001-002")
        #expect(try store.operations(ofCluster: "demo").isEmpty)
    }

    @Test func aStepThatKeepsFailingBecomesAnEventAndTheClustersLastError() async throws {
        dataPlane.script { $0.failingReplicates = 100 }
        try create(shards: 1, replicas: 1)
        var outcomes: [ClusterReconciler.Outcome] = []
        for _ in 0..<40 {
            let outcome = try await reconciler.reconcile("demo")
            outcomes.append(outcome)
            if case .failed = outcome { break }
        }
        guard case .failed(let reason) = outcomes.last else {
            Issue.record("expected a failed pass, got \(outcomes.suffix(3))")
            return
        }
        #expect(reason.contains("CLUSTER REPLICATE") && reason.contains("demo-0001-002") && reason.contains("scripted"))
        let view = try controlPlane.clusters.describeCluster("demo")
        #expect(view.lastError?.contains("failed 10 times in a row") == true)
        let events = try store.events(sourceName: "demo").map(\.message)
        #expect(events.contains { $0.contains("failed 3 times in a row") })
        // A creation stuck like this is not `available`, yet it can be given up.
        #expect(view.status == .creating)
        // Once the step succeeds, the cluster settles and its last error is cleared, with an event.
        dataPlane.script { $0.failingReplicates = 0 }
        try await reconcileUntilSettled()
        _ = try await reconciler.reconcile("demo")
        #expect(try controlPlane.clusters.describeCluster("demo").lastError == nil)
        #expect(try recorded().contains(ClusterEvent.recovered.message))
    }

    @Test func aCreationThatKeepsFailingCanBeDeleted() async throws {
        dataPlane.script { $0.failingReplicates = 1000 }
        try create(shards: 1, replicas: 1)
        for _ in 0..<40 {
            if case .failed = try await reconciler.reconcile("demo") { break }
        }
        #expect(try controlPlane.clusters.deleteCluster("demo").status == .deleting)
        try await reconcileUntilSettled()
        #expect(try store.cluster(named: "demo") == nil)
    }

    @Test func aDrillHoldsItsNodesDownFailsOverAndBringsThemBackWithoutTheirData() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        try store.write { try $0.setStatus(ofCluster: "demo", to: .available) }
        // A long hold, ended below by moving its end to now: the passes in between take whatever
        // time a loaded machine gives them (a 1 s hold once ran out under them).
        let drill = try controlPlane.drills.start(cluster: "demo", target: .shardPrimary("0001"), durationSeconds: 600)
        #expect(drill.nodes == ["demo-0001-001"])
        for _ in 0..<10 { _ = try await reconciler.reconcile("demo") }
        #expect(dataPlane.pid(of: "demo-0001-001") == nil, "held down for the drill")
        #expect(dataPlane.calls.contains("promote demo-0001-002"))
        #expect(try store.shards(ofCluster: "demo").first?.primaryNode == "demo-0001-002")
        try store.write { try $0.hold(nodes: ["demo-0001-001"], until: clock.nowMilliseconds - 1, storageLost: true) }
        try await reconcileUntilSettled()
        #expect(dataPlane.calls.contains("discard demo-0001-001"))
        #expect(dataPlane.pid(of: "demo-0001-001") != nil)
        #expect(try controlPlane.drills.describe(drill.id).status == "completed")
        let events = try store.events(sourceName: "demo").map(\.message)
        #expect(events.contains { $0.contains("replica was 10 bytes behind the lost primary") })
    }

    // MARK: Replica count

    @Test func replicasAreAddedThenRemovedAndForgotten() async throws {
        try create(shards: 2, replicas: 1)
        try await reconcileUntilSettled()
        var view = try controlPlane.clusters.updateCluster("demo", { var r = UpdateClusterRequest(); r.numReplicasPerShard = 2; return r }())
        #expect(view.status == .updating)
        try await reconcileUntilSettled()
        view = try controlPlane.clusters.describeCluster("demo")
        #expect(view.status == .available)
        #expect(view.shards.map { $0.nodes.count } == [3, 3])
        #expect(view.shards.flatMap(\.nodes).allSatisfy { $0.status == .available })
        #expect(dataPlane.calls.contains("replicate demo-0001-003") && dataPlane.calls.contains("replicate demo-0002-003"))

        _ = try controlPlane.clusters.updateCluster("demo", { var r = UpdateClusterRequest(); r.numReplicasPerShard = 0; return r }())
        try await reconcileUntilSettled()
        view = try controlPlane.clusters.describeCluster("demo")
        #expect(view.status == .available && view.availabilityMode == "SingleAZ")
        #expect(view.shards.map { $0.nodes.map(\.name) } == [["demo-0001-001"], ["demo-0002-001"]])
        #expect(dataPlane.pid(of: "demo-0001-003") == nil && dataPlane.calls.contains("remove demo-0001-003"))
        #expect(dataPlane.calls.contains("forget demo-0001-001"))
        #expect(try recorded().contains(ClusterEvent.updateComplete(shards: 2, nodesPerShard: 1).message))
        // The same count again changes nothing, and says so as AWS does.
        #expect(throws: MemoryDBError.self) {
            _ = try controlPlane.clusters.updateCluster("demo", { var r = UpdateClusterRequest(); r.numReplicasPerShard = 0; return r }())
        }
    }

    @Test func aNodeTypeChangeSetsMaxmemoryOnEveryNodeAndASmallerOneMustFit() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        let larger = try #require(NodeType.catalog["db.r6g.large"])
        let before = dataPlane.calls.count
        #expect(try controlPlane.clusters.updateCluster("demo", { var r = UpdateClusterRequest(); r.nodeType = "db.r6g.large"; return r }()).status == .updating)
        try await reconcileUntilSettled()
        #expect(try controlPlane.clusters.describeCluster("demo").status == .available)
        let set = dataPlane.calls.dropFirst(before).filter { $0.hasPrefix("maxmemory") }
        #expect(Set(set) == ["maxmemory demo-0001-001 \(larger.memoryBytes)", "maxmemory demo-0001-002 \(larger.memoryBytes)"])
        #expect(!dataPlane.calls.dropFirst(before).contains { $0.hasPrefix("start") }, "no restart")
        let allowed = try controlPlane.clusters.allowedNodeTypeUpdates("demo")
        #expect(allowed.scaleDown.contains("db.t4g.small") && allowed.scaleUp.contains("db.r6g.xlarge") && !allowed.scaleUp.contains("db.r6gd.xlarge"))

        // 2 GiB in use: db.t4g.small (1.37 GiB) is refused, naming the shard; it is not offered either.
        var node = try #require(try store.nodes(ofCluster: "demo").first)
        node.usedMemory = 2 << 30
        try store.saveNodes([node])
        #expect(throws: MemoryDBError.self) {
            _ = try controlPlane.clusters.updateCluster("demo", { var r = UpdateClusterRequest(); r.nodeType = "db.t4g.small"; return r }())
        }
        #expect(!(try controlPlane.clusters.allowedNodeTypeUpdates("demo").scaleDown.contains("db.t4g.small")))
        #expect(try controlPlane.clusters.describeCluster("demo").nodeType == "db.r6g.large")
    }

    @Test func aRebootOnlyParameterIsAppliedByARollingRestartReplicasFirst() async throws {
        try create(shards: 1, replicas: 1)
        try await reconcileUntilSettled()
        _ = try controlPlane.parameterGroups.createGroup(name: "tuned", family: "memorydb_redis7", description: nil, tags: [])
        _ = try controlPlane.clusters.updateCluster("demo", UpdateClusterRequest(parameterGroupName: "tuned"))
        try await reconcileUntilSettled()
        // A maintenance window three days away: the restart waits for it, or for BatchUpdateCluster.
        let day = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][(Windows.weekMinute(ofMilliseconds: clock.nowMilliseconds) / 1440 + 3) % 7]
        _ = try controlPlane.clusters.updateCluster("demo", UpdateClusterRequest(maintenanceWindow: "\(day):10:00-\(day):11:00"))
        let before = dataPlane.calls.count
        _ = try controlPlane.parameterGroups.updateParameters(group: "tuned", values: [("activerehashing", "no")])
        try await reconcileUntilSettled()
        #expect(!dataPlane.calls.dropFirst(before).contains { $0.hasPrefix("stop") }, "nothing restarts outside the window")
        #expect(try controlPlane.clusters.describeCluster("demo").parameterGroupStatus == "pending-reboot")
        let pending = try controlPlane.serviceUpdates.describe(name: nil, clusterNames: ["demo"], statuses: nil, maxResults: nil, nextToken: nil).updates
        #expect(pending.map(\.name) == ["parameter-group-tuned-r2"] && pending.first?.status == "available" && pending.first?.nodesUpdated == "0/2")
        let applied = try controlPlane.serviceUpdates.apply(clusterNames: ["demo", "missing"], updateName: nil)
        #expect(applied.processed.map(\.name) == ["demo"] && applied.unprocessed.map(\.errorType) == ["ClusterNotFoundFault"])
        try await reconcileUntilSettled()
        let calls = Array(dataPlane.calls.dropFirst(before))
        let replicaRestart = try #require(calls.firstIndex(of: "stop demo-0001-002"))
        let promotion = try #require(calls.firstIndex(of: "promote demo-0001-002 over demo-0001-001"))
        let primaryRestart = try #require(calls.firstIndex(of: "stop demo-0001-001"))
        #expect(replicaRestart < promotion && promotion < primaryRestart, "replica first, then a lossless failover, then the old primary")
        #expect(try store.shards(ofCluster: "demo").first?.primaryNode == "demo-0001-002")
        let target = try controlPlane.parameterGroups.target(forGroup: "tuned").rebootValues
        #expect(target.contains("activerehashing=no"))
        #expect(try store.nodes(ofCluster: "demo").allSatisfy { $0.startedWith == target })
        // Settled: nothing more to restart.
        let settledCalls = dataPlane.calls.count
        _ = try await reconciler.reconcile("demo")
        #expect(dataPlane.calls.count == settledCalls)
        #expect(try store.events(sourceName: "demo").map(\.message).filter { $0.contains("restarted to apply the reboot-only parameters") }.count == 2)
        #expect(try controlPlane.serviceUpdates.describe(name: nil, clusterNames: nil, statuses: nil, maxResults: nil, nextToken: nil).updates.isEmpty)
        #expect(try store.cluster(named: "demo")?.updatesRequestedAt == nil)
        #expect(try controlPlane.clusters.describeCluster("demo").parameterGroupStatus == "in-sync")
        expectFault(.serviceUpdateNotFound) { try controlPlane.serviceUpdates.apply(clusterNames: ["demo"], updateName: "parameter-group-tuned-r2") }
    }
}
