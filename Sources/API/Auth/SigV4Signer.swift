import Control
import Crypto
import Foundation

/// Signs a request with AWS Signature Version 4, as botocore does, for MemoryPlane's own
/// clients (the CLI). The canonical form is the verifier's, so the two cannot drift apart.
public struct SigV4Signer: Sendable {
    public let key: AccessKey
    public let region: String
    public var service = "memorydb"

    public init(key: AccessKey, region: String) {
        self.key = key
        self.region = region
    }

    /// The headers to add: `authorization` and `x-amz-date` (botocore sends no payload-hash
    /// header for JSON services, and neither does this).
    ///
    /// - Parameters:
    ///   - path: percent-encoded, as sent.
    ///   - query: the raw query string, without `?`.
    ///   - headers: lower-cased names; `host` must be among them. All are signed.
    public func sign(method: String, path: String, query: String, headers: [String: String], body: [UInt8], now: Date = Date()) -> [String: String] {
        let amzDate = SigV4Verifier.formatAmzDate(now)
        let day = String(amzDate.prefix(8))
        let payloadHash = SigV4Verifier.hex(SHA256.hash(data: body))
        var signed = headers
        signed["x-amz-date"] = amzDate
        let names = signed.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(SigV4Verifier.normaliseHeaderValue(signed[$0] ?? ""))\n" }.joined()
        let signedHeaderList = names.joined(separator: ";")
        let canonicalRequest = [
            method, SigV4Verifier.canonicalPath(path), SigV4Verifier.canonicalQuery(query), canonicalHeaders, signedHeaderList, payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, SigV4Verifier.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))].joined(separator: "\n")
        let signingKey = SigV4Verifier.signingKeys.key(secret: key.secret, day: day, region: region, service: service)
        let signature = SigV4Verifier.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey))
        return [
            "authorization": "AWS4-HMAC-SHA256 Credential=\(key.id)/\(scope), SignedHeaders=\(signedHeaderList), Signature=\(signature)",
            "x-amz-date": amzDate,
        ]
    }
}
