import Control
import Foundation
import Model
import Testing

/// Policy documents as IAM writes them, read into what is evaluated; what would not be enforced
/// as written is refused with its line and the reason.
@Suite struct IAMPolicyDocumentTests {
    @Test func aDocumentAsIAMWritesIt() throws {
        let policy = try IAMPolicyDocument.parse(
            """
            {
              "Version": "2012-10-17",
              "Statement": [
                {"Effect": "Allow", "Action": "memorydb:Describe*", "Resource": "*"},
                {"Sid": "OwnClusters", "Effect": "Allow", "Action": ["memorydb:CreateCluster", "memorydb:DeleteCluster"],
                 "Resource": "arn:aws:memorydb:*:*:cluster/ci-*",
                 "Condition": {"StringLike": {"aws:RequestTag/pipeline": ["ci-*"]}}},
                {"Effect": "Deny", "NotAction": "memorydb:Describe*", "NotResource": ["arn:aws:memorydb:*:*:cluster/ci-*"]}
              ]
            }
            """)
        #expect(policy.statements.count == 3)
        #expect(policy.statements[1].sid == "OwnClusters" && policy.statements[1].conditions == [IAMPolicy.Condition(.stringLike, "aws:RequestTag/pipeline", ["ci-*"])])
        #expect(policy.statements[2].effect == .deny && policy.statements[2].notActions && policy.statements[2].notResources)
        let single = try IAMPolicyDocument.parse(#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#)
        #expect(single.statements.count == 1)
    }

    @Test(arguments: [
        (#"{"Version": "2012-10-17",\n "Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}"#, "line 2: Effect must be Allow or Deny; got Permit"),
        (#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#, "the action 's3:GetObject' is not MemoryDB's"),
        (#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}"#, "names no Principal"),
        (#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}"#, "needs Resource"),
        (#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "*", "Resource": "*"}]}"#, "not both"),
        (#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}]}"#, "'DateGreaterThan' is not evaluated here"),
        (#"{"Statement": []}"#, "Version must be"),
        (#"{"Version": "2012-10-17", "Statement": []}"#, "no statement"),
        ("not json", "not valid JSON"),
    ])
    func whatWouldNotBeEnforcedAsWrittenIsRefused(_ document: String, _ reason: String) {
        do {
            _ = try IAMPolicyDocument.parse(document.replacingOccurrences(of: "\\n", with: "\n"))
            Issue.record("accepted: \(document)")
        } catch {
            #expect(error.code == .invalidParameterValue)
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }
}
