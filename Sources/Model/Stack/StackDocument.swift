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
    /// Access keys the stack keeps (issue 24): a name and a policy; the secret of one it creates
    /// is answered once, never stored in the document.
    public var accessKeys: [StackAccessKey]

    public init(
        stack: String, parameterGroups: [StackParameterGroup] = [], subnetGroups: [StackSubnetGroup] = [], users: [StackUser] = [],
        acls: [StackACL] = [], clusters: [StackCluster] = [], accessKeys: [StackAccessKey] = []
    ) {
        self.accessKeys = accessKeys
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
            + clusters.map { StackResourceRef(.cluster, $0.name) } + accessKeys.map { StackResourceRef(.accessKey, $0.name) }
    }

    enum CodingKeys: String, CodingKey {
        case stack, parameterGroups, subnetGroups, users, acls, clusters, accessKeys
    }

    /// Documents stored before a section existed read as having none of it.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            stack: try container.decode(String.self, forKey: .stack),
            parameterGroups: try container.decodeIfPresent([StackParameterGroup].self, forKey: .parameterGroups) ?? [],
            subnetGroups: try container.decodeIfPresent([StackSubnetGroup].self, forKey: .subnetGroups) ?? [],
            users: try container.decodeIfPresent([StackUser].self, forKey: .users) ?? [],
            acls: try container.decodeIfPresent([StackACL].self, forKey: .acls) ?? [],
            clusters: try container.decodeIfPresent([StackCluster].self, forKey: .clusters) ?? [],
            accessKeys: try container.decodeIfPresent([StackAccessKey].self, forKey: .accessKeys) ?? [])
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
    /// Refers to nothing and nothing refers to it; its policy names resources by pattern.
    case accessKey = "access-key"

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
        case .accessKey: "accessKeys"
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

/// An access key in a stack: its name (the principal) and its policy, a built-in template's
/// name (with `prefix`/`tag` for ci) or an IAM policy document as JSON text.
public struct StackAccessKey: Sendable, Equatable, Codable {
    public var name: String
    public var policy: String
    public var prefix: String?
    public var tag: Tag?

    public init(name: String, policy: String, prefix: String? = nil, tag: Tag? = nil) {
        self.name = name
        self.policy = policy
        self.prefix = prefix
        self.tag = tag
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

/// A cluster: CreateCluster's input, member for member (its table, `CreateClusterRequest.members`,
/// is the stack's schema too), and which members the document gives. Members left out are not
/// managed, except those with a well-defined default the plan compares against (`numShards`,
/// `numReplicasPerShard`, `tlsEnabled`, `parameterGroupName`, …; see `StackPlanner`). Members
/// that only seed a new cluster (a snapshot to restore) are not stack members.
///
/// Its properties are the request's (`cluster.numShards = 2`); setting one gives it, setting
/// nil leaves it out.
@dynamicMemberLookup
public struct StackCluster: Sendable, Equatable {
    /// The CreateCluster input the document makes: only given members are set.
    public private(set) var request: CreateClusterRequest
    /// The members the document gives, by their REST names.
    public private(set) var given: Set<String>

    /// A stack's cluster members: CreateCluster's that describe the cluster.
    public static let members = CreateClusterRequest.members.filter { $0.role == .state }

    public init(name: String, nodeType: String, aclName: String) {
        request = CreateClusterRequest(name: name, nodeType: nodeType, aclName: aclName)
        given = ["name", "nodeType", "aclName"]
    }

    /// Every member `request` sets is given (tags always, even none): a live cluster's description.
    public init(describing request: CreateClusterRequest) {
        self.request = CreateClusterRequest.empty
        given = []
        for member in Self.members {
            if case .tags = member.value {
                set(member, .tags(request.tags))
            } else {
                set(member, member.value(in: request))
            }
        }
    }

    public subscript<Value>(dynamicMember path: WritableKeyPath<CreateClusterRequest, Value>) -> Value {
        get { request[keyPath: path] }
        set {
            guard let member = Self.members.first(where: { $0.value.keyPath == path }) else {
                preconditionFailure("\(path) is not a stack member")
            }
            var changed = request
            changed[keyPath: path] = newValue
            if case .tags(let tagsPath) = member.value {
                set(member, .tags(changed[keyPath: tagsPath]))
            } else {
                set(member, member.value(in: changed))
            }
        }
    }

    /// The member's value; nil when the document leaves it out.
    public func value(_ member: RequestMember<CreateClusterRequest>) -> MemberValue? {
        guard given.contains(member.rest) else { return nil }
        if case .tags(let path) = member.value { return .tags(request[keyPath: path]) }
        return member.value(in: request)
    }

    /// Gives the member `value`, or leaves it out with nil.
    public mutating func set(_ member: RequestMember<CreateClusterRequest>, _ value: MemberValue?) {
        member.set(value, in: &request)
        if value == nil { given.remove(member.rest) } else { given.insert(member.rest) }
    }
}

/// Stored and sent as the document says it: an object of the given members, by REST name.
extension StackCluster: Codable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        let name = Key(stringValue: "name"), nodeType = Key(stringValue: "nodeType"), acl = Key(stringValue: "aclName")
        self.init(
            name: try container.decode(String.self, forKey: name), nodeType: try container.decode(String.self, forKey: nodeType),
            aclName: try container.decode(String.self, forKey: acl))
        for member in Self.members {
            let key = Key(stringValue: member.rest)
            guard container.contains(key) else { continue }
            switch member.value {
            case .requiredString, .string: set(member, .string(try container.decode(String.self, forKey: key)))
            case .int, .count: set(member, .int(try container.decode(Int.self, forKey: key)))
            case .bool: set(member, .bool(try container.decode(Bool.self, forKey: key)))
            case .strings, .requiredStrings: set(member, .strings(try container.decode([String].self, forKey: key)))
            case .authentication: set(member, .authentication(try container.decode(AuthenticationModeInput.self, forKey: key)))
            case .tags: set(member, .tags(try container.decode([Tag].self, forKey: key)))
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for member in Self.members {
            let key = Key(stringValue: member.rest)
            switch value(member) {
            case nil: continue
            case .string(let text): try container.encode(text, forKey: key)
            case .int(let number): try container.encode(number, forKey: key)
            case .bool(let flag): try container.encode(flag, forKey: key)
            case .strings(let list): try container.encode(list, forKey: key)
            case .tags(let tags): try container.encode(tags, forKey: key)
            case .authentication(let mode): try container.encode(mode, forKey: key)
            }
        }
    }
}
