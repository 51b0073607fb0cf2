import Control
import Runtime
import Reconciler
import Engine
import Foundation
import Model
import Store
import Testing
import Ports

/// Users and ACLs enforced on real TLS nodes: exactly the rights granted, and out when removed.
@Suite(.serialized) struct AccessControlTests {
    @Test func aUserHasExactlyItsRightsOnEveryNodeUntilRemoved() async throws {
        try await DataPlaneHarness.with(ports: 21500...21599) { harness in
            let access = harness.controlPlane.accessControl
            let password = "app-password-0123456789"
            _ = try await access.createUser(
                name: "app", accessString: "on ~app:* +@read +@write", authenticationType: "password", passwords: [password], tags: [])
            _ = try await access.createUser(
                name: "ops", accessString: "on ~* &* +@all", authenticationType: "password", passwords: [password], tags: [])
            _ = try access.createACL(name: "apps", userNames: ["app", "ops"], tags: [])
            _ = try harness.service.createCluster(
                CreateClusterRequest(name: "guarded", nodeType: "db.t4g.small", numShards: 1, numReplicasPerShard: 1, aclName: "apps"))
            _ = try await harness.waitAvailable("guarded")
            let client = RedisClient(timeout: .seconds(5), tlsContext: try harness.dataPlane.certificates.clientContext())
            let ports = try harness.store.nodes(ofCluster: "guarded").sorted { $0.nodeIndex < $1.nodeIndex }.map(\.port)
            let primary = NodeAddress(port: ports[0], tls: true)
            let app = NodeCredentials(user: "app", password: password)

            #expect(try await client.command("SET", "app:1", "v", to: primary, as: app).string == "OK")
            #expect(try await client.send([["SET", "other:1", "v"]], to: primary, as: app)[0].isError)
            #expect(try await client.send([["FLUSHALL"]], to: primary, as: app)[0].isError)
            #expect(try await client.send([["CONFIG", "GET", "maxmemory"]], to: primary, as: app)[0].isError)
            await #expect(throws: (any Error).self) {
                try await client.command("GET", "app:1", to: primary, as: NodeCredentials(user: "app", password: "wrong-password-0000000"))
            }
            // Even a +@all user learns nothing of the control plane's own user.
            let ops = NodeCredentials(user: "ops", password: password)
            let admin = ClusterService.adminUserName
            for command in [["ACL", "LIST"], ["ACL", "GETUSER", admin], ["ACL", "USERS"], ["ACL", "LOG"], ["ACL", "DRYRUN", admin, "GET", "k"],
                ["CLIENT", "LIST"], ["CLIENT", "KILL", "USER", admin], ["CLIENT", "PAUSE", "15000", "ALL"], ["CLIENT", "UNPAUSE"]] {
                let reply = try await client.send([command], to: primary, as: ops)[0]
                guard case .error(let message) = reply, message.hasPrefix("NOPERM") else {
                    Issue.record("\(command) answered \(reply) to a +@all user")
                    continue
                }
            }
            #expect(try await client.command("ACL", "WHOAMI", to: primary, as: ops).string == "ops")
            #expect(try await client.command("ACL", "CAT", to: primary, as: ops).array?.isEmpty == false)
            #expect(try await client.command("SET", "any", "v", to: primary, as: ops).string == "OK")

            // The default user is off on a cluster whose ACL does not hold it.
            #expect(try await client.send([["GET", "app:1"]], to: primary, as: nil)[0].isError)
            // Every node has the user (the replica too).
            // (A replica redirects reads to the primary: MOVED proves the user authenticated and may read.)
            let onReplica = try await client.send([["GET", "app:1"]], to: NodeAddress(port: ports[1], tls: true), as: app)[0]
            #expect(onReplica.string == "v" || { if case .error(let message) = onReplica { return message.hasPrefix("MOVED") }; return false }())

            // Removed from the ACL: it can no longer authenticate anywhere.
            _ = try access.updateACL(name: "apps", add: [], remove: ["app", "ops"])
            let lockedOut = try await harness.eventually {
                for port in ports {
                    if (try? await client.command("GET", "app:1", to: NodeAddress(port: port, tls: true), as: app)) != nil { return false }
                }
                return true
            }
            #expect(lockedOut)
            // The nodes refuse the user as soon as each has the new rules; the ACL is recorded
            // active once the reconciler has seen every node take them, a pass later.
            #expect(try await harness.eventually {
                try access.describeACLs(name: "apps", maxResults: nil, nextToken: nil).items[0].status == "active"
            })
            #expect(throws: MemoryDBError.self) { try access.deleteACL("apps") }
        }
    }
}

/// Access strings come back exactly as Redis prints them, because Redis is asked.
@Suite struct AccessStringNormalisationTests {
    @Test(arguments: [
        ("on ~app::* +@read", "on ~app::* resetchannels -@all +@read"),
        ("off ~* +@read", "off ~* resetchannels -@all +@read"),
        ("on ~a:* &chan:* +@read +get", "on ~a:* resetchannels &chan:* -@all +@read"),
        ("~objects:* ~items:*", "off ~objects:* ~items:* resetchannels -@all"),
        ("on ~* &* +@all", "on ~* &* +@all"),
        ("on allkeys allchannels allcommands", "on ~* &* +@all"),
        ("on +@all -config", "on resetchannels +@all -config"),
        ("on ~x resetchannels &c1 &c2 +get -get", "on ~x resetchannels &c1 &c2 -@all"),
    ])
    func asRedisPrintsThem(given: String, expected: String) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mp-acl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let normaliser = RedisRulesNormaliser(enginePath: DataPlaneHarness.enginePath, scratchDirectory: directory)
        #expect(try await normaliser.normalise(AccessString(parsing: given)) == expected)
        // Nothing left behind: the probe's directory is gone with its process.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory))?.isEmpty ?? true)
    }
}
