import Model
import Store

/// Read access to users, ACLs, subnet groups, parameter groups and engine versions.
///
/// So far these are the built-in objects every MemoryDB account starts with; they are described
/// from the catalogs in Model, and cannot be changed or deleted.
public struct CatalogService: Sendable {
    private let store: Store
    public let configuration: ControlConfiguration

    public init(store: Store, configuration: ControlConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    // MARK: Users

    /// Filter names DescribeUsers accepts, with what they match.
    public static let userFilterNames: Set<String> = ["user-name", "acl-names", "status", "authentication-type"]

    public func describeUsers(name: String?, filters: [(name: String, values: [String])], maxResults: Int?, nextToken: String?) throws -> (items: [UserView], nextToken: String?) {
        var users = [defaultUser()]
        if let name {
            users = users.filter { $0.name == name.lowercased() }
            guard !users.isEmpty else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        }
        for filter in filters {
            guard Self.userFilterNames.contains(filter.name) else {
                throw MemoryDBError.invalid("Filter name '\(filter.name)' is not one of \(Self.userFilterNames.sorted().joined(separator: ", ")).")
            }
            guard !filter.values.isEmpty else { throw MemoryDBError.invalid("Filter '\(filter.name)' needs at least one value.") }
            let values = Set(filter.values)
            users = users.filter { user in
                switch filter.name {
                case "user-name": return values.contains(user.name)
                case "acl-names": return !values.isDisjoint(with: user.aclNames)
                case "status": return values.contains(user.status)
                default: return values.contains(user.authenticationType)
                }
            }
        }
        return try Pagination.page(users, key: \.name, maxResults: maxResults, nextToken: nextToken, limit: 1...50)
    }

    func defaultUser() -> UserView {
        UserView(
            name: BuiltinResources.defaultUserName, status: "active", accessString: BuiltinResources.defaultUserAccessString,
            aclNames: [BuiltinResources.openAccessACLName], minimumEngineVersion: BuiltinResources.defaultUserMinimumEngineVersion,
            authenticationType: "no-password", passwordCount: nil, arn: configuration.arn("user", BuiltinResources.defaultUserName))
    }

    // MARK: ACLs

    public func describeACLs(name: String?, maxResults: Int?, nextToken: String?) throws -> (items: [ACLView], nextToken: String?) {
        var acls = [
            ACLView(
                name: BuiltinResources.openAccessACLName, status: "active", userNames: [BuiltinResources.defaultUserName],
                minimumEngineVersion: BuiltinResources.openAccessMinimumEngineVersion,
                clusters: try store.clusterNames(usingACL: BuiltinResources.openAccessACLName),
                arn: configuration.arn("acl", BuiltinResources.openAccessACLName))
        ]
        if let name {
            acls = acls.filter { $0.name == name.lowercased() }
            guard !acls.isEmpty else { throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.") }
        }
        return try Pagination.page(acls, key: \.name, maxResults: maxResults, nextToken: nextToken, limit: 1...50)
    }

    // MARK: Engine versions

    /// What is really installed: the `redis-server` this server runs.
    public func describeEngineVersions(
        engine: String?, engineVersion: String?, family: String?, maxResults: Int?, nextToken: String?
    ) throws -> (items: [EngineVersionView], nextToken: String?) {
        let installed = configuration.engineVersion
        var versions = [
            EngineVersionView(
                engine: "redis", engineVersion: installed.engineVersion, enginePatchVersion: installed.patchVersion,
                parameterGroupFamily: installed.parameterGroupFamily)
        ]
        if let engine { versions = versions.filter { $0.engine == engine.lowercased() } }
        if let engineVersion { versions = versions.filter { $0.engineVersion == engineVersion || $0.enginePatchVersion == engineVersion } }
        if let family { versions = versions.filter { $0.parameterGroupFamily == family } }
        return try Pagination.page(versions, key: \.engineVersion, maxResults: maxResults, nextToken: nextToken)
    }
}
