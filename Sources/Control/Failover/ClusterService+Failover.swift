import Model
import Store
import Ports

extension ClusterService {
    /// FailoverShard, for both doors: records a graceful failover of the shard to a replica that
    /// is in sync; the reconciler pauses writes on the primary, lets the replica take the rest
    /// of its stream, promotes it and releases the writes to the new primary. Nothing
    /// acknowledged is lost. Refused as AWS refuses: an unknown shard (`ShardNotFoundFault`), a
    /// cluster not `available` or with an operation running (`InvalidClusterStateFault`), a shard
    /// without a replica (`InvalidParameterValueException`), no replica in sync to take over
    /// (`TestFailoverNotAvailableFault`).
    public func failoverShard(cluster rawName: String, shard shardName: String) throws -> ClusterView {
        let name = rawName.lowercased()
        let record = try store.write { transaction -> ClusterRecord in
            guard let cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            let shards = try transaction.shards(ofCluster: name)
            guard let index = Int(shardName), ClusterTopology.shardName(index) == shardName,
                let shard = shards.first(where: { $0.shardIndex == index })
            else {
                let names = shards.map { ClusterTopology.shardName($0.shardIndex) }.joined(separator: ", ")
                throw MemoryDBError(.shardNotFound, "Shard '\(shardName)' not found in cluster '\(name)'; its shards are \(names).")
            }
            try Self.requireAvailable(cluster)
            if let running = try transaction.operations(ofCluster: name).first {
                throw MemoryDBError(
                    .invalidClusterState,
                    "Cluster '\(name)' has an operation in progress (\(running.kind.rawValue) of shard \(ClusterTopology.shardName(running.shardIndex)), \(running.phase.rawValue)); try again when it ends.")
            }
            if let drill = try transaction.drills(ofCluster: name, status: .running).first {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is in drill \(drill.id) until it ends.")
            }
            let members = try transaction.nodes(ofCluster: name).filter { $0.shardIndex == index }
            let replicas = members.filter { $0.name != shard.primaryNode }
            guard !replicas.isEmpty else {
                throw MemoryDBError.invalid("Shard \(shardName) of cluster '\(name)' has no replica to fail over to.")
            }
            guard let target = replicas.first(where: { $0.status == .available && $0.role == .replica && $0.heldUntil == nil }) else {
                throw MemoryDBError(
                    .testFailoverNotAvailable, "Shard \(shardName) of cluster '\(name)' has no replica in sync to take over; try again shortly.")
            }
            let now = configuration.clock.nowMilliseconds
            try transaction.begin(
                OperationRecord(
                    clusterName: name, shardIndex: index, kind: .failover, fromNode: shard.primaryNode, toNode: target.name,
                    phase: .promoting, reason: "FailoverShard requested", startedAt: now))
            try transaction.record(
                EventRecord(
                    sourceName: name, sourceType: .cluster,
                    message: "FailoverShard requested for shard \(shardName): promoting \(target.name) in \(target.availabilityZone) over \(shard.primaryNode)",
                    createdAt: now))
            return cluster
        }
        trigger.wake(cluster: name)
        return try view(of: record)
    }
}
