import API
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// REST reads of the built-in objects, tags by ARN, and PATCH of a cluster.
@Suite struct RESTCatalogTests {
    @Test func builtInObjectsAreListed() async throws {
        let app = try RESTFixture().app
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/users", method: .get) { response in
                let users = json(response.body)["users"] as? [[String: Any]] ?? []
                #expect(users.map { $0["name"] as? String } == ["default"])
                #expect((users.first?["authentication"] as? [String: Any])?["type"] as? String == "no-password")
            }
            try await client.execute(uri: "/v1/acls?name=open-access", method: .get) { response in
                #expect((json(response.body)["acls"] as? [[String: Any]])?.first?["userNames"] as? [String] == ["default"])
            }
            try await client.execute(uri: "/v1/acls?name=nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response.body) == "ACLNotFoundFault")
            }
            try await client.execute(uri: "/v1/subnet-groups", method: .get) { response in
                let subnets = (json(response.body)["subnetGroups"] as? [[String: Any]])?.first?["subnets"] as? [[String: Any]] ?? []
                #expect(subnets.count == 3)
            }
            try await client.execute(uri: "/v1/parameter-groups", method: .get) { response in
                let groups = json(response.body)["parameterGroups"] as? [[String: Any]] ?? []
                #expect(groups.map { $0["name"] as? String } == ["default.memorydb-redis6", "default.memorydb-redis7"])
            }
            try await client.execute(uri: "/v1/parameter-groups/default.memorydb-redis7/parameters?maxResults=2", method: .get) { response in
                let body = json(response.body)
                #expect((body["parameters"] as? [Any])?.count == 2)
                #expect(body["nextToken"] is String)
            }
            try await client.execute(uri: "/v1/engine-versions", method: .get) { response in
                #expect((json(response.body)["engineVersions"] as? [[String: Any]])?.first?["parameterGroupFamily"] as? String == "memorydb_redis7")
            }
        }
    }

    @Test func tagsByARNAndClusterDescriptionUpdates() async throws {
        let fixture = try RESTFixture()
        let store = fixture.store
        let app = fixture.app
        let arn = "arn:aws:memorydb:us-east-1:000000000000:cluster/demo"
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/clusters", method: .post, body: ByteBuffer(string: RESTFixture.valid)) { #expect($0.status == .accepted) }
            try RESTFixture.becomeAvailable("demo", in: store)
            try await client.execute(uri: "/v1/tags", method: .post, body: ByteBuffer(string: #"{"resourceArn":"\#(arn)","tags":[{"key":"env","value":"ci"}]}"#)) { response in
                #expect(response.status == .ok)
                #expect((json(response.body)["tags"] as? [[String: String]])?.map { $0["key"] } == ["env", "team"])
            }
            try await client.execute(uri: "/v1/tags", method: .delete, body: ByteBuffer(string: #"{"resourceArn":"\#(arn)","tagKeys":["team"]}"#)) { response in
                #expect((json(response.body)["tags"] as? [[String: String]])?.map { $0["key"] } == ["env"])
            }
            try await client.execute(uri: "/v1/tags?resourceArn=\(arn)", method: .get) { response in
                #expect((json(response.body)["tags"] as? [Any])?.count == 1)
            }
            try await client.execute(uri: "/v1/tags", method: .delete, body: ByteBuffer(string: #"{"resourceArn":"\#(arn)","tagKeys":["nope"]}"#)) { response in
                #expect(errorCode(response.body) == "TagNotFoundFault")
            }
            try await client.execute(uri: "/v1/tags?resourceArn=bad", method: .get) { response in
                #expect(errorCode(response.body) == "InvalidARNFault")
            }
            try await client.execute(uri: "/v1/clusters/demo", method: .patch, body: ByteBuffer(string: #"{"description":"new"}"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["description"] as? String == "new")
            }
            try await client.execute(uri: "/v1/clusters/demo", method: .patch, body: ByteBuffer(string: #"{"engineVersion":"7.1"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response.body) == "InvalidParameterCombinationException")
                #expect((json(response.body)["error"] as? [String: Any])?["message"] as? String == "engineVersion cannot be changed by MemoryPlane: the engine and its version are those of the redis-server the server runs (--engine-path). description, parameterGroupName, aclName, securityGroupIds, maintenanceWindow, snapshotWindow, snapshotRetentionLimit, numShards, numReplicasPerShard and nodeType can.")
            }
            try await client.execute(uri: "/v1/clusters/demo", method: .patch, body: ByteBuffer(string: #"{"colour":"red"}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(errorCode(response.body) == "InvalidParameterValueException")
            }
        }
    }
}
