import API
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import Store
import Testing

/// The AWS door's routing and error shapes, without a data plane (authentication off).
@Suite struct AWSDoorTests {
    func call(_ client: some TestClientProtocol, _ operation: String, _ body: String = "{}") async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
        try await client.execute(
            uri: "/", method: .post,
            headers: [HTTPField.Name("X-Amz-Target")!: "AmazonMemoryDB.\(operation)", .contentType: "application/x-amz-json-1.1"],
            body: ByteBuffer(string: body)
        ) { response in
            (response.status, json(response.body), response.headers)
        }
    }

    @Test func createDescribeAndFaultsSpeakAWSShapes() async throws {
        let fixture = try RESTFixture()
        let app = fixture.app
        try await app.test(.router) { client in
            let (status, created, headers) = try await call(
                client, "CreateCluster",
                #"{"ClusterName":"Demo","NodeType":"db.t4g.small","ACLName":"open-access","TLSEnabled":false,"NumShards":2}"#)
            #expect(status == .ok)
            #expect(headers[.contentType] == "application/x-amz-json-1.1")
            let cluster = created["Cluster"] as? [String: Any] ?? [:]
            #expect(cluster["Name"] as? String == "demo")
            #expect(cluster["Status"] as? String == "creating")
            #expect(cluster["DataTiering"] as? String == "false")
            #expect(cluster["Shards"] == nil)

            let (_, described, _) = try await call(client, "DescribeClusters", #"{"ShowShardDetails":true}"#)
            let shards = ((described["Clusters"] as? [[String: Any]])?.first?["Shards"] as? [[String: Any]]) ?? []
            #expect(shards.map { $0["Slots"] as? String } == ["0-8191", "8192-16383"])
            let node = (shards.first?["Nodes"] as? [[String: Any]])?.first
            #expect(node?["CreateTime"] is Double)

            let (missingStatus, missing, missingHeaders) = try await call(client, "DescribeClusters", #"{"ClusterName":"nope"}"#)
            #expect(missingStatus == .badRequest)
            #expect(missing["__type"] as? String == "ClusterNotFoundFault")
            #expect(missingHeaders[HTTPField.Name("x-amzn-ErrorType")!] == "ClusterNotFoundFault")

            let (_, unknown, _) = try await call(client, "Frobnicate")
            #expect(unknown["__type"] as? String == "UnknownOperationException")
            let (_, unsupported, _) = try await call(client, "DescribeMultiRegionClusters")
            #expect((unsupported["message"] as? String)?.contains("does not support DescribeMultiRegionClusters") == true)
            let (_, noOffering, _) = try await call(client, "PurchaseReservedNodesOffering", #"{"ReservedNodesOfferingId":"x"}"#)
            #expect(noOffering["__type"] as? String == "ReservedNodesOfferingNotFoundFault")
            let (_, openAccess, _) = try await call(client, "DeleteACL", #"{"ACLName":"open-access"}"#)
            #expect(openAccess["__type"] as? String == "InvalidParameterValueException")
            #expect(openAccess["message"] as? String == "open-access ACL can't be deleted.")
            let (_, typed, _) = try await call(client, "DescribeClusters", #"{"MaxResults":true}"#)
            #expect((typed["message"] as? String)?.contains("MaxResults must be an integer") == true)
        }
    }

    /// Whichever layer refuses an AWS call (here the audit trail, which reads mutating bodies
    /// first), the answer has the AWS door's shape.
    @Test func anOversizedCallGetsTheAWSShape() async throws {
        let fixture = try RESTFixture()
        try await fixture.app.test(.router) { client in
            let huge = #"{"ClusterName":""# + String(repeating: "x", count: 2 * 1024 * 1024) + #""}"#
            let (status, body, headers) = try await call(client, "CreateCluster", huge)
            #expect(status == .contentTooLarge)
            #expect(headers[.contentType] == "application/x-amz-json-1.1")
            #expect(body["__type"] as? String == "InvalidParameterValueException")
            #expect((body["message"] as? String)?.contains("larger than") == true)
            #expect(body["error"] == nil)
        }
    }
}

/// Kept representations never outlive the state they were rendered from.
@Suite struct KeptRepresentationTests {
    @Test func aChangeShowsInTheNextReadThroughEitherDoor() async throws {
        let fixture = try RESTFixture()
        try await fixture.app.test(.router) { client in
            let door = AWSDoorTests()
            _ = try await door.call(client, "CreateCluster", #"{"ClusterName":"kept","NodeType":"db.t4g.small","ACLName":"open-access","TLSEnabled":false}"#)
            func described() async throws -> [String: Any] {
                let (_, body, _) = try await door.call(client, "DescribeClusters", #"{"ShowShardDetails":true}"#)
                return (body["Clusters"] as? [[String: Any]])?.first ?? [:]
            }
            func listed() async throws -> [String: Any] {
                try await client.execute(uri: "/v1/clusters", method: .get) { response in
                    (json(response.body)["clusters"] as? [[String: Any]])?.first ?? [:]
                }
            }
            #expect(try await described()["Status"] as? String == "creating")
            #expect(try await listed()["status"] as? String == "creating")
            let single = try await client.execute(uri: "/v1/clusters/kept", method: .get) { json($0.body) }
            #expect(single["status"] as? String == "creating")
            let arn = single["arn"] as? String ?? ""
            _ = try await door.call(client, "TagResource", #"{"ResourceArn":"\#(arn)","Tags":[{"Key":"k","Value":"v"}]}"#)
            #expect(try await listed()["tags"] as? [[String: String]] == [["key": "k", "value": "v"]])
            // The reconciler's write, as it marks the cluster available.
            try fixture.store.write { try $0.setStatus(ofCluster: "kept", to: .available) }
            #expect(try await described()["Status"] as? String == "available")
            #expect(try await listed()["status"] as? String == "available")
            #expect(try await client.execute(uri: "/v1/clusters/kept", method: .get) { json($0.body)["status"] as? String } == "available")
        }
    }
}
