import GRDB
import Model

// Alarm thresholds and the alarms raised now.

/// An alarm in ALARM state: a node's metric past its threshold since `raisedAt`.
public struct AlarmRecord: Sendable, Equatable {
    public var clusterName: String
    public var nodeName: String
    public var metric: String
    public var value: Double
    public var threshold: Double
    public var raisedAt: Int64

    public init(clusterName: String, nodeName: String, metric: String, value: Double, threshold: Double, raisedAt: Int64) {
        self.clusterName = clusterName
        self.nodeName = nodeName
        self.metric = metric
        self.value = value
        self.threshold = threshold
        self.raisedAt = raisedAt
    }
}

extension Store {
    /// Thresholds a cluster set, by metric (the rest keep their defaults).
    public func alarmThresholds(of cluster: String) throws -> [String: Double] {
        try read { db in
            var thresholds: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT metric, threshold FROM alarm_thresholds WHERE cluster_name = ?", arguments: [cluster]) {
                thresholds[row["metric"]] = row["threshold"]
            }
            return thresholds
        }
    }

    public func alarms(of cluster: String?) throws -> [AlarmRecord] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM alarms WHERE ?1 IS NULL OR cluster_name = ?1 ORDER BY cluster_name, node_name, metric", arguments: [cluster]
            ).map { row in
                AlarmRecord(
                    clusterName: row["cluster_name"], nodeName: row["node_name"], metric: row["metric"], value: row["value"],
                    threshold: row["threshold"], raisedAt: row["raised_at"])
            }
        }
    }
}

extension Transaction {
    public func setAlarmThreshold(cluster: String, metric: String, threshold: Double?) throws {
        if let threshold {
            try db.execute(
                sql: """
                    INSERT INTO alarm_thresholds (cluster_name, metric, threshold) VALUES (?, ?, ?)
                    ON CONFLICT(cluster_name, metric) DO UPDATE SET threshold = excluded.threshold
                    """,
                arguments: [cluster, metric, threshold])
        } else {
            try db.execute(sql: "DELETE FROM alarm_thresholds WHERE cluster_name = ? AND metric = ?", arguments: [cluster, metric])
        }
    }

    public func raise(_ alarm: AlarmRecord) throws {
        try db.execute(
            sql: "INSERT OR REPLACE INTO alarms (cluster_name, node_name, metric, value, threshold, raised_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [alarm.clusterName, alarm.nodeName, alarm.metric, alarm.value, alarm.threshold, alarm.raisedAt])
    }

    public func clearAlarm(cluster: String, node: String, metric: String) throws {
        try db.execute(sql: "DELETE FROM alarms WHERE cluster_name = ? AND node_name = ? AND metric = ?", arguments: [cluster, node, metric])
    }
}
