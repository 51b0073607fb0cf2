import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Logging
import Model
import Store
import Testing

#if canImport(Glibc)
import Glibc
import Ports
#endif

/// The slot hand-over's three outcomes on real nodes, with the fault placed exactly by the
/// hand-over's own boundaries: committed (every key moved, the target owns the slots), called
/// off (the target did not decide in time: the source keeps everything, the target's copies are
/// discarded on the next attempt), and given to a target that stopped answering (it holds every
/// key and claims the slots when back). Plus the repairs a crash can need: stray keys found and
/// purged through the primary so its replica forgets them too.
@Suite(.serialized) struct SlotHandoverTests {
    let client = RedisClient(timeout: .seconds(5))

    /// Records the points reached, and runs `action` at the first one named `at`.
    final class Injector: FaultInjector, @unchecked Sendable {
        let at: String
        let action: @Sendable () async -> Void
        private let lock = NSLock()
        private var done = false
        private(set) var reached: [String] = []

        init(at: String, action: @escaping @Sendable () async -> Void) {
            self.at = at
            self.action = action
        }

        func reached(_ point: FaultPoint) async {
            if note(point.name) { await action() }
        }

        /// Records the point; true the first time it is the one to act at.
        private func note(_ name: String) -> Bool {
            lock.withLock {
                reached.append(name)
                let fire = name == at && !done
                if fire { done = true }
                return fire
            }
        }
    }

    struct Pair {
        var source: NodeSpec
        var target: NodeSpec
        var sourceID: String
        var targetID: String
    }

    /// A 2×0 cluster with `keys` keys, its control plane stopped (a test drives the data plane
    /// itself): shard 1's primary is the source, shard 2's the target.
    func twoShards(_ harness: DataPlaneHarness, _ name: String, keys: Int) async throws -> Pair {
        _ = try harness.service.createCluster(
            CreateClusterRequest(name: name, nodeType: "db.t4g.small", numShards: 2, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
        _ = try await harness.waitAvailable(name)
        try await harness.crashControlPlane()
        let stored = try #require(try harness.store.storedCluster(named: name))
        let nodes = stored.nodes.sorted { $0.shardIndex < $1.shardIndex }
        let admin = NodeCredentials(user: ClusterService.adminUserName, password: stored.cluster.adminPassword)
        func spec(_ record: NodeRecord) -> NodeSpec {
            NodeSpec(name: record.name, port: record.port, busPort: record.busPort, maxmemoryBytes: 1 << 30, admin: admin)
        }
        let source = spec(nodes[0])
        let target = spec(nodes[1])
        // Keys only in the slots about to move: 0-99.
        var commands: [[String]] = []
        var index = 0
        while commands.count < keys {
            let key = "key:\(index)"
            if KeySlot.of(key) < 100 { commands.append(["SET", key, "v\(index)"]) }
            index += 1
        }
        _ = try await client.send(commands, to: source.address, as: admin)
        let sourceID = try await client.command("CLUSTER", "MYID", to: source.address, as: admin).text()
        let targetID = try await client.command("CLUSTER", "MYID", to: target.address, as: admin).text()
        return Pair(source: source, target: target, sourceID: sourceID, targetID: targetID)
    }

    func keysIn(_ slots: Range<Int>, on node: NodeSpec) async throws -> Int {
        let replies = try await client.send(slots.map { ["CLUSTER", "COUNTKEYSINSLOT", String($0)] }, to: node.address, as: node.admin)
        return replies.reduce(0) { $0 + ($1.integer ?? 0) }
    }

    func owns(_ slot: Int, _ node: NodeSpec) async throws -> Bool {
        let nodes = ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: node.address, as: node.admin).text())
        return nodes.first(where: \.isMyself)?.slots.contains { $0.contains(slot) } ?? false
    }

    @Test func aCommittedHandOverMovesEveryKeyAndTheSlots() async throws {
        try await DataPlaneHarness.with(ports: 21900...21919) { harness in
            let pair = try await twoShards(harness, "commit", keys: 600)
            let injector = Injector(at: "none") {}
            var plane = harness.dataPlane
            plane.faults = injector
            let report = try await plane.moveSlots(Array(0..<100), from: pair.source, sourceID: pair.sourceID, to: pair.target, targetID: pair.targetID, announcingTo: [])
            #expect(report.keys == 600)
            #expect(try await keysIn(0..<100, on: pair.source) == 0)
            #expect(try await keysIn(0..<100, on: pair.target) == 600)
            let targetOwns = try await owns(0, pair.target)
            let sourceOwns = try await owns(0, pair.source)
            #expect(targetOwns && !sourceOwns)
            #expect(injector.reached.contains("handover.claimed") && injector.reached.contains("handover.committed"))
            // No marker is left behind.
            let markers = LocalDataPlane.handoverMarkers(forSlot: 0)
            #expect(try await client.command("EXISTS", markers.ready, markers.decision, markers.committed, to: pair.target.address, as: pair.target.admin).integer == 0)
        }
    }

    @Test func aTargetThatDoesNotDecideInTimeLeavesEverythingWithTheSource() async throws {
        try await DataPlaneHarness.with(ports: 21920...21939) { harness in
            let pair = try await twoShards(harness, "abort", keys: 300)
            // The control plane stalls past the source's wait before asking the target.
            let injector = Injector(at: "handover.copying") { try? await Task.sleep(for: .milliseconds(400)) }
            var plane = harness.dataPlane
            plane.faults = injector
            await #expect(throws: HandoverError.self) {
                _ = try await plane.moveSlots(Array(0..<100), from: pair.source, sourceID: pair.sourceID, to: pair.target, targetID: pair.targetID, announcingTo: [])
            }
            #expect(try await keysIn(0..<100, on: pair.source) == 300)
            let sourceKept = try await owns(0, pair.source)
            let targetTook = try await owns(0, pair.target)
            #expect(sourceKept && !targetTook)
            // The target never claims after that, whoever asks: the decision was made.
            let markers = LocalDataPlane.handoverMarkers(forSlot: 0)
            let late = try await client.send(
                [["ASKING"], ["EVAL", LocalDataPlane.claimScript, "0", markers.ready, markers.decision, markers.committed, "10000", pair.targetID, "0"]],
                to: pair.target.address, as: pair.target.admin)
            #expect(late[1].string == "abort")
            let claimedLate = try await owns(0, pair.target)
            #expect(!claimedLate)
            // The next attempt discards the copies first and completes.
            let report = try await harness.dataPlane.moveSlots(
                Array(0..<100), from: pair.source, sourceID: pair.sourceID, to: pair.target, targetID: pair.targetID, announcingTo: [])
            #expect(report.keys == 300)
            #expect(try await keysIn(0..<100, on: pair.target) == 300)
            #expect(try await keysIn(0..<100, on: pair.source) == 0)
        }
    }

    @Test func slotsGivenToATargetThatWentAwayAreClaimedByItWithEveryKey() async throws {
        try await DataPlaneHarness.with(ports: 21940...21959) { harness in
            let pair = try await twoShards(harness, "away", keys: 400)
            let dataPlane = harness.dataPlane
            let target = pair.target
            // One group (64 slots): the target is killed once all its keys and the `ready` marker
            // arrived, while the source waits for its decision.
            let group = 0..<64
            let moving = try await keysIn(group, on: pair.source)
            let markers = LocalDataPlane.handoverMarkers(forSlot: 0)
            let probe = client
            let injector = Injector(at: "handover.copying") {
                for _ in 0..<2000 {
                    let reply = try? await probe.send([["ASKING"], ["EXISTS", markers.ready]], to: target.address, as: target.admin)
                    if reply?[1].integer == 1 { break }
                }
                _ = await dataPlane.killNode(target)
            }
            var plane = harness.dataPlane
            plane.faults = injector
            await #expect(throws: (any Error).self) {
                _ = try await plane.moveSlots(Array(group), from: pair.source, sourceID: pair.sourceID, to: pair.target, targetID: pair.targetID, announcingTo: [])
            }
            // Once its wait runs out with the target unreachable, the source gives the slots up (the
            // target had every key, each acknowledged after its AOF write).
            #expect(try await harness.eventually(.seconds(5)) {
                let owned = try await owns(0, pair.source)
                return try await keysIn(group, on: pair.source) == 0 && !owned
            })
            // Back from its AOF, importing, with every key: it claims them.
            _ = try await dataPlane.startNode(pair.target)
            #expect(try await harness.eventually(.seconds(10)) { try await keysIn(group, on: pair.target) == moving })
            try await dataPlane.claimSlots(Array(group), on: pair.target)
            #expect(try await harness.eventually(.seconds(10)) { try await owns(0, pair.target) })
            let key = try firstKey()
            let value = try await client.send([["GET", "key:\(key)"]], to: pair.target.address, as: pair.target.admin)[0]
            #expect(value.string?.hasPrefix("v") == true)
        }
    }

    func firstKey() throws -> Int {
        var index = 0
        while KeySlot.of("key:\(index)") >= 64 { index += 1 }
        return index
    }

    @Test func strayKeysAreFoundOnAReplicaAndPurgedThroughItsPrimary() async throws {
        try await DataPlaneHarness.with(ports: 21960...21979) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "stray", nodeType: "db.t4g.small", numShards: 2, numReplicasPerShard: 1, aclName: "open-access", tlsEnabled: false))
            _ = try await harness.waitAvailable("stray")
            try await harness.crashControlPlane()
            let stored = try #require(try harness.store.storedCluster(named: "stray"))
            let admin = NodeCredentials(user: ClusterService.adminUserName, password: stored.cluster.adminPassword)
            let records = stored.nodes.sorted { ($0.shardIndex, $0.nodeIndex) < ($1.shardIndex, $1.nodeIndex) }
            let specs = records.map { NodeSpec(name: $0.name, port: $0.port, busPort: $0.busPort, maxmemoryBytes: 1 << 30, admin: admin) }
            let (primary, replica, owner) = (specs[0], specs[1], specs[2])
            let ownerID = try await client.command("CLUSTER", "MYID", to: owner.address, as: admin).text()
            // Keys written into slot 12182 (shard 2's) on shard 1, through a brief import.
            _ = try await client.send(
                [["CLUSTER", "SETSLOT", "12182", "IMPORTING", ownerID], ["ASKING"], ["SET", "foo", "stale"], ["ASKING"], ["SET", "{foo}:2", "stale"],
                 ["CLUSTER", "SETSLOT", "12182", "STABLE"]], to: primary.address, as: admin)
            #expect(try await harness.eventually(.seconds(5)) { try await keysIn(12182..<12183, on: replica) == 2 })
            let served = [SlotRange(first: 0, last: 8191)]
            let onReplica = try await harness.dataPlane.slotsHoldingKeys(on: replica, outside: served)
            let onPrimary = try await harness.dataPlane.slotsHoldingKeys(on: primary, outside: served)
            #expect(onReplica == [12182] && onPrimary == [12182])
            let purged = try await harness.dataPlane.purgeStrayKeys(inSlots: [12182], on: primary, owners: [12182: ownerID], copies: [replica])
            #expect(purged == 2)
            #expect(try await harness.eventually(.seconds(5)) { try await keysIn(12182..<12183, on: replica) == 0 })
            let leftOnPrimary = try await keysIn(12182..<12183, on: primary)
            let scanAfter = try await harness.dataPlane.slotsHoldingKeys(on: replica, outside: served)
            #expect(leftOnPrimary == 0 && scanAfter.isEmpty)
            // The slot's owner is untouched, and no import is left open.
            let myself = ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: primary.address, as: admin).text()).first(where: \.isMyself)
            #expect(myself?.importing.isEmpty == true)
        }
    }

    /// Raw cluster-enabled servers (DEBUG allowed, which managed nodes refuse): the first serves
    /// every slot and is known to the second; a third, when asked for, is the first's replica.
    /// Removed whatever happens.
    func withRawPair(
        ports: [Int], _ body: (_ owner: NodeSpec, _ importer: NodeSpec, _ ownerID: String, _ replica: NodeSpec?) async throws -> Void
    ) async throws {
        let directory = "/tmp/mp-it-raw-\(getpid())-\(UUID().uuidString.prefix(8))"
        try LocalDataPlane.makePrivateDirectory(directory)
        let admin = NodeCredentials(user: "admin", password: "raw-pair")
        var servers: [Process] = []
        defer {
            for server in servers where server.isRunning {
                kill(server.processIdentifier, SIGKILL)
                server.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
        var nodes: [NodeSpec] = []
        for port in ports {
            let server = Process()
            server.executableURL = URL(fileURLWithPath: DataPlaneHarness.enginePath)
            server.currentDirectoryURL = URL(fileURLWithPath: directory)
            server.arguments = [
                "--port", String(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes-\(port).conf",
                "--save", "", "--appendonly", "no", "--enable-debug-command", "local", "--user", "admin", "on", ">raw-pair", "~*", "&*", "+@all",
            ]
            server.standardOutput = FileHandle.nullDevice
            try server.run()
            servers.append(server)
            nodes.append(NodeSpec(name: "raw-\(port)", port: port, busPort: port + 10000, maxmemoryBytes: 0, admin: admin))
        }
        let (owner, importer) = (nodes[0], nodes[1])
        let replica = nodes.count > 2 ? nodes[2] : nil
        let answered = { (node: NodeSpec) async -> Bool in (try? await client.command("PING", to: node.address, as: admin).string) == "PONG" }
        for node in nodes {
            for _ in 0..<200 where !(await answered(node)) { try await Task.sleep(for: .milliseconds(20)) }
        }
        let ownerID = try await client.command("CLUSTER", "MYID", to: owner.address, as: admin).text()
        _ = try await client.send([["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]], to: owner.address, as: admin)
        _ = try await client.send([["CLUSTER", "MEET", "127.0.0.1", String(owner.port)]], to: importer.address, as: admin)
        var known = false
        for _ in 0..<250 where !known {
            // The importer has heard of the owner and of its slots.
            known = try await client.command("CLUSTER", "NODES", to: importer.address, as: admin).text()
                .split(separator: "\n").contains { $0.hasPrefix(ownerID) && $0.hasSuffix("0-16383") }
            if !known { try await Task.sleep(for: .milliseconds(20)) }
        }
        try #require(known)
        // A node that has just joined takes writes about 2 s after its cluster state is ok.
        var ready = false
        for _ in 0..<300 where !ready {
            ready = try await client.command("CLUSTER", "INFO", to: importer.address, as: admin).text().contains("cluster_state:ok")
            if !ready { try await Task.sleep(for: .milliseconds(20)) }
        }
        try #require(ready)
        if let replica {
            _ = try await client.send([["CLUSTER", "MEET", "127.0.0.1", String(owner.port)]], to: replica.address, as: admin)
            // REPLICATE is refused until the replica has heard of the owner; once accepted, the
            // link comes up by itself.
            var attached = false
            for _ in 0..<300 where !attached {
                attached = (try? await client.command("CLUSTER", "REPLICATE", ownerID, to: replica.address, as: admin).string) == "OK"
                if !attached { try await Task.sleep(for: .milliseconds(20)) }
            }
            var replicating = false
            for _ in 0..<500 where attached && !replicating {
                replicating = try await client.command("INFO", "replication", to: replica.address, as: admin).text().contains("master_link_status:up")
                if !replicating { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(replicating)
        }
        try await body(owner, importer, ownerID, replica)
    }

    func dataPlane(for node: NodeSpec) -> LocalDataPlane {
        LocalDataPlane(
            dataDirectory: "/tmp/mp-it-raw-unused", enginePath: DataPlaneHarness.enginePath, proxyExecutable: DataPlaneHarness.proxyExecutable,
            logger: Logger(label: "test"))
    }

    /// A copy whose TTL passed while its slot was imported stays listed by GETKEYSINSLOT until
    /// active expiry gets to it, and Redis refuses a DEL naming several keys of an importing slot
    /// when one is (logically) missing. Closing such an import must still work.
    @Test func importedCopiesWhoseTTLPassedAreDiscardedToo() async throws {
        try await withRawPair(ports: [22300, 22301]) { owner, importer, ownerID, _ in
            let admin = importer.admin
            let slot = "12182"  // foo
            let planted = try await client.send(
                [["CLUSTER", "SETSLOT", slot, "IMPORTING", ownerID], ["DEBUG", "SET-ACTIVE-EXPIRE", "0"], ["ASKING"], ["SET", "foo", "gone", "PX", "1"],
                 ["ASKING"], ["SET", "{foo}:2", "copy"]], to: importer.address, as: admin)
            for reply in planted { _ = try reply.orThrow() }
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await client.command("CLUSTER", "COUNTKEYSINSLOT", slot, to: importer.address, as: admin).integer == 2)
            try await dataPlane(for: importer).stabilizeSlots([12182], on: importer, owners: [12182: ownerID])
            #expect(try await client.command("CLUSTER", "COUNTKEYSINSLOT", slot, to: importer.address, as: admin).integer == 0)
            let myself = ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: importer.address, as: admin).text()).first(where: \.isMyself)
            #expect(myself?.importing.isEmpty == true)
        }
    }

    /// An importing node whose own view lost the slot's owner (its primary failed over and, as a
    /// replica now, gave its slots up; gossip about an imported slot is ignored) can delete none
    /// of the slot's keys: it is told the owner first, then its copies go and the import is
    /// closed (found by the fault matrix: a source frozen mid-copy and failed over).
    @Test func anImportWhoseOwnerWasLostFromViewIsClosed() async throws {
        try await withRawPair(ports: [22302, 22303, 22304]) { owner, importer, ownerID, replica in
            let admin = importer.admin
            let replica = try #require(replica)
            let slot = "12182"  // foo
            let planted = try await client.send(
                [["CLUSTER", "SETSLOT", slot, "IMPORTING", ownerID], ["ASKING"], ["SET", "foo", "copy"], ["ASKING"], ["SET", "{foo}:2", "copy"]],
                to: importer.address, as: admin)
            for reply in planted { _ = try reply.orThrow() }
            let newOwnerID = try await client.command("CLUSTER", "MYID", to: replica.address, as: admin).text()
            _ = try await client.command("CLUSTER", "FAILOVER", "TAKEOVER", to: replica.address, as: admin).orThrow()
            let served = { (view: [ClusterNodesEntry]) in view.first { member in member.slots.contains { $0.first <= 12182 && 12182 <= $0.last } }?.id }
            var lost = false
            for _ in 0..<500 where !lost {
                lost = served(ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: importer.address, as: admin).text())) == nil
                if !lost { try await Task.sleep(for: .milliseconds(20)) }
            }
            try #require(lost, "the importer never lost sight of the slot's owner")
            try await dataPlane(for: importer).stabilizeSlots([12182], on: importer, owners: [12182: newOwnerID])
            #expect(try await client.command("CLUSTER", "COUNTKEYSINSLOT", slot, to: importer.address, as: admin).integer == 0)
            let after = ClusterNodesEntry.parse(try await client.command("CLUSTER", "NODES", to: importer.address, as: admin).text())
            #expect(after.first(where: \.isMyself)?.importing.isEmpty == true)
            #expect(served(after) == newOwnerID)
        }
    }
}
