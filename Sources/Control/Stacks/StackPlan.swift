import Model
import Ports

/// What an apply would do to one resource.
public enum StackAction: String, Sendable, Codable {
    case create, update, replace, delete
    /// In the document and as it says: nothing to do.
    case unchanged
}

/// One field that differs, as the plan shows it. Secrets show as `(sensitive)`.
public struct StackFieldChange: Sendable, Equatable, Codable {
    public var field: String
    /// Nil: not set (or the default).
    public var from: String?
    public var to: String?
    /// The field cannot change in place: the resource is deleted and created again.
    public var forcesReplacement: Bool

    public init(field: String, from: String?, to: String?, forcesReplacement: Bool = false) {
        self.field = field
        self.from = from
        self.to = to
        self.forcesReplacement = forcesReplacement
    }
}

/// A resource's change.
public struct StackChange: Sendable, Equatable, Codable {
    public var type: StackResourceType
    public var name: String
    public var action: StackAction
    public var fields: [StackFieldChange]
    /// Why a replacement: the create-only fields that differ.
    public var reason: String?

    public init(type: StackResourceType, name: String, action: StackAction, fields: [StackFieldChange] = [], reason: String? = nil) {
        self.type = type
        self.name = name
        self.action = action
        self.fields = fields
        self.reason = reason
    }

    public var resource: StackResourceRef { StackResourceRef(type, name) }
}

/// Every resource's change, in the order an apply takes them: creations, updates and
/// replacements in dependency order, then deletions in reverse.
public struct StackPlan: Sendable, Equatable, Codable {
    public struct Summary: Sendable, Equatable, Codable {
        public var create = 0, update = 0, replace = 0, delete = 0, unchanged = 0
    }

    public var stack: String
    public var changes: [StackChange]
    /// The on-demand cost of the stack's clusters now and after the apply (nil without prices).
    public var cost: StackCost?

    public var summary: Summary {
        var summary = Summary()
        for change in changes {
            switch change.action {
            case .create: summary.create += 1
            case .update: summary.update += 1
            case .replace: summary.replace += 1
            case .delete: summary.delete += 1
            case .unchanged: summary.unchanged += 1
            }
        }
        return summary
    }

    public var hasChanges: Bool { changes.contains { $0.action != .unchanged } }
}

/// What a stack's clusters cost a month on demand (node type × nodes × hourly rate × 730 h),
/// from the server's price list: before and after an apply, and per cluster.
public struct StackCost: Sendable, Equatable, Codable {
    public struct Cluster: Sendable, Equatable, Codable {
        public var name: String
        public var nodeType: String
        public var nodes: Int
        /// USD per node-hour; nil when the price list has no price for the node type here.
        public var hourly: Double?
        /// USD a month; nil as `hourly`.
        public var monthly: Double?
    }

    public var currency = "USD"
    /// Where the prices come from (the price list's own words).
    public var priceList: String
    /// The clusters as the document wants them.
    public var clusters: [Cluster]
    /// The stack's clusters as they are now, and as the document wants them.
    public var monthlyNow: Double
    public var monthlyAfter: Double
    public var monthlyChange: Double { monthlyAfter - monthlyNow }

    enum CodingKeys: String, CodingKey {
        case currency, priceList, clusters, monthlyNow, monthlyAfter, monthlyChange
    }

    public init(priceList: String, clusters: [Cluster], monthlyNow: Double, monthlyAfter: Double) {
        self.priceList = priceList
        self.clusters = clusters
        self.monthlyNow = monthlyNow
        self.monthlyAfter = monthlyAfter
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        currency = try container.decode(String.self, forKey: .currency)
        priceList = try container.decode(String.self, forKey: .priceList)
        clusters = try container.decode([Cluster].self, forKey: .clusters)
        monthlyNow = try container.decode(Double.self, forKey: .monthlyNow)
        monthlyAfter = try container.decode(Double.self, forKey: .monthlyAfter)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(currency, forKey: .currency)
        try container.encode(priceList, forKey: .priceList)
        try container.encode(clusters, forKey: .clusters)
        try container.encode(monthlyNow, forKey: .monthlyNow)
        try container.encode(monthlyAfter, forKey: .monthlyAfter)
        try container.encode(monthlyChange, forKey: .monthlyChange)
    }

    /// Prices `clusters` (name, node type, nodes) against `prices` in `region`.
    public static func of(
        _ wanted: [(name: String, nodeType: String, nodes: Int)], now: [(nodeType: String, nodes: Int)], prices: PriceList, region: String
    ) -> StackCost {
        let clusters = wanted.map { cluster in
            let hourly = prices.hourly(cluster.nodeType, region: region)
            return Cluster(
                name: cluster.name, nodeType: cluster.nodeType, nodes: cluster.nodes, hourly: hourly,
                monthly: hourly.map { $0 * Double(cluster.nodes) * PriceList.hoursPerMonth })
        }
        let current = now.compactMap { prices.monthly($0.nodeType, nodes: $0.nodes, region: region) }.reduce(0, +)
        return StackCost(priceList: prices.source, clusters: clusters, monthlyNow: current, monthlyAfter: clusters.compactMap(\.monthly).reduce(0, +))
    }
}

/// What exists now, in the document's own terms so the two compare field by field.
public struct LiveResources: Sendable, Equatable {
    public var parameterGroups: [String: StackParameterGroup] = [:]
    public var subnetGroups: [String: StackSubnetGroup] = [:]
    /// Password hashes in `authenticationMode.passwordHashes`, never passwords.
    public var users: [String: StackUser] = [:]
    public var acls: [String: StackACL] = [:]
    /// Every field filled in from the live cluster.
    public var clusters: [String: StackCluster] = [:]
    /// The policy as the enforced document (JSON); never a secret.
    public var accessKeys: [String: StackAccessKey] = [:]

    public init() {}

    public func contains(_ resource: StackResourceRef) -> Bool {
        switch resource.type {
        case .parameterGroup: parameterGroups[resource.name] != nil
        case .subnetGroup: subnetGroups[resource.name] != nil
        case .user: users[resource.name] != nil
        case .acl: acls[resource.name] != nil
        case .cluster: clusters[resource.name] != nil
        case .accessKey: accessKeys[resource.name] != nil
        }
    }
}

/// Compares a stack's document with what exists. Pure: no I/O.
///
/// The document given is the desired state with passwords already hashed and access strings
/// normalised, so a password or an access string written differently but meaning the same
/// thing is no change.
public enum StackPlanner {
    public static let sensitive = "(sensitive)"

    /// - Parameter owners: which stack owns each owned resource.
    public static func plan(_ desired: StackDocument, live: LiveResources, owners: [StackResourceRef: String]) throws(MemoryDBError) -> StackPlan {
        var conflicts: [String] = []
        var firstConflict: MemoryDBError.Code?
        for resource in desired.resources where live.contains(resource) {
            let owner = owners[resource]
            guard owner != desired.stack else { continue }
            conflicts.append(
                owner.map { "\(resource) belongs to stack '\($0)'" }
                    ?? "\(resource) already exists outside any stack (rename it in the document, or delete it first)")
            if firstConflict == nil { firstConflict = alreadyExists(resource.type) }
        }
        if let firstConflict {
            throw MemoryDBError(firstConflict, "Stack '\(desired.stack)' cannot own what it names: \(conflicts.joined(separator: "; ")).")
        }
        var changes: [StackChange] = []
        for group in desired.parameterGroups {
            changes.append(change(.parameterGroup, group.name, live.parameterGroups[group.name].map { diff(group, $0) }))
        }
        for group in desired.subnetGroups {
            changes.append(change(.subnetGroup, group.name, live.subnetGroups[group.name].map { diff(group, $0) }))
        }
        for user in desired.users {
            changes.append(change(.user, user.name, live.users[user.name].map { diff(user, $0) }))
        }
        for acl in desired.acls {
            changes.append(change(.acl, acl.name, live.acls[acl.name].map { diff(acl, $0) }))
        }
        for cluster in desired.clusters {
            changes.append(change(.cluster, cluster.name, live.clusters[cluster.name].map { diff(cluster, $0) }))
        }
        for key in desired.accessKeys {
            changes.append(change(.accessKey, key.name, live.accessKeys[key.name].map { diff(key, $0) }))
        }
        // Owned, no longer named, still there: deleted, dependents first.
        let named = Set(desired.resources)
        let removed = owners.filter { $0.value == desired.stack && !named.contains($0.key) && live.contains($0.key) }.keys
        for resource in removed.sorted(by: { $0.type == $1.type ? $0.name < $1.name : $0.type > $1.type }) {
            changes.append(StackChange(type: resource.type, name: resource.name, action: .delete))
        }
        return StackPlan(stack: desired.stack, changes: changes)
    }

    static func alreadyExists(_ type: StackResourceType) -> MemoryDBError.Code {
        switch type {
        case .parameterGroup: .parameterGroupAlreadyExists
        case .subnetGroup: .subnetGroupAlreadyExists
        case .user: .userAlreadyExists
        case .acl: .aclAlreadyExists
        case .cluster: .clusterAlreadyExists
        case .accessKey: .accessKeyAlreadyExists
        }
    }

    /// Nil fields: the resource does not exist yet.
    static func change(_ type: StackResourceType, _ name: String, _ fields: [StackFieldChange]?) -> StackChange {
        guard let fields else { return StackChange(type: type, name: name, action: .create) }
        guard !fields.isEmpty else { return StackChange(type: type, name: name, action: .unchanged) }
        let createOnly = fields.filter(\.forcesReplacement).map(\.field)
        guard createOnly.isEmpty else {
            let list = createOnly.joined(separator: ", ")
            return StackChange(
                type: type, name: name, action: .replace, fields: fields,
                reason: "\(list) cannot be changed in place (create-only); the \(type.rawValue) is deleted and created again")
        }
        return StackChange(type: type, name: name, action: .update, fields: fields)
    }

    // MARK: Field by field

    /// Collects differences; a field the document leaves out (nil) with no default is not managed.
    struct Differences {
        var fields: [StackFieldChange] = []

        mutating func compare<Value: Equatable>(
            _ field: String, _ desired: Value?, _ live: Value?, default defaultValue: Value? = nil, createOnly: Bool = false,
            show: (Value) -> String = { "\($0)" }
        ) {
            guard let wanted = desired ?? defaultValue, wanted != live else { return }
            fields.append(StackFieldChange(field: field, from: live.map(show), to: show(wanted), forcesReplacement: createOnly))
        }

        mutating func compareTags(_ desired: [Tag]?, _ live: [Tag]?) {
            guard let desired else { return }
            let wanted = Set(desired), current = Set(live ?? [])
            guard wanted != current else { return }
            fields.append(StackFieldChange(field: "tags", from: StackPlanner.show(current), to: StackPlanner.show(wanted)))
        }
    }

    /// As every plan shows a value (`MemberValue.shown`): tags as `{key=value, …}`, lists sorted.
    static func show(_ tags: Set<Tag>) -> String { MemberValue.tags(Array(tags)).shown }

    static func show(_ list: [String]) -> String { MemberValue.strings(list).shown }

    /// Policies compare as the documents enforced: `read-only` and the same document written
    /// out are no change. A policy the document cannot resolve was refused before planning.
    static func diff(_ desired: StackAccessKey, _ live: StackAccessKey) -> [StackFieldChange] {
        guard let wanted = try? AccessKeyKind.policy(of: desired) else { return [] }
        let enforced = IAMPolicyDocument.render(wanted.policy)
        guard enforced != live.policy else { return [] }
        return [StackFieldChange(field: "policy", from: live.policy, to: enforced)]
    }

    static func diff(_ desired: StackParameterGroup, _ live: StackParameterGroup) -> [StackFieldChange] {
        var differences = Differences()
        differences.compare("family", desired.family, live.family, createOnly: true)
        differences.compare("description", desired.description, live.description, createOnly: true)
        // A parameter the document leaves out goes back to its default.
        for name in Set(desired.parameters.keys).union(live.parameters.keys).sorted() where desired.parameters[name] != live.parameters[name] {
            differences.fields.append(
                StackFieldChange(field: "parameters.\(name)", from: live.parameters[name] ?? "(default)", to: desired.parameters[name] ?? "(default)"))
        }
        differences.compareTags(desired.tags, live.tags)
        return differences.fields
    }

    static func diff(_ desired: StackSubnetGroup, _ live: StackSubnetGroup) -> [StackFieldChange] {
        var differences = Differences()
        differences.compare("description", desired.description, live.description)
        differences.compare("subnetIds", desired.subnetIds.sorted(), live.subnetIds.sorted(), show: show)
        differences.compareTags(desired.tags, live.tags)
        return differences.fields
    }

    static func diff(_ desired: StackUser, _ live: StackUser) -> [StackFieldChange] {
        var differences = Differences()
        differences.compare("accessString", desired.accessString, live.accessString)
        let wanted = desired.authenticationMode, current = live.authenticationMode
        differences.compare("authenticationMode.type", wanted.type, current.type)
        if Set(wanted.passwordHashes ?? []) != Set(current.passwordHashes ?? []) {
            differences.fields.append(StackFieldChange(field: "authenticationMode.passwords", from: sensitive, to: sensitive))
        }
        differences.compareTags(desired.tags, live.tags)
        return differences.fields
    }

    static func diff(_ desired: StackACL, _ live: StackACL) -> [StackFieldChange] {
        var differences = Differences()
        differences.compare("userNames", desired.userNames.sorted(), live.userNames.sorted(), show: show)
        differences.compareTags(desired.tags, live.tags)
        return differences.fields
    }

    /// The engine's default group, for a cluster whose document names none.
    static func defaultParameterGroup(engineVersion: String) -> String {
        engineVersion.hasPrefix("6") ? "default.memorydb-redis6" : "default.memorydb-redis7"
    }

    /// Member by member through CreateCluster's table. A member UpdateCluster takes (or tags,
    /// which TagResource changes) changes in place; any other forces a replacement. Whether
    /// UpdateCluster then honours the change is the service's to say, once, at apply.
    static func diff(_ desired: StackCluster, _ live: StackCluster) -> [StackFieldChange] {
        var fields: [StackFieldChange] = []
        for member in StackCluster.members where member.rest != "name" {
            guard let wanted = wanted(member, desired, live) else { continue }
            var current = live.value(member)
            if case .tags = member.value, current == nil { current = .tags([]) }
            guard !same(member.rest, wanted, current) else { continue }
            let inPlace = UpdateClusterRequest.member(named: member.rest) != nil || member.rest == "tags"
            fields.append(StackFieldChange(field: member.rest, from: current?.shown, to: wanted.shown, forcesReplacement: !inPlace))
        }
        return fields
    }

    /// What the document asks of a member: its value, or CreateCluster's default for the few
    /// members that have a well-defined one (the plan manages those even when left out).
    public static func wanted(_ member: RequestMember<CreateClusterRequest>, _ desired: StackCluster, _ live: StackCluster) -> MemberValue? {
        if let value = desired.value(member) { return value }
        switch member.rest {
        case "numShards", "numReplicasPerShard": return .int(1)
        case "tlsEnabled": return .bool(true)
        case "snapshotRetentionLimit": return .int(0)
        case "subnetGroupName": return .string(BuiltinResources.defaultSubnetGroupName)
        case "parameterGroupName":
            return .string(defaultParameterGroup(engineVersion: desired.engineVersion ?? live.engineVersion ?? "7"))
        default: return nil
        }
    }

    /// Spelled as the API stores them (node types, windows and the engine lower-case, an engine
    /// version by its major.minor; lists and tags in any order), a document written otherwise is
    /// no change.
    static func same(_ member: String, _ wanted: MemberValue, _ current: MemberValue?) -> Bool {
        guard let current else { return false }
        switch (member, wanted, current) {
        case ("nodeType", .string(let a), .string(let b)), ("maintenanceWindow", .string(let a), .string(let b)),
            ("engine", .string(let a), .string(let b)):
            return a.lowercased() == b.lowercased()
        case ("engineVersion", .string(let a), .string(let b)): return EngineVersionMatch.same(a, b)
        default: return wanted.canonical == current.canonical
        }
    }
}

/// Engine versions as CreateCluster takes them ("7", "7.0", "7.0.15") against the stored
/// major.minor.
enum EngineVersionMatch {
    static func same(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: "."), y = b.split(separator: ".")
        return zip(x, y).allSatisfy { $0 == $1 }
    }
}
