import API
import ArgumentParser
import Control
import Foundation
import NIOHTTP1

/// How the client commands reach the server and prove who they are.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server's URL (or MEMORYPLANE_ENDPOINT_URL).")
    var endpointUrl: String?

    @Option(help: "A profile of the AWS shared-credentials file (~/.aws/credentials, or AWS_SHARED_CREDENTIALS_FILE) to sign with.")
    var profile: String?

    @Option(help: "The server's data directory: its credentials file (profile memoryplane) is used when no other credentials are given, and its ca.pem for https.")
    var dataDir = "./.memoryplane"

    @Option(help: "Region to sign for (or AWS_REGION / AWS_DEFAULT_REGION).")
    var region: String?

    @Option(help: "CA certificate (PEM) to trust for an https endpoint (default: <data-dir>/ca.pem when it exists).")
    var caFile: String?

    enum Output: String, ExpressibleByArgument, CaseIterable {
        case table, json
    }

    @Option(help: "Output format: table or json.")
    var output: Output = .table

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    func api() throws -> MemoryPlaneAPI {
        let url = endpointUrl ?? environment["MEMORYPLANE_ENDPOINT_URL"] ?? "http://127.0.0.1:8080"
        let defaultCA = "\(dataDir)/ca.pem"
        let ca = caFile ?? (FileManager.default.isReadableFile(atPath: defaultCA) ? defaultCA : nil)
        let http = try HTTPClient(url: url, caFile: url.lowercased().hasPrefix("https") ? ca : nil)
        let region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        return MemoryPlaneAPI(http: http, signer: try credentials().map { SigV4Signer(key: $0, region: region) })
    }

    /// `--profile`, then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, then AWS_PROFILE, then the
    /// server's own credentials file; none at all talks to a server run with `--auth none`.
    func credentials() throws -> AccessKey? {
        if let profile { return try Self.profile(profile, environment: environment) }
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !id.isEmpty, !secret.isEmpty {
            return AccessKey(id: id, secret: secret)
        }
        if let profile = environment["AWS_PROFILE"], !profile.isEmpty { return try Self.profile(profile, environment: environment) }
        let own = "\(dataDir)/credentials"
        if let text = try? String(contentsOfFile: own, encoding: .utf8) { return AccessKey.parse(text, profile: AccessKey.profile) }
        return nil
    }

    static func profile(_ name: String, environment: [String: String]) throws -> AccessKey {
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError.usage("--profile \(name): cannot read \(path).")
        }
        guard let key = AccessKey.parse(text, profile: name) else {
            throw CLIError.usage("--profile \(name): \(path) has no [\(name)] with aws_access_key_id and aws_secret_access_key.")
        }
        return key
    }
}

/// The REST API, signed with SigV4 when there are credentials.
struct MemoryPlaneAPI: Sendable {
    let http: HTTPClient
    let signer: SigV4Signer?

    /// The body of a 2xx answer; a fault becomes `CLIError.api` with the server's code and message.
    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8] = [], contentType: String = "application/json"
    ) async throws -> HTTPReply {
        let queryString = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        let fullPath = http.basePath + path
        var headers: [String: String] = ["host": http.authority]
        if !body.isEmpty { headers["content-type"] = contentType }
        if let signer {
            for (name, value) in signer.sign(method: method.rawValue, path: fullPath, query: queryString, headers: headers, body: body) {
                headers[name] = value
            }
        }
        let reply = try await http.send(method: method, path: path, query: queryString, headers: headers, body: body)
        guard reply.status < 400 else {
            let fault = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any]
            let error = fault?["error"] as? [String: Any]
            throw CLIError.api(
                status: reply.status, code: error?["code"] as? String ?? "HTTP\(reply.status)", message: error?["message"] as? String ?? reply.text)
        }
        return reply
    }

    func json(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8] = []) async throws -> Any {
        let reply = try await call(method, path, query: query, body: body)
        guard !reply.body.isEmpty else { return [String: Any]() }
        return try JSONSerialization.jsonObject(with: Data(reply.body))
    }

    func decode<T: Decodable>(_ type: T.Type, _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8] = [], contentType: String = "application/json") async throws -> T {
        let reply = try await call(method, path, query: query, body: body, contentType: contentType)
        return try JSONDecoder().decode(T.self, from: Data(reply.body))
    }

    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }

    /// Every page of a list, items under `key`.
    func all(_ path: String, key: String, query: [(String, String)] = []) async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var token: String?
        repeat {
            var pageQuery = query
            if let token { pageQuery.append(("nextToken", token)) }
            let page = try await json(.GET, path, query: pageQuery) as? [String: Any] ?? [:]
            items += page[key] as? [[String: Any]] ?? []
            token = page["nextToken"] as? String
        } while token != nil
        return items
    }
}

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether standard output is a terminal (live progress) or a log (timestamped lines).
var outputIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
