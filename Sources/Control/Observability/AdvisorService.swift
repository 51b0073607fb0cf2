import Ports
import Foundation
import Model
import Store

/// Gathers what the advisor judges: the stored cluster, its ACL's users, its parameter group,
/// its snapshots, the collected metrics, and a sample of key sizes from each primary.
public struct AdvisorService: Sendable {
    let store: Store
    let clusters: ClusterService
    let parameterGroups: ParameterGroupService
    let collector: MetricsCollector?
    let source: (any MetricsSource)?

    /// How old the newest verified restore is, judged by.
    let clock: any WallClock
    /// Prices and reservations, for the findings that count money; nil: none do.
    let reservedNodes: ReservedNodeService?

    public init(
        store: Store, clusters: ClusterService, parameterGroups: ParameterGroupService, collector: MetricsCollector?, source: (any MetricsSource)?,
        clock: any WallClock = SystemWallClock(), reservedNodes: ReservedNodeService? = nil
    ) {
        self.reservedNodes = reservedNodes
        self.clock = clock
        self.store = store
        self.clusters = clusters
        self.parameterGroups = parameterGroups
        self.collector = collector
        self.source = source
    }

    /// Keys sampled per primary for the big-key check.
    public static let keySamples = 16

    /// Findings for one cluster, or every cluster.
    public func findings(cluster: String?) async throws -> [Finding] {
        let names: [String]
        if let cluster {
            names = [try clusters.describeCluster(cluster).name]
        } else {
            names = try store.allClusters().filter { $0.status != .deleting }.map(\.name).sorted()
        }
        var all: [Finding] = []
        for name in names {
            guard let facts = try await facts(name) else { continue }
            all += Advisor.findings(facts)
        }
        return all
    }

    func facts(_ name: String) async throws -> ClusterFacts? {
        guard let view = try? clusters.describeCluster(name), let record = try store.cluster(named: name) else { return nil }
        var facts = ClusterFacts(
            name: name, nodeType: view.nodeType, tlsEnabled: view.tlsEnabled, aclName: view.aclName, snapshotRetentionLimit: view.snapshotRetentionLimit,
            tags: view.tags,
            shards: view.shards.map { shard in
                ClusterFacts.Shard(
                    name: shard.name, nodes: shard.nodes.map { ClusterFacts.Node(name: $0.name, zone: $0.availabilityZone, role: $0.role.rawValue) })
            })
        facts.now = clock.nowMilliseconds
        try price(&facts, record: record)
        if let acl = try store.acl(named: view.aclName) {
            facts.defaultUserInACL = acl.users.contains(BuiltinResources.defaultUserName)
            for user in acl.users {
                if let stored = try store.user(named: user) { facts.users[user] = stored.accessString }
            }
        }
        facts.maxmemoryPolicy = (try? parameterGroups.target(forGroup: view.parameterGroupName).values["maxmemory-policy"]) ?? "noeviction"
        let snapshots = try store.snapshots(cluster: name, source: nil, after: nil, limit: 1000)
        facts.hasSnapshots = !snapshots.isEmpty
        facts.lastVerifiedAt = snapshots.compactMap { details -> Int64? in
            guard let text = details.snapshot.verification,
                let verification = try? JSONDecoder().decode(SnapshotVerification.self, from: Data(text.utf8)), verification.status == "verified"
            else { return nil }
            return verification.verifiedAt
        }.max()
        if let collector {
            for reading in collector.readings where reading.labels.cluster == name {
                facts.values[reading.labels.node] = reading.values
                facts.recentDangerousCommands[reading.labels.node] = collector.recentDangerousCommands(node: reading.labels.node)
            }
            for point in collector.history(ofCluster: name) {
                for (node, values) in point.nodes {
                    if let usage = values["DatabaseMemoryUsagePercentage"] { facts.memoryHistory[node, default: []].append(usage) }
                }
            }
        }
        if let source {
            let nodes = try store.nodes(ofCluster: name).filter { $0.pid != nil && $0.role == .primary }
            for node in nodes {
                let spec = NodeSpec.of(node, in: record)
                let sizes = (try? await source.sampleKeySizes(spec, count: Self.keySamples)) ?? []
                let big = sizes.filter { $0.bytes >= Advisor.bigKeyBytes }
                if !big.isEmpty { facts.bigKeys[node.name] = big }
            }
        }
        return facts
    }

    /// The cluster's rates from the price list, and its nodes no active reservation covers.
    func price(_ facts: inout ClusterFacts, record: ClusterRecord) throws {
        guard let reservedNodes else { return }
        let prices = reservedNodes.priceList
        let region = reservedNodes.configuration.region
        facts.hourly = prices.hourly(facts.nodeType, region: region)
        facts.reservedHourly = prices.offerings.filter { $0.region == region && $0.nodeType == facts.nodeType && $0.duration == 31_536_000 }
            .map(\.effectiveHourly).min()
        let family = facts.nodeType.split(separator: ".").dropLast().joined(separator: ".")
        let current = NodeType.catalog[facts.nodeType]?.memoryBytes ?? 0
        facts.smaller = NodeType.catalog.values.filter { $0.name.hasPrefix(family + ".") && $0.memoryBytes < current }
            .max { $0.memoryBytes < $1.memoryBytes }
            .flatMap { type in prices.hourly(type.name, region: region).map { (type.name, $0) } }
        // Reservations cover the type's nodes cluster by cluster, in name order.
        var left = try reservedNodes.activeReservedNodes()[facts.nodeType] ?? 0
        for cluster in try store.allClusters().filter({ $0.nodeType == facts.nodeType && $0.status != .deleting && $0.status != .stopped })
            .sorted(by: { $0.name < $1.name })
        {
            let nodes = cluster.numShards * (1 + cluster.numReplicasPerShard)
            let covered = min(left, nodes)
            left -= covered
            if cluster.name == record.name { facts.unreservedNodes = nodes - covered }
        }
    }
}
