import Foundation
import Model

/// Opaque, stable pagination tokens: the last key of the previous page, base64-encoded.
enum PageToken {
    static func encode(_ key: String) -> String {
        Data(("v1:" + key).utf8).base64EncodedString()
    }

    static func decode(_ token: String) throws(MemoryDBError) -> String {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8), text.hasPrefix("v1:") else {
            throw .invalid("nextToken (NextToken) is not a token this server issued.")
        }
        return String(text.dropFirst(3))
    }
}
