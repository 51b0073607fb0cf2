import Model
import Ports

/// Opaque, stable pagination tokens: the last key of the previous page, as `v1.` and the key's
/// UTF-8 bytes in hex.
///
/// Every string of that form is a valid cursor ("start after this key"), so the grammar in the
/// OpenAPI spec (`^v1\.([0-9a-f]{2})*$`) says exactly which tokens the server takes.
enum PageToken {
    static let prefix = "v1."

    static func encode(_ key: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = Array(prefix.utf8)
        for byte in key.utf8 {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ token: String) throws(MemoryDBError) -> String {
        let refusal = MemoryDBError.invalid("nextToken (NextToken) is not a token this server issued: expected v1. and hex digits.")
        guard token.hasPrefix(prefix) else { throw refusal }
        let hex = Array(token.utf8.dropFirst(prefix.utf8.count))
        guard hex.count % 2 == 0 else { throw refusal }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let high = value(hex[index]), let low = value(hex[index + 1]) else { throw refusal }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
