import Ports
import Foundation
import Model
import Store

/// How a new cluster gets a snapshot's data.
struct RestorePlan {
    typealias Mode = RestoreMode

    var mode: Mode
    /// Stored in `clusters.restore_source`: the snapshot's name, or `arns:` and the ARNs.
    var source: String
    /// The snapshot's slot ranges per shard, when seeding.
    var slots: [[SlotRange]]?
    /// In words, for events.
    var description: String
}

extension ClusterService {
    /// Checks a restore's source and decrypts (or copies) its RDB files to
    /// `<data-dir>/restores/<cluster>/` before anything is recorded: a missing or damaged file
    /// refuses the request and leaves no cluster behind.
    func prepareRestore(_ spec: inout ClusterSpec, requestedShards: Int?) throws -> RestorePlan? {
        guard spec.restoreSnapshotName != nil || spec.restoreARNs != nil else { return nil }
        guard let storage = snapshotStorage else {
            throw MemoryDBError(.invalidParameterCombination, "This server has no data plane, so it restores no snapshots.")
        }
        guard try store.cluster(named: spec.name) == nil else {
            throw MemoryDBError(.clusterAlreadyExists, "A cluster named '\(spec.name)' already exists.")
        }
        let directory = storage.restoreDirectory(of: spec.name)
        try? FileManager.default.removeItem(atPath: directory)
        try PrivateDirectory.make(directory)
        do {
            if let name = spec.restoreSnapshotName {
                return try prepare(snapshot: name, &spec, requestedShards: requestedShards, storage: storage)
            }
            return try prepare(exports: spec.restoreARNs ?? [], spec.name, storage: storage)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    private func prepare(snapshot name: String, _ spec: inout ClusterSpec, requestedShards: Int?, storage: SnapshotStorage) throws -> RestorePlan {
        guard let details = try store.snapshot(named: name) else {
            throw MemoryDBError(.snapshotNotFound, "Snapshot '\(name)' not found.")
        }
        guard details.snapshot.status == .available else {
            throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(name)' is \(details.snapshot.status.rawValue); only an available snapshot can be restored.")
        }
        // As on AWS, the restored cluster has the snapshot's shard count unless told otherwise.
        if requestedShards == nil { spec.numShards = details.shards.count }
        guard spec.totalNodes <= ClusterSpec.maxNodesPerCluster else {
            throw MemoryDBError(.nodeQuotaForClusterExceeded, "\(spec.totalNodes) nodes; a cluster may have at most \(ClusterSpec.maxNodesPerCluster).")
        }
        for shard in details.shards {
            guard let file = shard.file, let sha = shard.sha256 else {
                throw MemoryDBError(.invalidSnapshotState, "Snapshot '\(name)' has no file for shard \(ClusterTopology.shardName(shard.shardIndex)).")
            }
            do {
                try storage.decrypt(snapshot: name, file: file, sha256: sha, to: storage.restoreFile(cluster: spec.name, shard: shard.shardIndex))
            } catch let error as SnapshotFileError {
                throw MemoryDBError.invalid("Snapshot '\(name)' cannot be restored: \(error.message).")
            }
        }
        let same = spec.numShards == details.shards.count
        var slots: [[SlotRange]]?
        if same {
            slots = try details.shards.map { shard in
                guard let ranges = SlotRange.parseList(shard.slots) else { throw UnknownStoredValue(column: "snapshot_shards.slots", value: shard.slots) }
                return ranges
            }
        }
        return RestorePlan(
            mode: same ? .seed : .import, source: name, slots: slots,
            description: "snapshot \(name)" + (same ? "" : " (\(details.shards.count) shard(s) redistributed over \(spec.numShards))"))
    }

    private func prepare(exports objects: [ExportedObject], _ cluster: String, storage: SnapshotStorage) throws -> RestorePlan {
        for (index, object) in objects.enumerated() {
            let path = storage.exportPath(bucket: object.bucket, key: object.key)
            let arn = "arn:aws:s3:::\(object.bucket)/\(object.key)"
            guard FileManager.default.fileExists(atPath: path) else {
                throw MemoryDBError.invalid("snapshotArns: \(arn) not found (looked for \(path)).")
            }
            guard SnapshotStorage.looksLikeRDB(path) else {
                throw MemoryDBError.invalid("snapshotArns: \(arn) is not an RDB file.")
            }
            try FileManager.default.copyItem(atPath: path, toPath: storage.restoreFile(cluster: cluster, shard: index + 1))
        }
        let data = (try? JSONEncoder().encode(objects)) ?? Data("[]".utf8)
        return RestorePlan(
            mode: .import, source: "arns:" + String(decoding: data, as: UTF8.self), slots: nil,
            description: "\(objects.count) exported RDB file(s)")
    }
}
