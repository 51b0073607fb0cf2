@testable import API
import Control
import Runtime
import Foundation
import Testing
import Ports

/// Signatures made by botocore's SigV4Auth, checked by our verifier.
@Suite struct SigV4Tests {
    let key = AccessKey(id: "AKMPTESTKEY", secret: "secret/with+chars")
    let signedAt = SigV4Verifier.parseAmzDate("20261126T183757Z")!

    func request(signature: String = "454a0fa3060a8c1b805d42d5971e8b0fd0479e7ebe16ce4b6e4c5c262f886931", body: String = #"{"ShowShardDetails": true}"#, keyID: String = "AKMPTESTKEY", date: String = "20261126T183757Z") -> SigV4Verifier.Request {
        SigV4Verifier.Request(
            method: "POST", path: "/", query: "",
            headers: [
                "content-type": "application/x-amz-json-1.1",
                "x-amz-target": "AmazonMemoryDB.DescribeClusters",
                "x-amz-date": date,
                "host": "127.0.0.1:8080",
                "authorization": "AWS4-HMAC-SHA256 Credential=\(keyID)/20261126/us-east-1/memorydb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(signature)",
            ],
            body: Array(body.utf8))
    }

    func failure(_ request: SigV4Verifier.Request, now: Date? = nil) -> SigV4Failure? {
        do {
            try SigV4Verifier(key: key, region: "us-east-1").verify(request, now: now ?? signedAt)
            return nil
        } catch {
            return error
        }
    }

    /// The CLI's signer makes exactly botocore's signature, and the verifier accepts what it signs.
    @Test func theSignerSignsAsBotocoreDoes() throws {
        let signed = SigV4Signer(key: key, region: "us-east-1").sign(
            method: "POST", path: "/", query: "",
            headers: ["content-type": "application/x-amz-json-1.1", "x-amz-target": "AmazonMemoryDB.DescribeClusters", "host": "127.0.0.1:8080"],
            body: Array(#"{"ShowShardDetails": true}"#.utf8), now: signedAt)
        #expect(signed["authorization"] == request().headers["authorization"])
        let rest = SigV4Signer(key: key, region: "us-east-1").sign(
            method: "GET", path: "/v1/stacks/ci-cache", query: "dryRun=true&wait=false", headers: ["host": "localhost:8080"], body: [], now: signedAt)
        var headers = rest
        headers["host"] = "localhost:8080"
        let verified = SigV4Verifier.Request(method: "GET", path: "/v1/stacks/ci-cache", query: "wait=false&dryRun=true", headers: headers, body: [])
        #expect(failure(verified) == nil)
        #expect(failure(SigV4Verifier.Request(method: "PUT", path: "/v1/stacks/ci-cache", query: "dryRun=true&wait=false", headers: headers, body: [])) != nil)
    }

    @Test func acceptsBotocoresSignature() {
        #expect(failure(request()) == nil)
        #expect(failure(request(), now: signedAt.addingTimeInterval(14 * 60)) == nil)
    }

    @Test func refusesATamperedBodyOrSignature() {
        #expect(failure(request(body: #"{"ShowShardDetails": false}"#))?.code == .invalidSignature)
        #expect(failure(request(signature: String(repeating: "0", count: 64)))?.code == .invalidSignature)
    }

    @Test func unknownKeysAreUnrecognized() {
        #expect(failure(request(keyID: "AKMPOTHER"))?.code == .unrecognizedClient)
    }

    @Test func staleOrFutureSignaturesExpire() {
        let stale = failure(request(), now: signedAt.addingTimeInterval(16 * 60))
        #expect(stale?.code == .invalidSignature)
        #expect(stale?.message.contains("expired") == true)
        #expect(failure(request(), now: signedAt.addingTimeInterval(-16 * 60))?.code == .invalidSignature)
    }

    @Test func missingOrMalformedAuthorizationIsRefused() {
        var unsigned = request()
        unsigned.headers["authorization"] = nil
        #expect(failure(unsigned)?.code == .invalidSignature)
        var garbage = request()
        garbage.headers["authorization"] = "AWS4-HMAC-SHA256 nonsense"
        #expect(failure(garbage)?.code == .invalidSignature)
        var wrongService = request()
        wrongService.headers["authorization"] = wrongService.headers["authorization"]!.replacingOccurrences(of: "/memorydb/", with: "/s3/")
        #expect(failure(wrongService)?.message.contains("memorydb") == true)
    }

    @Test func everyAmzHeaderPresentMustBeSigned() {
        // The operation header left out of SignedHeaders: a replayed signature could retarget it.
        var retargeted = request()
        retargeted.headers["authorization"] = retargeted.headers["authorization"]!.replacingOccurrences(
            of: "SignedHeaders=content-type;host;x-amz-date;x-amz-target", with: "SignedHeaders=content-type;host;x-amz-date")
        retargeted.headers["x-amz-target"] = "AmazonMemoryDB.DeleteCluster"
        let refusal = failure(retargeted)
        #expect(refusal?.code == .invalidSignature)
        #expect(refusal?.message.contains("x-amz-target") == true)
        var withToken = request()
        withToken.headers["x-amz-security-token"] = "forged"
        #expect(failure(withToken)?.message.contains("x-amz-security-token") == true)
        var hostless = request()
        hostless.headers["authorization"] = hostless.headers["authorization"]!.replacingOccurrences(
            of: "content-type;host;", with: "content-type;")
        #expect(failure(hostless)?.message.contains("host") == true)
    }

    @Test func aSignatureScopedToAnotherRegionIsRefused() {
        var elsewhere = request()
        elsewhere.headers["authorization"] = elsewhere.headers["authorization"]!.replacingOccurrences(of: "/us-east-1/", with: "/eu-west-1/")
        let refusal = failure(elsewhere)
        #expect(refusal?.code == .invalidSignature)
        #expect(refusal?.message.contains("eu-west-1") == true)
        #expect(refusal?.message.contains("us-east-1") == true)
    }

    @Test func amzDatesParseToTheRightInstant() {
        #expect(SigV4Verifier.parseAmzDate("19700101T000000Z")?.timeIntervalSince1970 == 0)
        #expect(SigV4Verifier.parseAmzDate("20261126T183757Z")?.timeIntervalSince1970 == 1_795_718_277)
        #expect(SigV4Verifier.parseAmzDate("20240229T120000Z")?.timeIntervalSince1970 == 1_709_208_000)
        #expect(SigV4Verifier.formatAmzDate(Date(timeIntervalSince1970: 1_795_718_277)) == "20261126T183757Z")
        for bad in ["", "20261126183757Z", "2026-11-26T18:37:57Z", "20261326T183757Z", "20261126T183757"] {
            #expect(SigV4Verifier.parseAmzDate(bad) == nil, "\(bad)")
        }
    }

    @Test func canonicalQueryIsSortedAndEncoded() {
        #expect(SigV4Verifier.canonicalQuery("b=2&a=1&a=0&c=x%20y") == "a=0&a=1&b=2&c=x%20y")
        #expect(SigV4Verifier.canonicalPath("/v1/clusters/demo") == "/v1/clusters/demo")
        #expect(SigV4Verifier.canonicalPath("") == "/")
    }
}
