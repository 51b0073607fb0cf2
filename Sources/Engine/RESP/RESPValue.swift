import Ports
/// One RESP2 reply from a Redis node.
public enum RESPValue: Sendable, Equatable {
    case simpleString(String)
    case error(String)
    case integer(Int)
    /// `nil` is the null bulk string (`$-1`).
    case bulkString([UInt8]?)
    /// `nil` is the null array (`*-1`).
    case array([RESPValue]?)

    /// The reply as text, for simple and bulk strings.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }

    public var integer: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [RESPValue]? {
        if case .array(let values?) = self { return values }
        return nil
    }

    public var isError: Bool {
        if case .error = self { return true }
        return false
    }
}

/// A reply the node sent as a RESP error, or a reply of the wrong kind.
public struct RedisReplyError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension RESPValue {
    /// The reply, or the node's error thrown.
    public func orThrow() throws(RedisReplyError) -> RESPValue {
        if case .error(let message) = self { throw RedisReplyError(message) }
        return self
    }

    /// The reply as text, or an error saying what came instead.
    public func text() throws(RedisReplyError) -> String {
        let value = try orThrow()
        guard let text = value.string else { throw RedisReplyError("expected a string reply, got \(value)") }
        return text
    }
}
