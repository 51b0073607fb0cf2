import Ports
import Foundation
import Logging
import Model
import ServiceLifecycle
import Store
import Synchronization

/// Which automatic snapshots are due and which have expired. Pure: the clock is an argument.
public enum SnapshotSchedule {
    public struct Decision: Sendable, Equatable {
        /// Clusters to snapshot now, with the automated snapshot's name.
        public var take: [Due] = []
        /// Automated snapshots past their cluster's retention limit.
        public var expire: [String] = []
    }

    public struct Due: Sendable, Equatable {
        public var cluster: String
        public var snapshot: String

        public init(cluster: String, snapshot: String) {
            self.cluster = cluster
            self.snapshot = snapshot
        }
    }

    static let day: Int64 = 86_400_000

    /// A cluster with a retention limit gets one automated snapshot a day, inside its snapshot
    /// window (UTC), when it is `available` and has none from the last 20 hours. Automated
    /// snapshots older than their cluster's limit go (all of them when the cluster is gone or
    /// its limit is 0); manual snapshots are never deleted here.
    public static func decide(clusters: [ClusterRecord], snapshots: [SnapshotRecord], now: Int64) -> Decision {
        var decision = Decision()
        let minuteOfDay = Int((now / 60_000) % 1440)
        let byName = Dictionary(uniqueKeysWithValues: clusters.map { ($0.name, $0) })
        for cluster in clusters where cluster.snapshotRetentionLimit > 0 && cluster.status == .available {
            guard Windows.contains(snapshotWindow: cluster.snapshotWindow, minuteOfDay: minuteOfDay) else { continue }
            let recent = snapshots.contains { $0.clusterName == cluster.name && $0.source == "automated" && $0.createdAt > now - 20 * 3_600_000 }
            guard !recent else { continue }
            let date = Date(timeIntervalSince1970: Double(now) / 1000)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
            let name = SnapshotNames.automated(
                cluster: cluster.name, year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0,
                minute: parts.minute ?? 0)
            guard !snapshots.contains(where: { $0.name == name }) else { continue }
            decision.take.append(Due(cluster: cluster.name, snapshot: name))
        }
        for snapshot in snapshots where snapshot.source == "automated" && snapshot.status != .creating {
            var limit = byName[snapshot.clusterName]?.snapshotRetentionLimit ?? 0
            // The snapshot an engine update took first is kept at least a day, whatever the
            // limit: it is what a bad update is rolled back from. A failed one stays (it is what
            // holds the update back) until someone deletes it.
            if SnapshotNames.isBeforeEngineUpdate(snapshot.name) {
                if snapshot.status == .failed { continue }
                limit = max(limit, 1)
            }
            if snapshot.createdAt <= now - Int64(limit) * day { decision.expire.append(snapshot.name) }
        }
        return decision
    }
}

/// Takes snapshots in the background, so no reconcile loop waits on a BGSAVE: every snapshot in
/// `creating` is taken shard by shard (a BGSAVE on a replica in sync when there is one, else the
/// primary; the RDB encrypted into the snapshot's directory atomically; what it holds recorded),
/// and automatic snapshots are started and expired on schedule. Level-based: a snapshot
/// interrupted by a crash is found in `creating` again and finished (shards already in place
/// are kept); one whose cluster is gone, or that fails three times, is marked `failed`.
public final class SnapshotWorker: Service {
    let store: Store
    let dataPlane: any DataPlane
    let storage: SnapshotStorage
    let configuration: ControlConfiguration
    let signal: WakeSignal
    let logger: Logger
    /// The wall clock schedules and expiries are decided by (the configuration's unless given).
    let clock: any WallClock
    let interval: Duration
    private let attempts = Mutex([String: Int]())
    private let startedAt: Int64

    public init(
        store: Store, dataPlane: any DataPlane, storage: SnapshotStorage, configuration: ControlConfiguration, signal: WakeSignal, logger: Logger,
        clock: (any WallClock)? = nil, interval: Duration = .seconds(5)
    ) {
        self.store = store
        self.dataPlane = dataPlane
        self.storage = storage
        self.configuration = configuration
        self.signal = signal
        self.logger = logger
        let clock = clock ?? configuration.clock
        self.clock = clock
        self.interval = interval
        self.startedAt = clock.nowMilliseconds
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.pass()
                _ = await self.signal.wait(for: .cluster(SnapshotService.wakeName), timeout: self.interval, clock: ContinuousClock())
            }
        }
    }

    /// One look: start and expire automatic snapshots, then take every snapshot in `creating`.
    public func pass() async {
        do {
            try schedule()
            for name in try store.snapshotNames(status: .creating) {
                await take(name)
            }
        } catch {
            logger.error("snapshot pass failed", metadata: ["error": "\(error)"])
        }
    }

    func schedule() throws {
        let decision = SnapshotSchedule.decide(clusters: try store.allClusters(), snapshots: try store.allSnapshots(), now: clock.nowMilliseconds)
        for due in decision.take {
            try store.write { transaction in
                guard var cluster = try transaction.cluster(named: due.cluster), cluster.status == .available,
                    try transaction.snapshot(named: due.snapshot) == nil
                else { return }
                _ = try SnapshotService.begin(name: due.snapshot, of: cluster, source: "automated", at: clock.nowMilliseconds, in: transaction)
                cluster.status = .snapshotting
                try transaction.update(cluster)
            }
        }
        for name in decision.expire {
            guard let details = try store.snapshot(named: name) else { continue }
            try store.write { transaction in
                try transaction.deleteSnapshot(named: name)
                try transaction.removeAllTags(of: configuration.arn(.snapshot, name))
                try transaction.record(
                    EventRecord(
                        sourceName: details.snapshot.clusterName, sourceType: .cluster,
                        message: "Automated snapshot \(name) expired and was deleted (retention limit)", createdAt: clock.nowMilliseconds))
            }
            storage.remove(name)
        }
    }

    /// Takes the shards of one snapshot still missing, then marks it available.
    func take(_ name: String) async {
        guard let details = try? store.snapshot(named: name) else { return }
        let snapshot = details.snapshot
        if snapshot.createdAt < startedAt && attempts.withLock({ $0[name] == nil }) {
            try? store.addEvent(
                EventRecord(
                    sourceName: snapshot.clusterName, sourceType: .cluster,
                    message: "Snapshot \(name) was interrupted by a restart of the control plane; resuming it", createdAt: clock.nowMilliseconds))
        }
        do {
            guard let cluster = try store.cluster(named: snapshot.clusterName) else {
                throw SnapshotFileError("cluster \(snapshot.clusterName) no longer exists")
            }
            let nodes = try store.nodes(ofCluster: cluster.name)
            for shard in details.shards where !shard.isComplete || !FileManager.default.fileExists(atPath: storage.path(of: name, file: shard.file ?? "")) {
                try await takeShard(shard, of: snapshot, cluster: cluster, nodes: nodes)
            }
            try finish(name, cluster: snapshot.clusterName, error: nil)
        } catch {
            let count = attempts.withLock { attempts -> Int in
                attempts[name, default: 0] += 1
                return attempts[name]!
            }
            logger.warning("snapshot attempt failed", metadata: ["snapshot.name": "\(name)", "attempt": "\(count)", "error": "\(error)"])
            if count >= 3 || error is SnapshotFileError {
                try? finish(name, cluster: snapshot.clusterName, error: "\(error)")
            }
        }
    }

    private func takeShard(_ shard: SnapshotShardRecord, of snapshot: SnapshotRecord, cluster: ClusterRecord, nodes: [NodeRecord]) async throws {
        let members = nodes.filter { $0.shardIndex == shard.shardIndex }
        // A replica in sync spares the primary the fork; the primary when there is none.
        let source = members.first { $0.role == .replica && $0.status == .available && $0.heldUntil == nil }
            ?? members.first { $0.role == .primary }
        guard let source else { throw SnapshotFileError("shard \(ClusterTopology.shardName(shard.shardIndex)) has no node to snapshot") }
        let spec = NodeSpec.of(source, in: cluster)
        let saved = try await dataPlane.saveRDB(spec)
        let staging = try storage.stagingPath("\(snapshot.name)-\(shard.shardIndex)")
        try FileManager.default.moveItem(atPath: saved, toPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        // The key count is read from the RDB's own header (what the fork saw), which costs no
        // load; Redis' digest of the data, 2 s per million keys, is left to the first
        // verification, which reads it from the files kept.
        let stored = try storage.store(staging, snapshot: snapshot.name, shard: shard.shardIndex)
        var keys = RDBHeader.keyCount(of: staging)
        if keys == nil {
            let counted = try storage.stagingPath("\(snapshot.name)-\(shard.shardIndex)-count")
            try FileManager.default.linkItem(atPath: staging, toPath: counted)
            keys = try await dataPlane.inspectRDB(counted, digest: false).keys
        }
        let contents = RDBContents(keys: keys ?? 0, digest: nil)
        var done = shard
        done.file = stored.file
        done.size = stored.fingerprint.size
        done.sha256 = stored.fingerprint.sha256
        done.keyCount = contents.keys
        done.digest = contents.digest
        done.completedAt = clock.nowMilliseconds
        try store.write { transaction in try transaction.update(done) }
        logger.info(
            "snapshot shard taken",
            metadata: ["snapshot.name": "\(snapshot.name)", "shard": "\(shard.shardIndex)", "node.name": "\(source.name)", "bytes": "\(stored.fingerprint.size)",
                       "keys": "\(contents.keys)"])
    }

    /// Marks the snapshot available (or failed, with the reason), and its cluster available
    /// again when it was `snapshotting`.
    private func finish(_ name: String, cluster clusterName: String, error: String?) throws {
        try store.write { transaction in
            guard var snapshot = try transaction.snapshot(named: name)?.snapshot else { return }
            snapshot.status = error == nil ? .available : .failed
            snapshot.lastError = error
            try transaction.update(snapshot)
            if var cluster = try transaction.cluster(named: clusterName), cluster.status == .snapshotting {
                cluster.status = .available
                try transaction.update(cluster)
            }
            let keys = try transaction.snapshotShards(of: name).compactMap(\.keyCount).reduce(0, +)
            var message = error.map { "Snapshot \(name) failed: \($0)" } ?? "Snapshot \(name) is available (\(keys) keys)"
            if error != nil && SnapshotNames.isBeforeEngineUpdate(name) {
                message += "; the engine update is stopped before any node restarts. Delete the snapshot to try again"
            }
            try transaction.record(EventRecord(sourceName: clusterName, sourceType: .cluster, message: message, createdAt: clock.nowMilliseconds))
        }
        if error != nil { storage.remove(name) }
        attempts.withLock { _ = $0.removeValue(forKey: name) }
        // A deletion waiting on its final snapshot goes on (or is called off).
        signal.wake(cluster: clusterName)
    }
}
