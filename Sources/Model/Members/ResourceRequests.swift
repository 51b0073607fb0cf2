/// A user's authentication mode as CreateUser and UpdateUser take it: `password` with 1–2
/// passwords, `iam`, or `no-password-required` (the service checks which fits).
public struct AuthenticationModeInput: Sendable, Hashable, Codable {
    public var type: String
    public var passwords: [String]?

    public init(type: String, passwords: [String]? = nil) {
        self.type = type
        self.passwords = passwords
    }
}

// Each operation's input, member by member, read by both doors through its table (REST key,
// AWS member, type). The resource's name is the table's first member on creation; on update the
// REST path names it and the AWS door reads the name member before the table.

public struct CreateUserRequest: TabledRequest {
    public var name = ""
    public var accessString = ""
    public var authenticationMode: AuthenticationModeInput?
    public var tags: [Tag] = []

    public init(name: String = "", accessString: String = "", authenticationMode: AuthenticationModeInput? = nil, tags: [Tag] = []) {
        self.name = name
        self.accessString = accessString
        self.authenticationMode = authenticationMode
        self.tags = tags
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("name", aws: "UserName", .requiredString(\.name)),
        RequestMember("accessString", aws: "AccessString", .requiredString(\.accessString)),
        RequestMember("authenticationMode", aws: "AuthenticationMode", .authentication(\.authenticationMode, required: true)),
        RequestMember("tags", aws: "Tags", .tags(\.tags)),
    ]
    public static var empty: Self { Self() }
}

public struct UpdateUserRequest: TabledRequest {
    public var accessString: String?
    public var authenticationMode: AuthenticationModeInput?

    public init(accessString: String? = nil, authenticationMode: AuthenticationModeInput? = nil) {
        self.accessString = accessString
        self.authenticationMode = authenticationMode
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("accessString", aws: "AccessString", .string(\.accessString)),
        RequestMember("authenticationMode", aws: "AuthenticationMode", .authentication(\.authenticationMode, required: false)),
    ]
    public static var empty: Self { Self() }
}

public struct CreateACLRequest: TabledRequest {
    public var name = ""
    public var userNames: [String]?
    public var tags: [Tag] = []

    public init(name: String = "", userNames: [String]? = nil, tags: [Tag] = []) {
        self.name = name
        self.userNames = userNames
        self.tags = tags
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("name", aws: "ACLName", .requiredString(\.name)),
        RequestMember("userNames", aws: "UserNames", .strings(\.userNames)),
        RequestMember("tags", aws: "Tags", .tags(\.tags)),
    ]
    public static var empty: Self { Self() }
}

public struct UpdateACLRequest: TabledRequest {
    public var userNamesToAdd: [String]?
    public var userNamesToRemove: [String]?

    public init(userNamesToAdd: [String]? = nil, userNamesToRemove: [String]? = nil) {
        self.userNamesToAdd = userNamesToAdd
        self.userNamesToRemove = userNamesToRemove
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("userNamesToAdd", aws: "UserNamesToAdd", .strings(\.userNamesToAdd)),
        RequestMember("userNamesToRemove", aws: "UserNamesToRemove", .strings(\.userNamesToRemove)),
    ]
    public static var empty: Self { Self() }
}

public struct CreateSubnetGroupRequest: TabledRequest {
    public var name = ""
    public var description: String?
    public var subnetIds: [String] = []
    public var tags: [Tag] = []

    public init(name: String = "", description: String? = nil, subnetIds: [String] = [], tags: [Tag] = []) {
        self.name = name
        self.description = description
        self.subnetIds = subnetIds
        self.tags = tags
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("name", aws: "SubnetGroupName", .requiredString(\.name)),
        RequestMember("description", aws: "Description", .string(\.description)),
        RequestMember("subnetIds", aws: "SubnetIds", .requiredStrings(\.subnetIds)),
        RequestMember("tags", aws: "Tags", .tags(\.tags)),
    ]
    public static var empty: Self { Self() }
}

public struct UpdateSubnetGroupRequest: TabledRequest {
    public var description: String?
    public var subnetIds: [String]?

    public init(description: String? = nil, subnetIds: [String]? = nil) {
        self.description = description
        self.subnetIds = subnetIds
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("description", aws: "Description", .string(\.description)),
        RequestMember("subnetIds", aws: "SubnetIds", .strings(\.subnetIds)),
    ]
    public static var empty: Self { Self() }
}

public struct CreateParameterGroupRequest: TabledRequest {
    public var name = ""
    public var family = ""
    public var description: String?
    public var tags: [Tag] = []

    public init(name: String = "", family: String = "", description: String? = nil, tags: [Tag] = []) {
        self.name = name
        self.family = family
        self.description = description
        self.tags = tags
    }

    public static let members: [RequestMember<Self>] = [
        RequestMember("name", aws: "ParameterGroupName", .requiredString(\.name)),
        RequestMember("family", aws: "Family", .requiredString(\.family)),
        RequestMember("description", aws: "Description", .string(\.description)),
        RequestMember("tags", aws: "Tags", .tags(\.tags)),
    ]
    public static var empty: Self { Self() }
}
