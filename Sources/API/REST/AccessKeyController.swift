import Control
import Foundation
import Hummingbird
import Model
import NIOCore
import NIOFoundationCompat
import Store

/// REST `/v1/access-keys`: the keys callers sign with, each with a name (its principal) and an
/// IAM policy; the secret is answered once, on create and rotate.
struct AccessKeyController {
    /// Nil with `--auth none`: every route then says so instead of keeping keys nothing checks.
    let registry: AccessKeyService?

    var keys: AccessKeyService {
        get throws {
            guard let registry else {
                throw MemoryDBError(
                    .invalidParameterCombination,
                    "This server runs with --auth none: no key is checked, so none can be kept; start it with --auth key to use access keys.")
            }
            return registry
        }
    }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("access-keys", use: create)
        group.get("access-keys", use: list)
        group.get("access-keys/:accessKeyId", use: get)
        group.patch("access-keys/:accessKeyId", use: update)
        group.delete("access-keys/:accessKeyId", use: delete)
        group.post("access-keys/:accessKeyId/rotate", use: rotate)
    }

    struct KeyBody: Encodable {
        var accessKeyId: String
        /// Only in the answer to create and rotate.
        var secretAccessKey: String?
        var name: String
        var status: String
        var template: String?
        var policy: RawJSON
        var createdAt: String
        var lastUsedAt: String?

        init(_ view: AccessKeyView, secret: String? = nil) {
            accessKeyId = view.id
            secretAccessKey = secret
            name = view.name
            status = view.status.rawValue
            template = view.template
            policy = RawJSON(text: view.policy)
            createdAt = RESTTime.iso8601(view.createdAt)
            lastUsedAt = view.lastUsedAt.map(RESTTime.iso8601)
        }
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (fields, text) = try await Self.object(request, context, allowed: ["name", "policy", "prefix", "tag"])
        guard let name = fields["name"] as? String else { throw MemoryDBError.invalid("name is required: the key's principal, e.g. \"ci-pipeline\".") }
        guard fields["policy"] != nil else {
            throw MemoryDBError.invalid("policy is required: an IAM policy document, or a template (\(AccessKeyPolicy.templateNames.joined(separator: ", "))).")
        }
        let (view, secret) = try keys.create(name: name, policy: try Self.policy(fields, text))
        return try JSONBody.response(KeyBody(view, secret: secret), status: .created)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        struct Body: Encodable { var accessKeys: [KeyBody] }
        return try JSONBody.response(Body(accessKeys: try keys.list().map { KeyBody($0) }))
    }

    @Sendable func get(_ request: Request, context: APIRequestContext) async throws -> Response {
        try JSONBody.response(KeyBody(try keys.describe(context.parameters.require("accessKeyId"))))
    }

    /// `{"status": "Inactive"}` refuses the key from the next request on; a new `policy` (with
    /// `prefix`/`tag` for the ci template) replaces the old one.
    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (fields, text) = try await Self.object(request, context, allowed: ["status", "policy", "prefix", "tag"])
        var status: AccessKeyStatus?
        if let given = fields["status"] {
            guard let text = given as? String, let parsed = AccessKeyStatus(rawValue: text) else {
                throw MemoryDBError.invalid("status must be Active or Inactive; got \(given).")
            }
            status = parsed
        }
        if fields["policy"] == nil && (fields["prefix"] != nil || fields["tag"] != nil) {
            throw MemoryDBError(.invalidParameterCombination, "prefix and tag go with policy \"ci\".")
        }
        let policy = fields["policy"] == nil ? nil : try Self.policy(fields, text)
        return try JSONBody.response(KeyBody(try keys.update(context.parameters.require("accessKeyId"), status: status, policy: policy)))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        try keys.delete(context.parameters.require("accessKeyId"))
        return Response(status: .noContent)
    }

    /// A second key for the same name and policy; delete the old one once clients have moved.
    @Sendable func rotate(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await JSONBody.requireEmpty(request, context: context)
        let (view, secret) = try keys.rotate(context.parameters.require("accessKeyId"))
        return try JSONBody.response(KeyBody(view, secret: secret), status: .created)
    }

    /// The body as a JSON object (unknown members refused) and its text, for a policy's lines.
    static func object(_ request: Request, _ context: APIRequestContext, allowed: Set<String>) async throws -> ([String: Any], String) {
        var request = request
        let buffer = try await SigV4Request.collectBody(&request, context: context)
        let text = String(decoding: buffer.readableBytesView, as: UTF8.self)
        guard let object = try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) else {
            throw MemoryDBError.invalid("The request body is not valid JSON.")
        }
        guard let fields = object as? [String: Any] else { throw MemoryDBError.invalid("The request body must be a JSON object.") }
        try JSONBody.checkFields(fields, allowed: allowed, path: "")
        return (fields, text)
    }

    /// `policy` as a template name (with `prefix`/`tag` for ci), a document object, or a
    /// document as a JSON string.
    static func policy(_ fields: [String: Any], _ text: String) throws -> AccessKeyPolicy {
        guard fields["prefix"] == nil || fields["prefix"] is String else { throw MemoryDBError.invalid("prefix must be a string, e.g. \"ci-\".") }
        let prefix = fields["prefix"] as? String
        var tag: Tag?
        if let given = fields["tag"] {
            guard let object = given as? [String: Any], let key = object["key"] as? String, let value = object["value"] as? String, object.count == 2,
                !key.isEmpty
            else { throw MemoryDBError.invalid("tag must be {\"key\": ..., \"value\": ...}.") }
            tag = Tag(key: key, value: value)
        }
        switch fields["policy"] {
        case let name as String: return try AccessKeyPolicy.parse(name, prefix: prefix, tag: tag)
        case let document as [String: Any]: return try AccessKeyPolicy.document(object: document, lines: text, prefix: prefix, tag: tag)
        default: throw MemoryDBError.invalid("policy must be an IAM policy document (a JSON object) or a template's name.")
        }
    }
}

/// JSON text already serialised (a stored policy document), written into a response as is.
struct RawJSON: Encodable {
    var text: String

    func encode(to encoder: any Encoder) throws {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        var container = encoder.singleValueContainer()
        try container.encode(AnyJSON(object))
    }
}

/// Any JSONSerialization value, encodable.
struct AnyJSON: Encodable {
    let value: Any
    init(_ value: Any) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch value {
        case let text as String: try container.encode(text)
        case let list as [Any]: try container.encode(list.map(AnyJSON.init))
        case let object as [String: Any]: try container.encode(object.mapValues(AnyJSON.init))
        case let number as NSNumber: try container.encode(number.doubleValue)
        default: try container.encodeNil()
        }
    }
}
