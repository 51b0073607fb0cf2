import Foundation
import Model
import Ports
import Store

/// Stop and start a cluster, keeping its data (beyond AWS MemoryDB): a stopped cluster runs no
/// process and uses no CPU or memory; its ports, files and every acknowledged write are kept.
extension ClusterService {
    /// Stops every node (replicas first, each persisting as it stops: the AOF is fsynced on every
    /// write) and the endpoint; the cluster is `stopping`, then `stopped`.
    public func stopCluster(_ rawName: String) throws -> ClusterView {
        let name = rawName.lowercased()
        let record = try store.write { transaction in
            guard var cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            guard cluster.status == .available else {
                throw MemoryDBError(
                    .invalidClusterState, "Cluster '\(name)' is \(cluster.status.rawValue); only an available cluster can be stopped.")
            }
            guard try transaction.operations(ofCluster: name).isEmpty,
                try transaction.openDrills(ofCluster: name).isEmpty
            else {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' has an operation or a drill running; stop it once that is done.")
            }
            cluster.status = .stopping
            try transaction.update(cluster)
            try transaction.record(
                EventRecord(
                    sourceName: name, sourceType: .cluster, message: "Cluster stopping: the endpoint, then replicas, then primaries",
                    createdAt: configuration.clock.nowMilliseconds))
            return cluster
        }
        trigger.wake(cluster: name)
        return try view(of: record)
    }

    /// Starts every node again from its own files (the cluster is `starting`, then `available`).
    public func startCluster(_ rawName: String) throws -> ClusterView {
        let name = rawName.lowercased()
        let record = try store.write { transaction in
            guard var cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            guard cluster.status == .stopped else {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is \(cluster.status.rawValue); only a stopped cluster can be started.")
            }
            cluster.status = .starting
            try transaction.update(cluster)
            try transaction.record(
                EventRecord(
                    sourceName: name, sourceType: .cluster, message: "Cluster starting: every node from its own data",
                    createdAt: configuration.clock.nowMilliseconds))
            return cluster
        }
        trigger.wake(cluster: name)
        return try view(of: record)
    }
}
