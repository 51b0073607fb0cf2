/// A MemoryDB node type and the memory it provides, which becomes each node's `maxmemory`.
public struct NodeType: Sendable, Hashable {
    public let name: String
    /// Memory per node in bytes, from the figures AWS publishes.
    public let memoryBytes: Int64
    /// `db.r6gd.*` types need data tiering, which MemoryPlane does not offer.
    public let requiresDataTiering: Bool

    public init(name: String, gibibytes: Double, requiresDataTiering: Bool = false) {
        self.name = name
        self.memoryBytes = Int64(gibibytes * 1024 * 1024 * 1024)
        self.requiresDataTiering = requiresDataTiering
    }

    /// Every node type MemoryDB offers, by name.
    public static let catalog: [String: NodeType] = {
        var types: [NodeType] = [
            NodeType(name: "db.t4g.small", gibibytes: 1.37),
            NodeType(name: "db.t4g.medium", gibibytes: 3.09),
        ]
        let sizes: [(String, Double)] = [
            ("large", 13.07), ("xlarge", 26.32), ("2xlarge", 52.82), ("4xlarge", 105.81),
            ("8xlarge", 209.55), ("12xlarge", 317.77), ("16xlarge", 419.09),
        ]
        for family in ["db.r6g", "db.r7g"] {
            types += sizes.map { NodeType(name: "\(family).\($0.0)", gibibytes: $0.1) }
        }
        types += sizes.filter { $0.0 != "large" && $0.0 != "12xlarge" && $0.0 != "16xlarge" }
            .map { NodeType(name: "db.r6gd.\($0.0)", gibibytes: $0.1, requiresDataTiering: true) }
        return Dictionary(uniqueKeysWithValues: types.map { ($0.name, $0) })
    }()

    /// Looks a node type up, with an error that lists a few valid names.
    public static func named(_ name: String) throws(MemoryDBError) -> NodeType {
        guard let type = catalog[name] else {
            throw .invalid(
                "nodeType '\(name)' is not a MemoryDB node type; use one of db.t4g.small, db.t4g.medium, db.r6g.large, db.r7g.large, ..."
            )
        }
        return type
    }
}
