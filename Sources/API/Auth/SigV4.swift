import Control
import Crypto
import Foundation
import Synchronization

/// Why a SigV4-signed request was refused, with the AWS error name clients expect.
struct SigV4Failure: Error, Equatable {
    enum Code: String {
        case invalidSignature = "InvalidSignatureException"
        case unrecognizedClient = "UnrecognizedClientException"
    }
    let code: Code
    let message: String
}

extension Array where Element: Hashable {
    /// The elements in order, each once.
    fileprivate func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}

/// Signing keys derived from each secret, per day, region and service: four HMACs saved on
/// every request after the first of the day.
final class SigningKeyCache: Sendable {
    private let keys = Mutex<[String: [UInt8]]>([:])

    func key(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        let scope = "\(secret)/\(day)/\(region)/\(service)"
        if let bytes = keys.withLock({ $0[scope] }) { return SymmetricKey(data: bytes) }
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let bytes = key.withUnsafeBytes { Array($0) }
        keys.withLock { cache in
            if cache.count > 64 { cache.removeAll() }
            cache[scope] = bytes
        }
        return key
    }
}

/// Verifies AWS Signature Version 4 on a request, as botocore and the AWS CLI sign it.
///
/// Pure: the caller passes the request's parts and the time, so it is tested against
/// signatures botocore made.
struct SigV4Verifier {
    /// Keyed by secret and scope: every key's signing keys of the day.
    static let signingKeys = SigningKeyCache()

    let key: AccessKey
    /// The server's `--region`: a signature scoped to another region is refused, as AWS does.
    let region: String
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

    /// The Authorization header's parts, each checked against this server's key and scope.
    struct Authorization {
        var day: String
        var region: String
        var service: String
        var signedHeaderList: String
        var signature: String
    }

    /// The access key id the request's Credential names, before anything else is checked: the
    /// server looks the key up by it.
    static func keyID(of request: Request) throws(SigV4Failure) -> String {
        guard let header = request.headers["authorization"], header.hasPrefix("AWS4-HMAC-SHA256 "),
            let range = header.range(of: "Credential=")
        else {
            throw SigV4Failure(code: .invalidSignature, message: "The Authorization header needs AWS4-HMAC-SHA256 with a Credential.")
        }
        let id = header[range.upperBound...].prefix { $0 != "/" && $0 != "," && $0 != " " }
        guard !id.isEmpty else { throw SigV4Failure(code: .invalidSignature, message: "Credential must be KEY/yyyymmdd/region/service/aws4_request.") }
        return String(id)
    }

    func authorization(of request: Request) throws(SigV4Failure) -> Authorization {
        guard let authorization = request.headers["authorization"], !authorization.isEmpty else {
            throw SigV4Failure(code: .invalidSignature, message: "Request is missing Authentication Token: sign it with AWS SigV4 (service memorydb).")
        }
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            throw SigV4Failure(code: .invalidSignature, message: "Only AWS4-HMAC-SHA256 signatures are accepted.")
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = Self.trimSpaces(part).split(separator: "=", maxSplits: 1).map(String.init)
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
        guard region == self.region else {
            throw SigV4Failure(
                code: .invalidSignature,
                message: "Credential should be scoped to a valid region: this server is '\(self.region)', not '\(region)'.")
        }
        return Authorization(day: day, region: region, service: service, signedHeaderList: signedHeaderList, signature: signature)
    }

    func verify(_ request: Request, now: Date) throws(SigV4Failure) {
        let parts = try authorization(of: request)
        // MemoryPlane issues no temporary credentials: a session token, signed or not, is one it
        // never issued, and AWS refuses a token it did not issue.
        if request.headers["x-amz-security-token"] != nil {
            throw SigV4Failure(
                code: .unrecognizedClient,
                message: "The security token included in the request is invalid: MemoryPlane issues no session tokens (x-amz-security-token); sign with an access key pair alone.")
        }
        let (day, region, service, signedHeaderList, signature) = (parts.day, parts.region, parts.service, parts.signedHeaderList, parts.signature)
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
        guard signedHeaders == signedHeaders.sorted() else {
            throw SigV4Failure(code: .invalidSignature, message: "SignedHeaders must be sorted.")
        }
        // An unsigned header could be swapped without breaking the signature: a captured
        // DescribeClusters replayed with `X-Amz-Target: ...DeleteCluster`. AWS requires host,
        // the date and every x-amz-* header present to be signed; so does this server.
        let signedSet = Set(signedHeaders)
        let mustBeSigned = ["host", "x-amz-date"] + request.headers.keys.filter { $0.hasPrefix("x-amz-") }.sorted()
        let unsigned = mustBeSigned.filter { !signedSet.contains($0) }.uniqued()
        guard unsigned.isEmpty else {
            throw SigV4Failure(
                code: .invalidSignature,
                message: "The request's \(unsigned.joined(separator: ", ")) header\(unsigned.count == 1 ? " is" : "s are") not signed: host, x-amz-date and every x-amz-* header must be among SignedHeaders.")
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
        let signingKey = Self.signingKeys.key(secret: key.secret, day: day, region: region, service: service)
        let expected = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey))
        guard Self.constantTimeEqual(expected, signature) else {
            throw SigV4Failure(
                code: .invalidSignature,
                message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.")
        }
    }

    /// Parses `yyyyMMddTHHmmssZ` by hand: it is on every request, and DateFormatter is slow.
    static func parseAmzDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
            let minute = number(11..<13), let second = number(13..<15), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        // Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146097 + dayOfEra - 719468
        return Date(timeIntervalSince1970: TimeInterval(days * 86400 + hour * 3600 + minute * 60 + second))
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
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    static func trimSpaces(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }

    static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8)

    static func encode(_ text: String, keepSlash: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let upper = Array("0123456789ABCDEF".utf8)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(Unicode.Scalar(upper[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(upper[Int(byte & 0x0f)]))
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

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lower-case hex; on every request, so no String(format:).
    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hexDigits[Int(byte >> 4)])
            out.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
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
