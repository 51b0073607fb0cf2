import Control
import Crypto
import Foundation

/// Why a SigV4-signed request was refused, with the AWS error name clients expect.
struct SigV4Failure: Error, Equatable {
    enum Code: String {
        case invalidSignature = "InvalidSignatureException"
        case unrecognizedClient = "UnrecognizedClientException"
    }
    let code: Code
    let message: String
}

/// Verifies AWS Signature Version 4 on a request, as botocore and the AWS CLI sign it.
///
/// Pure: the caller passes the request's parts and the time, so it is tested against
/// signatures botocore made.
struct SigV4Verifier {
    let key: AccessKey
    var service = "memorydb"
    /// AWS refuses requests signed more than 15 minutes from its clock.
    var maxSkew: TimeInterval = 15 * 60

    struct Request {
        var method: String
        /// The path as sent, percent-encoded.
        var path: String
        /// The raw query string, without `?`.
        var query: String
        /// Header values by lower-cased name; `host` included.
        var headers: [String: String]
        var body: [UInt8]
    }

    func verify(_ request: Request, now: Date = Date()) throws(SigV4Failure) {
        guard let authorization = request.headers["authorization"], !authorization.isEmpty else {
            throw SigV4Failure(code: .invalidSignature, message: "Request is missing Authentication Token: sign it with AWS SigV4 (service memorydb).")
        }
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            throw SigV4Failure(code: .invalidSignature, message: "Only AWS4-HMAC-SHA256 signatures are accepted.")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 { fields[pair[0]] = pair[1] }
        }
        guard let credential = fields["Credential"], let signedHeaderList = fields["SignedHeaders"], let signature = fields["Signature"] else {
            throw SigV4Failure(code: .invalidSignature, message: "The Authorization header needs Credential, SignedHeaders and Signature.")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request" else {
            throw SigV4Failure(code: .invalidSignature, message: "Credential must be KEY/yyyymmdd/region/service/aws4_request.")
        }
        let (keyID, day, region, service) = (scope[0], scope[1], scope[2], scope[3])
        guard keyID == key.id else {
            throw SigV4Failure(code: .unrecognizedClient, message: "The security token included in the request is invalid: unknown access key \(keyID).")
        }
        guard service == self.service else {
            throw SigV4Failure(code: .invalidSignature, message: "Credential should be scoped to service '\(self.service)', not '\(service)'.")
        }
        guard let amzDate = request.headers["x-amz-date"], let signedAt = Self.parseAmzDate(amzDate) else {
            throw SigV4Failure(code: .invalidSignature, message: "X-Amz-Date (yyyyMMddTHHmmssZ) is missing or malformed.")
        }
        guard amzDate.hasPrefix(day) else {
            throw SigV4Failure(code: .invalidSignature, message: "Credential date \(day) does not match X-Amz-Date \(amzDate).")
        }
        guard abs(signedAt.timeIntervalSince(now)) <= maxSkew else {
            throw SigV4Failure(
                code: .invalidSignature,
                message: "Signature expired: \(amzDate) is more than 15 minutes from the server's time \(Self.formatAmzDate(now)).")
        }
        let signedHeaders = signedHeaderList.split(separator: ";").map(String.init)
        guard signedHeaders.contains("host"), signedHeaders == signedHeaders.sorted() else {
            throw SigV4Failure(code: .invalidSignature, message: "SignedHeaders must be sorted and include host.")
        }
        var canonicalHeaders = ""
        for name in signedHeaders {
            guard let value = request.headers[name] else {
                throw SigV4Failure(code: .invalidSignature, message: "Signed header '\(name)' is not in the request.")
            }
            canonicalHeaders += "\(name):\(Self.normaliseHeaderValue(value))\n"
        }
        let payloadHash = Self.hex(SHA256.hash(data: request.body))
        let canonicalRequest = [
            request.method, Self.canonicalPath(request.path), Self.canonicalQuery(request.query),
            canonicalHeaders, signedHeaderList, payloadHash,
        ].joined(separator: "\n")
        let credentialScope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256", amzDate, credentialScope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8))),
        ].joined(separator: "\n")
        var signingKey = SymmetricKey(data: Data("AWS4\(key.secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            signingKey = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: signingKey)))
        }
        let expected = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey))
        guard Self.constantTimeEqual(expected, signature) else {
            throw SigV4Failure(
                code: .invalidSignature,
                message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
    }

    static func parseAmzDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: text)
    }

    static func formatAmzDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// Trims and collapses runs of spaces, as the canonical form requires.
    static func normaliseHeaderValue(_ value: String) -> String {
        value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    static func canonicalPath(_ path: String) -> String {
        let decoded = path.removingPercentEncoding ?? path
        return decoded.isEmpty ? "/" : encode(decoded, keepSlash: true)
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? parts[0]
            let value = parts.count > 1 ? (parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? parts[1]) : ""
            return (encode(name, keepSlash: false), encode(value, keepSlash: false))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
