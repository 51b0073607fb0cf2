import Model
import Store
import Ports

/// What a drill takes away: a whole availability zone, one node, or one shard's primary.
public enum DrillTarget: Sendable, Equatable {
    case availabilityZone(String)
    case node(String)
    case shardPrimary(String)

    /// Exactly one of the three, as a drill request gives them.
    public init(availabilityZone: String?, node: String?, shard: String?) throws {
        let targets = [availabilityZone.map(Self.availabilityZone), node.map(Self.node), shard.map(Self.shardPrimary)].compactMap { $0 }
        guard targets.count == 1, let target = targets.first else {
            throw MemoryDBError(
                .invalidParameterCombination, "Give exactly one of availabilityZone, node or shard (whose primary the drill takes); got \(targets.count).")
        }
        self = target
    }
}

/// A drill as the REST door presents it.
public struct DrillView: Sendable, Equatable {
    public var id: String
    public var cluster: String
    public var target: String
    public var nodes: [String]
    public var status: String
    /// Milliseconds since 1970.
    public var startedAt: Int64
    public var endsAt: Int64
    public var completedAt: Int64?
    public var outcome: String?

    init(_ record: DrillRecord) {
        id = record.id
        cluster = record.clusterName
        target = record.target
        nodes = record.nodeNames
        status = record.status.rawValue
        startedAt = record.startedAt
        endsAt = record.endsAt
        completedAt = record.completedAt
        outcome = record.outcome
    }
}

/// Availability-zone outage drills: stop nodes on purpose, as if their zone vanished with its
/// storage, and bring them back as replicas that resync once the drill's time is up. The
/// reconciler does the work (kill, fail over, hold, discard, restart); this records the intent.
public struct DrillService: Sendable {
    let store: Store
    let trigger: any ReconcileTrigger

    public static let durations = 1...3600

    /// When drills begin and end.
    let clock: any WallClock

    public init(store: Store, trigger: any ReconcileTrigger, clock: any WallClock = SystemWallClock()) {
        self.clock = clock
        self.store = store
        self.trigger = trigger
    }

    /// Starts a drill. Refused while the cluster is not `available`, runs an operation or another
    /// drill, and when it would take every node of a shard (that would lose the shard's data,
    /// not rehearse a failover).
    public func start(cluster rawName: String, target: DrillTarget, durationSeconds: Int) throws -> DrillView {
        let name = rawName.lowercased()
        guard Self.durations.contains(durationSeconds) else {
            throw MemoryDBError.invalid("durationSeconds must be between \(Self.durations.lowerBound) and \(Self.durations.upperBound); got \(durationSeconds).")
        }
        let record = try store.write { transaction -> DrillRecord in
            guard let cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            try ClusterService.requireAvailable(cluster)
            if let running = try transaction.operations(ofCluster: name).first {
                throw MemoryDBError(
                    .invalidClusterState, "Cluster '\(name)' has an operation in progress (\(running.kind.rawValue) of shard \(ClusterTopology.shardName(running.shardIndex))).")
            }
            for status in [DrillRecord.Status.running, .recovering] {
                if let drill = try transaction.drills(ofCluster: name, status: status).first {
                    throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is already in drill \(drill.id) (\(drill.status.rawValue)).")
                }
            }
            let nodes = try transaction.nodes(ofCluster: name)
            let shards = try transaction.shards(ofCluster: name)
            let (description, chosen) = try Self.select(target, nodes: nodes, shards: shards, cluster: name)
            for shard in shards {
                let members = nodes.filter { $0.shardIndex == shard.shardIndex }
                if members.allSatisfy({ chosen.contains($0.name) }) {
                    throw MemoryDBError(
                        .invalidParameterCombination,
                        "The drill would take every node of shard \(ClusterTopology.shardName(shard.shardIndex)) and lose its data; a drill must leave each shard a node (add replicas, or choose one node).")
                }
            }
            let now = clock.nowMilliseconds
            let drill = DrillRecord(
                id: "drill-" + String(UInt32.random(in: 0...UInt32.max), radix: 16), clusterName: name, target: description,
                nodes: chosen.sorted(), startedAt: now, endsAt: now + Int64(durationSeconds) * 1000)
            try transaction.insert(drill)
            try transaction.hold(nodes: drill.nodeNames, until: drill.endsAt, storageLost: true)
            try transaction.record(
                EventRecord(
                    sourceName: name, sourceType: .cluster,
                    message: "Drill \(drill.id) started: \(description) lost with its storage for \(durationSeconds) s (nodes \(drill.nodeNames.joined(separator: ", ")))",
                    createdAt: now))
            return drill
        }
        trigger.wake(cluster: name)
        return DrillView(record)
    }

    static func select(_ target: DrillTarget, nodes: [NodeRecord], shards: [ShardRecord], cluster: String) throws -> (String, Set<String>) {
        switch target {
        case .availabilityZone(let zone):
            let chosen = Set(nodes.filter { $0.availabilityZone == zone }.map(\.name))
            guard !chosen.isEmpty else {
                let zones = Set(nodes.map(\.availabilityZone)).sorted().joined(separator: ", ")
                throw MemoryDBError.invalid("No node of cluster '\(cluster)' is in availability zone '\(zone)'; its zones are \(zones).")
            }
            return ("availability zone \(zone)", chosen)
        case .node(let name):
            guard nodes.contains(where: { $0.name == name }) else {
                throw MemoryDBError.invalid("Cluster '\(cluster)' has no node '\(name)'.")
            }
            return ("node \(name)", [name])
        case .shardPrimary(let shardName):
            guard let index = Int(shardName), let shard = shards.first(where: { ClusterTopology.shardName($0.shardIndex) == shardName && $0.shardIndex == index }) else {
                throw MemoryDBError(.shardNotFound, "Shard '\(shardName)' not found in cluster '\(cluster)'.")
            }
            return ("the primary of shard \(shardName) (\(shard.primaryNode))", [shard.primaryNode])
        }
    }

    public func describe(_ id: String) throws -> DrillView {
        guard let record = try store.drill(id: id) else {
            throw MemoryDBError(.drillNotFound, "Drill '\(id)' not found.")
        }
        return DrillView(record)
    }

    public func list(cluster: String?) throws -> [DrillView] {
        try store.drills(ofCluster: cluster?.lowercased()).map(DrillView.init)
    }
}
