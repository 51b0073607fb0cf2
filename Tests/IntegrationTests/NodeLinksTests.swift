import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
import Ports
#endif

/// Supervision over one kept-open connection per node, on real `redis-server` nodes: routine
/// observations open no connection, a stopped node is reported silent and a killed one
/// unreachable, and the link comes back by itself once the node does.
@Suite(.serialized) struct NodeLinksTests {
    let client = RedisClient(timeout: .seconds(5))

    /// `total_connections_received` of a node, read on a connection of its own (which it counts).
    func connectionsReceived(_ port: Int, _ admin: NodeCredentials) async throws -> Int {
        let text = try await client.command("INFO", "stats", to: NodeAddress(port: port), as: admin).text()
        return Int(NodeObservation.infoFields(text)["total_connections_received"] ?? "") ?? -1
    }

    @Test func observationsRideTheKeptOpenConnectionAndItsFateIsReported() async throws {
        try await DataPlaneHarness.with(ports: 22000...22099) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "linked", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
            let view = try await harness.waitAvailable("linked")
            let record = try #require(try harness.store.nodes(ofCluster: "linked").first)
            let cluster = try #require(try harness.store.cluster(named: "linked"))
            let admin = NodeCredentials(user: ClusterService.adminUserName, password: cluster.adminPassword)
            let spec = NodeSpec(name: record.name, port: record.port, busPort: record.busPort, maxmemoryBytes: 0, admin: admin, tls: false)
            #expect(try await harness.eventually { harness.dataPlane.liveness(of: spec) == .answering })
            #expect(view.shards[0].nodes.count == 1)

            // Twenty observations and twenty samples: not one new connection (the count moves by
            // exactly the two connections this test opens to read it).
            let before = try await connectionsReceived(record.port, admin)
            for _ in 0..<20 {
                let observation = try await harness.dataPlane.observe(spec)
                #expect(observation.isPrimary && observation.clusterStateOK)
                _ = try await harness.dataPlane.sample(spec)
            }
            let after = try await connectionsReceived(record.port, admin)
            #expect(after - before == 1)

            // Replies stay matched to their requests when pipelines overlap.
            let replies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let reply = try #require(try await harness.dataPlane.links.send([["ECHO", "m\(index)"]], to: spec.name, at: spec.address, timeout: .seconds(2)))
                        return (index, try reply[0].text())
                    }
                }
                var all: [(Int, String)] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(replies.count == 50 && replies.allSatisfy { "m\($0.0)" == $0.1 })

            // A stopped node: silent within the threshold, its observation times out rather than waits.
            let pid = try #require(try harness.dataPlane.runningNodePID(spec))
            kill(pid, SIGSTOP)
            defer { kill(pid, SIGCONT) }
            #expect(try await harness.eventually(.seconds(3)) { harness.dataPlane.liveness(of: spec).isSilent })
            await #expect(throws: NodeUnreachableError.self) {
                _ = try await harness.dataPlane.links.send([["PING"]], to: spec.name, at: spec.address, timeout: .milliseconds(200))
            }
            kill(pid, SIGCONT)
            #expect(try await harness.eventually(.seconds(3)) { harness.dataPlane.liveness(of: spec) == .answering })

            // A killed node is restarted by the reconciler (woken by the link closing), and linked again.
            kill(pid, SIGKILL)
            #expect(try await harness.eventually(.seconds(15)) {
                try await harness.dataPlane.links.send([["PING"]], to: spec.name, at: spec.address, timeout: .seconds(1))?.first == .simpleString("PONG")
            })
            #expect(try harness.dataPlane.runningNodePID(spec) != pid)
        }
    }

    @Test func aRefusedPasswordIsTriedAgainWithBackoffUntilItIsAccepted() async throws {
        try await DataPlaneHarness.with(ports: 22100...22199) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "refused", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
            _ = try await harness.waitAvailable("refused")
            let record = try #require(try harness.store.nodes(ofCluster: "refused").first)
            let cluster = try #require(try harness.store.cluster(named: "refused"))
            let admin = NodeCredentials(user: ClusterService.adminUserName, password: cluster.adminPassword)
            let links = NodeLinks(tlsContext: { throw NodeUnreachableError(address: NodeAddress(port: 0), reason: "no TLS here") })
            defer { links.shutdown() }
            let address = NodeAddress(port: record.port)
            let seen = Mutex<[NodeLiveness]>([])
            links.watch(cluster: "refused", nodes: [record.name: LinkTarget(address: address, credentials: NodeCredentials(user: "prober", password: "late"))]) {
                let now = links.liveness(of: record.name)
                seen.withLock { $0.append(now) }
            }
            // No such user yet: commands are not sent as nobody; the caller is told to connect on its own.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await links.send([["PING"]], to: record.name, at: address, timeout: .seconds(1)) == nil)
            // Once the node knows the user, a later connection authenticates by itself.
            _ = try await client.command("ACL", "SETUSER", "prober", "on", ">late", "~*", "&*", "+@all", to: address, as: admin)
            #expect(try await harness.eventually(.seconds(8)) {
                try await links.send([["PING"]], to: record.name, at: address, timeout: .seconds(1))?.first == .simpleString("PONG")
            })

            // The connection closing says the process ended, without waiting for a probe to time out.
            // (As the admin now: the reconciler removes users its ACL does not name, prober included.)
            links.watch(cluster: "refused", nodes: [record.name: LinkTarget(address: address, credentials: admin)]) {
                let now = links.liveness(of: record.name)
                seen.withLock { $0.append(now) }
            }
            #expect(try await harness.eventually(.seconds(5)) {
                try await links.send([["PING"]], to: record.name, at: address, timeout: .seconds(1))?.first == .simpleString("PONG")
            })
            let pid = try #require(harness.nodePIDs("refused")[record.name])
            seen.withLock { $0.removeAll() }
            kill(pid, SIGKILL)
            #expect(try await harness.eventually(.seconds(3)) { seen.withLock { $0.contains(.unreachable) } })
        }
    }
}
