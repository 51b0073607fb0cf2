import Ports
import Foundation
import Logging
import Model
import ServiceLifecycle
import Store
import Synchronization

/// A node's labels, as `/metrics` shows them.
public struct NodeLabels: Sendable, Equatable {
    public var cluster: String
    public var shard: String
    public var node: String
    public var role: String
    public var availabilityZone: String

    public init(cluster: String, shard: String, node: String, role: String, availabilityZone: String) {
        self.cluster = cluster
        self.shard = shard
        self.node = node
        self.role = role
        self.availabilityZone = availabilityZone
    }
}

/// A node's latest values, by CloudWatch name.
public struct NodeReading: Sendable, Equatable {
    public var labels: NodeLabels
    public var values: [String: Double]
    /// Seconds since 1970.
    public var takenAt: Double

    public init(labels: NodeLabels, values: [String: Double], takenAt: Double) {
        self.labels = labels
        self.values = values
        self.takenAt = takenAt
    }
}

/// One point of a cluster's short history: each node's values at one collection.
public struct MetricsPoint: Sendable, Equatable {
    public var takenAt: Double
    public var nodes: [String: [String: Double]]
}

/// Reads every node's metrics on a slow cadence, in the background, and keeps the latest values
/// and a short history in memory, so a scrape costs no node a command.
///
/// One `INFO all` per node per interval (10 s by default) is the whole cost on the nodes;
/// `COMMAND` (for the command-type metrics) is read once.
public final class MetricsCollector: Service, Sendable {
    /// Points kept per cluster: 10 minutes at the default interval.
    public static let historyLength = 60

    struct State {
        var readings: [String: NodeReading] = [:]
        var samples: [String: NodeSample] = [:]
        var history: [String: [MetricsPoint]] = [:]
        var categories: [String: Set<String>] = [:]
        /// When each replica was last seen online by its primary, for the lag of one that is gone.
        var replicaSeenAt: [String: Double] = [:]
        /// When each node was last seen running a dangerous command (KEYS, FLUSHALL, ...).
        var dangerousSeenAt: [String: [String: Double]] = [:]
        var lastPassSeconds: Double = 0
        var passes = 0
    }

    let store: Store
    let source: any MetricsSource
    public let interval: Duration
    let logger: Logger
    private let state = Mutex(State())
    /// Called after each pass with the fresh readings (alarms).
    let onPass: (@Sendable ([NodeReading]) async -> Void)?

    /// What readings are stamped with.
    let clock: any WallClock

    public init(
        store: Store, source: any MetricsSource, interval: Duration = .seconds(10), clock: any WallClock = SystemWallClock(), logger: Logger,
        onPass: (@Sendable ([NodeReading]) async -> Void)? = nil
    ) {
        self.store = store
        self.clock = clock
        self.source = source
        self.interval = interval
        self.logger = logger
        self.onPass = onPass
    }

    /// Collects every `interval` until the server shuts down; a shutdown cuts the wait short
    /// (the pass under way finishes: its readings are a few node round trips).
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.collect()
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// The latest reading of every node.
    public var readings: [NodeReading] {
        state.withLock { Array($0.readings.values) }.sorted { $0.labels.node < $1.labels.node }
    }

    /// How long the last pass took, and how many passes there were (for `/metrics`).
    public var passStatistics: (seconds: Double, passes: Int) {
        state.withLock { ($0.lastPassSeconds, $0.passes) }
    }

    /// Dangerous commands a node ran within the last `collections` collections.
    public func recentDangerousCommands(node: String, collections: Int = 3) -> Set<String> {
        let window = Double(interval.components.seconds) * Double(collections) + 1
        let now = Double(clock.nowMilliseconds) / 1000
        return Set(state.withLock { $0.dangerousSeenAt[node] ?? [:] }.filter { now - $0.value <= window }.keys)
    }

    public func history(ofCluster name: String) -> [MetricsPoint] {
        state.withLock { $0.history[name] ?? [] }
    }

    /// A replica's lag as its shard's primary reports it (seconds since its last acknowledgement),
    /// or the time since it was last seen online when the primary no longer lists it.
    static func replicationLag(
        of node: NodeRecord, targets: [(NodeRecord, ClusterRecord)], samples: [String: NodeSample], now: Double, seen: inout [String: Double]
    ) -> Double? {
        let primary = targets.first { candidate in
            candidate.0.clusterName == node.clusterName && candidate.0.shardIndex == node.shardIndex && samples[candidate.0.name]?.info["role"] == "master"
        }
        if let primary, let link = samples[primary.0.name]?.replicas[node.port], link.state == "online" {
            seen[node.name] = now - link.lagSeconds
            return link.lagSeconds
        }
        return seen[node.name].map { now - $0 }
    }

    /// Nodes sampled at once during a collection, and the pause before each next one.
    static let samplesInFlight = 2
    static let pace: Duration = .milliseconds(5)

    /// One pass over every node of every cluster that has running nodes.
    public func collect() async {
        let started = Date()
        let targets = self.targets()
        let samples = await sample(targets)
        if state.withLock({ $0.categories.isEmpty }), let (node, cluster) = targets.first(where: { samples[$0.0.name] != nil }) {
            if let categories = try? await source.commandCategories(NodeSpec.of(node, in: cluster)) {
                state.withLock { $0.categories = categories }
            }
        }
        let fresh = record(samples, of: targets, started: started)
        await onPass?(fresh)
    }

    /// Every running node of every cluster not being deleted, with its cluster.
    private func targets() -> [(NodeRecord, ClusterRecord)] {
        let clusters = (try? store.allClusters()) ?? []
        var targets: [(NodeRecord, ClusterRecord)] = []
        for cluster in clusters where cluster.status != .deleting {
            for node in (try? store.nodes(ofCluster: cluster.name)) ?? [] where node.pid != nil {
                targets.append((node, cluster))
            }
        }
        return targets
    }

    /// One sample of each target; a node that does not answer has none.
    private func sample(_ targets: [(NodeRecord, ClusterRecord)]) async -> [String: NodeSample] {
        let source = source
        // A few nodes at a time: the replies of every node at once would queue their parsing
        // ahead of API requests on the two cooperative threads, and a read's p99 would pay it.
        return await withTaskGroup(of: (String, NodeSample?).self) { group in
            var remaining = targets.makeIterator()
            var inFlight = 0
            while inFlight < Self.samplesInFlight, let (node, cluster) = remaining.next() {
                let spec = NodeSpec.of(node, in: cluster)
                group.addTask { (node.name, try? await source.sample(spec)) }
                inFlight += 1
            }
            var results: [String: NodeSample] = [:]
            while let (name, sample) = await group.next() {
                if let sample { results[name] = sample }
                if let (node, cluster) = remaining.next() {
                    // Paced: a collection is spread over about a second instead of a burst that
                    // every API request arriving meanwhile would wait behind.
                    try? await Task.sleep(for: Self.pace)
                    let spec = NodeSpec.of(node, in: cluster)
                    group.addTask { (node.name, try? await source.sample(spec)) }
                }
            }
            return results
        }
    }

    /// Derives each node's metrics from its sample and the previous one, keeps the readings and
    /// each cluster's history, and returns this pass's readings.
    private func record(_ samples: [String: NodeSample], of targets: [(NodeRecord, ClusterRecord)], started: Date) -> [NodeReading] {
        let free = source.hostAvailableMemory()
        let now = Double(clock.nowMilliseconds) / 1000
        return state.withLock { state -> [NodeReading] in
            var fresh: [NodeReading] = []
            var points: [String: MetricsPoint] = [:]
            for (node, cluster) in targets {
                guard let sample = samples[node.name] else { continue }
                let isPrimary = sample.info["role"] == "master"
                let lag = isPrimary ? nil : Self.replicationLag(of: node, targets: targets, samples: samples, now: now, seen: &state.replicaSeenAt)
                let context = NodeMetrics.Context(isPrimary: isPrimary, hostAvailableMemory: free, replicationLag: lag, categories: state.categories)
                let values = NodeMetrics.derive(sample, previous: state.samples[node.name], context: context)
                for command in Advisor.dangerousCommands {
                    let calls = sample.commandStats[command]?.calls ?? 0
                    let before = state.samples[node.name]?.commandStats[command]?.calls ?? 0
                    if calls > before || (state.samples[node.name] == nil && calls > 0) { state.dangerousSeenAt[node.name, default: [:]][command] = now }
                }
                let labels = NodeLabels(
                    cluster: cluster.name, shard: ClusterTopology.shardName(node.shardIndex), node: node.name, role: isPrimary ? "primary" : "replica",
                    availabilityZone: node.availabilityZone)
                let reading = NodeReading(labels: labels, values: values, takenAt: sample.takenAt)
                state.samples[node.name] = sample
                state.readings[node.name] = reading
                fresh.append(reading)
                points[cluster.name, default: MetricsPoint(takenAt: now, nodes: [:])].nodes[node.name] = values
            }
            // A replica that does not answer (stopped, hung) keeps its last values, but its lag
            // goes on growing as its primary sees it.
            for (node, _) in targets where samples[node.name] == nil && state.readings[node.name]?.labels.role == "replica" {
                let lag = Self.replicationLag(of: node, targets: targets, samples: samples, now: now, seen: &state.replicaSeenAt)
                state.readings[node.name]?.values["ReplicationLag"] = lag
            }
            let live = Set(targets.map(\.0.name))
            state.readings = state.readings.filter { live.contains($0.key) }
            state.samples = state.samples.filter { live.contains($0.key) }
            for (cluster, point) in points {
                var history = state.history[cluster] ?? []
                history.append(point)
                if history.count > Self.historyLength { history.removeFirst(history.count - Self.historyLength) }
                state.history[cluster] = history
            }
            let clusterNames = Set(targets.map(\.1.name))
            state.history = state.history.filter { clusterNames.contains($0.key) }
            state.lastPassSeconds = Date().timeIntervalSince(started)
            state.passes += 1
            return fresh
        }
    }
}
