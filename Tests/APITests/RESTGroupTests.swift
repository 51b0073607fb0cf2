import API
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Subnet and parameter groups through REST (without a data plane).
@Suite struct RESTGroupTests {
    @Test func aClusterIsSpreadOverItsSubnetGroupsZones() async throws {
        let fixture = try RESTFixture()
        let app = fixture.app
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/v1/subnet-groups", method: .post,
                body: ByteBuffer(string: #"{"name":"Two","subnetIds":["subnet-us-east-1a","subnet-us-east-1c"]}"#)
            ) { response in
                #expect(response.status == .created)
                let subnets = json(response.body)["subnets"] as? [[String: String]] ?? []
                #expect(subnets.map { $0["availabilityZone"] } == ["us-east-1a", "us-east-1c"])
            }
            let body = #"{"name":"placed","nodeType":"db.t4g.small","numShards":2,"numReplicasPerShard":2,"aclName":"open-access","subnetGroupName":"two"}"#
            try await client.execute(uri: "/v1/clusters", method: .post, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .accepted)
                let cluster = json(response.body)
                #expect(cluster["subnetGroupName"] as? String == "two")
                let shards = cluster["shards"] as? [[String: Any]] ?? []
                for shard in shards {
                    let zones = (shard["nodes"] as? [[String: Any]] ?? []).map { $0["availabilityZone"] as? String }
                    // Three nodes over two zones: both zones used, nothing outside the group.
                    #expect(Set(zones) == ["us-east-1a", "us-east-1c"])
                }
            }
            try await client.execute(uri: "/v1/subnet-groups/two", method: .delete) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "SubnetGroupInUseFault")
            }
            try await client.execute(uri: "/v1/clusters/placed", method: .delete) { _ in }
            try await client.execute(uri: "/v1/subnet-groups/two", method: .patch, body: ByteBuffer(string: #"{"subnetIds":["subnet-bad name"]}"#)) { response in
                #expect(errorCode(response.body) == "InvalidSubnet")
            }
            try await client.execute(uri: "/v1/subnet-groups/default", method: .delete) { response in
                #expect(errorCode(response.body) == "InvalidParameterValueException")
            }
            try await client.execute(uri: "/v1/subnet-groups/two", method: .patch, body: ByteBuffer(string: #"{"description":"two zones"}"#)) { response in
                #expect(json(response.body)["description"] as? String == "two zones")
            }
        }
    }

    @Test func parameterGroupsAreValidatedAndDefaultsAreImmutable() async throws {
        let app = try RESTFixture().app
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/parameter-groups", method: .post, body: ByteBuffer(string: #"{"name":"tuned","family":"memorydb_redis7"}"#)) { response in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/parameter-groups/tuned", method: .patch, body: ByteBuffer(string: #"{"parameters":{"timeout":"5"}}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(((json(response.body)["error"] as? [String: Any])?["message"] as? String)?.contains("0,20-") == true)
            }
            try await client.execute(uri: "/v1/parameter-groups/tuned", method: .patch, body: ByteBuffer(string: #"{"parameters":{"timeout":"300","maxmemory-policy":"allkeys-lru"}}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/parameter-groups/tuned/parameters?maxResults=100", method: .get) { response in
                let values = Dictionary(uniqueKeysWithValues: (json(response.body)["parameters"] as? [[String: Any]] ?? []).map { ($0["name"] as! String, $0["value"] as! String) })
                #expect(values["timeout"] == "300")
                #expect(values["maxmemory-policy"] == "allkeys-lru")
            }
            try await client.execute(uri: "/v1/parameter-groups/default.memorydb-redis7", method: .patch, body: ByteBuffer(string: #"{"parameters":{"timeout":"300"}}"#)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/parameter-groups/tuned/reset", method: .post, body: ByteBuffer(string: #"{"allParameters":true}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/parameter-groups/tuned", method: .delete) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
