import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Testing

#if canImport(Glibc)
import Glibc
import Ports
#endif

/// The cluster lifecycle against real `redis-server` nodes: create, serve, survive a killed
/// node and a crashed control plane, delete without leaving anything behind.
@Suite(.serialized) struct ClusterLifecycleTests {
    let client = RedisClient(timeout: .seconds(5))

    /// The port of the primary serving `key`, found by asking the cluster endpoint.
    func primaryPort(for key: String, endpoint: Int) async throws -> Int {
        let slot = try #require(try await client.command("CLUSTER", "KEYSLOT", key, to: NodeAddress(port: endpoint), as: nil).integer)
        let slots = try #require(try await client.command("CLUSTER", "SLOTS", to: NodeAddress(port: endpoint), as: nil).array)
        for range in slots {
            guard let fields = range.array, let first = fields[0].integer, let last = fields[1].integer, let primary = fields[2].array else { continue }
            if slot >= first && slot <= last, let port = primary[1].integer { return port }
        }
        Issue.record("no primary serves slot \(slot)")
        return 0
    }

    @Test func createServeHealAdoptAndDelete() async throws {
        try await DataPlaneHarness.with(ports: 21000...21099) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "life", nodeType: "db.t4g.small", numShards: 2, numReplicasPerShard: 1, aclName: "open-access", tlsEnabled: false))
            let view = try await harness.waitAvailable("life")
            #expect(view.shards.map(\.status) == ["available", "available"])
            #expect(view.shards.flatMap(\.nodes).map(\.role) == [.primary, .replica, .primary, .replica])
            #expect(view.shards.flatMap(\.nodes).allSatisfy { $0.status == .available })
            let endpoint = view.clusterEndpoint.port
            #expect(view.clusterEndpoint.address == "127.0.0.1")

            // Every node agrees: state ok, all slots, four members.
            for node in view.shards.flatMap(\.nodes) {
                let info = try await client.command("CLUSTER", "INFO", to: NodeAddress(port: node.endpoint.port), as: nil).text()
                #expect(info.contains("cluster_state:ok"))
                #expect(info.contains("cluster_slots_assigned:16384"))
                #expect(info.contains("cluster_known_nodes:4"))
            }

            // Data through the primary that owns the key; the endpoint answers cluster queries.
            let port = try await primaryPort(for: "greeting", endpoint: endpoint)
            #expect(try await client.command("SET", "greeting", "hello", to: NodeAddress(port: port), as: nil).string == "OK")
            #expect(try await client.command("GET", "greeting", to: NodeAddress(port: port), as: nil).string == "hello")

            // Client users cannot reconfigure or re-shape the cluster, nor learn of the admin user.
            let denied = [
                ["CONFIG", "GET", "maxmemory"], ["SHUTDOWN", "NOSAVE"], ["CLUSTER", "RESET"], ["BGSAVE"], ["REPLICAOF", "NO", "ONE"],
                ["ACL", "SETUSER", "x"], ["DEBUG", "SLEEP", "0"], ["ACL", "LIST"], ["ACL", "GETUSER", ClusterService.adminUserName],
                ["ACL", "USERS"], ["ACL", "LOG"], ["ACL", "DRYRUN", ClusterService.adminUserName, "GET", "x"], ["CLIENT", "LIST"],
                ["CLIENT", "KILL", "USER", ClusterService.adminUserName],
            ]
            for command in denied {
                let reply = try await client.send([command], to: NodeAddress(port: port), as: nil)[0]
                guard case .error(let message) = reply else {
                    Issue.record("\(command) was allowed")
                    continue
                }
                // DEBUG is also off in Redis 7's own defaults, which answer before the ACL check.
                #expect(message.hasPrefix("NOPERM") || message.contains("DEBUG command not allowed"), "\(command): \(message)")
            }
            #expect(try await client.command("CLUSTER", "NODES", to: NodeAddress(port: port), as: nil).string != nil)
            #expect(try await client.command("ACL", "WHOAMI", to: NodeAddress(port: port), as: nil).string == "default")
            #expect(try await client.command("ACL", "CAT", to: NodeAddress(port: port), as: nil).array?.isEmpty == false)

            // Kill the primary with SIGKILL: its replica takes over with the write, and it comes
            // back on the same port, restarted from its AOF, as the replica.
            let primaryName = try #require(view.shards.flatMap(\.nodes).first { $0.endpoint.port == port }?.name)
            let before = try harness.nodePIDs("life")
            kill(try #require(before[primaryName]), SIGKILL)
            #expect(try await harness.eventually {
                let nodes = try harness.service.describeCluster("life").shards.flatMap(\.nodes)
                return nodes.allSatisfy { $0.status == .available } && nodes.first { $0.name == primaryName }?.role == .replica
            })
            let newPort = try await primaryPort(for: "greeting", endpoint: endpoint)
            #expect(newPort != port)
            #expect(try await client.command("GET", "greeting", to: NodeAddress(port: newPort), as: nil).string == "hello")
            let afterKill = try harness.nodePIDs("life")
            #expect(afterKill[primaryName] != nil && afterKill[primaryName] != before[primaryName])

            // Crash the control plane and start another: nodes are adopted, not restarted. One PID
            // is forgotten in the store; the new reconciler finding it again proves it ran.
            try await harness.crashControlPlane()
            var forgotten = try #require(try harness.store.nodes(ofCluster: "life").first)
            forgotten.pid = nil
            try harness.store.saveNodes([forgotten])
            harness.startControlPlane()
            #expect(try await harness.eventually { try harness.store.nodes(ofCluster: "life").first?.pid == afterKill[forgotten.name] })
            #expect(try harness.nodePIDs("life") == afterKill)
            #expect(try await client.command("GET", "greeting", to: NodeAddress(port: newPort), as: nil).string == "hello")

            // A deletion requested while the control plane is down finishes after it restarts.
            try await harness.crashControlPlane()
            harness.startControlPlane(reconciling: false)
            #expect(try harness.service.deleteCluster("life").status == .deleting)
            try await harness.crashControlPlane()
            harness.startControlPlane()
            #expect(try await harness.service.waitUntilSettled("life", timeout: .seconds(20)) == nil)
            #expect(!harness.anyProcessLeft())
            #expect(!FileManager.default.fileExists(atPath: harness.dataPlane.nodeDirectory(primaryName)))
            #expect(!FileManager.default.fileExists(atPath: harness.dataPlane.clusterDirectory("life")))
            #expect(PortAllocator.canBindLoopback(port))
        }
    }

    @Test func creationInterruptedBeforeAnyStepFinishesAfterRestart() async throws {
        try await DataPlaneHarness.with(ports: 21100...21199) { harness in
            try await harness.crashControlPlane()
            harness.startControlPlane(reconciling: false)
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "later", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
            try await harness.crashControlPlane()
            harness.startControlPlane()
            let view = try await harness.waitAvailable("later")
            #expect(view.availabilityMode == "SingleAZ")
            // The endpoint forwards to a node: the cluster answers through it.
            let info = try await client.command("CLUSTER", "INFO", to: NodeAddress(port: view.clusterEndpoint.port), as: nil).text()
            #expect(info.contains("cluster_state:ok"))
            _ = try harness.service.deleteCluster("later")
            #expect(try await harness.service.waitUntilSettled("later") == nil)
            #expect(!harness.anyProcessLeft())
        }
    }

    @Test func aNodeStartedButNotRecordedIsFoundAndAdopted() async throws {
        try await DataPlaneHarness.with(ports: 21200...21299) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "found", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
            _ = try await harness.waitAvailable("found")
            let pids = try harness.nodePIDs("found")
            // Forget the PID and the pid file, as a crash right after spawning would.
            try await harness.crashControlPlane()
            var node = try #require(try harness.store.nodes(ofCluster: "found").first)
            node.pid = nil
            try harness.store.saveNodes([node])
            try FileManager.default.removeItem(atPath: harness.dataPlane.nodeDirectory(node.name) + "/redis.pid")
            harness.startControlPlane()
            #expect(try await harness.eventually { try harness.store.nodes(ofCluster: "found").first?.pid == pids[node.name] })
            #expect(try harness.nodePIDs("found") == pids)
        }
    }
}
