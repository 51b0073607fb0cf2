import Model
import Store
import Ports

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
        return try store.write { transaction in
            try Self.attach(tags, to: canonical, in: transaction)
            return try transaction.tags(of: canonical).map { Tag(key: $0.key, value: $0.value) }
        }
    }

    /// Adds tags to a resource inside the transaction that changes (or creates) it, refusing to
    /// go over the quota; the caller checked them with `Tag.validate` first.
    static func attach(_ tags: [Tag], to arn: String, in transaction: Transaction) throws {
        guard !tags.isEmpty else { return }
        try transaction.save(tags.map { TagRecord(resourceArn: arn, key: $0.key, value: $0.value) })
        let count = try transaction.tagCount(of: arn)
        guard count <= maxTagsPerResource else {
            throw MemoryDBError(.tagQuotaPerResourceExceeded, "A resource may have at most \(maxTagsPerResource) tags; this would make \(count).")
        }
    }

    public func untagResource(_ arn: String, keys: [String]) throws -> [Tag] {
        let canonical = try resolve(arn)
        guard !keys.isEmpty else { throw MemoryDBError.invalid("TagKeys must contain at least one key.") }
        return try store.write { transaction in
            for key in keys where try !transaction.removeTag(key, of: canonical) {
                throw MemoryDBError(.tagNotFound, "The resource has no tag with key '\(key)'.")
            }
            return try transaction.tags(of: canonical).map { Tag(key: $0.key, value: $0.value) }
        }
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
            let custom = try store.acl(named: name) != nil
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
            guard try store.snapshot(named: name) != nil else { throw MemoryDBError(.snapshotNotFound, "Snapshot '\(name)' not found.") }
        case .reservednode:
            guard try store.reservedNode(id: name) != nil else { throw MemoryDBError(.reservedNodeNotFound, "Reserved node '\(name)' not found.") }
        }
        return arn.description
    }
}
