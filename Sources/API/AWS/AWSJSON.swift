import Foundation
import Model

/// A JSON value for the AWS door's responses, built shape by shape from botocore's model.
indirect enum AWSJSON: Equatable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case array([AWSJSON])
    case object([String: AWSJSON])
    /// JSON text written earlier (a kept representation), copied as it is.
    case serialized([UInt8])

    /// An object without the members whose value is absent.
    static func object(_ members: [String: AWSJSON?]) -> AWSJSON {
        .object(members.compactMapValues { $0 })
    }

    /// AWS timestamps on the JSON protocol: seconds since 1970 as a number.
    static func timestamp(milliseconds: Int64) -> AWSJSON {
        .double(Double(milliseconds) / 1000)
    }

    static func strings(_ values: [String]) -> AWSJSON { .array(values.map(AWSJSON.string)) }

    /// The value as JSON text with sorted keys. Written by hand: it is on every response, and
    /// Foundation's JSONEncoder was a tenth of the AWS door's time.
    func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(into: &out)
        return out
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .string(let value): Self.writeString(value, into: &out)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value):
            out.append(contentsOf: (value.isFinite ? String(value) : "0").utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .serialized(let bytes): out.append(contentsOf: bytes)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func writeString(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A request body of the AWS door, read strictly: known members only, right types, and an
/// error that names the member otherwise.
struct AWSInput: MemberSource {
    let operation: String
    private let members: [String: Any]

    init(operation: String, body: Data, allowed: Set<String>) throws {
        self.operation = operation
        if body.isEmpty || body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            members = [:]
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            throw MemoryDBError.invalid("The request body is not valid JSON.")
        }
        guard let members = object as? [String: Any] else {
            throw MemoryDBError.invalid("The request body must be a JSON object.")
        }
        if let unknown = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw MemoryDBError.invalid("\(operation) has no parameter '\(unknown)'; it accepts \(allowed.sorted().joined(separator: ", ")).")
        }
        self.members = members.filter { !($0.value is NSNull) }
    }

    func has(_ name: String) -> Bool { members[name] != nil }

    func string(_ name: String) throws -> String? {
        guard let value = members[name] else { return nil }
        guard let text = value as? String else { throw MemoryDBError.invalid("\(name) must be a string.") }
        return text
    }

    /// An operation's input read through its member table, member by member in the table's order.
    func read<Request: TabledRequest>(_ type: Request.Type) throws -> Request {
        var request = Request.empty
        for member in Request.members where !member.restOnly { try member.read(into: &request, from: self, name: member.aws) }
        return request
    }

    func requiredString(_ name: String) throws -> String {
        guard let value = try string(name) else { throw MemoryDBError.invalid("\(name) is required.") }
        return value
    }

    func int(_ name: String) throws -> Int? {
        guard let value = members[name] else { return nil }
        guard let number = JSONNumbers.number(value), let integer = Int(exactly: number.doubleValue)
        else { throw MemoryDBError.invalid("\(name) must be an integer.") }
        return integer
    }

    func double(_ name: String) throws -> Double? {
        guard let value = members[name] else { return nil }
        guard let number = JSONNumbers.number(value) else { throw MemoryDBError.invalid("\(name) must be a timestamp in seconds.") }
        return number.doubleValue
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = members[name] else { return nil }
        guard JSONNumbers.isBool(value), let flag = value as? Bool else { throw MemoryDBError.invalid("\(name) must be a boolean.") }
        return flag
    }

    func strings(_ name: String) throws -> [String]? {
        guard let value = members[name] else { return nil }
        guard let list = value as? [Any], let strings = list as? [String], strings.count == list.count else {
            throw MemoryDBError.invalid("\(name) must be a list of strings.")
        }
        return strings
    }

    func requiredStrings(_ name: String) throws -> [String] {
        guard let list = try strings(name) else { throw MemoryDBError.invalid("\(name) is required.") }
        return list
    }

    func tags(_ name: String) throws -> [Tag]? {
        guard let value = members[name] else { return nil }
        guard let list = value as? [Any] else { throw MemoryDBError.invalid("\(name) must be a list of {Key, Value}.") }
        return try list.enumerated().map { index, item in
            guard let tag = item as? [String: Any], let key = tag["Key"] as? String else {
                throw MemoryDBError.invalid("\(name)[\(index)] must have a string Key.")
            }
            guard Set(tag.keys).isSubset(of: ["Key", "Value"]) else {
                throw MemoryDBError.invalid("\(name)[\(index)] may have only Key and Value.")
            }
            let tagValue = tag["Value"] ?? ""
            guard let text = tagValue as? String else { throw MemoryDBError.invalid("\(name)[\(index)].Value must be a string.") }
            return Tag(key: key, value: text)
        }
    }

    /// The one integer member `inner` of a structure such as `ShardConfiguration {ShardCount}`.
    func count(_ name: String, inner: String) throws -> Int? {
        guard let value = members[name] else { return nil }
        guard let object = value as? [String: Any], Set(object.keys) == [inner], let number = JSONNumbers.number(object[inner] as Any),
            let integer = Int(exactly: number.doubleValue)
        else { throw MemoryDBError.invalid("\(name) must be {\(inner): integer}.") }
        return integer
    }

    /// `ServiceUpdate {ServiceUpdateNameToApply}` of BatchUpdateCluster; nil when absent.
    func serviceUpdateName(_ name: String) throws -> String? {
        guard let value = members[name] else { return nil }
        guard let object = value as? [String: Any], Set(object.keys).isSubset(of: ["ServiceUpdateNameToApply"]) else {
            throw MemoryDBError.invalid("\(name) must be {ServiceUpdateNameToApply: string}.")
        }
        guard let update = object["ServiceUpdateNameToApply"] else { return nil }
        guard let text = update as? String else { throw MemoryDBError.invalid("\(name).ServiceUpdateNameToApply must be a string.") }
        return text
    }

    /// `{Type, Passwords}`, as CreateUser and UpdateUser send AuthenticationMode.
    func authentication(_ name: String, required: Bool) throws -> AuthenticationModeInput? {
        guard let value = members[name] else {
            if required { throw MemoryDBError.invalid("\(name) is required.") }
            return nil
        }
        guard let mode = value as? [String: Any], let type = mode["Type"] as? String else {
            throw MemoryDBError.invalid("\(name) must be {Type, Passwords}.")
        }
        guard Set(mode.keys).isSubset(of: ["Type", "Passwords"]) else { throw MemoryDBError.invalid("\(name) may have only Type and Passwords.") }
        let passwords = mode["Passwords"] ?? [String]()
        guard let list = passwords as? [String] else { throw MemoryDBError.invalid("\(name).Passwords must be a list of strings.") }
        return AuthenticationModeInput(type: type, passwords: list)
    }

    /// `[{ParameterName, ParameterValue}]`, as UpdateParameterGroup sends them.
    func nameValues(_ name: String) throws -> [(name: String, value: String)] {
        guard let value = members[name] else { throw MemoryDBError.invalid("\(name) is required.") }
        guard let list = value as? [Any] else { throw MemoryDBError.invalid("\(name) must be a list of {ParameterName, ParameterValue}.") }
        return try list.enumerated().map { index, item in
            guard let pair = item as? [String: Any], let parameter = pair["ParameterName"] as? String,
                let parameterValue = pair["ParameterValue"] as? String
            else { throw MemoryDBError.invalid("\(name)[\(index)] must have a string ParameterName and ParameterValue.") }
            return (parameter, parameterValue)
        }
    }

    func filters(_ name: String) throws -> [(name: String, values: [String])] {
        guard let value = members[name] else { return [] }
        guard let list = value as? [Any] else { throw MemoryDBError.invalid("\(name) must be a list of {Name, Values}.") }
        return try list.enumerated().map { index, item in
            guard let filter = item as? [String: Any], let filterName = filter["Name"] as? String,
                let values = filter["Values"] as? [String]
            else { throw MemoryDBError.invalid("\(name)[\(index)] must have a string Name and a list of string Values.") }
            return (filterName, values)
        }
    }
}
