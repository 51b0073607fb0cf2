import Model
import Store
import Ports

/// Subnet groups: `default` (one subnet per zone of the region) and custom groups whose
/// subnets decide which availability zones a cluster's nodes are spread over.
public struct SubnetGroupService: Sendable {
    public static let maxSubnets = 20

    private let store: Store
    private let configuration: ControlConfiguration

    public init(store: Store, configuration: ControlConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    public func describe(name: String?, maxResults: Int?, nextToken: String?) throws -> (items: [SubnetGroupView], nextToken: String?) {
        var groups = [defaultGroup()] + (try store.subnetGroups().map(view))
        groups.sort { $0.name < $1.name }
        if let name {
            groups = groups.filter { $0.name == name.lowercased() }
            guard !groups.isEmpty else { throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found.") }
        }
        return try Pagination.page(groups, key: \.name, maxResults: maxResults, nextToken: nextToken)
    }

    /// The zones a cluster in `group` spreads its nodes over, in a stable order.
    public func zones(of group: String) throws -> [String] {
        guard let found = try describe(name: group, maxResults: nil, nextToken: nil).items.first else {
            throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(group)' not found.")
        }
        return Array(Set(found.subnets.map(\.availabilityZone))).sorted()
    }

    public func create(name rawName: String, description: String?, subnetIDs: [String], tags: [Tag]) throws -> SubnetGroupView {
        let name = try ResourceName.normalise(rawName, field: "subnetGroupName", maxLength: 255)
        if let description { try TextRules.refuseControlCharacters(description, field: "description") }
        guard name != BuiltinResources.defaultSubnetGroupName else {
            throw MemoryDBError(.subnetGroupAlreadyExists, "A subnet group named 'default' already exists.")
        }
        let subnets = try subnets(subnetIDs)
        try Tag.validate(tags)
        let now = configuration.clock.nowMilliseconds
        try store.write { transaction in
            guard try transaction.subnetGroup(named: name) == nil else {
                throw MemoryDBError(.subnetGroupAlreadyExists, "A subnet group named '\(name)' already exists.")
            }
            try transaction.insert(SubnetGroupRecord(name: name, description: description ?? "", subnets: subnets), createdAt: now)
            try TagService.attach(tags, to: configuration.arn(.subnetgroup, name), in: transaction)
            try transaction.record(EventRecord(sourceName: name, sourceType: .subnetGroup, message: "Subnet group created", createdAt: now))
        }
        return try view(named: name)
    }

    /// New description and/or subnets; clusters already placed keep their nodes' zones.
    public func update(name rawName: String, description: String?, subnetIDs: [String]?) throws -> SubnetGroupView {
        let name = rawName.lowercased()
        if let description { try TextRules.refuseControlCharacters(description, field: "description") }
        guard name != BuiltinResources.defaultSubnetGroupName else {
            throw MemoryDBError.invalid("The default subnet group can't be modified.")
        }
        guard try store.subnetGroup(named: name) != nil else {
            throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found.")
        }
        guard description != nil || subnetIDs != nil else {
            throw MemoryDBError(.invalidParameterCombination, "Nothing to change: give a Description or SubnetIds.")
        }
        let subnets = try subnetIDs.map { try self.subnets($0) }
        try store.write { transaction in
            // Read again inside the transaction: what is kept comes from the row being changed.
            guard let current = try transaction.subnetGroup(named: name) else {
                throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found.")
            }
            try transaction.update(
                SubnetGroupRecord(name: name, description: description ?? current.description, subnets: subnets ?? current.subnets),
                replaceSubnets: subnets != nil)
            try transaction.record(EventRecord(sourceName: name, sourceType: .subnetGroup, message: "Subnet group updated", createdAt: configuration.clock.nowMilliseconds))
        }
        return try view(named: name)
    }

    public func delete(_ rawName: String) throws -> SubnetGroupView {
        let name = rawName.lowercased()
        guard name != BuiltinResources.defaultSubnetGroupName else {
            throw MemoryDBError.invalid("The default subnet group can't be deleted.")
        }
        let deleted = try view(named: name)
        try UnusedResourceDeletion(
            exists: { try $0.subnetGroup(named: name) != nil }, notFound: MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found."),
            usedBy: .subnetGroup(name),
            inUse: { MemoryDBError(.subnetGroupInUse, "Subnet group '\(name)' is used by cluster(s) \($0.joined(separator: ", ")).") },
            delete: { try $0.deleteSubnetGroup(named: name) }, arn: configuration.arn(.subnetgroup, name),
            event: EventRecord(sourceName: name, sourceType: .subnetGroup, message: "Subnet group deleted", createdAt: configuration.clock.nowMilliseconds)
        ).run(in: store)
        return deleted
    }

    func subnets(_ identifiers: [String]) throws -> [BuiltinResources.Subnet] {
        guard !identifiers.isEmpty else { throw MemoryDBError.invalid("SubnetIds must name at least one subnet.") }
        guard identifiers.count <= Self.maxSubnets else {
            throw MemoryDBError(.subnetQuotaExceeded, "A subnet group may have at most \(Self.maxSubnets) subnets; got \(identifiers.count).")
        }
        var seen = Set<String>()
        return try identifiers.map { identifier in
            try BuiltinResources.validateSubnetIdentifier(identifier)
            guard seen.insert(identifier).inserted else { throw MemoryDBError(.invalidSubnet, "Subnet '\(identifier)' is given twice.") }
            return BuiltinResources.Subnet(
                identifier: identifier, availabilityZone: BuiltinResources.availabilityZone(ofSubnet: identifier, region: configuration.region))
        }
    }

    func defaultGroup() -> SubnetGroupView {
        SubnetGroupView(
            name: BuiltinResources.defaultSubnetGroupName, description: "Default subnet group: one local subnet per availability zone",
            vpcID: BuiltinResources.vpcID, subnets: BuiltinResources.defaultSubnets(region: configuration.region),
            arn: configuration.arn(.subnetgroup, BuiltinResources.defaultSubnetGroupName))
    }

    func view(_ record: SubnetGroupRecord) -> SubnetGroupView {
        SubnetGroupView(
            name: record.name, description: record.description, vpcID: BuiltinResources.vpcID, subnets: record.subnets,
            arn: configuration.arn(.subnetgroup, record.name))
    }

    func view(named name: String) throws -> SubnetGroupView {
        guard let record = try store.subnetGroup(named: name) else {
            throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found.")
        }
        return view(record)
    }
}

/// The operations' inputs as both doors read them through their member tables.
extension SubnetGroupService {
    public func create(_ request: CreateSubnetGroupRequest) throws -> SubnetGroupView {
        try create(name: request.name, description: request.description, subnetIDs: request.subnetIds, tags: request.tags)
    }

    public func update(name: String, _ request: UpdateSubnetGroupRequest) throws -> SubnetGroupView {
        try update(name: name, description: request.description, subnetIDs: request.subnetIds)
    }
}
