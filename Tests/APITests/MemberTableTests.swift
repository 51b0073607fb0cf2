import Foundation
import Model
import Testing

/// The member tables (every operation input that has one) against the two contracts they must match:
/// the REST spec (`api-spec/openapi.yaml`) and AWS's own model (botocore's, as the AWS CLI and
/// boto3 send it).
@Suite struct MemberTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The property names and required list of one schema of the spec (components.schemas).
    func schema(_ name: String) throws -> (properties: Set<String>, required: Set<String>) {
        let text = try String(contentsOf: Self.root.appendingPathComponent("api-spec/openapi.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex(of: "    \(name):"), "no schema \(name) in openapi.yaml")
        var properties = Set<String>()
        var required = Set<String>()
        var inProperties = false
        for line in lines[(start + 1)...] {
            if line.hasPrefix("    ") && !line.hasPrefix("     ") { break }  // the next schema
            if line.hasPrefix("      required: [") {
                required = Set(line.dropFirst("      required: [".count).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            }
            if line.hasPrefix("      ") && !line.hasPrefix("       ") { inProperties = line == "      properties:" }
            if inProperties, line.hasPrefix("        "), !line.hasPrefix("         "), line.hasSuffix(":") {
                properties.insert(String(line.dropFirst(8).dropLast()))
            }
        }
        return (properties, required)
    }

    /// The members botocore's model gives an operation's input.
    func botocoreMembers(of operation: String) throws -> Set<String> {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            "import botocore.session as s; m = s.get_session().get_service_model('memorydb'); print(' '.join(m.operation_model('\(operation)').input_shape.members))",
        ]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        try #require(python.terminationStatus == 0, "botocore is not installed (make test installs it)")
        return Set(String(decoding: data, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init))
    }

    @Test func restFieldsAreTheSpecsCreateClusterRequest() throws {
        let spec = try schema("CreateClusterRequest")
        #expect(CreateClusterRequest.restFields == spec.properties)
        let required = Set(CreateClusterRequest.members.compactMap { member -> String? in
            if case .requiredString = member.value { return member.rest } else { return nil }
        })
        #expect(required == spec.required)
    }

    @Test func awsMembersAreBotocoresCreateClusterInput() throws {
        #expect(CreateClusterRequest.awsMembers == (try botocoreMembers(of: "CreateCluster")))
    }

    @Test func restFieldsAreTheSpecsUpdateClusterRequest() throws {
        #expect(UpdateClusterRequest.restFields == (try schema("UpdateClusterRequest")).properties)
    }

    @Test func awsMembersAndTheClusterNameAreBotocoresUpdateClusterInput() throws {
        #expect(UpdateClusterRequest.awsMembers.union(["ClusterName"]) == (try botocoreMembers(of: "UpdateCluster")))
    }

    /// A count AWS nests (`ShardConfiguration` `{ShardCount}`) is REST's flat `numShards`.
    @Test func updateClustersCountsAreNestedOnTheAWSDoorOnly() {
        let nested = UpdateClusterRequest.members.compactMap { member -> String? in
            if case .count(_, let inner) = member.value { return "\(member.rest)=\(member.aws).\(inner)" } else { return nil }
        }
        #expect(nested == ["numShards=ShardConfiguration.ShardCount", "numReplicasPerShard=ReplicaConfiguration.ReplicaCount"])
    }

    @Test func eachMemberHasOneNameOnEachDoor() {
        let members = CreateClusterRequest.members
        #expect(Set(members.map(\.rest)).count == members.count)
        #expect(Set(members.map(\.aws)).count == members.count)
        for member in members {
            #expect(member.rest.lowercased() == member.aws.lowercased() || member.aws.lowercased().hasSuffix(member.rest.lowercased())
                || member.rest == "name", "\(member.rest) ~ \(member.aws)")
        }
    }

    /// Every other table: its REST fields are its spec schema's properties (and the required
    /// ones are required there), and its AWS members with the resource's name are botocore's.
    struct Table: Sendable, CustomStringConvertible {
        var schema: String
        var operation: String
        var rest: Set<String>
        var aws: Set<String>
        var required: Set<String>
        /// The AWS member naming the resource when the REST path names it (an update).
        var nameMember: String?
        var description: String { operation }

        init<Request: TabledRequest>(_ type: Request.Type, _ operation: String, nameMember: String? = nil) {
            schema = "\(Request.self)"
            self.operation = operation
            rest = Request.restFields
            aws = Request.awsMembers
            required = Set(Request.members.compactMap { member -> String? in
                switch member.value {
                case .requiredString, .requiredStrings, .authentication(_, required: true): member.rest
                default: nil
                }
            })
            self.nameMember = nameMember
        }
    }

    static let tables = [
        Table(CreateUserRequest.self, "CreateUser"), Table(UpdateUserRequest.self, "UpdateUser", nameMember: "UserName"),
        Table(CreateACLRequest.self, "CreateACL"), Table(UpdateACLRequest.self, "UpdateACL", nameMember: "ACLName"),
        Table(CreateSubnetGroupRequest.self, "CreateSubnetGroup"), Table(UpdateSubnetGroupRequest.self, "UpdateSubnetGroup", nameMember: "SubnetGroupName"),
        Table(CreateParameterGroupRequest.self, "CreateParameterGroup"),
    ]

    @Test(arguments: tables) func restFieldsAreTheSpecsSchema(_ table: Table) throws {
        let spec = try schema(table.schema)
        #expect(table.rest == spec.properties)
        #expect(table.required == spec.required)
    }

    @Test(arguments: tables) func awsMembersAreBotocoresInput(_ table: Table) throws {
        #expect(table.aws.union(table.nameMember.map { [$0] } ?? []) == (try botocoreMembers(of: table.operation)))
    }
}
