import Control
import Foundation
import Hummingbird
import Model
import Ports
import NIOCore
import NIOFoundationCompat
import Store

/// Records every mutating call through either door, and every refused one (bad or missing
/// credentials), in the audit trail: time, access key id, source address, door, operation,
/// resource, parameters with secrets removed, and outcome (success or the fault code).
struct AuditMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let trail: AuditTrail
    let awsOperations: Set<String>
    /// The console's sessions: a call with a session cookie is the console's, made by the key
    /// the session was opened with.
    let sessions: ConsoleSessions?
    /// Names each record's key (nil with `--auth none`).
    let keys: AccessKeyService?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let call = classify(request)
        guard call.door != nil || request.method != .get else { return try await next(request, context) }
        var request = request
        var body = ByteBuffer()
        if call.mutating {
            do {
                body = try await request.collectBody(upTo: context.maxUploadSize)
            } catch is NIOTooManyBytesError {
                let response = Door.of(request).bodyTooLarge(limit: context.maxUploadSize)
                record(request, context, call: call, body: ByteBuffer(), response: response)
                return response
            }
        }
        let response = try await next(request, context)
        if call.mutating || response.status == .unauthorized || response.status == .forbidden
            || response.headers[AWSDoor.errorTypeHeader] == MemoryDBError.Code.accessDenied.rawValue
        {
            record(request, context, call: call, body: body, response: response)
        }
        return response
    }

    struct Call {
        /// aws or rest; nil for neither (health, metrics).
        var door: AuditDoor?
        var operation: String
        var mutating: Bool
    }

    func classify(_ request: Request) -> Call {
        let path = request.uri.path
        if path == "/" && request.method == .post {
            let name = AWSDoor.operationName(request)
            let known = awsOperations.contains(name)
            return Call(door: .aws, operation: known ? name : "unknown", mutating: known && !name.hasPrefix("Describe") && !name.hasPrefix("List"))
        }
        if path == "/console/session" && request.method == .post { return Call(door: .console, operation: Self.signIn, mutating: true) }
        guard path.hasPrefix("/v1/") else { return Call(door: nil, operation: "", mutating: false) }
        let dryRun = request.uri.queryParameters.get("dryRun") == "true"
        let mutating = [.post, .put, .patch, .delete].contains(request.method) && !dryRun
        let console = consoleSession(request) != nil || request.headers[ConsoleSessions.consoleHeader] != nil
        return Call(door: console ? .console : .rest, operation: "\(request.method.rawValue) \(path)", mutating: mutating)
    }

    /// A console sign-in: recorded under the key id it names, success or refusal, never its body
    /// (the secret is in it).
    static let signIn = "POST /console/session"

    func record(_ request: Request, _ context: Context, call: Call, body: ByteBuffer, response: Response) {
        let status = Int(response.status.code)
        let fault = response.headers[AWSDoor.errorTypeHeader] ?? "HTTP\(status)"
        if call.operation == Self.signIn {
            let parsed = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
            let key = (parsed?["accessKeyId"] as? String).map { String($0.prefix(128)) } ?? "anonymous"
            trail.record(
                AuditRecord(
                    time: trail.clock.nowMilliseconds, accessKeyID: key, sourceAddress: context.remoteAddress, door: .console, operation: Self.signIn,
                    resource: "console/session", parameters: "{}", outcome: status < 400 ? "success" : fault, httpStatus: status,
                    accessKeyName: keys?.name(of: key) ?? "", decision: decision(status: status, fault: fault)))
            return
        }
        let door = call.door ?? .rest
        let resource: String
        let parameters: String
        // The common case costs no JSON parsing: a body the door accepted (so it is a JSON object)
        // that names no secret is recorded as sent, its resource found by a scan.
        let bytes = body.readableBytesView
        if status < 400, request.uri.queryParameters.isEmpty, !request.uri.path.hasPrefix("/v1/stacks/"), !Self.mentionsSecret(bytes),
            bytes.first == UInt8(ascii: "{")
        {
            resource = Self.resource(request, context, door: door, member: { Self.stringMember($0, in: bytes) })
            parameters = bytes.isEmpty ? "{}" : "{\"body\":" + String(decoding: bytes, as: UTF8.self) + "}"
        } else {
            let parsed = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
            resource = Self.resource(request, context, door: door, member: { parsed?[$0] })
            parameters = self.parameters(request, body: body, parsed: parsed)
        }
        let keyID = consoleSession(request)?.accessKeyID ?? Self.accessKeyID(request)
        trail.record(
            AuditRecord(
                time: trail.clock.nowMilliseconds, accessKeyID: keyID, sourceAddress: context.remoteAddress, door: door,
                operation: door == .aws ? call.operation : "\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)",
                resource: resource, parameters: parameters, outcome: status < 400 ? "success" : fault, httpStatus: status,
                accessKeyName: keys?.name(of: keyID) ?? "", decision: decision(status: status, fault: fault)))
    }

    /// What authorisation decided: denied (AccessDeniedException), unauthenticated (no key, a
    /// wrong one, or a refused session), else allowed; empty with `--auth none`.
    func decision(status: Int, fault: String) -> String {
        guard keys != nil else { return "" }
        if fault == MemoryDBError.Code.accessDenied.rawValue { return "denied" }
        return status == 401 || status == 403 ? "unauthenticated" : "allowed"
    }

    /// Whether the bytes contain "password", "secret" or "token" in any case.
    static func mentionsSecret(_ bytes: ByteBufferView) -> Bool {
        let words: [[UInt8]] = [Array("password".utf8), Array("secret".utf8), Array("token".utf8)]
        return bytes.withContiguousStorageIfAvailable { all in
            words.contains { word in firstIndex(of: word, in: all, from: 0, ignoringCase: true) != nil }
        } ?? Array(bytes).withUnsafeBufferPointer { all in
            words.contains { word in firstIndex(of: word, in: all, from: 0, ignoringCase: true) != nil }
        }
    }

    /// Where `needle` starts in `haystack` at or after `from`, compared byte by byte (ASCII case
    /// folded when asked): on every audited call, so without allocating.
    static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from: Int, ignoringCase: Bool = false) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        for start in from...(haystack.count - needle.count) {
            var index = 0
            while index < needle.count {
                var byte = haystack[start + index]
                if ignoringCase && byte >= 65 && byte <= 90 { byte += 32 }
                if byte != needle[index] { break }
                index += 1
            }
            if index == needle.count { return start }
        }
        return nil
    }

    static func stringMember(_ name: String, in bytes: ByteBufferView) -> Any? {
        let needle = Array("\"\(name)\"".utf8)
        let read = { (all: UnsafeBufferPointer<UInt8>) -> String? in
            guard let found = firstIndex(of: needle, in: all, from: 0) else { return nil }
            var cursor = found + needle.count
            while cursor < all.count && (all[cursor] == UInt8(ascii: " ") || all[cursor] == UInt8(ascii: ":")) { cursor += 1 }
            guard cursor < all.count, all[cursor] == UInt8(ascii: "\"") else { return nil }
            let start = cursor + 1
            var end = start
            while end < all.count && all[end] != UInt8(ascii: "\"") && all[end] != UInt8(ascii: "\\") { end += 1 }
            guard end < all.count, all[end] == UInt8(ascii: "\"") else { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: all[start..<end]), as: UTF8.self)
        }
        return bytes.withContiguousStorageIfAvailable(read) ?? Array(bytes).withUnsafeBufferPointer(read)
    }

    /// The live console session the request's cookie names (when it has no credentials of its own).
    func consoleSession(_ request: Request) -> ConsoleSessions.Session? {
        guard request.headers[.authorization] == nil, let sessions, let id = ConsoleSessions.id(inCookieHeader: request.headers[.cookie]) else {
            return nil
        }
        return sessions.session(id)
    }

    static func accessKeyID(_ request: Request) -> String {
        guard let header = request.headers[.authorization], !header.isEmpty else { return "anonymous" }
        if header.hasPrefix("AWS4-HMAC-SHA256"), let range = header.range(of: "Credential=") {
            let id = header[range.upperBound...].prefix { $0 != "/" && $0 != "," && $0 != " " }
            return String(id.prefix(128))
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[0].lowercased() == "basic", let data = Data(base64Encoded: String(parts[1])),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        {
            return String(text[..<colon].prefix(128))
        }
        return "unrecognized"
    }

    /// `clusters/demo`: the route's `:name`, else the body's name member (AWS: its *Name or ARN).
    static func resource(_ request: Request, _ context: Context, door: AuditDoor, member: (String) -> Any?) -> String {
        if door == .aws {
            let members: [(String, String)] = [
                ("ClusterName", "cluster"), ("UserName", "user"), ("ACLName", "acl"), ("ParameterGroupName", "parametergroup"),
                ("SubnetGroupName", "subnetgroup"), ("SnapshotName", "snapshot"), ("SourceSnapshotName", "snapshot"), ("ResourceArn", "arn"),
                ("ServiceUpdateName", "serviceupdate"),
            ]
            for (name, type) in members {
                if let value = member(name) as? String { return type == "arn" ? value : "\(type)/\(value)" }
            }
            if let names = member("ClusterNames") as? [String] { return "cluster/" + names.joined(separator: ",") }
            return ""
        }
        let segments = request.uri.path.split(separator: "/").dropFirst()  // after "v1"
        guard let collection = segments.first else { return "" }
        if let name = context.parameters.get("name") { return "\(collection)/\(name)" }
        if let name = member("name") as? String { return "\(collection)/\(name)" }
        return String(collection)
    }

    /// The request's parameters with secrets removed; a stack document is named, not copied
    /// (its stored, redacted form is the stack's own).
    func parameters(_ request: Request, body: ByteBuffer, parsed: [String: Any]?) -> String {
        var object: [String: Any] = [:]
        let query = request.uri.queryParameters
        if !query.isEmpty {
            var items: [String: String] = [:]
            for (key, value) in query { items[String(key)] = String(value) }
            object["query"] = items
        }
        if request.uri.path.hasPrefix("/v1/stacks/") {
            if body.readableBytes > 0 { object["body"] = "(stack document, \(body.readableBytes) bytes)" }
        } else if let parsed {
            object["body"] = AuditRedaction.redact(parsed)
        } else if body.readableBytes > 0 {
            object["body"] = "(\(body.readableBytes) bytes, not a JSON object)"
        }
        guard let data = try? JSONSerialization.data(withJSONObject: AuditRedaction.redact(object), options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
