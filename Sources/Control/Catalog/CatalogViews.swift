import Model
import Ports

/// A user as the doors present it.
public struct UserView: Sendable, Equatable {
    public var name: String
    public var status: String
    public var accessString: String
    public var aclNames: [String]
    public var minimumEngineVersion: String
    /// `password`, `no-password` or `iam`.
    public var authenticationType: String
    public var passwordCount: Int?
    public var arn: String
}

/// An ACL as the doors present it.
public struct ACLView: Sendable, Equatable {
    public var name: String
    public var status: String
    public var userNames: [String]
    public var minimumEngineVersion: String
    public var clusters: [String]
    public var arn: String
}

/// A subnet group as the doors present it.
public struct SubnetGroupView: Sendable, Equatable {
    public var name: String
    public var description: String
    public var vpcID: String
    public var subnets: [BuiltinResources.Subnet]
    public var arn: String
}


/// An installed engine version.
public struct EngineVersionView: Sendable, Equatable {
    public var engine: String
    public var engineVersion: String
    public var enginePatchVersion: String
    public var parameterGroupFamily: String
}
