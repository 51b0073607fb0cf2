import Ports
import Foundation
import Logging
import Model
import Store

/// A snapshot as the doors present it.
public struct SnapshotView: Sendable, Equatable {
    public struct ShardView: Sendable, Equatable {
        public var name: String
        public var slots: String
        public var replicaCount: Int
        /// Bytes of the shard's RDB; nil until taken.
        public var size: Int64?
        /// Milliseconds since 1970; nil until taken.
        public var creationTime: Int64?
        public var keyCount: Int?
    }

    public var name: String
    public var clusterName: String
    public var status: String
    /// `manual` or `automated`.
    public var source: String
    public var kmsKeyId: String?
    public var arn: String
    public var createdAt: Int64
    public var configuration: SnapshotConfiguration
    public var shards: [ShardView]
    public var lastError: String?
    public var verification: SnapshotVerification?
}

/// The outcome of restoring a snapshot into a scratch cluster and comparing it.
public struct SnapshotVerification: Sendable, Codable, Equatable {
    /// `verified` or `failed`.
    public var status: String
    public var keysExpected: Int
    public var keysFound: Int
    public var digestExpected: String
    public var digestFound: String
    public var seconds: Double
    /// Milliseconds since 1970.
    public var verifiedAt: Int64
    /// What differed, in words; nil when verified.
    public var differences: String?
}

/// Snapshots for both doors: CreateSnapshot, DescribeSnapshots, DeleteSnapshot, CopySnapshot
/// (and exports), and restore verification. Taking a snapshot is the `SnapshotWorker`'s job:
/// this records the intent (status `creating`, the cluster `snapshotting`) and wakes it.
public struct SnapshotService: Sendable {
    public static let manualPerDay = 20
    /// Wakes the snapshot worker (a wake-up for this pseudo-cluster name).
    public static let wakeName = "#snapshots"

    let configuration: ControlConfiguration
    let store: Store
    let storage: SnapshotStorage?
    let trigger: any ReconcileTrigger
    let clusters: ClusterService
    let dataPlane: (any DataPlane)?
    let logger: Logger

    public init(
        configuration: ControlConfiguration, store: Store, storage: SnapshotStorage?, trigger: any ReconcileTrigger, clusters: ClusterService,
        dataPlane: (any DataPlane)?, logger: Logger
    ) {
        self.configuration = configuration
        self.store = store
        self.storage = storage
        self.trigger = trigger
        self.clusters = clusters
        self.dataPlane = dataPlane
        self.logger = logger
    }

    func requireStorage() throws -> SnapshotStorage {
        guard let storage else { throw MemoryDBError(.invalidParameterCombination, "This server has no data plane, so it takes no snapshots.") }
        return storage
    }

    /// KmsKeyId: only the default (none) until keys are managed; snapshot files are encrypted
    /// with the data directory's own key either way.
    static func checkKMSKey(_ kmsKeyId: String?) throws {
        if let kmsKeyId {
            throw MemoryDBError(
                .invalidParameterCombination,
                "kmsKeyId '\(kmsKeyId)': MemoryPlane does not manage KMS keys yet; leave it out (snapshot files are encrypted with the data directory's key).")
        }
    }

    // MARK: Create

    /// CreateSnapshot: the cluster must be available; its status becomes `snapshotting`.
    public func createSnapshot(cluster rawCluster: String, name rawName: String, kmsKeyId: String?, tags: [Tag]) throws -> SnapshotView {
        _ = try requireStorage()
        let clusterName = rawCluster.lowercased()
        let name = try SnapshotNames.validate(rawName, field: "snapshotName")
        try Self.checkKMSKey(kmsKeyId)
        try Tag.validate(tags)
        let now = configuration.clock.nowMilliseconds
        let record = try store.write { transaction -> SnapshotRecord in
            guard var cluster = try transaction.cluster(named: clusterName) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(clusterName)' not found.")
            }
            try ClusterService.requireAvailable(cluster)
            guard try transaction.snapshot(named: name) == nil else {
                throw MemoryDBError(.snapshotAlreadyExists, "A snapshot named '\(name)' already exists.")
            }
            let recent = try transaction.manualSnapshotCount(ofCluster: clusterName, since: now - 86_400_000)
            guard recent < Self.manualPerDay else {
                throw MemoryDBError(
                    .snapshotQuotaExceeded, "Cluster '\(clusterName)' has had \(recent) manual snapshots in the last 24 hours; at most \(Self.manualPerDay).")
            }
            let snapshot = try Self.begin(name: name, of: cluster, source: "manual", at: now, in: transaction)
            cluster.status = .snapshotting
            try transaction.update(cluster)
            try TagService.attach(tags, to: configuration.arn(.snapshot, name), in: transaction)
            return snapshot
        }
        trigger.wake(cluster: Self.wakeName)
        return try describe(record.name)
    }

    /// Records a snapshot in `creating` with a row per shard (its recorded slots), and its event.
    public static func begin(name: String, of cluster: ClusterRecord, source: String, at now: Int64, in transaction: Transaction) throws -> SnapshotRecord {
        let snapshot = SnapshotRecord(name: name, cluster: cluster, source: source, createdAt: now)
        let shards = try transaction.shards(ofCluster: cluster.name).map { shard in
            SnapshotShardRecord(snapshotName: name, shardIndex: shard.shardIndex, slots: shard.slots, replicaCount: cluster.numReplicasPerShard)
        }
        try transaction.insert(snapshot, shards: shards)
        try transaction.record(
            EventRecord(sourceName: cluster.name, sourceType: .cluster, message: "Snapshot \(name) (\(source)) started", createdAt: now))
        return snapshot
    }

    /// Waits until the snapshot is no longer `creating` (or the server's wait timeout passes).
    public func waitUntilTaken(_ name: String) async throws -> SnapshotView {
        let clock = configuration.clock
        let deadline = clock.monotonic + configuration.waitTimeout
        while true {
            let view = try describe(name)
            if view.status != SnapshotStatus.creating.rawValue || clock.monotonic >= deadline { return view }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Describe

    public func describe(_ rawName: String) throws -> SnapshotView {
        let name = rawName.lowercased()
        guard let details = try store.snapshot(named: name) else {
            throw MemoryDBError(.snapshotNotFound, "Snapshot '\(name)' not found.")
        }
        return try view(of: details)
    }

    /// DescribeSnapshots with a SnapshotName: that snapshot, or none when a ClusterName given
    /// is not its cluster's.
    public func describe(_ name: String, ofCluster cluster: String?) throws -> [SnapshotView] {
        let snapshot = try describe(name)
        if let cluster, cluster.lowercased() != snapshot.clusterName { return [] }
        return [snapshot]
    }

    /// DescribeSnapshots: by cluster, by source (`system` or `user`, as AWS's filter says), paged.
    public func list(cluster: String?, source: String?, maxResults: Int?, nextToken: String?) throws -> (snapshots: [SnapshotView], nextToken: String?) {
        let limit = maxResults ?? 50
        guard (1...100).contains(limit) else { throw MemoryDBError.invalid("maxResults must be between 1 and 100; got \(limit).") }
        let stored: String?
        switch source {
        case nil: stored = nil
        case "system": stored = "automated"
        case "user": stored = "manual"
        case let other?: throw MemoryDBError.invalid("source must be system or user; got '\(other)'.")
        }
        let after = try nextToken.map { token throws(MemoryDBError) in try PageToken.decode(token) }
        let details = try store.snapshots(cluster: cluster?.lowercased(), source: stored, after: after, limit: limit + 1)
        let page = Array(details.prefix(limit))
        let token = details.count > limit ? page.last.map { PageToken.encode($0.snapshot.name) } : nil
        return (try page.map(view(of:)), token)
    }

    func view(of details: Store.SnapshotDetails) throws -> SnapshotView {
        let snapshot = details.snapshot
        let verification = snapshot.verification.flatMap { try? JSONDecoder().decode(SnapshotVerification.self, from: Data($0.utf8)) }
        return SnapshotView(
            name: snapshot.name, clusterName: snapshot.clusterName, status: snapshot.status.rawValue, source: snapshot.source,
            kmsKeyId: snapshot.kmsKeyId, arn: configuration.arn(.snapshot, snapshot.name), createdAt: snapshot.createdAt,
            configuration: try snapshot.clusterConfiguration(),
            shards: details.shards.map { shard in
                SnapshotView.ShardView(
                    name: ClusterTopology.shardName(shard.shardIndex), slots: shard.slots, replicaCount: shard.replicaCount, size: shard.size,
                    creationTime: shard.completedAt, keyCount: shard.keyCount)
            },
            lastError: snapshot.lastError, verification: verification)
    }

    // MARK: Delete

    /// DeleteSnapshot: refused while it is being taken or copied.
    public func delete(_ rawName: String) throws -> SnapshotView {
        let storage = try requireStorage()
        let name = rawName.lowercased()
        var view = try describe(name)
        try store.write { transaction in
            guard let details = try transaction.snapshot(named: name) else {
                throw MemoryDBError(.snapshotNotFound, "Snapshot '\(name)' not found.")
            }
            guard details.snapshot.status != .creating && details.snapshot.status != .copying else {
                throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(name)' is \(details.snapshot.status.rawValue); it can be deleted once that ends.")
            }
            try transaction.deleteSnapshot(named: name)
            try transaction.removeAllTags(of: configuration.arn(.snapshot, name))
            try transaction.record(
                EventRecord(sourceName: details.snapshot.clusterName, sourceType: .cluster, message: "Snapshot \(name) deleted", createdAt: configuration.clock.nowMilliseconds))
        }
        storage.remove(name)
        view.status = SnapshotStatus.deleting.rawValue
        return view
    }

    // MARK: Copy and export

    /// CopySnapshot: a new snapshot with the same files, or with `bucket`, an export of every
    /// shard as a plain RDB file `<export-dir>/<bucket>/<target>-<shard>.rdb`.
    public func copy(_ rawSource: String, to rawTarget: String, bucket: String?, kmsKeyId: String?, tags: [Tag]) throws -> SnapshotView {
        let storage = try requireStorage()
        let sourceName = rawSource.lowercased()
        let target = try SnapshotNames.validate(rawTarget, field: "targetSnapshotName")
        try Self.checkKMSKey(kmsKeyId)
        try Tag.validate(tags)
        guard let source = try store.snapshot(named: sourceName) else {
            throw MemoryDBError(.snapshotNotFound, "Snapshot '\(sourceName)' not found.")
        }
        guard source.snapshot.status == .available else {
            throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(sourceName)' is \(source.snapshot.status.rawValue); only an available snapshot can be copied.")
        }
        if let bucket {
            let bucket = try SnapshotNames.validateBucket(bucket, field: "targetBucket")
            if !tags.isEmpty {
                throw MemoryDBError(.invalidParameterCombination, "tags cannot be given with targetBucket: an export is plain files, not a snapshot.")
            }
            var exported: [String] = []
            for shard in source.shards {
                guard let file = shard.file, let sha = shard.sha256 else { continue }
                let key = "\(target)-\(ClusterTopology.shardName(shard.shardIndex)).rdb"
                do {
                    exported.append(try storage.export(snapshot: sourceName, file: file, sha256: sha, bucket: bucket, key: key))
                } catch let error as SnapshotFileError {
                    throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(sourceName)' cannot be exported: \(error.message)")
                }
            }
            try store.addEvent(
                EventRecord(
                    sourceName: source.snapshot.clusterName, sourceType: .cluster,
                    message: "Snapshot \(sourceName) exported to bucket \(bucket) as \(exported.count) RDB file(s): \(exported.map { ($0 as NSString).lastPathComponent }.joined(separator: ", "))",
                    createdAt: configuration.clock.nowMilliseconds))
            return try view(of: source)
        }
        let now = configuration.clock.nowMilliseconds
        try store.write { transaction in
            guard try transaction.snapshot(named: target) == nil else {
                throw MemoryDBError(.snapshotAlreadyExists, "A snapshot named '\(target)' already exists.")
            }
            var copy = source.snapshot
            copy.name = target
            copy.status = .creating
            copy.createdAt = now
            copy.source = "manual"
            copy.verification = nil
            try transaction.insert(copy, shards: source.shards.map { var shard = $0; shard.snapshotName = target; return shard })
            try TagService.attach(tags, to: configuration.arn(.snapshot, target), in: transaction)
        }
        do {
            try storage.copy(sourceName, to: target, files: source.shards.compactMap(\.file))
        } catch {
            try? store.write { transaction in try transaction.deleteSnapshot(named: target) }
            storage.remove(target)
            throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(sourceName)' could not be copied: \(error)")
        }
        try store.write { transaction in
            guard var copy = try transaction.snapshot(named: target)?.snapshot else { return }
            copy.status = .available
            try transaction.update(copy)
            try transaction.record(
                EventRecord(sourceName: copy.clusterName, sourceType: .cluster, message: "Snapshot \(sourceName) copied to \(target)", createdAt: configuration.clock.nowMilliseconds))
        }
        return try describe(target)
    }
}
