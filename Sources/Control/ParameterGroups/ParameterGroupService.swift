import Model
import Store
import Ports

/// A parameter group as the doors present it.
public struct ParameterGroupView: Sendable, Equatable {
    public var name: String
    public var family: String
    public var description: String
    public var arn: String
}

/// What a cluster's nodes should run: every parameter's value and a marker naming the group
/// revision, so the reconciler can tell whether a change has reached every node.
public struct ParameterTarget: Sendable, Equatable {
    public var marker: AppliedRevision
    public var values: [String: String]
    /// The values that take effect at once (CONFIG SET); the rest wait for a node restart.
    public var immediateValues: [String: String]

    /// The reboot-only values, as a node records what it started with: `name=value;...`.
    public var rebootValues: String {
        values.filter { immediateValues[$0.key] == nil }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
    }

    public init(marker: AppliedRevision, values: [String: String], immediateValues: [String: String]) {
        self.marker = marker
        self.values = values
        self.immediateValues = immediateValues
    }
}

/// Parameter groups: the immutable defaults of each family and custom groups, validated
/// against each parameter's metadata, and applied to every cluster that uses them.
public struct ParameterGroupService: Sendable {
    public static let maxParametersPerUpdate = 20

    private let store: Store
    private let configuration: ControlConfiguration
    private let trigger: any ReconcileTrigger

    public init(store: Store, configuration: ControlConfiguration, trigger: any ReconcileTrigger) {
        self.store = store
        self.configuration = configuration
        self.trigger = trigger
    }

    static let families: [String: [ParameterDefinition]] = ["memorydb_redis6": ParameterCatalog.redis6, "memorydb_redis7": ParameterCatalog.redis7]

    // MARK: Reading

    public func describeGroups(name: String?, maxResults: Int?, nextToken: String?) throws -> (items: [ParameterGroupView], nextToken: String?) {
        var groups = ParameterCatalog.defaultGroups.map {
            ParameterGroupView(name: $0.name, family: $0.family, description: $0.description, arn: configuration.arn(.parametergroup, $0.name))
        }
        groups += try store.parameterGroups().map {
            ParameterGroupView(name: $0.name, family: $0.family, description: $0.description, arn: configuration.arn(.parametergroup, $0.name))
        }
        groups.sort { $0.name < $1.name }
        if let name {
            groups = groups.filter { $0.name == name.lowercased() }
            guard !groups.isEmpty else { throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.") }
        }
        return try Pagination.page(groups, key: \.name, maxResults: maxResults, nextToken: nextToken)
    }

    /// Every parameter of a group with its value in that group.
    public func describeParameters(group name: String, maxResults: Int?, nextToken: String?) throws -> (items: [ParameterDefinition], nextToken: String?) {
        let (definitions, values, _) = try resolve(name.lowercased())
        let parameters = definitions.map { definition -> ParameterDefinition in
            var parameter = definition
            parameter.defaultValue = values[definition.name] ?? definition.defaultValue
            return parameter
        }
        return try Pagination.page(parameters, key: \.name, maxResults: maxResults, nextToken: nextToken)
    }

    /// What the nodes of a cluster using `group` should run.
    public func target(forGroup group: String) throws -> ParameterTarget {
        let (definitions, overrides, revision) = try resolve(group)
        var values: [String: String] = [:]
        var immediate: [String: String] = [:]
        for definition in definitions {
            let value = overrides[definition.name] ?? definition.defaultValue
            values[definition.name] = value
            if definition.appliesImmediately { immediate[definition.name] = value }
        }
        return ParameterTarget(marker: AppliedRevision(name: group, revision: revision), values: values, immediateValues: immediate)
    }

    /// The marker of a group's current revision, without resolving its values (cluster views
    /// need only this, on every Describe call).
    public func marker(forGroup group: String) throws -> AppliedRevision {
        if ParameterCatalog.defaultGroup(named: group) != nil { return AppliedRevision(name: group, revision: 0) }
        guard let record = try store.parameterGroup(named: group) else {
            throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(group)' not found.")
        }
        return AppliedRevision(name: group, revision: record.revision)
    }

    /// A group's family definitions, its values, and its revision (0 for a default group).
    func resolve(_ name: String) throws -> (definitions: [ParameterDefinition], values: [String: String], revision: Int) {
        if let group = ParameterCatalog.defaultGroup(named: name) {
            return (group.parameters, [:], 0)
        }
        guard let group = try store.parameterGroup(named: name), let definitions = Self.families[group.family] else {
            throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
        }
        return (definitions, try store.parameterValues(of: name), group.revision)
    }

    /// The family of a group, for checking it fits the engine of a cluster.
    public func family(of name: String) throws -> String {
        if let group = ParameterCatalog.defaultGroup(named: name) { return group.family }
        guard let group = try store.parameterGroup(named: name) else {
            throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
        }
        return group.family
    }

    // MARK: Changing

    public func createGroup(name rawName: String, family: String, description: String?, tags: [Tag]) throws -> ParameterGroupView {
        let name = try ResourceName.normalise(rawName, field: "parameterGroupName", maxLength: 255)
        if let description { try TextRules.refuseControlCharacters(description, field: "description") }
        guard Self.families[family] != nil else {
            throw MemoryDBError.invalid("family must be one of \(Self.families.keys.sorted().joined(separator: ", ")); got '\(family)'.")
        }
        try Tag.validate(tags)
        let now = configuration.clock.nowMilliseconds
        let arn = configuration.arn(.parametergroup, name)
        try store.write { transaction in
            guard try transaction.parameterGroup(named: name) == nil else {
                throw MemoryDBError(.parameterGroupAlreadyExists, "A parameter group named '\(name)' already exists.")
            }
            try transaction.insert(ParameterGroupRecord(name: name, family: family, description: description ?? "", createdAt: now))
            try TagService.attach(tags, to: arn, in: transaction)
            try transaction.record(EventRecord(sourceName: name, sourceType: .parameterGroup, message: "Parameter group created", createdAt: now))
        }
        return ParameterGroupView(name: name, family: family, description: description ?? "", arn: arn)
    }

    /// Sets up to 20 values, each checked against its metadata; every cluster using the group
    /// then applies them (immediate ones at once, the rest at the next restart of each node).
    public func updateParameters(group rawName: String, values: [(name: String, value: String)]) throws -> ParameterGroupView {
        let name = rawName.lowercased()
        try refuseDefault(name, "modified")
        guard !values.isEmpty else { throw MemoryDBError.invalid("ParameterNameValues must name at least one parameter.") }
        guard values.count <= Self.maxParametersPerUpdate else {
            throw MemoryDBError.invalid("At most \(Self.maxParametersPerUpdate) parameters can be changed in one call; got \(values.count).")
        }
        let (definitions, _, _) = try resolve(name)
        var changes: [String: String?] = [:]
        for (parameter, value) in values {
            guard let definition = definitions.first(where: { $0.name == parameter }) else {
                throw MemoryDBError.invalid("Parameter '\(parameter)' does not exist in this group's family.")
            }
            try definition.validate(value)
            changes[parameter] = value
        }
        var summary = values.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
        let pending = values.filter { value in !(definitions.first { $0.name == value.name }?.appliesImmediately ?? true) }.map(\.name)
        if !pending.isEmpty {
            summary += " (\(pending.joined(separator: ", ")) pending: takes effect when each node restarts)"
        }
        let clusters = try change(
            name, event: "Parameters updated: \(summary)") { transaction, group in try transaction.changeParameters(of: group, set: changes) }
        for cluster in clusters { trigger.wake(cluster: cluster) }
        return try view(name)
    }

    /// Resets named parameters, or all of them, to the family defaults.
    public func resetParameters(group rawName: String, all: Bool, names: [String]) throws -> ParameterGroupView {
        let name = rawName.lowercased()
        try refuseDefault(name, "reset")
        let clusters: [String]
        if all {
            guard names.isEmpty else {
                throw MemoryDBError(.invalidParameterCombination, "Give AllParameters or ParameterNames, not both.")
            }
            clusters = try change(name, event: "All parameters reset to their defaults") { transaction, group in
                try transaction.resetAllParameters(of: group)
            }
        } else {
            guard !names.isEmpty else {
                throw MemoryDBError(.invalidParameterCombination, "Give AllParameters=true or at least one name in ParameterNames.")
            }
            let (definitions, _, _) = try resolve(name)
            for parameter in names where !definitions.contains(where: { $0.name == parameter }) {
                throw MemoryDBError.invalid("Parameter '\(parameter)' does not exist in this group's family.")
            }
            let defaults = Dictionary(names.map { ($0, String?.none) }, uniquingKeysWith: { first, _ in first })
            clusters = try change(name, event: "Parameters reset to their defaults: \(names.joined(separator: ", "))") { transaction, group in
                try transaction.changeParameters(of: group, set: defaults)
            }
        }
        for cluster in clusters { trigger.wake(cluster: cluster) }
        return try view(name)
    }

    public func deleteGroup(_ rawName: String) throws -> ParameterGroupView {
        let name = rawName.lowercased()
        try refuseDefault(name, "deleted")
        let deleted = try view(name)
        try UnusedResourceDeletion(
            exists: { try $0.parameterGroup(named: name) != nil },
            notFound: MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found."), usedBy: .parameterGroup(name),
            inUse: {
                MemoryDBError(
                    .invalidParameterGroupState,
                    "Parameter group '\(name)' is used by cluster(s) \($0.joined(separator: ", ")); switch them to another group first.")
            },
            delete: { try $0.deleteParameterGroup(named: name) }, arn: configuration.arn(.parametergroup, name),
            event: EventRecord(sourceName: name, sourceType: .parameterGroup, message: "Parameter group deleted", createdAt: configuration.clock.nowMilliseconds)
        ).run(in: store)
        return deleted
    }

    /// Changes a custom group's values with an event, in one transaction; returns the clusters
    /// using the group, which must now apply it.
    private func change(_ name: String, event message: String, _ body: (Transaction, ParameterGroupRecord) throws -> Void) throws -> [String] {
        try store.write { transaction in
            guard let group = try transaction.parameterGroup(named: name) else {
                throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
            }
            try body(transaction, group)
            try transaction.record(EventRecord(sourceName: name, sourceType: .parameterGroup, message: message, createdAt: configuration.clock.nowMilliseconds))
            return try transaction.clusterNames(using: .parameterGroup(name))
        }
    }

    func refuseDefault(_ name: String, _ verb: String) throws {
        if ParameterCatalog.defaultGroup(named: name) != nil {
            throw MemoryDBError.invalid("Default parameter group \(name) can't be \(verb).")
        }
    }

    func view(_ name: String) throws -> ParameterGroupView {
        guard let group = try describeGroups(name: name, maxResults: nil, nextToken: nil).items.first else {
            throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
        }
        return group
    }
}

/// CreateParameterGroup's input as both doors read it through its member table.
extension ParameterGroupService {
    public func createGroup(_ request: CreateParameterGroupRequest) throws -> ParameterGroupView {
        try createGroup(name: request.name, family: request.family, description: request.description, tags: request.tags)
    }
}
