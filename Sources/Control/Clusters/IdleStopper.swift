import Foundation
import Logging
import Model
import Ports
import ServiceLifecycle
import Store
import Synchronization

/// Stops clusters that opt in (tag `memoryplane:stop-when-idle` = `true`) once their nodes have
/// processed no read or write command for `idleFor` (`serve --stop-idle-after`), keeping their
/// data as `POST /v1/clusters/{name}/stop` does. Activity is the nodes' @read and @write command
/// counters (GetTypeCmds + SetTypeCmds) as the metrics collector reads them, so the control
/// plane's own INFO, PING and CLUSTER calls never count as use.
public final class IdleStopper: Service, Sendable {
    public static let optInTag = Tag(key: "memoryplane:stop-when-idle", value: "true")

    /// A cluster's command total when it last moved, and since when (milliseconds).
    public struct Activity: Sendable, Equatable {
        public var total: Double
        public var since: Int64

        public init(total: Double, since: Int64) {
            self.total = total
            self.since = since
        }
    }

    let collector: MetricsCollector
    let clusters: ClusterService
    let store: Store
    let configuration: ControlConfiguration
    let idleFor: Duration
    let logger: Logger
    private let activity = Mutex<[String: Activity]>([:])

    public init(
        collector: MetricsCollector, clusters: ClusterService, store: Store, configuration: ControlConfiguration, idleFor: Duration, logger: Logger
    ) {
        self.collector = collector
        self.clusters = clusters
        self.store = store
        self.configuration = configuration
        self.idleFor = idleFor
        self.logger = logger
    }

    /// Which clusters have been idle long enough, and the activity to keep. Pure: a cluster's
    /// clock starts when it is first seen, and again whenever its total moves.
    public static func decide(
        totals: [String: Double], previous: [String: Activity], now: Int64, idleFor: Duration
    ) -> (activity: [String: Activity], idle: [String]) {
        var next: [String: Activity] = [:]
        var idle: [String] = []
        for (cluster, total) in totals {
            let seen = previous[cluster].flatMap { $0.total == total ? $0 : nil } ?? Activity(total: total, since: now)
            next[cluster] = seen
            if now - seen.since >= idleFor.milliseconds { idle.append(cluster) }
        }
        return (next, idle.sorted())
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try self.pass()
                } catch {
                    self.logger.error("idle check failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.collector.interval)
            }
        }
    }

    /// One look: stops the opted-in, available clusters idle for `idleFor`; returns their names.
    @discardableResult
    public func pass() throws -> [String] {
        var totals: [String: Double] = [:]
        for reading in collector.readings {
            totals[reading.labels.cluster, default: 0] += (reading.values["GetTypeCmds"] ?? 0) + (reading.values["SetTypeCmds"] ?? 0)
        }
        var optedIn: Set<String> = []
        for cluster in try store.allClusters() where cluster.status == .available {
            let tags = try store.tags(of: configuration.arn(.cluster, cluster.name))
            if tags.contains(where: { $0.key == Self.optInTag.key && $0.value == Self.optInTag.value }) { optedIn.insert(cluster.name) }
        }
        let now = configuration.clock.nowMilliseconds
        let watched = totals.filter { optedIn.contains($0.key) }
        let idle = activity.withLock { current in
            let decision = Self.decide(totals: watched, previous: current, now: now, idleFor: idleFor)
            current = decision.activity
            return decision.idle
        }
        for name in idle {
            try store.write { transaction in
                try transaction.record(
                    EventRecord(
                        sourceName: name, sourceType: .cluster,
                        message: "Cluster idle for \(idleFor.milliseconds / 1000) s (no read or write command on any node): stopping it, data kept (--stop-idle-after; tag \(Self.optInTag.key))",
                        createdAt: now))
            }
            _ = try clusters.stopCluster(name)
            activity.withLock { _ = $0.removeValue(forKey: name) }
        }
        return idle
    }
}
