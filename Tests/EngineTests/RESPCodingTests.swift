import Engine
import NIOCore
import NIOTestUtils
import Testing
import Ports

@Suite struct RESPCodingTests {
    func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func decodesEveryReplyKindFedOneByteAtATime() throws {
        let wire = "+OK\r\n-ERR bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:7\r\n*-1\r\n$0\r\n\r\n"
        let expected: [RESPValue] = [
            .simpleString("OK"), .error("ERR bad"), .integer(42), .bulkString(Array("hello".utf8)), .bulkString(nil),
            .array([.bulkString([UInt8(ascii: "a")]), .array([.integer(7)])]), .array(nil), .bulkString([]),
        ]
        // The verifier feeds the input whole, byte by byte and in other splits.
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(bytes(wire), expected)],
            decoderFactory: { RESPValueDecoder() })
    }

    @Test func incompleteInputConsumesNothing() throws {
        for partial in ["", "+OK", "+OK\r", "$5\r\nhel", "*2\r\n:1\r\n", "$5\r\nhello\r"] {
            var buffer = bytes(partial)
            #expect(try RESPValueDecoder.parse(&buffer) == nil, "\(partial.debugDescription)")
            #expect(buffer.readableBytes == partial.utf8.count)
        }
    }

    @Test(arguments: ["?what\r\n", ":notanumber\r\n", "$-5\r\n", "*-7\r\n", "$3\r\nabcXY", "+OK\n"])
    func garbageIsAProtocolError(wire: String) {
        var buffer = bytes(wire)
        #expect(throws: RESPProtocolError.self) { try RESPValueDecoder.parse(&buffer) }
    }

    @Test func absurdLengthsAreRefusedBeforeAllocating() {
        var bulk = bytes("$999999999999\r\n")
        #expect(throws: RESPProtocolError.self) { try RESPValueDecoder.parse(&bulk) }
        var deep = bytes(String(repeating: "*1\r\n", count: 100) + ":1\r\n")
        #expect(throws: RESPProtocolError.self) { try RESPValueDecoder.parse(&deep) }
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        var out = ByteBuffer()
        RESPCommandEncoder.encode(["SET", "ключ", ""], into: &out)
        #expect(String(buffer: out) == "*3\r\n$3\r\nSET\r\n$8\r\nключ\r\n$0\r\n\r\n")
    }

    @Test func replyHelpers() throws {
        #expect(RESPValue.bulkString(Array("x".utf8)).string == "x")
        #expect(throws: RedisReplyError.self) { try RESPValue.error("NOPERM").orThrow() }
        #expect(throws: RedisReplyError.self) { try RESPValue.integer(1).text() }
    }
}
