import Model
import Store

/// Tags on any MemoryDB resource, addressed by ARN.
public struct TagService: Sendable {
    public static let maxTagsPerResource = 200

    private let store: Store
    private let configuration: ControlConfiguration

    public init(store: Store, configuration: ControlConfiguration) {
        self.store = store
        self.configuration = configuration
    }

    public func listTags(_ arn: String) throws -> [Tag] {
        try store.tags(of: resolve(arn)).map { Tag(key: $0.key, value: $0.value) }
    }

    public func tagResource(_ arn: String, tags: [Tag]) throws -> [Tag] {
        let canonical = try resolve(arn)
        guard !tags.isEmpty else { throw MemoryDBError.invalid("Tags must contain at least one tag.") }
        try Tag.validate(tags)
        let records = tags.map { TagRecord(resourceArn: canonical, key: $0.key, value: $0.value) }
        return try store.addTags(records, to: canonical, limit: Self.maxTagsPerResource).map { Tag(key: $0.key, value: $0.value) }
    }

    /// Stores the tags given when a resource is created; the caller checked them (Tag.validate)
    /// before creating anything, so a bad tag never leaves a resource half made.
    func attach(_ tags: [Tag], to arn: String) throws {
        guard !tags.isEmpty else { return }
        _ = try store.addTags(
            tags.map { TagRecord(resourceArn: arn, key: $0.key, value: $0.value) }, to: arn, limit: Self.maxTagsPerResource)
    }

    public func untagResource(_ arn: String, keys: [String]) throws -> [Tag] {
        let canonical = try resolve(arn)
        guard !keys.isEmpty else { throw MemoryDBError.invalid("TagKeys must contain at least one key.") }
        return try store.removeTags(keys, from: canonical).map { Tag(key: $0.key, value: $0.value) }
    }

    /// Checks that the ARN names an existing resource of this server and returns its canonical form.
    func resolve(_ text: String) throws -> String {
        let arn = try ResourceARN(parsing: text)
        guard arn.region == configuration.region, arn.account == configuration.accountID else {
            throw MemoryDBError(
                .invalidARN, "'\(text)' belongs to \(arn.region)/\(arn.account); this server is \(configuration.region)/\(configuration.accountID).")
        }
        let name = arn.name
        switch arn.type {
        case .cluster:
            guard try store.cluster(named: name) != nil else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        case .user:
            let custom = try store.user(named: name)
            guard name == BuiltinResources.defaultUserName || custom != nil else { throw MemoryDBError(.userNotFound, "User '\(name)' not found.") }
        case .acl:
            let custom = try store.acls().contains { $0.name == name }
            guard name == BuiltinResources.openAccessACLName || custom else { throw MemoryDBError(.aclNotFound, "ACL '\(name)' not found.") }
        case .subnetgroup:
            let custom = try store.subnetGroup(named: name)
            guard name == BuiltinResources.defaultSubnetGroupName || custom != nil else {
                throw MemoryDBError(.subnetGroupNotFound, "Subnet group '\(name)' not found.")
            }
        case .parametergroup:
            let custom = try store.parameterGroup(named: name)
            guard ParameterCatalog.defaultGroup(named: name) != nil || custom != nil else {
                throw MemoryDBError(.parameterGroupNotFound, "Parameter group '\(name)' not found.")
            }
        case .snapshot:
            throw MemoryDBError(.snapshotNotFound, "Snapshot '\(name)' not found.")
        }
        return arn.description
    }
}
