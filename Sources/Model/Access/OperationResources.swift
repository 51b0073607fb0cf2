/// What a policy must allow for an operation: its action (`memorydb:<Operation>`) and the
/// resources AWS's service authorization reference lists for it, as ARNs (CreateCluster acts on
/// the cluster and on the ACL, parameter group and subnet group it names). An operation that
/// names no resource (a list of everything, the engine catalog) acts on `*`.
public struct AuthorizationTarget: Sendable, Equatable {
    public var action: String
    public var resources: [String]
    /// The request's condition keys: `aws:RequestTag/<key>` for each tag it sets, and
    /// `memorydb:ClusterName` (and the other `memorydb:<Member>` keys) for each name it gives.
    public var context: [String: String]

    public init(action: String, resources: [String], context: [String: String] = [:]) {
        self.action = action
        self.resources = resources
        self.context = context
    }
}

/// The condition keys a request carries besides the resource's tags.
public enum ConditionKeys {
    /// The members whose value a policy can test as `memorydb:<member>`.
    public static let nameMembers = [
        "ClusterName", "ACLName", "UserName", "ParameterGroupName", "SubnetGroupName", "SnapshotName", "StackName", "AccessKeyName",
    ]

    public static func requestTag(_ key: String) -> String { "aws:RequestTag/\(key)" }
    public static func resourceTag(_ key: String) -> String { "aws:ResourceTag/\(key)" }
}

public enum OperationResources {
    /// - Parameters:
    ///   - string: the input's string member by its AWS name, nil when absent.
    ///   - strings: the input's list member by its AWS name, empty when absent.
    ///   - tags: the tags the request sets (CreateCluster's Tags, TagResource's), as
    ///     `aws:RequestTag/<key>`.
    public static func target(
        of operation: String, region: String, account: String, string: (String) -> String?, strings: (String) -> [String], tags: [Tag] = []
    ) -> AuthorizationTarget {
        func arn(_ type: ResourceARN.ResourceType, _ name: String?) -> [String] {
            guard let name else { return [] }
            return [ResourceARN(region: region, account: account, type: type, name: name).description]
        }
        /// MemoryPlane's own resources, in the same ARN form.
        func own(_ type: String, _ member: String) -> [String] {
            guard let name = string(member) else { return ["*"] }
            return ["arn:aws:memorydb:\(region):\(account):\(type)/\(name)"]
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
        case "FailoverShard", "ListAllowedNodeTypeUpdates", "StopCluster", "StartCluster": resources = named(.cluster, "ClusterName")
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
        // MemoryPlane's own operations (REST only), named and scoped the same way.
        case "StartDrill", "DescribeMetrics", "DescribeSlowLog", "DescribeAlarms", "UpdateAlarms", "DescribeAdvice":
            resources = describe(.cluster, "ClusterName")
        case "VerifySnapshot": resources = named(.snapshot, "SnapshotName")
        case "PurchaseReservedNodesOffering": resources = string("ReservationId").map { arn(.reservednode, $0) } ?? ["*"]
        case "ApplyStack", "DeleteStack", "DescribeStacks": resources = own("stack", "StackName")
        case "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "DescribeAccessKeys": resources = own("accesskey", "AccessKeyName")
        default: resources = ["*"]
        }
        var context: [String: String] = [:]
        for member in ConditionKeys.nameMembers {
            if let value = string(member) { context["memorydb:\(member)"] = value }
        }
        for tag in tags { context[ConditionKeys.requestTag(tag.key)] = tag.value }
        return AuthorizationTarget(action: "memorydb:\(operation)", resources: resources.isEmpty ? ["*"] : resources, context: context)
    }
}

/// An operation and the members of its input that name resources and tags, by their AWS names:
/// how a stack step (or any caller without an AWS input at hand) asks to be authorised.
public struct OperationCall: Sendable, Equatable {
    public var operation: String
    public var strings: [String: String]
    public var lists: [String: [String]]
    public var tags: [Tag]

    public init(_ operation: String, strings: [String: String] = [:], lists: [String: [String]] = [:], tags: [Tag] = []) {
        self.operation = operation
        self.strings = strings
        self.lists = lists
        self.tags = tags
    }
}
