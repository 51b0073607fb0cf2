import Crypto
import Foundation
import Model
import Store
import Ports

/// What the nodes of a cluster should enforce for its ACL: every member user's rules, the
/// `default` user's, and a marker naming the ACL revision.
public struct ACLTarget: Sendable, Equatable {
    public var marker: AppliedRevision
    /// Rules per user name, for `ACL SETUSER <name> reset <rules>` (restricted commands included).
    public var users: [String: String]
    public var defaultUserRules: String
}

/// Users and ACLs: the built-in `default` and `open-access`, and custom ones, enforced on the
/// live nodes of every cluster that uses them.
public struct AccessControlService: Sendable {
    public static let maxUsersPerACL = 100

    private let store: Store
    private let configuration: ControlConfiguration
    private let trigger: any ReconcileTrigger
    private let normaliser: any AccessRulesNormaliser

    public init(
        store: Store, configuration: ControlConfiguration, trigger: any ReconcileTrigger,
        normaliser: any AccessRulesNormaliser = CanonicalOrderNormaliser()
    ) {
        self.store = store
        self.configuration = configuration
        self.trigger = trigger
        self.normaliser = normaliser
    }

    // MARK: Users

    public static let userFilterNames: Set<String> = ["user-name", "acl-names", "status", "authentication-type", "access-string"]

    /// A filter's field: the names here, or a member's name as AWS's documentation writes them
    /// ("For example, UserName"), in any case and with or without hyphens.
    static func userFilter(_ name: String) -> String? {
        let folded = name.lowercased().replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")
        return userFilterNames.first { $0.replacingOccurrences(of: "-", with: "") == folded }
    }

    public func describeUsers(name: String?, filters: [(name: String, values: [String])], maxResults: Int?, nextToken: String?) throws -> (items: [UserView], nextToken: String?) {
        let acls = try store.acls()
        var users = [defaultUser(acls: acls)] + (try store.users().map { try view($0, acls: acls) })
        users.sort { $0.name < $1.name }
        if let name {
            users = users.filter { $0.name == name.lowercased() }
            guard !users.isEmpty else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        }
        for filter in filters {
            guard let field = Self.userFilter(filter.name) else {
                throw MemoryDBError.invalid(
                    "Filter name '\(filter.name)' is not one of \(Self.userFilterNames.sorted().joined(separator: ", ")) (or as AWS documents them: UserName, AccessString, ACLNames, Status, AuthenticationType).")
            }
            guard !filter.values.isEmpty else { throw MemoryDBError.invalid("Filter '\(filter.name)' needs at least one value.") }
            let values = Set(filter.values)
            users = users.filter { user in
                switch field {
                case "user-name": return values.contains(user.name)
                case "acl-names": return !values.isDisjoint(with: user.aclNames)
                case "status": return values.contains(user.status)
                case "access-string": return values.contains(user.accessString)
                default: return values.contains(user.authenticationType)
                }
            }
        }
        return try Pagination.page(users, key: \.name, maxResults: maxResults, nextToken: nextToken, limit: 1...50)
    }

    public func createUser(name rawName: String, accessString: String, authenticationType: String, passwords: [String], tags: [Tag]) async throws -> UserView {
        let name = try ResourceName.normalise(rawName, field: "userName")
        guard name != BuiltinResources.defaultUserName else {
            throw MemoryDBError(.userAlreadyExists, "A user named 'default' already exists.")
        }
        let access = try AccessString(parsing: accessString)
        let hashes = try Self.passwordHashes(type: authenticationType, passwords: passwords)
        try Tag.validate(tags)
        let now = configuration.clock.nowMilliseconds
        let normalised = try await normaliser.normalise(access)
        let record = UserRecord(name: name, accessString: normalised, authenticationType: authenticationType, passwordHashes: hashes, createdAt: now)
        try store.write { transaction in
            guard try transaction.user(named: name) == nil else {
                throw MemoryDBError(.userAlreadyExists, "A user named '\(name)' already exists.")
            }
            try transaction.insert(record)
            try TagService.attach(tags, to: configuration.arn(.user, name), in: transaction)
            try transaction.record(EventRecord(sourceName: name, sourceType: .user, message: "User created", createdAt: now))
        }
        return try view(record, acls: store.acls())
    }

    public func updateUser(name rawName: String, accessString: String?, authenticationType: String?, passwords: [String]?) async throws -> UserView {
        let name = rawName.lowercased()
        guard name != BuiltinResources.defaultUserName else { throw MemoryDBError.invalid("The default user can't be modified.") }
        guard try store.user(named: name) != nil else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        guard accessString != nil || authenticationType != nil else {
            throw MemoryDBError(.invalidParameterCombination, "Nothing to change: give an AccessString or an AuthenticationMode.")
        }
        // Validated (and normalised, which asks Redis) before the transaction, applied inside it
        // to the row as it is then.
        var access: String?
        if let accessString { access = try await normaliser.normalise(AccessString(parsing: accessString)) }
        let hashes = try authenticationType.map { try Self.passwordHashes(type: $0, passwords: passwords ?? []) }
        let (record, clusters) = try store.write { transaction in
            guard var record = try transaction.user(named: name) else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
            if let access { record.accessString = access }
            if let authenticationType, let hashes {
                record.authenticationType = authenticationType
                record.hashes = hashes
            }
            let clusters = try transaction.update(record)
            try transaction.record(EventRecord(sourceName: name, sourceType: .user, message: "User updated", createdAt: configuration.clock.nowMilliseconds))
            return (record, clusters)
        }
        for cluster in clusters { trigger.wake(cluster: cluster) }
        return try view(record, acls: store.acls())
    }

    /// An access string as it would be stored: parsed, then normalised the way the nodes print it.
    public func normalised(accessString: String) async throws -> String {
        try await normaliser.normalise(AccessString(parsing: accessString))
    }

    /// The stored form of a user's passwords (SHA-256 hex), after checking them as CreateUser does.
    public static func storedPasswordHashes(type: String, passwords: [String]) throws -> [String] {
        try passwordHashes(type: type, passwords: passwords)
    }

    public func deleteUser(_ rawName: String) throws -> UserView {
        let name = rawName.lowercased()
        guard name != BuiltinResources.defaultUserName else { throw MemoryDBError.invalid("The default user can't be deleted.") }
        guard let record = try store.user(named: name) else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        var deleted = try view(record, acls: store.acls())
        deleted.status = "deleting"
        let clusters = try store.write { transaction in
            guard try transaction.user(named: name) != nil else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
            let clusters = try transaction.deleteUser(named: name)
            try transaction.removeAllTags(of: configuration.arn(.user, name))
            try transaction.record(EventRecord(sourceName: name, sourceType: .user, message: "User deleted", createdAt: configuration.clock.nowMilliseconds))
            return clusters
        }
        for cluster in clusters { trigger.wake(cluster: cluster) }
        return deleted
    }

    /// The SHA-256 hex of each password, as Redis ACLs take them (`#<hash>`).
    static func passwordHashes(type: String, passwords: [String]) throws -> [String] {
        switch type {
        case "password":
            guard (1...2).contains(passwords.count) else {
                throw MemoryDBError.invalid("A password user needs 1 or 2 passwords; got \(passwords.count).")
            }
            // Printable ASCII without spaces (as MemoryDB asks): no look-alike characters, nothing a
            // terminal or a config line would mangle, and a length every client counts alike.
            for password in passwords where !(16...128).contains(password.utf8.count) || !password.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) {
                throw MemoryDBError.invalid("Passwords must be 16 to 128 printable ASCII characters without spaces; one has \(password.count) characters.")
            }
            return passwords.map { SHA256.hash(data: Data($0.utf8)).map { String(format: "%02x", $0) }.joined() }
        case "no-password":
            guard passwords.isEmpty else { throw MemoryDBError(.invalidParameterCombination, "A no-password user takes no passwords.") }
            return []
        case "iam":
            throw MemoryDBError(.invalidParameterCombination, "IAM authentication is not supported by MemoryPlane yet; use password or no-password.")
        default:
            throw MemoryDBError.invalid("Authentication type must be password, no-password or iam; got '\(type)'.")
        }
    }

    // MARK: ACLs

    public func describeACLs(name: String?, maxResults: Int?, nextToken: String?) throws -> (items: [ACLView], nextToken: String?) {
        var acls = [try openAccess()] + (try store.acls().map { try view(acl: $0) })
        acls.sort { $0.name < $1.name }
        if let name {
            acls = acls.filter { $0.name == name.lowercased() }
            guard !acls.isEmpty else { throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.") }
        }
        return try Pagination.page(acls, key: \.name, maxResults: maxResults, nextToken: nextToken, limit: 1...50)
    }

    public func createACL(name rawName: String, userNames: [String], tags: [Tag]) throws -> ACLView {
        let name = try ResourceName.normalise(rawName, field: "aclName")
        guard name != BuiltinResources.openAccessACLName else { throw MemoryDBError(.aclAlreadyExists, "An ACL named 'open-access' already exists.") }
        let users = try checkUsers(userNames)
        try Tag.validate(tags)
        let now = configuration.clock.nowMilliseconds
        try store.write { transaction in
            guard try transaction.acl(named: name) == nil else { throw MemoryDBError(.aclAlreadyExists, "An ACL named '\(name)' already exists.") }
            try transaction.insertACL(named: name, users: users, createdAt: now)
            try TagService.attach(tags, to: configuration.arn(.acl, name), in: transaction)
            try transaction.record(EventRecord(sourceName: name, sourceType: .acl, message: "ACL created", createdAt: now))
        }
        var created = try describeACLs(name: name, maxResults: nil, nextToken: nil).items[0]
        // As on AWS, CreateACL answers `creating`; it is `active` from the next read.
        created.status = "creating"
        return created
    }

    public func updateACL(name rawName: String, add: [String], remove: [String]) throws -> ACLView {
        let name = rawName.lowercased()
        guard name != BuiltinResources.openAccessACLName else { throw MemoryDBError.invalid("open-access ACL can't be modified.") }
        guard !add.isEmpty || !remove.isEmpty else {
            throw MemoryDBError(.invalidParameterCombination, "Nothing to change: give UserNamesToAdd or UserNamesToRemove.")
        }
        let adding = try checkUsers(add)
        let removing = remove.map { $0.lowercased() }
        if let both = adding.first(where: removing.contains) {
            throw MemoryDBError(.duplicateUserName, "User '\(both)' is both added and removed.")
        }
        guard let current = try store.acl(named: name) else { throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.") }
        for user in removing where !current.users.contains(user) {
            // The user exists: naming one the ACL does not hold is a bad value, not a missing user.
            throw MemoryDBError.invalid("User '\(user)' is not in ACL '\(name)'; UserNamesToRemove may name only its members.")
        }
        guard Set(current.users).union(adding).subtracting(removing).count <= Self.maxUsersPerACL else {
            throw MemoryDBError.invalid("An ACL may hold at most \(Self.maxUsersPerACL) users.")
        }
        let clusters = try store.write { transaction in
            guard try transaction.acl(named: name) != nil else { throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.") }
            let clusters = try transaction.changeMembers(ofACL: name, add: adding, remove: removing)
            try transaction.record(
                EventRecord(sourceName: name, sourceType: .acl, message: "ACL updated: added \(adding), removed \(removing)", createdAt: configuration.clock.nowMilliseconds))
            return clusters
        }
        for cluster in clusters { trigger.wake(cluster: cluster) }
        return try describeACLs(name: name, maxResults: nil, nextToken: nil).items[0]
    }

    public func deleteACL(_ rawName: String) throws -> ACLView {
        let name = rawName.lowercased()
        guard name != BuiltinResources.openAccessACLName else { throw MemoryDBError.invalid("open-access ACL can't be deleted.") }
        var deleted = try describeACLs(name: name, maxResults: nil, nextToken: nil).items[0]
        try UnusedResourceDeletion(
            exists: { try $0.acl(named: name) != nil }, notFound: MemoryDBError(.aclNotFound, "ACL '\(name)' not found."), usedBy: .acl(name),
            inUse: { MemoryDBError(.invalidACLState, "ACL '\(name)' is used by cluster(s) \($0.joined(separator: ", ")); it can't be deleted.") },
            delete: { try $0.deleteACL(named: name) }, arn: configuration.arn(.acl, name),
            event: EventRecord(sourceName: name, sourceType: .acl, message: "ACL deleted", createdAt: configuration.clock.nowMilliseconds)
        ).run(in: store)
        deleted.status = "deleting"
        return deleted
    }

    /// Checks users exist (the default user included) and are named once.
    func checkUsers(_ names: [String]) throws -> [String] {
        let lowered = names.map { $0.lowercased() }
        guard Set(lowered).count == lowered.count else { throw MemoryDBError(.duplicateUserName, "A user is named twice.") }
        guard lowered.count <= Self.maxUsersPerACL else { throw MemoryDBError.invalid("An ACL may hold at most \(Self.maxUsersPerACL) users.") }
        for name in lowered where name != BuiltinResources.defaultUserName {
            guard try store.user(named: name) != nil else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        }
        return lowered
    }

    // MARK: Enforcement

    /// Whether an ACL exists (for clusters choosing one).
    public func aclExists(_ name: String) throws -> Bool {
        try name == BuiltinResources.openAccessACLName || store.acl(named: name) != nil
    }

    static let fullDefaultRules = "on nopass ~* &* +@all " + RestrictedCommands.aclRules

    /// What the nodes of a cluster using `acl` enforce.
    public func target(forACL acl: String) throws -> ACLTarget {
        if acl == BuiltinResources.openAccessACLName {
            return ACLTarget(marker: Self.marker(acl: acl, revision: 0), users: [:], defaultUserRules: Self.fullDefaultRules)
        }
        guard let found = try store.acl(named: acl) else { throw MemoryDBError(.aclNotFound, "ACL '\(acl)' not found.") }
        var users: [String: String] = [:]
        for name in found.users where name != BuiltinResources.defaultUserName {
            guard let user = try store.user(named: name) else { continue }
            let credentials = user.hashes.isEmpty ? "nopass" : user.hashes.map { "#" + $0 }.joined(separator: " ")
            let access = try AccessString(parsing: user.accessString)
            users[name] = credentials + " " + access.nodeRules
        }
        let defaultRules = found.users.contains(BuiltinResources.defaultUserName) ? Self.fullDefaultRules : "off"
        return ACLTarget(marker: Self.marker(acl: acl, revision: found.revision), users: users, defaultUserRules: defaultRules)
    }

    /// What a cluster records once every node enforces an ACL revision: the revision, and the
    /// generation of the restricted-command list, so a new binary that denies more re-applies
    /// every cluster's users once.
    static func marker(acl: String, revision: Int) -> AppliedRevision {
        AppliedRevision(name: acl, revision: revision, restrictedGeneration: RestrictedCommands.generation)
    }

    // MARK: Views

    func pending(acl: String, marker: AppliedRevision) throws -> Bool {
        try store.anyClusterBehind(acl: acl, revision: marker)
    }

    func defaultUser(acls: [ACLRecord]) -> UserView {
        UserView(
            name: BuiltinResources.defaultUserName, status: "active", accessString: BuiltinResources.defaultUserAccessString,
            aclNames: ([BuiltinResources.openAccessACLName] + acls.filter { $0.users.contains(BuiltinResources.defaultUserName) }.map(\.name)).sorted(),
            minimumEngineVersion: BuiltinResources.defaultUserMinimumEngineVersion, authenticationType: "no-password", passwordCount: nil,
            arn: configuration.arn(.user, BuiltinResources.defaultUserName))
    }

    func view(_ user: UserRecord, acls: [ACLRecord]) throws -> UserView {
        let memberOf = acls.filter { $0.users.contains(user.name) }
        let modifying = try memberOf.contains { try pending(acl: $0.name, marker: Self.marker(acl: $0.name, revision: $0.revision)) }
        return UserView(
            name: user.name, status: modifying ? "modifying" : "active", accessString: user.accessString, aclNames: memberOf.map(\.name),
            minimumEngineVersion: "6.2", authenticationType: user.authenticationType,
            passwordCount: user.authenticationType == "password" ? user.hashes.count : nil, arn: configuration.arn(.user, user.name))
    }

    func openAccess() throws -> ACLView {
        ACLView(
            name: BuiltinResources.openAccessACLName, status: "active", userNames: [BuiltinResources.defaultUserName],
            minimumEngineVersion: BuiltinResources.openAccessMinimumEngineVersion,
            clusters: try store.clusterNames(using: .acl(BuiltinResources.openAccessACLName)),
            arn: configuration.arn(.acl, BuiltinResources.openAccessACLName))
    }

    func view(acl: ACLRecord) throws -> ACLView {
        let modifying = try pending(acl: acl.name, marker: Self.marker(acl: acl.name, revision: acl.revision))
        return ACLView(
            name: acl.name, status: modifying ? "modifying" : "active", userNames: acl.users, minimumEngineVersion: "6.2",
            clusters: try store.clusterNames(using: .acl(acl.name)), arn: configuration.arn(.acl, acl.name))
    }
}

/// The operations' inputs as both doors read them through their member tables.
extension AccessControlService {
    public func createUser(_ request: CreateUserRequest) async throws -> UserView {
        guard let mode = request.authenticationMode else { throw MemoryDBError.invalid("authenticationMode is required.") }
        return try await createUser(
            name: request.name, accessString: request.accessString, authenticationType: mode.type, passwords: mode.passwords ?? [], tags: request.tags)
    }

    public func updateUser(name: String, _ request: UpdateUserRequest) async throws -> UserView {
        try await updateUser(
            name: name, accessString: request.accessString, authenticationType: request.authenticationMode?.type,
            passwords: request.authenticationMode?.passwords)
    }

    public func createACL(_ request: CreateACLRequest) throws -> ACLView {
        try createACL(name: request.name, userNames: request.userNames ?? [], tags: request.tags)
    }

    public func updateACL(name: String, _ request: UpdateACLRequest) throws -> ACLView {
        try updateACL(name: name, add: request.userNamesToAdd ?? [], remove: request.userNamesToRemove ?? [])
    }
}
