@testable import API
import NIOCore
import Testing

/// The audit trail's byte scans: a body naming a secret is parsed and redacted, any other is
/// recorded as sent, with its resource found without parsing.
struct AuditScanTests {
    func view(_ text: String) -> ByteBufferView { ByteBuffer(string: text).readableBytesView }

    @Test func secretsAreNoticedInAnyCase() {
        #expect(AuditMiddleware.mentionsSecret(view(#"{"AuthenticationMode":{"Passwords":["x"]}}"#)))
        #expect(AuditMiddleware.mentionsSecret(view(#"{"SECRET":1}"#)))
        #expect(AuditMiddleware.mentionsSecret(view(#"{"a":"tok","sessionToken":""}"#)))
        #expect(!AuditMiddleware.mentionsSecret(view(#"{"ResourceArn":"arn:aws:memorydb:us-east-1:0:cluster/a","Tags":[]}"#)))
        #expect(!AuditMiddleware.mentionsSecret(view("")))
        #expect(!AuditMiddleware.mentionsSecret(view("pass")))
    }

    @Test func aStringMemberIsReadWhereItIs() {
        let body = view(#"{"Tags":[{"Key":"k","Value":"v"}], "ResourceArn" : "arn:aws:memorydb:us-east-1:0:cluster/a"}"#)
        #expect(AuditMiddleware.stringMember("ResourceArn", in: body) as? String == "arn:aws:memorydb:us-east-1:0:cluster/a")
        #expect(AuditMiddleware.stringMember("Key", in: body) as? String == "k")
        #expect(AuditMiddleware.stringMember("ClusterName", in: body) == nil)
        // Not a string, or escaped: left to the parser.
        #expect(AuditMiddleware.stringMember("n", in: view(#"{"n":1}"#)) == nil)
        #expect(AuditMiddleware.stringMember("n", in: view(#"{"n":"a\"b"}"#)) == nil)
        #expect(AuditMiddleware.stringMember("n", in: view(#"{"n":"unterminated"#)) == nil)
    }
}
