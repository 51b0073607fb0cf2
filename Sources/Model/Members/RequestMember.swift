/// One member of an operation's input, written once: where it goes in the request, its name on
/// the REST door and on the AWS door, and its type. Both doors read a request through its table
/// (REST's accepted fields and AWS's accepted members are the table's names), so a new member is
/// one row here, the service that honours it, and the spec.
public struct RequestMember<Request>: Sendable {
    /// The member's type and where its value goes.
    public enum Value: Sendable {
        case requiredString(any WritableKeyPath<Request, String> & Sendable)
        case string(any WritableKeyPath<Request, String?> & Sendable)
        case int(any WritableKeyPath<Request, Int?> & Sendable)
        case bool(any WritableKeyPath<Request, Bool?> & Sendable)
        case strings(any WritableKeyPath<Request, [String]?> & Sendable)
        /// A list the operation cannot do without (a subnet group's subnets).
        case requiredStrings(any WritableKeyPath<Request, [String]> & Sendable)
        /// A user's `{type, passwords}`; `required` on creation.
        case authentication(any WritableKeyPath<Request, AuthenticationModeInput?> & Sendable, required: Bool)
        case tags(any WritableKeyPath<Request, [Tag]> & Sendable)
        /// A count REST gives flat (`numShards`) and AWS nests in a structure of one member
        /// (`ShardConfiguration` `{ShardCount}`): `inner` is that member's name.
        case count(any WritableKeyPath<Request, Int?> & Sendable, inner: String)
    }

    /// What the member says of the resource.
    public enum Role: Sendable {
        /// Part of what the resource is: described back, compared by a stack's plan.
        case state
        /// Only what the resource starts from (a snapshot to seed it with): read when it is
        /// made, never described, so a stack neither takes nor compares it.
        case seed
    }

    /// The REST body's key (`numShards`).
    public let rest: String
    /// The AWS JSON 1.1 member (`NumShards`), as botocore's model spells it.
    public let aws: String
    public let value: Value
    public let role: Role
    /// MemoryPlane's own member, beyond AWS's input (deletion protection): REST, the CLI and
    /// stacks take it; the AWS door does not, as AWS's model has no such member.
    public let restOnly: Bool

    public init(_ rest: String, aws: String, _ value: Value, role: Role = .state, restOnly: Bool = false) {
        self.rest = rest
        self.aws = aws
        self.value = value
        self.role = role
        self.restOnly = restOnly
    }
}

/// Reads one member's value from a door's input, in the door's own words for a wrong type.
public protocol MemberSource {
    func requiredString(_ member: String) throws -> String
    func string(_ member: String) throws -> String?
    func int(_ member: String) throws -> Int?
    func bool(_ member: String) throws -> Bool?
    func strings(_ member: String) throws -> [String]?
    func requiredStrings(_ member: String) throws -> [String]
    /// A user's authentication mode; absent is an error when `required`.
    func authentication(_ member: String, required: Bool) throws -> AuthenticationModeInput?
    func tags(_ member: String) throws -> [Tag]?
    /// A count: the door decides whether it sits in `member` itself or in its `inner` member.
    func count(_ member: String, inner: String) throws -> Int?
}

extension RequestMember {
    /// Sets this member of `request` from `source`, which names members by `name`.
    public func read(into request: inout Request, from source: some MemberSource, name: String) throws {
        switch value {
        case .requiredString(let path): request[keyPath: path] = try source.requiredString(name)
        case .string(let path): request[keyPath: path] = try source.string(name)
        case .int(let path): request[keyPath: path] = try source.int(name)
        case .bool(let path): request[keyPath: path] = try source.bool(name)
        case .strings(let path): request[keyPath: path] = try source.strings(name)
        case .requiredStrings(let path): request[keyPath: path] = try source.requiredStrings(name)
        case .authentication(let path, let required): request[keyPath: path] = try source.authentication(name, required: required)
        case .tags(let path): request[keyPath: path] = try source.tags(name) ?? []
        case .count(let path, let inner): request[keyPath: path] = try source.count(name, inner: inner)
        }
    }
}

extension CreateClusterRequest {
    /// CreateCluster's input, in the order its members are read (and their errors reported).
    public static let members: [RequestMember<CreateClusterRequest>] = [
        RequestMember("name", aws: "ClusterName", .requiredString(\.name)),
        RequestMember("nodeType", aws: "NodeType", .requiredString(\.nodeType)),
        RequestMember("numShards", aws: "NumShards", .int(\.numShards)),
        RequestMember("numReplicasPerShard", aws: "NumReplicasPerShard", .int(\.numReplicasPerShard)),
        RequestMember("aclName", aws: "ACLName", .requiredString(\.aclName)),
        RequestMember("tlsEnabled", aws: "TLSEnabled", .bool(\.tlsEnabled)),
        RequestMember("parameterGroupName", aws: "ParameterGroupName", .string(\.parameterGroupName)),
        RequestMember("description", aws: "Description", .string(\.description)),
        RequestMember("port", aws: "Port", .int(\.port)),
        RequestMember("tags", aws: "Tags", .tags(\.tags)),
        RequestMember("subnetGroupName", aws: "SubnetGroupName", .string(\.subnetGroupName)),
        RequestMember("maintenanceWindow", aws: "MaintenanceWindow", .string(\.maintenanceWindow)),
        RequestMember("snapshotWindow", aws: "SnapshotWindow", .string(\.snapshotWindow)),
        RequestMember("snapshotRetentionLimit", aws: "SnapshotRetentionLimit", .int(\.snapshotRetentionLimit)),
        RequestMember("engine", aws: "Engine", .string(\.engine)),
        RequestMember("engineVersion", aws: "EngineVersion", .string(\.engineVersion)),
        RequestMember("autoMinorVersionUpgrade", aws: "AutoMinorVersionUpgrade", .bool(\.autoMinorVersionUpgrade)),
        RequestMember("deletionProtection", aws: "DeletionProtection", .bool(\.deletionProtection), restOnly: true),
        RequestMember("snapshotBeforeUpdate", aws: "SnapshotBeforeUpdate", .bool(\.snapshotBeforeUpdate), restOnly: true),
        RequestMember("dataTiering", aws: "DataTiering", .bool(\.dataTiering)),
        RequestMember("securityGroupIds", aws: "SecurityGroupIds", .strings(\.securityGroupIds)),
        RequestMember("networkType", aws: "NetworkType", .string(\.networkType)),
        RequestMember("ipDiscovery", aws: "IpDiscovery", .string(\.ipDiscovery)),
        RequestMember("multiRegionClusterName", aws: "MultiRegionClusterName", .string(\.multiRegionClusterName)),
        RequestMember("snsTopicArn", aws: "SnsTopicArn", .string(\.snsTopicArn)),
        RequestMember("kmsKeyId", aws: "KmsKeyId", .string(\.kmsKeyId)),
        RequestMember("snapshotArns", aws: "SnapshotArns", .strings(\.snapshotArns), role: .seed),
        RequestMember("snapshotName", aws: "SnapshotName", .string(\.snapshotName), role: .seed),
    ]

    public static var empty: CreateClusterRequest { CreateClusterRequest(name: "", nodeType: "", aclName: "") }
}

/// An operation input read through a member table.
public protocol TabledRequest: Sendable {
    static var members: [RequestMember<Self>] { get }
    /// A request with nothing set, for a door to fill from `members`.
    static var empty: Self { get }
}

extension TabledRequest {
    /// The REST door's accepted fields.
    public static var restFields: Set<String> { Set(members.map(\.rest)) }
    /// The AWS door's accepted members.
    public static var awsMembers: Set<String> { Set(members.filter { !$0.restOnly }.map(\.aws)) }
}

extension CreateClusterRequest: TabledRequest {}

extension UpdateClusterRequest: TabledRequest {
    /// UpdateCluster's input but the cluster's name (the REST path names it; the AWS door reads
    /// `ClusterName` after these), in the order its members are read. Members MemoryPlane cannot
    /// honour are read too, to be refused by name (`refused`).
    public static let members: [RequestMember<UpdateClusterRequest>] = [
        RequestMember("description", aws: "Description", .string(\.description)),
        RequestMember("parameterGroupName", aws: "ParameterGroupName", .string(\.parameterGroupName)),
        RequestMember("aclName", aws: "ACLName", .string(\.aclName)),
        RequestMember("securityGroupIds", aws: "SecurityGroupIds", .strings(\.securityGroupIds)),
        RequestMember("maintenanceWindow", aws: "MaintenanceWindow", .string(\.maintenanceWindow)),
        RequestMember("snapshotWindow", aws: "SnapshotWindow", .string(\.snapshotWindow)),
        RequestMember("snapshotRetentionLimit", aws: "SnapshotRetentionLimit", .int(\.snapshotRetentionLimit)),
        RequestMember("nodeType", aws: "NodeType", .string(\.nodeType)),
        RequestMember("engine", aws: "Engine", .string(\.engine)),
        RequestMember("engineVersion", aws: "EngineVersion", .string(\.engineVersion)),
        RequestMember("numShards", aws: "ShardConfiguration", .count(\.numShards, inner: "ShardCount")),
        RequestMember("numReplicasPerShard", aws: "ReplicaConfiguration", .count(\.numReplicasPerShard, inner: "ReplicaCount")),
        RequestMember("snsTopicArn", aws: "SnsTopicArn", .string(\.snsTopicArn)),
        RequestMember("snsTopicStatus", aws: "SnsTopicStatus", .string(\.snsTopicStatus)),
        RequestMember("ipDiscovery", aws: "IpDiscovery", .string(\.ipDiscovery)),
        RequestMember("deletionProtection", aws: "DeletionProtection", .bool(\.deletionProtection), restOnly: true),
        RequestMember("snapshotBeforeUpdate", aws: "SnapshotBeforeUpdate", .bool(\.snapshotBeforeUpdate), restOnly: true),
    ]

    public static var empty: UpdateClusterRequest { UpdateClusterRequest() }
}
