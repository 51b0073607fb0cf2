/// What a policy must allow for an operation (issue 24; not enforced yet): its action
/// (`memorydb:<Operation>`) and the resources AWS's service authorization reference lists for it,
/// as ARNs (CreateCluster acts on the cluster and on the ACL, parameter group and subnet group it
/// names). An operation that names no resource (a list of everything, the engine catalog) acts on
/// `*`.
public struct AuthorizationTarget: Sendable, Equatable {
    public var action: String
    public var resources: [String]

    public init(action: String, resources: [String]) {
        self.action = action
        self.resources = resources
    }
}

public enum OperationResources {
    /// - Parameters:
    ///   - string: the input's string member by its AWS name, nil when absent.
    ///   - strings: the input's list member by its AWS name, empty when absent.
    public static func target(
        of operation: String, region: String, account: String, string: (String) -> String?, strings: (String) -> [String]
    ) -> AuthorizationTarget {
        func arn(_ type: ResourceARN.ResourceType, _ name: String?) -> [String] {
            guard let name else { return [] }
            return [ResourceARN(region: region, account: account, type: type, name: name).description]
        }
        func named(_ type: ResourceARN.ResourceType, _ member: String) -> [String] { arn(type, string(member)) }
        /// A describe without a name reads them all: `*`.
        func describe(_ type: ResourceARN.ResourceType, _ member: String) -> [String] { string(member) == nil ? ["*"] : named(type, member) }
        let resources: [String]
        switch operation {
        case "CreateCluster":
            resources = named(.cluster, "ClusterName") + named(.acl, "ACLName") + named(.parametergroup, "ParameterGroupName")
                + arn(.subnetgroup, string("SubnetGroupName") ?? BuiltinResources.defaultSubnetGroupName) + named(.snapshot, "SnapshotName")
        case "UpdateCluster":
            resources = named(.cluster, "ClusterName") + named(.acl, "ACLName") + named(.parametergroup, "ParameterGroupName")
        case "DeleteCluster": resources = named(.cluster, "ClusterName") + named(.snapshot, "FinalSnapshotName")
        case "FailoverShard", "ListAllowedNodeTypeUpdates": resources = named(.cluster, "ClusterName")
        case "DescribeClusters": resources = describe(.cluster, "ClusterName")
        case "BatchUpdateCluster": resources = strings("ClusterNames").flatMap { arn(.cluster, $0) }
        case "CreateSnapshot": resources = named(.cluster, "ClusterName") + named(.snapshot, "SnapshotName")
        case "DeleteSnapshot": resources = named(.snapshot, "SnapshotName")
        case "CopySnapshot": resources = named(.snapshot, "SourceSnapshotName") + named(.snapshot, "TargetSnapshotName")
        case "DescribeSnapshots": resources = describe(.snapshot, "SnapshotName")
        case "TagResource", "UntagResource", "ListTags": resources = string("ResourceArn").map { [$0] } ?? []
        case "CreateUser", "UpdateUser", "DeleteUser": resources = named(.user, "UserName")
        case "DescribeUsers": resources = describe(.user, "UserName")
        case "CreateACL": resources = named(.acl, "ACLName") + strings("UserNames").flatMap { arn(.user, $0) }
        case "UpdateACL":
            resources = named(.acl, "ACLName") + (strings("UserNamesToAdd") + strings("UserNamesToRemove")).flatMap { arn(.user, $0) }
        case "DeleteACL": resources = named(.acl, "ACLName")
        case "DescribeACLs": resources = describe(.acl, "ACLName")
        case "CreateParameterGroup", "UpdateParameterGroup", "ResetParameterGroup", "DeleteParameterGroup", "DescribeParameters":
            resources = named(.parametergroup, "ParameterGroupName")
        case "DescribeParameterGroups": resources = describe(.parametergroup, "ParameterGroupName")
        case "CreateSubnetGroup", "UpdateSubnetGroup", "DeleteSubnetGroup": resources = named(.subnetgroup, "SubnetGroupName")
        case "DescribeSubnetGroups": resources = describe(.subnetgroup, "SubnetGroupName")
        default: resources = ["*"]
        }
        return AuthorizationTarget(action: "memorydb:\(operation)", resources: resources.isEmpty ? ["*"] : resources)
    }
}
