import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Testing
import Ports

/// Parameter groups reach the live nodes: at creation, on every change, and on a switch.
@Suite(.serialized) struct ParameterGroupTests {
    let client = RedisClient(timeout: .seconds(5))

    func config(_ name: String, on port: Int, as admin: NodeCredentials) async throws -> String? {
        let reply = try await client.command("CONFIG", "GET", name, to: NodeAddress(port: port), as: admin)
        return reply.array?.last?.string
    }

    @Test func groupValuesAreLiveOnEveryNodeAndChangesFollow() async throws {
        try await DataPlaneHarness.with(ports: 21400...21499) { harness in
            let groups = harness.controlPlane.parameterGroups
            _ = try groups.createGroup(name: "Tuned", family: "memorydb_redis7", description: "lru", tags: [])
            _ = try groups.updateParameters(group: "tuned", values: [("maxmemory-policy", "allkeys-lru"), ("timeout", "300")])
            do {
                _ = try groups.updateParameters(group: "tuned", values: [("timeout", "5")])
                Issue.record("timeout=5 was accepted")
            } catch let error as MemoryDBError {
                #expect(error.message.contains("0,20-"))
            }

            var request = CreateClusterRequest(name: "tuned", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 1, aclName: "open-access", tlsEnabled: false)
            request.parameterGroupName = "tuned"
            _ = try harness.service.createCluster(request)
            _ = try await harness.waitAvailable("tuned")
            #expect(try await harness.eventually { try harness.service.describeCluster("tuned").parameterGroupStatus == "in-sync" })
            let cluster = try #require(try harness.store.cluster(named: "tuned"))
            let admin = NodeCredentials(user: ClusterService.adminUserName, password: cluster.adminPassword)
            let ports = try harness.store.nodes(ofCluster: "tuned").map(\.port)
            for port in ports {
                #expect(try await config("maxmemory-policy", on: port, as: admin) == "allkeys-lru")
                #expect(try await config("timeout", on: port, as: admin) == "300")
            }

            // A change reaches every node; the cluster reports applying, then in-sync.
            _ = try groups.updateParameters(group: "tuned", values: [("timeout", "600")])
            #expect(try await harness.eventually {
                for port in ports where try await config("timeout", on: port, as: admin) != "600" { return false }
                return try harness.service.describeCluster("tuned").parameterGroupStatus == "in-sync"
            })

            // In use: cannot be deleted. After switching back to the default group it can.
            #expect { try groups.deleteGroup("tuned") } throws: { ($0 as? MemoryDBError)?.code == .invalidParameterGroupState }
            _ = try harness.service.updateCluster("tuned", UpdateClusterRequest(parameterGroupName: "default.memorydb-redis7"))
            #expect(try await harness.eventually {
                for port in ports where try await config("maxmemory-policy", on: port, as: admin) != "noeviction" { return false }
                return try harness.service.describeCluster("tuned").parameterGroupStatus == "in-sync"
            })
            _ = try groups.deleteGroup("tuned")
            #expect(throws: MemoryDBError.self) { try groups.deleteGroup("default.memorydb-redis7") }
        }
    }
}
