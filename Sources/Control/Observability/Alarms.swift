import Foundation
import Synchronization
import Logging
import Model
import Store
import Ports

/// The alarm rules: which metric, which comparison, and the default threshold (from the MemoryDB
/// operations guide).
public struct AlarmRule: Sendable, Equatable {
    public enum Comparison: String, Sendable {
        /// The value is above the threshold.
        case greaterThan
        /// The counter grew by more than the threshold since the previous collection.
        case increasedBy
    }

    public var metric: String
    public var comparison: Comparison
    public var defaultThreshold: Double
    public var unit: String

    public static let all: [AlarmRule] = [
        AlarmRule(metric: "DatabaseMemoryUsagePercentage", comparison: .greaterThan, defaultThreshold: 80, unit: "%"),
        AlarmRule(metric: "ReplicationLag", comparison: .greaterThan, defaultThreshold: 1, unit: "s"),
        AlarmRule(metric: "EngineCPUUtilization", comparison: .greaterThan, defaultThreshold: 90, unit: "%"),
        AlarmRule(metric: "CPUUtilization", comparison: .greaterThan, defaultThreshold: 90, unit: "%"),
        AlarmRule(metric: "Evictions", comparison: .increasedBy, defaultThreshold: 0, unit: " keys"),
    ]

    public static func named(_ metric: String) -> AlarmRule? { all.first { $0.metric == metric } }
}

/// What one collection changes: alarms to raise and alarms to clear. Pure.
public enum AlarmEvaluation {
    public struct Change: Sendable, Equatable {
        public var cluster, node, metric: String
        public var value, threshold: Double
        public var raise: Bool

        public init(cluster: String, node: String, metric: String, value: Double, threshold: Double, raise: Bool) {
            self.cluster = cluster
            self.node = node
            self.metric = metric
            self.value = value
            self.threshold = threshold
            self.raise = raise
        }
    }

    /// - Parameters:
    ///   - previous: each node's values at the collection before (for counters that rise).
    ///   - active: alarms in ALARM now, as "cluster/node/metric".
    public static func evaluate(
        _ readings: [NodeReading], previous: [String: [String: Double]], thresholds: [String: [String: Double]], active: Set<String>
    ) -> [Change] {
        var changes: [Change] = []
        for reading in readings {
            let cluster = reading.labels.cluster, node = reading.labels.node
            for rule in AlarmRule.all {
                let threshold = thresholds[cluster]?[rule.metric] ?? rule.defaultThreshold
                guard let current = reading.values[rule.metric] else { continue }
                let value: Double
                switch rule.comparison {
                case .greaterThan: value = current
                case .increasedBy:
                    guard let before = previous[node]?[rule.metric] else { continue }
                    value = max(0, current - before)
                }
                let breaching = value > threshold
                let key = "\(cluster)/\(node)/\(rule.metric)"
                if breaching != active.contains(key) {
                    changes.append(Change(cluster: cluster, node: node, metric: rule.metric, value: value, threshold: threshold, raise: breaching))
                }
            }
        }
        return changes
    }
}

/// Raises and clears alarms after each metrics collection, each change an event of its cluster
/// (DescribeEvents shows them), and lets a cluster set its own thresholds.
public final class AlarmService: Sendable {
    let store: Store
    let logger: Logger
    private let previous = Mutex<[String: [String: Double]]>([:])

    /// What alarm events are stamped with.
    let clock: any WallClock

    public init(store: Store, clock: any WallClock = SystemWallClock(), logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    /// Called with every collection's readings.
    public func evaluate(_ readings: [NodeReading]) {
        let clusters = Set(readings.map(\.labels.cluster))
        var thresholds: [String: [String: Double]] = [:]
        for cluster in clusters { thresholds[cluster] = (try? store.alarmThresholds(of: cluster)) ?? [:] }
        let active = Set(((try? store.alarms(of: nil)) ?? []).map { "\($0.clusterName)/\($0.nodeName)/\($0.metric)" })
        let before = previous.withLock { $0 }
        let changes = AlarmEvaluation.evaluate(readings, previous: before, thresholds: thresholds, active: active)
        previous.withLock { state in
            for reading in readings { state[reading.labels.node] = reading.values }
        }
        let now = clock.nowMilliseconds
        for change in changes {
            let unit = AlarmRule.named(change.metric)?.unit ?? ""
            let comparison = AlarmRule.named(change.metric)?.comparison == .increasedBy ? "rose by" : "is"
            let message = change.raise
                ? "Alarm \(change.metric) on node \(change.node): \(comparison) \(Self.format(change.value))\(unit), above \(Self.format(change.threshold))\(unit)"
                : "Alarm \(change.metric) on node \(change.node) cleared: \(Self.format(change.value))\(unit), at most \(Self.format(change.threshold))\(unit)"
            do {
                try store.write { transaction in
                    guard try transaction.cluster(named: change.cluster) != nil else { return }
                    if change.raise {
                        try transaction.raise(
                            AlarmRecord(
                                clusterName: change.cluster, nodeName: change.node, metric: change.metric, value: change.value,
                                threshold: change.threshold, raisedAt: now))
                    } else {
                        try transaction.clearAlarm(cluster: change.cluster, node: change.node, metric: change.metric)
                    }
                    try transaction.record(EventRecord(sourceName: change.cluster, sourceType: .cluster, message: message, createdAt: now))
                }
                logger.notice("\(message)", metadata: ["cluster.name": "\(change.cluster)"])
            } catch {
                logger.error("alarm could not be recorded", metadata: ["cluster.name": "\(change.cluster)", "error": "\(error)"])
            }
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(format: "%.2f", value)
    }

    /// A cluster's own thresholds (nil resets a metric to its default).
    public func setThresholds(cluster rawName: String, _ thresholds: [String: Double?]) throws {
        let name = rawName.lowercased()
        for (metric, value) in thresholds {
            guard AlarmRule.named(metric) != nil else {
                throw MemoryDBError.invalid("No alarm on '\(metric)'; alarms: \(AlarmRule.all.map(\.metric).joined(separator: ", ")).")
            }
            if let value, !(value.isFinite && value >= 0) {
                throw MemoryDBError.invalid("The threshold of \(metric) must be a number of at least 0; got \(value).")
            }
        }
        try store.write { transaction in
            guard try transaction.cluster(named: name) != nil else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
            for (metric, value) in thresholds { try transaction.setAlarmThreshold(cluster: name, metric: metric, threshold: value) }
        }
    }

    public struct ClusterAlarms: Sendable {
        public struct Threshold: Sendable {
            public var metric, comparison, unit: String
            public var threshold: Double
            public var isDefault: Bool
        }
        public var thresholds: [Threshold]
        public var alarms: [AlarmRecord]
    }

    public func alarms(cluster rawName: String) throws -> ClusterAlarms {
        let name = rawName.lowercased()
        guard try store.cluster(named: name) != nil else { throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.") }
        let own = try store.alarmThresholds(of: name)
        return ClusterAlarms(
            thresholds: AlarmRule.all.map { rule in
                ClusterAlarms.Threshold(
                    metric: rule.metric, comparison: rule.comparison.rawValue, unit: rule.unit.trimmingCharacters(in: .whitespaces),
                    threshold: own[rule.metric] ?? rule.defaultThreshold, isDefault: own[rule.metric] == nil)
            },
            alarms: try store.alarms(of: name))
    }
}
