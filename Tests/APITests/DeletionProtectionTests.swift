import API
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import Store
import Testing

/// Deletion protection: a protected cluster refuses DeleteCluster on both doors and a stack's
/// destroy; turning it off is an update of its own.
@Suite struct DeletionProtectionTests {
    static let cluster = #"{"name": "prod-1", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false, "deletionProtection": true}"#

    @Test func aProtectedClusterSurvivesDeleteOnEveryDoor() async throws {
        let fixture = try RESTFixture()
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/v1/clusters", method: .post, body: ByteBuffer(string: Self.cluster)) { response in
                #expect(response.status == .accepted)
                #expect(json(response.body)["deletionProtection"] as? Bool == true)
            }
            try RESTFixture.becomeAvailable("prod-1", in: fixture.store)
            try await client.execute(uri: "/v1/clusters/prod-1", method: .delete) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "InvalidClusterStateFault")
                #expect(String(buffer: response.body).contains("deletionProtection"))
            }
            try await client.execute(
                uri: "/", method: .post,
                headers: [HTTPField.Name("X-Amz-Target")!: "AmazonMemoryDB.DeleteCluster", .contentType: "application/x-amz-json-1.1"],
                body: ByteBuffer(string: #"{"ClusterName": "prod-1"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(json(response.body)["__type"] as? String == "InvalidClusterStateFault")
            }
            // The AWS door has no such member, as AWS's model has none.
            try await client.execute(
                uri: "/", method: .post,
                headers: [HTTPField.Name("X-Amz-Target")!: "AmazonMemoryDB.CreateCluster", .contentType: "application/x-amz-json-1.1"],
                body: ByteBuffer(string: #"{"ClusterName": "x", "NodeType": "db.t4g.small", "ACLName": "open-access", "DeletionProtection": true}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect((json(response.body)["message"] as? String)?.contains("DeletionProtection") == true)
            }
            try await client.execute(
                uri: "/v1/clusters/prod-1", method: .patch, body: ByteBuffer(string: #"{"deletionProtection": false, "description": "x"}"#)
            ) { response in
                #expect(errorCode(response.body) == "InvalidParameterCombinationException")
            }
            #expect(try fixture.store.cluster(named: "prod-1")?.deletionProtection == true)
            try await client.execute(uri: "/v1/clusters/prod-1", method: .patch, body: ByteBuffer(string: #"{"deletionProtection": false}"#)) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["deletionProtection"] as? Bool == false)
            }
            try await client.execute(uri: "/v1/clusters/prod-1", method: .delete) { #expect($0.status == .accepted) }
        }
    }

    @Test func aStackDestroyStopsBeforeAProtectedCluster() async throws {
        let fixture = try RESTFixture()
        let document = """
            stack: guarded
            users:
              - {name: guard-user, accessString: "on ~* +@read", authenticationMode: {type: no-password}}
            clusters:
              - {name: guarded-1, nodeType: db.t4g.small, aclName: open-access, tlsEnabled: false, deletionProtection: true}
            """
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/v1/stacks/guarded", method: .put, body: ByteBuffer(string: document)) { #expect($0.status == .accepted) }
            for _ in 0..<200 where (try? fixture.store.cluster(named: "guarded-1")) == nil { try await Task.sleep(for: .milliseconds(10)) }
            try RESTFixture.becomeAvailable("guarded-1", in: fixture.store)
            for _ in 0..<500 {
                let status = try await client.execute(uri: "/v1/stacks/guarded", method: .get) { json($0.body)["status"] as? String }
                if status != "applying" { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await client.execute(uri: "/v1/stacks/guarded?wait=true", method: .delete) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "InvalidClusterStateFault")
                #expect(String(buffer: response.body).contains("cluster 'guarded-1'"))
            }
            #expect(try fixture.store.cluster(named: "guarded-1")?.status == .available)
            #expect(try fixture.store.user(named: "guard-user") != nil, "the destroy did part of its work")
        }
    }
}
