import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Testing
import Ports

/// Resharding on real `redis-server` nodes: keys (binary names included) follow their slots to
/// a new shard and back, every slot is served throughout, and a drained shard leaves nothing.
@Suite(.serialized) struct ReshardingTests {
    let client = RedisClient(timeout: .seconds(5))

    /// Every node's port with the slots it serves, from CLUSTER SLOTS through `port`.
    func owners(via port: Int) async throws -> [(first: Int, last: Int, port: Int)] {
        let slots = try #require(try await client.command("CLUSTER", "SLOTS", to: NodeAddress(port: port), as: nil).array)
        return slots.compactMap { range in
            guard let fields = range.array, let first = fields[0].integer, let last = fields[1].integer, let primary = fields[2].array, let port = primary[1].integer else { return nil }
            return (first, last, port)
        }
    }

    func owner(of key: [UInt8], in owners: [(first: Int, last: Int, port: Int)]) -> Int? {
        let slot = KeySlot.of(key)
        return owners.first { slot >= $0.first && slot <= $0.last }?.port
    }

    func waitUpdated(_ harness: DataPlaneHarness, _ name: String) async throws -> ClusterView {
        #expect(try await harness.eventually(.seconds(60)) { try harness.service.describeCluster(name).status == .available })
        return try harness.service.describeCluster(name)
    }

    @Test func keysFollowTheirSlotsToANewShardAndBack() async throws {
        try await DataPlaneHarness.with(ports: 21800...21899) { harness in
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "grow", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 0, aclName: "open-access", tlsEnabled: false))
            let created = try await harness.waitAvailable("grow")
            let primary = created.shards[0].nodes[0].endpoint.port
            // Text keys, and a key whose name is not UTF-8.
            var keys: [[UInt8]] = (0..<3000).map { Array("key:\($0)".utf8) }
            keys.append([0xff, 0xfe, 0x00, 0x80])
            _ = try await client.send(bytes: keys.map { [Array("SET".utf8), $0, $0] }, to: NodeAddress(port: primary), as: nil)

            var view = try harness.service.updateCluster("grow", { var request = UpdateClusterRequest(); request.numShards = 2; return request }())
            #expect(view.status == .updating)
            #expect(view.shards.map(\.status) == ["modifying", "modifying"])
            view = try await waitUpdated(harness, "grow")
            #expect(view.shards.map(\.slots) == ["0-8191", "8192-16383"])
            var map = try await owners(via: primary)
            #expect(Set(map.map(\.port)).count == 2)
            for key in keys {
                let port = try #require(owner(of: key, in: map))
                let value = try await client.send(bytes: [[Array("GET".utf8), key]], to: NodeAddress(port: port), as: nil)[0]
                #expect(value == .bulkString(key), "key \(key) on port \(port)")
            }
            let events = try harness.store.events(sourceName: "grow").map(\.message)
            #expect(events.contains { $0.hasPrefix("Moved ") && $0.contains("to shard 0002") })

            // Back to one shard: the second is drained, forgotten and removed.
            view = try harness.service.updateCluster("grow", { var request = UpdateClusterRequest(); request.numShards = 1; return request }())
            view = try await waitUpdated(harness, "grow")
            #expect(view.shards.count == 1 && view.shards[0].slots == "0-16383")
            #expect(try harness.store.nodes(ofCluster: "grow").map(\.name) == ["grow-0001-001"])
            #expect(!FileManager.default.fileExists(atPath: harness.dataPlane.nodeDirectory("grow-0002-001")))
            let info = try await client.command("CLUSTER", "INFO", to: NodeAddress(port: primary), as: nil).text()
            #expect(info.contains("cluster_known_nodes:1") && info.contains("cluster_state:ok"))
            map = try await owners(via: primary)
            for key in keys {
                #expect(owner(of: key, in: map) == primary)
                let value = try await client.send(bytes: [[Array("GET".utf8), key]], to: NodeAddress(port: primary), as: nil)[0]
                #expect(value == .bulkString(key))
            }
            #expect(try harness.store.shards(ofCluster: "grow").count == 1)
        }
    }
}
