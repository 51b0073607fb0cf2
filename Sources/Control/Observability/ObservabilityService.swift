import Ports
import Foundation
import Model
import Store

/// What the nodes of a cluster say about themselves, on demand: the merged slow log.
public struct ObservabilityService: Sendable {
    let store: Store
    let source: any MetricsSource

    public init(store: Store, source: any MetricsSource) {
        self.store = store
        self.source = source
    }

    public struct SlowlogItem: Sendable {
        public var node, shard, role: String
        public var entry: SlowlogEntry
    }

    /// SLOWLOG GET from every running node, merged newest first (ties by node, then id).
    public func slowlog(cluster rawName: String, count: Int) async throws -> (entries: [SlowlogItem], unreachable: [String]) {
        guard (1...1024).contains(count) else { throw MemoryDBError.invalid("maxResults must be between 1 and 1024; got \(count).") }
        let name = rawName.lowercased()
        guard let cluster = try store.cluster(named: name) else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        let nodes = try store.nodes(ofCluster: name).filter { $0.status != .deleting }
        let source = source
        let results = await withTaskGroup(of: (NodeRecord, [SlowlogEntry]?).self) { group in
            for node in nodes {
                let spec = NodeSpec.of(node, in: cluster)
                group.addTask { (node, try? await source.slowlog(spec, count: count)) }
            }
            var results: [(NodeRecord, [SlowlogEntry]?)] = []
            for await result in group { results.append(result) }
            return results
        }
        var items: [SlowlogItem] = []
        var unreachable: [String] = []
        for (node, entries) in results {
            guard let entries else {
                unreachable.append(node.name)
                continue
            }
            items += entries.map {
                SlowlogItem(node: node.name, shard: ClusterTopology.shardName(node.shardIndex), role: node.role.rawValue, entry: $0)
            }
        }
        items.sort { a, b in
            if a.entry.timestamp != b.entry.timestamp { return a.entry.timestamp > b.entry.timestamp }
            if a.node != b.node { return a.node < b.node }
            return a.entry.id > b.entry.id
        }
        return (Array(items.prefix(count)), unreachable.sorted())
    }
}
