@testable import API
import Control
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Model
import Runtime
import Store
import Testing

/// Access keys through the doors: created by the admin, each refused what its policy does not
/// allow (REST 403, AWS door 400, both AccessDeniedException naming the action), with nothing done.
@Suite struct AccessKeyRoutesTests {
    static let admin = AccessKey(id: "AKMPADMIN", secret: "admin-secret")

    @Sendable static func basic(_ key: AccessKey) -> HTTPFields {
        [.authorization: "Basic " + Data("\(key.id):\(key.secret)".utf8).base64EncodedString()]
    }

    /// Creates a key as the admin; answers its pair.
    static func createKey(_ client: some TestClientProtocol, _ body: String) async throws -> AccessKey {
        try await client.execute(uri: "/v1/access-keys", method: .post, headers: basic(admin), body: ByteBuffer(string: body)) { response in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let created = json(response.body)
            #expect(created["status"] as? String == "Active")
            return AccessKey(id: created["accessKeyId"] as? String ?? "", secret: created["secretAccessKey"] as? String ?? "")
        }
    }

    /// Status, fault code and message of a REST call made with `key`.
    static func rest(
        _ client: some TestClientProtocol, _ key: AccessKey, _ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil
    ) async throws -> (HTTPResponse.Status, String?, String) {
        try await client.execute(uri: uri, method: method, headers: basic(key), body: body.map { ByteBuffer(string: $0) }) { response in
            let error = json(response.body)["error"] as? [String: Any]
            return (response.status, error?["code"] as? String, error?["message"] as? String ?? "")
        }
    }

    @Test func everyAuthenticatedRouteHasAnAction() throws {
        let router = try RESTFixture(accessKey: Self.admin).router
        let served = router.routes.map { "\($0.method) /" + $0.path.description.split(separator: "/").joined(separator: "/") }
            .filter { ($0.contains(" /v1/") && !$0.hasSuffix("/v1/ca.pem")) || $0.hasSuffix(" /metrics") }
        #expect(served.count > 50)
        for route in served { #expect(RESTActions.table[route] != nil, "\(route) has no action in RESTActions") }
        #expect(Set(RESTActions.table.keys).subtracting(served).isEmpty, "actions for routes that do not exist")
    }

    @Test func aReadOnlyKeyReadsAndChangesNothing() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let reader = try await Self.createKey(client, #"{"name": "dashboards", "policy": "read-only"}"#)
            #expect(try await Self.rest(client, reader, .get, "/v1/clusters").0 == .ok)
            #expect(try await Self.rest(client, reader, .get, "/metrics").0 == .ok)
            let (status, code, message) = try await Self.rest(
                client, reader, .post, "/v1/clusters", #"{"name": "ro-1", "nodeType": "db.t4g.small", "aclName": "open-access"}"#)
            #expect(status == .forbidden)
            #expect(code == "AccessDeniedException")
            #expect(message.contains("memorydb:CreateCluster") && message.contains("cluster/ro-1") && message.contains("user/dashboards"))
            #expect(try fixture.store.clusterNames().isEmpty)
            let arn = "arn:aws:memorydb:us-east-1:000000000000:user/default"
            #expect(try await Self.rest(client, reader, .post, "/v1/tags", #"{"resourceArn": "\#(arn)", "tags": [{"key": "a", "value": "b"}]}"#).1
                == "AccessDeniedException")
            #expect(try await Self.rest(client, reader, .post, "/v1/access-keys", #"{"name": "mine", "policy": "admin"}"#).1 == "AccessDeniedException")
            // Counted, and never slowed down like a wrong key: the key is valid.
            let scrape = try await client.execute(uri: "/metrics", method: .get, headers: Self.basic(reader)) { String(buffer: $0.body) }
            #expect(scrape.contains(#"memoryplane_access_denied_total{door="rest"} 3"#), "\(scrape.split(separator: "\n").filter { $0.contains("denied") })")
            #expect(!scrape.contains("memoryplane_auth_failures_total{door=\"rest\"}"))
        }
    }

    @Test func aCIKeyChangesOnlyItsOwnAndADeactivatedKeyIsRefusedAtOnce() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let ci = try await Self.createKey(client, #"{"name": "pipeline-7", "policy": "ci", "prefix": "ci-"}"#)
            let cluster = { (name: String) in #"{"name": "\#(name)", "nodeType": "db.t4g.small", "aclName": "open-access", "tlsEnabled": false}"# }
            let made = try await Self.rest(client, ci, .post, "/v1/clusters", cluster("ci-1"))
            #expect(made.0 == .accepted, "\(made)")
            let (status, code, message) = try await Self.rest(client, ci, .post, "/v1/clusters", cluster("prod-1"))
            #expect(status == .forbidden && code == "AccessDeniedException")
            #expect(message.contains("memorydb:CreateCluster on resource: arn:aws:memorydb:us-east-1:000000000000:cluster/prod-1"))
            #expect(try fixture.store.clusterNames() == ["ci-1"])
            #expect(try await Self.rest(client, Self.admin, .post, "/v1/clusters", cluster("prod-1")).0 == .accepted)
            #expect(try await Self.rest(client, ci, .delete, "/v1/clusters/prod-1").1 == "AccessDeniedException")
            #expect(try await Self.rest(client, ci, .get, "/v1/clusters/prod-1").0 == .ok)
            try RESTFixture.becomeAvailable("ci-1", in: fixture.store)
            #expect(try await Self.rest(client, ci, .delete, "/v1/clusters/ci-1").0 == .accepted)

            #expect(try await Self.rest(client, Self.admin, .patch, "/v1/access-keys/\(ci.id)", #"{"status": "Inactive"}"#).0 == .ok)
            let (refused, refusedCode, _) = try await Self.rest(client, ci, .get, "/v1/clusters")
            #expect(refused == .unauthorized && refusedCode == "InvalidCredentialsException")
            #expect(try await Self.rest(client, Self.admin, .patch, "/v1/access-keys/\(ci.id)", #"{"status": "Active"}"#).0 == .ok)
            #expect(try await Self.rest(client, ci, .get, "/v1/clusters").0 == .ok)
        }
    }

    @Test func theAWSDoorRefusesWithAccessDenied400() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let reader = try await Self.createKey(client, #"{"name": "dashboards", "policy": "read-only"}"#)
            func call(_ operation: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                let signer = SigV4Signer(key: reader, region: "us-east-1")
                var headers = ["host": "localhost", "x-amz-target": "AmazonMemoryDB.\(operation)", "content-type": "application/x-amz-json-1.1"]
                headers.merge(signer.sign(method: "POST", path: "/", query: "", headers: headers, body: Array(body.utf8))) { _, new in new }
                var fields = HTTPFields()
                for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
                return try await client.execute(uri: "/", method: .post, headers: fields, body: ByteBuffer(string: body)) { ($0.status, json($0.body)) }
            }
            #expect(try await call("DescribeClusters", "{}").0 == .ok)
            let (status, body) = try await call("CreateCluster", #"{"ClusterName": "x", "NodeType": "db.t4g.small", "ACLName": "open-access"}"#)
            #expect(status == .badRequest)
            #expect(body["__type"] as? String == "AccessDeniedException")
            #expect((body["message"] as? String)?.contains("memorydb:CreateCluster") == true)
            #expect(try fixture.store.clusterNames().isEmpty)
        }
    }

    @Test func aStackTouchesOnlyWhatItsKeyMayAndIsRefusedWhole() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let ci = try await Self.createKey(client, #"{"name": "pipeline-7", "policy": "ci", "prefix": "ci-"}"#)
            let document = { (users: [String]) in
                "stack: ci-stack\nusers:\n" + users.map { "  - {name: \($0), accessString: \"on ~* +@read\", authenticationMode: {type: no-password}}\n" }.joined()
            }
            let (status, code, message) = try await Self.rest(client, ci, .put, "/v1/stacks/ci-stack?wait=true", document(["ci-app", "prod-app"]))
            #expect(status == .forbidden && code == "AccessDeniedException")
            #expect(message.contains("memorydb:CreateUser") && message.contains("user/prod-app"))
            #expect(try fixture.store.user(named: "ci-app") == nil, "a refused stack did part of its work")
            #expect(try fixture.store.stack(named: "ci-stack") == nil)
            #expect(try await Self.rest(client, ci, .put, "/v1/stacks/ci-stack?wait=true", document(["ci-app"])).0 == .ok)
            #expect(try fixture.store.user(named: "ci-app") != nil)
            #expect(try await Self.rest(client, ci, .put, "/v1/stacks/other?wait=true", "stack: other\n").1 == "AccessDeniedException")
        }
    }

    @Test func keysRotateAndTheLastAdminStays() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let first = try await Self.createKey(client, #"{"name": "svc", "policy": "read-only"}"#)
            let second = try await client.execute(uri: "/v1/access-keys/\(first.id)/rotate", method: .post, headers: Self.basic(Self.admin)) { response in
                #expect(response.status == .created)
                let body = json(response.body)
                #expect(body["name"] as? String == "svc")
                return AccessKey(id: body["accessKeyId"] as? String ?? "", secret: body["secretAccessKey"] as? String ?? "")
            }
            #expect(try await Self.rest(client, first, .get, "/v1/clusters").0 == .ok)
            #expect(try await Self.rest(client, second, .get, "/v1/clusters").0 == .ok)
            #expect(try await Self.rest(client, Self.admin, .post, "/v1/access-keys/\(first.id)/rotate").1 == "AccessKeyQuotaExceededFault")
            #expect(try await Self.rest(client, Self.admin, .post, "/v1/access-keys", #"{"name": "svc", "policy": "read-only"}"#).1
                == "AccessKeyAlreadyExistsFault")
            #expect(try await Self.rest(client, Self.admin, .delete, "/v1/access-keys/\(first.id)").0 == .noContent)
            #expect(try await Self.rest(client, first, .get, "/v1/clusters").0 == .unauthorized)

            #expect(try await Self.rest(client, Self.admin, .delete, "/v1/access-keys/\(Self.admin.id)").1 == "InvalidAccessKeyStateFault")
            #expect(try await Self.rest(client, Self.admin, .patch, "/v1/access-keys/\(Self.admin.id)", #"{"status": "Inactive"}"#).1
                == "InvalidAccessKeyStateFault")
            #expect(try await Self.rest(client, Self.admin, .patch, "/v1/access-keys/\(Self.admin.id)", #"{"policy": "read-only"}"#).1
                == "InvalidAccessKeyStateFault")
            let listed = try await client.execute(uri: "/v1/access-keys", method: .get, headers: Self.basic(Self.admin)) { json($0.body) }
            let keys = listed["accessKeys"] as? [[String: Any]] ?? []
            #expect(keys.map { $0["name"] as? String } == ["admin", "svc"])
            #expect(!keys.contains { $0["secretAccessKey"] != nil })
            #expect((keys.first?["lastUsedAt"] as? String) != nil)
        }
    }

    @Test func anInvalidPolicyIsRefusedWithItsLine() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let body = """
                {
                  "name": "bad",
                  "policy": {
                    "Version": "2012-10-17",
                    "Statement": [
                      {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
                    ]
                  }
                }
                """
            let (status, _, message) = try await Self.rest(client, Self.admin, .post, "/v1/access-keys", body)
            #expect(status == .badRequest)
            #expect(message.contains("line 6") && message.contains("s3:GetObject"), "\(message)")
            let condition = #"{"name": "bad", "policy": "{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"memorydb:*\", \"Resource\": \"*\", \"Condition\": {\"StringEquals\": {\"aws:SourceIp\": \"1.2.3.4\"}}}}"}"#
            let (_, _, unknownKey) = try await Self.rest(client, Self.admin, .post, "/v1/access-keys", condition)
            #expect(unknownKey.contains("aws:SourceIp"))
            #expect(try await Self.rest(client, Self.admin, .post, "/v1/access-keys", #"{"name": "x", "policy": "ci"}"#).1 == "InvalidParameterCombinationException")
            #expect(try await Self.rest(client, Self.admin, .post, "/v1/access-keys", #"{"name": "x y", "policy": "admin"}"#).1 == "InvalidParameterValueException")
            #expect(try await Self.rest(client, Self.admin, .post, "/v1/access-keys", #"{"name": "x", "policy": "root"}"#).1 == "InvalidParameterValueException")
            let listed = try await client.execute(uri: "/v1/access-keys", method: .get, headers: Self.basic(Self.admin)) { json($0.body) }
            #expect((listed["accessKeys"] as? [Any])?.count == 1, "a refused key was kept")
        }
    }

    @Test func theAuditNamesTheKeyAndTheDecision() async throws {
        let fixture = try RESTFixture(accessKey: Self.admin)
        try await fixture.app.test(.router) { client in
            let reader = try await Self.createKey(client, #"{"name": "dashboards", "policy": "read-only"}"#)
            _ = try await Self.rest(client, reader, .delete, "/v1/users/default")
            fixture.controlPlane.audit.flush()
            let denied = try fixture.controlPlane.audit.query(AuditFilter())
                .filter { $0.accessKeyName == "dashboards" && $0.operation == "DELETE /v1/users/{name}" }
            #expect(denied.map(\.decision) == ["denied"])
            #expect(denied.first?.outcome == "AccessDeniedException")
            let created = try fixture.controlPlane.audit.query(AuditFilter()).filter { $0.operation == "POST /v1/access-keys" }
            #expect(created.first?.accessKeyName == "admin" && created.first?.decision == "allowed")
            #expect(created.first.map { !$0.parameters.contains(reader.secret) } == true)
        }
    }
}

/// Access keys declared in a stack document: created with the stack, their secret answered once,
/// re-policied in place, deleted with it.
@Suite struct StackAccessKeyTests {
    @Test func aStackKeepsAKeyAndAnswersItsSecretOnce() async throws {
        let fixture = try RESTFixture(accessKey: AccessKeyRoutesTests.admin)
        let admin = AccessKeyRoutesTests.admin
        try await fixture.app.test(.router) { client in
            let document = { (policy: String) in "stack: keys\naccessKeys:\n  - {name: pipeline-9, policy: \(policy), prefix: ci-}\n" }
            let (applied, key) = try await client.execute(
                uri: "/v1/stacks/keys?wait=true", method: .put, headers: AccessKeyRoutesTests.basic(admin), body: ByteBuffer(string: document("ci"))
            ) { response in
                let stack = json(response.body)["stack"] as? [String: Any]
                let created = (stack?["newAccessKeys"] as? [[String: Any]])?.first
                return (response.status, AccessKey(id: created?["accessKeyId"] as? String ?? "", secret: created?["secretAccessKey"] as? String ?? ""))
            }
            #expect(applied == .ok)
            #expect(try await AccessKeyRoutesTests.rest(client, key, .get, "/v1/clusters").0 == .ok)
            #expect(try await AccessKeyRoutesTests.rest(client, key, .post, "/v1/users", #"{"name": "prod-u", "accessString": "on ~* +@read", "authenticationMode": {"type": "no-password"}}"#).1 == "AccessDeniedException")
            let again = try await AccessKeyRoutesTests.rest(client, admin, .get, "/v1/stacks/keys")
            #expect(again.0 == .ok)
            let view = try await client.execute(uri: "/v1/stacks/keys", method: .get, headers: AccessKeyRoutesTests.basic(admin)) { json($0.body) }
            #expect(view["newAccessKeys"] == nil, "a secret was answered twice")
            #expect((view["outputs"] as? [String: String])?["access-key.pipeline-9.accessKeyId"] == key.id)
            #expect(!(try fixture.store.stacks().first?.document.contains(key.secret) ?? true))

            // The same policy again is no change; read-only is an update in place.
            try await client.execute(uri: "/v1/stacks/keys?dryRun=true", method: .put, headers: AccessKeyRoutesTests.basic(admin), body: ByteBuffer(string: document("ci"))) {
                #expect(json($0.body)["hasChanges"] as? Bool == false, "\(String(buffer: $0.body))")
            }
            try await client.execute(uri: "/v1/stacks/keys?wait=true", method: .put, headers: AccessKeyRoutesTests.basic(admin),
                body: ByteBuffer(string: "stack: keys\naccessKeys:\n  - {name: pipeline-9, policy: read-only}\n")) { #expect($0.status == .ok) }
            #expect(try await AccessKeyRoutesTests.rest(client, key, .get, "/v1/access-keys/\(key.id)").0 == .ok)
            let template = try await client.execute(uri: "/v1/access-keys/\(key.id)", method: .get, headers: AccessKeyRoutesTests.basic(admin)) { json($0.body)["template"] as? String }
            #expect(template == "read-only")

            try await client.execute(uri: "/v1/stacks/keys?wait=true", method: .delete, headers: AccessKeyRoutesTests.basic(admin)) { #expect($0.status == .noContent) }
            #expect(try await AccessKeyRoutesTests.rest(client, key, .get, "/v1/clusters").0 == .unauthorized)

            let bad = try await AccessKeyRoutesTests.rest(client, admin, .put, "/v1/stacks/keys?dryRun=true", "stack: keys\naccessKeys:\n  - {name: x, policy: root}\n")
            #expect(bad.0 == .badRequest && bad.2.contains("accessKeys[0] (x)"), "\(bad)")
        }
    }

    /// An apply answered before its run ends never takes the secrets: the caller's next read of
    /// the stack after the run gets them (however fast the run was).
    @Test func theReadAfterTheRunGetsTheSecretNotTheApplysAnswer() async throws {
        let fixture = try RESTFixture(accessKey: AccessKeyRoutesTests.admin)
        let admin = AccessKeyRoutesTests.admin
        try await fixture.app.test(.router) { client in
            let document = "stack: quick\naccessKeys:\n  - {name: quick-key, policy: read-only}\n"
            try await client.execute(uri: "/v1/stacks/quick", method: .put, headers: AccessKeyRoutesTests.basic(admin), body: ByteBuffer(string: document)) {
                #expect($0.status == .accepted)
                #expect((json($0.body)["stack"] as? [String: Any])?["newAccessKeys"] == nil)
            }
            var handedOut: [[String: Any]]?
            for _ in 0..<500 {
                let view = try await client.execute(uri: "/v1/stacks/quick", method: .get, headers: AccessKeyRoutesTests.basic(admin)) { json($0.body) }
                if view["status"] as? String == "applied" {
                    handedOut = view["newAccessKeys"] as? [[String: Any]]
                    break
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(handedOut?.first?["name"] as? String == "quick-key")
        }
    }
}
