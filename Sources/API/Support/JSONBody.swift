import Foundation
import Hummingbird
import Model
import NIOCore
import NIOFoundationCompat

/// Reads request bodies strictly: valid JSON, an object, known fields only, right types.
///
/// An unknown field is refused rather than ignored, at any depth, so a typo ("numShard",
/// `{"key", "vlaue"}`) never silently creates something other than what the caller meant; so is
/// an explicit `null` (omit a field to leave it out).
enum JSONBody {
    /// The members of the nested objects bodies carry, by the field that holds them (an object,
    /// or an array of objects).
    static let nestedFields: [String: (members: Set<String>, isList: Bool)] = [
        "tags": (["key", "value"], true),
        "authenticationMode": (["type", "passwords"], false),
    ]

    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: APIRequestContext, allowedFields: Set<String>) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError.bodyTooLarge(limit: context.maxUploadSize)
        }
        let data = Data(buffer: buffer)
        guard !data.isEmpty else { throw MemoryDBError.invalid("The request body is empty; send a JSON object.") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw MemoryDBError.invalid("The request body is not valid JSON.")
        }
        guard let fields = object as? [String: Any] else {
            throw MemoryDBError.invalid("The request body must be a JSON object.")
        }
        try checkFields(fields, allowed: allowedFields, path: "")
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                let field = fields.keys.sorted().first(where: { isFractional(fields[$0]) })
            {
                // Foundation reports a fraction where an integer belongs as corrupt JSON, without a path.
                throw MemoryDBError.invalid("Field '\(field)' must be an integer.")
            }
            throw MemoryDBError.invalid(describe(error))
        }
    }

    /// For operations that take no body: nothing, or `{}`; anything else is refused, never ignored.
    static func requireEmpty(_ request: Request, context: APIRequestContext) async throws {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: 1024)
        } catch is NIOTooManyBytesError {
            throw MemoryDBError.invalid("This operation takes no request body.")
        }
        let text = String(buffer: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.isEmpty || text == "{}" else {
            throw MemoryDBError.invalid("This operation takes no request body (send none, or {}).")
        }
    }

    /// Refuses unknown members and nulls, here and in the nested objects `nestedFields` names.
    static func checkFields(_ fields: [String: Any], allowed: Set<String>, path: String) throws {
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw MemoryDBError.invalid(
                "Unknown field '\(path)\(unknown)'; allowed fields\(path.isEmpty ? "" : " of '\(path.dropLast())'") are \(allowed.sorted().joined(separator: ", ")).")
        }
        for name in fields.keys.sorted() {
            let value = fields[name]
            if value is NSNull {
                throw MemoryDBError.invalid("Field '\(path)\(name)' must not be null; omit it to leave it out.")
            }
            if let items = value as? [Any] {
                for (index, item) in items.enumerated() where item is NSNull {
                    throw MemoryDBError.invalid("Field '\(path)\(name)[\(index)]' must not be null.")
                }
            }
            // A value of the wrong shape is left to the decoder, which names the type it wants.
            guard let (members, isList) = nestedFields[name] else { continue }
            if !isList, let object = value as? [String: Any] {
                try checkFields(object, allowed: members, path: "\(path)\(name).")
            } else if isList, let items = value as? [Any] {
                for (index, item) in items.enumerated() {
                    if let object = item as? [String: Any] { try checkFields(object, allowed: members, path: "\(path)\(name)[\(index)].") }
                }
            }
        }
    }

    private static func isFractional(_ value: Any?) -> Bool {
        guard let value, let number = JSONNumbers.number(value) else { return false }
        return number.doubleValue.rounded() != number.doubleValue || number.doubleValue.magnitude > Double(Int.max)
    }

    /// Turns a decoding error into a sentence naming the field.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "Missing required field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'."
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "Field '\(path(context.codingPath))' must be \(typeName(type))."
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            return field.isEmpty ? "The request body is not valid JSON." : "Field '\(field)' has an invalid value."
        @unknown default:
            return "The request body could not be read."
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is Bool.Type: return "a boolean (true or false)"
        case is String.Type: return "a string"
        case is [Any].Type: return "an array"
        default:
            let name = String(describing: type)
            return name.hasPrefix("Array") ? "an array" : name.contains("Dictionary") ? "an object" : "a \(name)"
        }
    }

    /// A JSON response with sorted keys, so output is stable for people and tests.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        response(bytes: try encode(value), status: status)
    }

    /// JSON already written (a kept representation).
    static func response(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}
