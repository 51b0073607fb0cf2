import API
import Control
import Runtime
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Model
import NIOFoundationCompat
import Store
import Synchronization
import Testing
import Ports

/// The API as `serve` builds it (`buildApplication` over a `ControlPlane`), minus the data
/// plane: route tests end at the desired state, with no reconciler running.
struct RESTFixture {
    let store: Store
    let controlPlane: ControlPlane
    let accessKey: AccessKey?
    /// The keys, with `accessKey` as the first admin (nil: `--auth none`).
    let accessKeys: AccessKeyService?

    init(accessKey: AccessKey? = nil) throws {
        store = try Store.inMemory()
        let configuration = ControlConfiguration(nodePorts: 7000...7999, engineVersion: EngineVersion(major: 7, minor: 0, patch: 15))
        controlPlane = ControlPlane(
            configuration: configuration, store: store, dataPlane: nil, ports: PortAllocator(range: 7000...7999, isBindable: { _ in true }),
            logger: Logger(label: "test"))
        self.accessKey = accessKey
        if let accessKey {
            let keys = try AccessKeyService(store: store, sealer: .ephemeral(), clock: configuration.clock)
            try keys.bootstrap(admin: accessKey, givenByOperator: false)
            accessKeys = keys
        } else {
            accessKeys = nil
        }
    }

    static let caCertificate: @Sendable () throws -> String = { "-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n" }

    var app: some ApplicationProtocol {
        buildApplication(
            controlPlane: controlPlane, accessKeys: accessKeys, credentialsHint: "see credentials", caCertificate: Self.caCertificate,
            logger: Logger(label: "test"))
    }

    var router: Router<APIRequestContext> {
        buildRouter(APIServices(controlPlane: controlPlane, accessKeys: accessKeys, credentialsHint: "see credentials", caCertificate: Self.caCertificate))
    }

    /// What the reconciler would do once the nodes are ready (there is none in route tests).
    static func becomeAvailable(_ name: String, in store: Store) throws {
        try store.write { try $0.setStatus(ofCluster: name, to: .available) }
    }

    static let valid = #"{"name":"Demo","nodeType":"db.t4g.small","numShards":2,"numReplicasPerShard":1,"aclName":"open-access","tlsEnabled":false,"tags":[{"key":"team","value":"cache"}]}"#
}

func json(_ buffer: ByteBuffer) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any] ?? [:]
}

func errorCode(_ buffer: ByteBuffer) -> String? {
    (json(buffer)["error"] as? [String: Any])?["code"] as? String
}

@Suite struct RESTTests {
    @Test func healthAnswersOK() async throws {
        let app = try RESTFixture().app
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func createGetListAndDeleteACluster() async throws {
        let fixture = try RESTFixture()
        let store = fixture.store
        let app = fixture.app
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/clusters", method: .post, body: ByteBuffer(string: RESTFixture.valid)) { response in
                #expect(response.status == .accepted)
                let body = json(response.body)
                #expect(body["name"] as? String == "demo")
                #expect(body["status"] as? String == "creating")
                #expect(body["numberOfShards"] as? Int == 2)
                #expect(body["availabilityMode"] as? String == "MultiAZ")
                #expect(body["engineVersion"] as? String == "7.0")
                #expect(body["dataTiering"] as? String == "false")
                #expect((body["clusterEndpoint"] as? [String: Any])?["address"] == nil)
                let shards = body["shards"] as? [[String: Any]] ?? []
                #expect(shards.map { $0["slots"] as? String } == ["0-8191", "8192-16383"])
                let nodes = shards.flatMap { $0["nodes"] as? [[String: Any]] ?? [] }
                #expect(nodes.map { $0["name"] as? String } == ["demo-0001-001", "demo-0001-002", "demo-0002-001", "demo-0002-002"])
                #expect(nodes.allSatisfy { ($0["createTime"] as? String)?.hasSuffix("Z") == true })
            }
            try await client.execute(uri: "/v1/clusters/DEMO", method: .get) { response in
                #expect(response.status == .ok)
                #expect(json(response.body)["arn"] as? String == "arn:aws:memorydb:us-east-1:000000000000:cluster/demo")
            }
            try await client.execute(uri: "/v1/clusters?maxResults=1", method: .get) { response in
                #expect(response.status == .ok)
                #expect((json(response.body)["clusters"] as? [Any])?.count == 1)
                #expect(json(response.body)["nextToken"] == nil)
            }
            try await client.execute(uri: "/v1/clusters", method: .post, body: ByteBuffer(string: RESTFixture.valid)) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "ClusterAlreadyExistsFault")
            }
            // Creating: not yet deletable, as on AWS.
            try await client.execute(uri: "/v1/clusters/demo", method: .delete) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "InvalidClusterStateFault")
            }
            try RESTFixture.becomeAvailable("demo", in: store)
            try await client.execute(uri: "/v1/clusters/demo", method: .delete) { response in
                #expect(response.status == .accepted)
                #expect(json(response.body)["status"] as? String == "deleting")
            }
            try await client.execute(uri: "/v1/clusters/demo", method: .delete) { response in
                #expect(response.status == .conflict)
                #expect(errorCode(response.body) == "InvalidClusterStateFault")
            }
            try await client.execute(uri: "/v1/events?sourceName=demo", method: .get) { response in
                let events = json(response.body)["events"] as? [[String: Any]] ?? []
                #expect(events.map { $0["message"] as? String } == ["Cluster deletion started", "Cluster created with 2 shard(s) of 2 node(s)"])
            }
        }
        #expect(try fixture.store.clusterNames() == ["demo"])
    }

    /// Malformed requests: each gets a 4xx JSON error naming the problem and creates nothing.
    static let malformed: [(String, HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
        ("not JSON", .post, "/v1/clusters", "hello", .badRequest, "not valid JSON"),
        ("truncated", .post, "/v1/clusters", #"{"name":"a","nodeType":"#, .badRequest, "not valid JSON"),
        ("binary", .post, "/v1/clusters", "\u{0}\u{1}\u{2}\u{ff}", .badRequest, "not valid JSON"),
        ("empty body", .post, "/v1/clusters", "", .badRequest, "empty"),
        ("array body", .post, "/v1/clusters", "[1,2]", .badRequest, "JSON object"),
        ("string body", .post, "/v1/clusters", #""x""#, .badRequest, "JSON object"),
        ("missing name", .post, "/v1/clusters", #"{"nodeType":"db.t4g.small","aclName":"open-access"}"#, .badRequest, "'name'"),
        ("name wrong type", .post, "/v1/clusters", #"{"name":5,"nodeType":"db.t4g.small","aclName":"open-access"}"#, .badRequest, "'name' must be a string"),
        ("shards as string", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","numShards":"2"}"#, .badRequest, "'numShards' must be an integer"),
        ("shards fractional", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","numShards":1.5}"#, .badRequest, "numShards"),
        ("tls as string", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":"false"}"#, .badRequest, "'tlsEnabled' must be a boolean"),
        ("unknown field", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","numShard":2}"#, .badRequest, "Unknown field 'numShard'"),
        ("bad name", .post, "/v1/clusters", #"{"name":"-bad","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false}"#, .badRequest, "name must begin with a letter"),
        ("bad node type", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.x9.huge","aclName":"open-access","tlsEnabled":false}"#, .badRequest, "nodeType"),
        ("too many shards", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false,"numShards":501}"#, .badRequest, "numShards"),
        ("too many replicas", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false,"numReplicasPerShard":6}"#, .badRequest, "numReplicasPerShard"),
        ("tls off needs open-access", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"other","tlsEnabled":false}"#, .badRequest, "open-access"),
        ("unknown acl", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"mine"}"#, .notFound, "ACL 'mine' not found"),
        ("tag wrong shape", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false,"tags":{"k":"v"}}"#, .badRequest, "'tags' must be an array"),
        ("tag missing value", .post, "/v1/clusters", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false,"tags":[{"key":"k"}]}"#, .badRequest, "tags[0].value"),
        ("null name", .post, "/v1/clusters", #"{"name":null,"nodeType":"db.t4g.small","aclName":"open-access"}"#, .badRequest, "name"),
        ("huge body", .post, "/v1/clusters", String(repeating: "x", count: 2 * 1024 * 1024), .contentTooLarge, "larger than"),
        ("bad wait", .post, "/v1/clusters?wait=maybe", #"{"name":"a","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false}"#, .badRequest, "wait"),
        ("bad maxResults", .get, "/v1/clusters?maxResults=abc", nil, .badRequest, "maxResults"),
        ("maxResults zero", .get, "/v1/clusters?maxResults=0", nil, .badRequest, "maxResults"),
        ("forged token", .get, "/v1/clusters?nextToken=abc", nil, .badRequest, "nextToken"),
        ("missing cluster", .get, "/v1/clusters/nope", nil, .notFound, "not found"),
        ("delete missing", .delete, "/v1/clusters/nope", nil, .notFound, "not found"),
        ("unknown route", .get, "/v1/nothing", nil, .notFound, "No route"),
        ("odd-length token", .get, "/v1/clusters?nextToken=v1.abc", nil, .badRequest, "nextToken"),
        ("kelvin sign in a name", .post, "/v1/clusters", #"{"name":"\u212Aeep","nodeType":"db.t4g.small","aclName":"open-access","tlsEnabled":false}"#, .badRequest, "ASCII"),
        ("method not served", .put, "/v1/clusters", nil, .methodNotAllowed, "allowed: GET, POST"),
        ("method not served on a captured path", .post, "/v1/clusters/demo", nil, .methodNotAllowed, "allowed: DELETE, GET, PATCH"),
    ]

    @Test(arguments: malformed.indices)
    func malformedRequestsGetAClearError(index: Int) async throws {
        let (label, method, uri, body, status, fragment) = Self.malformed[index]
        let fixture = try RESTFixture()
        let app = fixture.app
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: method, body: body.map { ByteBuffer(string: $0) }) { response in
                #expect(response.status == status, "\(label)")
                #expect(response.headers[.contentType] == "application/json", "\(label)")
                let error = json(response.body)["error"] as? [String: Any]
                #expect(error?["code"] is String, "\(label)")
                let message = error?["message"] as? String ?? ""
                #expect(message.contains(fragment), "\(label): \(message)")
            }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
        }
        #expect(try fixture.store.clusterNames().isEmpty, "\(label) left a cluster behind")
    }

    @Test func credentialsAreRequiredWhenConfigured() async throws {
        let key = AccessKey(id: "AKMPTEST", secret: "secret")
        let app = try RESTFixture(accessKey: key).app
        @Sendable func basic(_ user: String, _ password: String) -> HTTPFields {
            [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        }
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/clusters", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(errorCode(response.body) == "InvalidCredentialsException")
            }
            try await client.execute(uri: "/v1/clusters", method: .get, headers: basic("AKMPTEST", "wrong")) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/clusters", method: .get, headers: [.authorization: "Bearer x"]) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/v1/clusters", method: .get, headers: basic("AKMPTEST", "secret")) { #expect($0.status == .ok) }
        }
    }
}

@Suite struct OpenAPITests {
    /// Paths and methods the spec documents, read from its `paths:` section.
    static func documentedRoutes() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("api-spec/openapi.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        var routes = Set<String>()
        var inPaths = false
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths && !line.isEmpty && !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /") && line.hasSuffix(":") && !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                if ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(method) { routes.insert("\(method) \(path)") }
            }
        }
        return routes
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedRouteExists() throws {
        let router = try RESTFixture(accessKey: AccessKey(id: "a", secret: "b")).router
        let served = Set(router.routes.map { route in
            let path = "/" + route.path.description.split(separator: "/").joined(separator: "/")
            return "\(route.method) \(path)"
        })
        let documented = try Self.documentedRoutes()
        #expect(served.subtracting(documented).isEmpty, "routes missing from api-spec/openapi.yaml: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented routes that do not exist: \(documented.subtracting(served).sorted())")
        #expect(served.count >= 6)
    }
}
