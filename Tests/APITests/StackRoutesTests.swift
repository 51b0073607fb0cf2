import API
import Foundation
import Hummingbird
import HummingbirdTesting
import Store
import Testing

/// `/v1/stacks` over a control plane with no data plane: plans, applies of what needs no nodes
/// (parameter groups, users, ACLs), drift, destroy, and refusals.
@Suite struct StackRoutesTests {
    static let password = "route-test-password-123"
    static let document = """
        stack: routes
        parameterGroups:
          - {name: tuned, family: memorydb_redis7, parameters: {maxmemory-policy: allkeys-lru}}
        users:
          - name: app
            accessString: "on ~app:* +@all"
            authenticationMode: {type: password, passwords: ["\(password)"]}
        acls:
          - {name: app-acl, userNames: [app]}
        """

    @Test func aPlanThenAnApplyThenDriftThenDestroy() async throws {
        let fixture = try RESTFixture()
        try await fixture.app.test(.router) { client in
            try await client.execute(uri: "/v1/stacks/routes?dryRun=true", method: .put, body: ByteBuffer(string: Self.document)) { response in
                #expect(response.status == .ok)
                let plan = json(response.body)
                #expect(plan["hasChanges"] as? Bool == true)
                #expect((plan["changes"] as? [[String: Any]])?.map { "\($0["action"]!) \($0["type"]!) \($0["name"]!)" } == [
                    "create parameter-group tuned", "create user app", "create acl app-acl",
                ])
            }
            try await client.execute(uri: "/v1/stacks/routes?wait=true", method: .put, body: ByteBuffer(string: Self.document)) { response in
                #expect(response.status == .ok)
                let stack = json(response.body)["stack"] as? [String: Any]
                #expect(stack?["status"] as? String == "applied")
                #expect((stack?["outputs"] as? [String: String])?["user.app.arn"]?.hasSuffix(":user/app") == true)
                #expect(!String(buffer: response.body).contains(Self.password))
            }
            #expect(try fixture.store.stacks().allSatisfy { !$0.document.contains(Self.password) })
            try await client.execute(uri: "/v1/stacks/routes?dryRun=true", method: .put, body: ByteBuffer(string: Self.document)) { response in
                #expect(json(response.body)["hasChanges"] as? Bool == false)
            }
            // Changed outside the stack: drift.
            try await client.execute(uri: "/v1/users/app", method: .patch, body: ByteBuffer(string: #"{"accessString": "on ~* +@read"}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/stacks/routes", method: .get) { response in
                let drift = json(response.body)["drift"] as? [[String: Any]]
                #expect(drift?.count == 1)
                #expect((drift?.first?["fields"] as? [[String: Any]])?.first?["field"] as? String == "accessString")
            }
            try await client.execute(uri: "/v1/stacks/routes?wait=true", method: .delete) { response in
                #expect(response.status == .noContent)
            }
            #expect(try fixture.store.user(named: "app") == nil)
            #expect(try fixture.store.parameterGroup(named: "tuned") == nil)
            try await client.execute(uri: "/v1/stacks/routes", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorCode(response.body) == "StackNotFoundFault")
            }
        }
    }

    @Test func refusalsSayWhy() async throws {
        let fixture = try RESTFixture()
        try await fixture.app.test(.router) { client in
            for (uri, body, code, phrase) in [
                ("/v1/stacks/routes", "stack: routes\nusers: 3\n", "InvalidParameterValueException", "line 2, column 8, users: must be a list"),
                ("/v1/stacks/other", Self.document, "InvalidParameterValueException", "was sent to /v1/stacks/other"),
                ("/v1/stacks/routes?dryRun=true&wait=true", Self.document, "InvalidParameterCombinationException", "no effect"),
                ("/v1/stacks/routes", "", "InvalidParameterValueException", "empty"),
                (
                    "/v1/stacks/routes?dryRun=true", "stack: routes\nparameterGroups: [{name: g, family: memorydb_redis7, parameters: {nope: 1}}]\n",
                    "InvalidParameterValueException", "parameterGroups[0] (g): parameter 'nope' does not exist"
                ),
            ] {
                try await client.execute(uri: uri, method: .put, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(uri) \(body)")
                    #expect(errorCode(response.body) == code)
                    let message = (json(response.body)["error"] as? [String: Any])?["message"] as? String ?? ""
                    #expect(message.contains(phrase), "\(message)")
                }
            }
            #expect(try fixture.store.stacks().isEmpty)
        }
    }
}
