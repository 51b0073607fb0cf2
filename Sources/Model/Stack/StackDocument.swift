/// A declarative stack: the resources a CI job or an infrastructure repository wants, by name.
///
/// Field names are the REST API's (camelCase). Optional fields left out are not managed: the
/// stack neither sets nor compares them (the server's default applies on creation), except
/// where a default is well defined and the plan compares against it (see `StackCluster`).
public struct StackDocument: Sendable, Equatable, Codable {
    public var stack: String
    public var parameterGroups: [StackParameterGroup]
    public var subnetGroups: [StackSubnetGroup]
    public var users: [StackUser]
    public var acls: [StackACL]
    public var clusters: [StackCluster]

    public init(
        stack: String, parameterGroups: [StackParameterGroup] = [], subnetGroups: [StackSubnetGroup] = [], users: [StackUser] = [],
        acls: [StackACL] = [], clusters: [StackCluster] = []
    ) {
        self.stack = stack
        self.parameterGroups = parameterGroups
        self.subnetGroups = subnetGroups
        self.users = users
        self.acls = acls
        self.clusters = clusters
    }

    /// Every resource the document names, in dependency order (what others refer to first).
    public var resources: [StackResourceRef] {
        parameterGroups.map { StackResourceRef(.parameterGroup, $0.name) } + subnetGroups.map { StackResourceRef(.subnetGroup, $0.name) }
            + users.map { StackResourceRef(.user, $0.name) } + acls.map { StackResourceRef(.acl, $0.name) }
            + clusters.map { StackResourceRef(.cluster, $0.name) }
    }

    /// The document as stored and shown: every password replaced by its hash (SHA-256, as users
    /// are stored), so neither a stored document nor a plan ever holds a secret.
    public func redacted(hashing hash: (String) -> String) -> StackDocument {
        var copy = self
        for index in copy.users.indices { copy.users[index].authenticationMode.redact(hashing: hash) }
        return copy
    }
}

/// The kinds of resource a stack holds, in the order they are created.
public enum StackResourceType: String, Sendable, Codable, CaseIterable, Comparable {
    case parameterGroup = "parameter-group"
    case subnetGroup = "subnet-group"
    case user
    case acl
    case cluster

    /// Creation order: a resource is created after everything it may refer to.
    public var order: Int { Self.allCases.firstIndex(of: self) ?? 0 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.order < rhs.order }

    /// The document's section for this type.
    public var section: String {
        switch self {
        case .parameterGroup: "parameterGroups"
        case .subnetGroup: "subnetGroups"
        case .user: "users"
        case .acl: "acls"
        case .cluster: "clusters"
        }
    }
}

/// One resource, by type and name.
public struct StackResourceRef: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public var type: StackResourceType
    public var name: String

    public init(_ type: StackResourceType, _ name: String) {
        self.type = type
        self.name = name
    }

    public var description: String { "\(type.rawValue) \(name)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.type == rhs.type ? lhs.name < rhs.name : lhs.type < rhs.type }
}

public struct StackParameterGroup: Sendable, Equatable, Codable {
    public var name: String
    public var family: String
    public var description: String?
    /// Values that differ from the family's defaults; a parameter left out is reset to its default.
    public var parameters: [String: String]
    public var tags: [Tag]?

    public init(name: String, family: String, description: String? = nil, parameters: [String: String] = [:], tags: [Tag]? = nil) {
        self.name = name
        self.family = family
        self.description = description
        self.parameters = parameters
        self.tags = tags
    }
}

public struct StackSubnetGroup: Sendable, Equatable, Codable {
    public var name: String
    public var description: String?
    public var subnetIds: [String]
    public var tags: [Tag]?

    public init(name: String, description: String? = nil, subnetIds: [String], tags: [Tag]? = nil) {
        self.name = name
        self.description = description
        self.subnetIds = subnetIds
        self.tags = tags
    }
}

public struct StackUser: Sendable, Equatable, Codable {
    public struct AuthenticationMode: Sendable, Equatable, Codable {
        /// `password` or `no-password`.
        public var type: String
        /// Plain passwords, as the document gives them; only in a document being applied.
        public var passwords: [String]?
        /// SHA-256 (hex) of each password: what a stored document keeps instead.
        public var passwordHashes: [String]?

        public init(type: String, passwords: [String]? = nil, passwordHashes: [String]? = nil) {
            self.type = type
            self.passwords = passwords
            self.passwordHashes = passwordHashes
        }

        mutating func redact(hashing hash: (String) -> String) {
            if let passwords {
                passwordHashes = passwords.map(hash)
                self.passwords = nil
            }
        }
    }

    public var name: String
    public var accessString: String
    public var authenticationMode: AuthenticationMode
    public var tags: [Tag]?

    public init(name: String, accessString: String, authenticationMode: AuthenticationMode, tags: [Tag]? = nil) {
        self.name = name
        self.accessString = accessString
        self.authenticationMode = authenticationMode
        self.tags = tags
    }
}

public struct StackACL: Sendable, Equatable, Codable {
    public var name: String
    public var userNames: [String]
    public var tags: [Tag]?

    public init(name: String, userNames: [String] = [], tags: [Tag]? = nil) {
        self.name = name
        self.userNames = userNames
        self.tags = tags
    }
}

/// A cluster. `numShards` and `numReplicasPerShard` default to 1, `tlsEnabled` to true and
/// `parameterGroupName` to the engine's default group, and the plan compares against those
/// defaults; the other optional fields are managed only when given.
public struct StackCluster: Sendable, Equatable, Codable {
    public var name: String
    public var nodeType: String
    public var aclName: String
    public var numShards: Int?
    public var numReplicasPerShard: Int?
    public var parameterGroupName: String?
    public var subnetGroupName: String?
    public var tlsEnabled: Bool?
    public var description: String?
    public var engineVersion: String?
    public var port: Int?
    public var maintenanceWindow: String?
    public var snapshotWindow: String?
    public var snapshotRetentionLimit: Int?
    public var securityGroupIds: [String]?
    public var autoMinorVersionUpgrade: Bool?
    public var tags: [Tag]?

    public init(name: String, nodeType: String, aclName: String) {
        self.name = name
        self.nodeType = nodeType
        self.aclName = aclName
    }
}
