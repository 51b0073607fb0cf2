import NIOCore
import Ports

/// Decodes RESP2 replies from a byte stream, however the bytes are split across reads.
public struct RESPValueDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = RESPValue

    /// Bounds that keep a misbehaving peer from making the control plane allocate without limit.
    static let maxBulkLength = 512 * 1024 * 1024
    static let maxArrayLength = 1_000_000
    static let maxDepth = 32

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try Self.parse(&buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// Parses one whole value from the front of `buffer` and consumes it; returns nil and
    /// consumes nothing when the value is not complete yet.
    public static func parse(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        var cursor = buffer
        guard let value = try parseValue(&cursor, depth: 0) else { return nil }
        buffer = cursor
        return value
    }

    private static func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(RESPProtocolError) -> RESPValue? {
        guard depth <= maxDepth else { throw RESPProtocolError("reply nested deeper than \(maxDepth) levels") }
        guard let type: UInt8 = buffer.getInteger(at: buffer.readerIndex) else { return nil }
        guard let line = try readLine(&buffer) else { return nil }
        let body = line.dropFirst()
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: "-"):
            return .error(String(decoding: body, as: UTF8.self))
        case UInt8(ascii: ":"):
            return .integer(try integer(body))
        case UInt8(ascii: "$"):
            let length = try integer(body)
            if length == -1 { return .bulkString(nil) }
            guard length >= 0, length <= maxBulkLength else { throw RESPProtocolError("bad bulk string length \(length)") }
            guard buffer.readableBytes >= length + 2 else { return nil }
            guard let bytes = buffer.readBytes(length: length), let terminator = buffer.readBytes(length: 2) else { return nil }
            guard terminator == [13, 10] else { throw RESPProtocolError("bulk string not terminated by CRLF") }
            return .bulkString(bytes)
        case UInt8(ascii: "*"):
            let count = try integer(body)
            if count == -1 { return .array(nil) }
            guard count >= 0, count <= maxArrayLength else { throw RESPProtocolError("bad array length \(count)") }
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(count, 1024))
            for _ in 0..<count {
                guard let element = try parseValue(&buffer, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            return .array(elements)
        default:
            throw RESPProtocolError("unknown reply type byte \(type)")
        }
    }

    /// Reads up to and including CRLF; returns the line without it, or nil when incomplete.
    private static func readLine(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> [UInt8]? {
        let view = buffer.readableBytesView
        guard let newline = view.firstIndex(of: 10) else {
            if view.count > 64 * 1024 { throw RESPProtocolError("reply line longer than 64 KiB") }
            return nil
        }
        guard newline > view.startIndex, view[newline - 1] == 13 else {
            throw RESPProtocolError("reply line not terminated by CRLF")
        }
        let line = Array(view[view.startIndex..<(newline - 1)])
        buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
        return line
    }

    private static func integer(_ bytes: ArraySlice<UInt8>) throws(RESPProtocolError) -> Int {
        guard let value = Int(String(decoding: bytes, as: UTF8.self)) else {
            throw RESPProtocolError("not an integer: '\(String(decoding: bytes, as: UTF8.self))'")
        }
        return value
    }
}

/// The peer sent bytes that are not RESP.
public struct RESPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "RESP protocol error: \(message)" }
}

/// Encodes a command (its arguments, as bytes: key names need not be UTF-8) as a RESP array of
/// bulk strings.
public struct RESPCommandEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = [[UInt8]]

    public init() {}

    public func encode(data command: [[UInt8]], out: inout ByteBuffer) {
        Self.encode(command, into: &out)
    }

    public static func encode(_ command: [[UInt8]], into out: inout ByteBuffer) {
        out.writeString("*\(command.count)\r\n")
        for argument in command {
            out.writeString("$\(argument.count)\r\n")
            out.writeBytes(argument)
            out.writeString("\r\n")
        }
    }

    public static func encode(_ command: [String], into out: inout ByteBuffer) {
        encode(command.map { Array($0.utf8) }, into: &out)
    }
}
