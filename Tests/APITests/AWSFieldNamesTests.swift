@testable import API
import Testing

/// Validation messages on the AWS door name the AWS members the caller sent.
@Suite struct AWSFieldNamesTests {
    @Test(arguments: [
        ("subnetGroupName may contain only ASCII letters, digits and hyphens; got 'a_b'.", "CreateSubnetGroup",
         ["SubnetGroupName", "Description", "SubnetIds", "Tags"], "SubnetGroupName may contain only ASCII letters, digits and hyphens; got 'a_b'."),
        ("name must not be empty.", "CreateCluster", ["ClusterName", "NodeType", "ACLName"], "ClusterName must not be empty."),
        ("tags[0].value must be at most 256 characters.", "CreateCluster", ["ClusterName", "Tags"], "Tags[0].Value must be at most 256 characters."),
        ("aclName must begin with a letter; got '-x'.", "CreateACL", ["ACLName", "UserNames", "Tags"], "ACLName must begin with a letter; got '-x'."),
        ("tlsEnabled=false requires aclName 'open-access'; got 'a'.", "CreateCluster", ["TLSEnabled", "ACLName"],
         "TLSEnabled=false requires ACLName 'open-access'; got 'a'."),
        ("A cluster named 'demo' already exists.", "CreateCluster", ["ClusterName"], "A cluster named 'demo' already exists."),
        ("The key 'name' of tags is given twice: key, value.", "CreateCluster", ["ClusterName", "Tags"], "The key 'name' of Tags is given twice: key, value."),
    ])
    func restNamesBecomeAWSMembers(message: String, operation: String, members: [String], expected: String) {
        #expect(AWSFieldNames.translate(message, operation: operation, members: Set(members)) == expected)
    }

    @Test func lowerCamelFollowsAcronyms() {
        #expect(AWSFieldNames.lowerCamel("ACLName") == "aclName")
        #expect(AWSFieldNames.lowerCamel("TLSEnabled") == "tlsEnabled")
        #expect(AWSFieldNames.lowerCamel("SubnetGroupName") == "subnetGroupName")
        #expect(AWSFieldNames.lowerCamel("ARN") == "arn")
    }
}
