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
        try transition(
            rawName, from: .available, to: .stopping, refusal: "only an available cluster can be stopped",
            event: "Cluster stopping: the endpoint, then replicas, then primaries"
        ) { name, transaction in
            guard try transaction.operations(ofCluster: name).isEmpty, try transaction.openDrills(ofCluster: name).isEmpty else {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' has an operation or a drill running; stop it once that is done.")
            }
        }
    }

    /// Starts every node again from its own files (the cluster is `starting`, then `available`).
    public func startCluster(_ rawName: String) throws -> ClusterView {
        try transition(
            rawName, from: .stopped, to: .starting, refusal: "only a stopped cluster can be started",
            event: "Cluster starting: every node from its own data")
    }

    /// Moves a cluster from one status to the next in one transaction, with its event, and wakes
    /// the reconciler that carries the change out.
    private func transition(
        _ rawName: String, from: ClusterStatus, to: ClusterStatus, refusal: String, event: String,
        check: (String, Transaction) throws -> Void = { _, _ in }
    ) throws -> ClusterView {
        let name = rawName.lowercased()
        let record = try store.write { transaction in
            guard var cluster = try transaction.cluster(named: name) else {
                throw MemoryDBError(.clusterNotFound, "Cluster '\(name)' not found.")
            }
            guard cluster.status == from else {
                throw MemoryDBError(.invalidClusterState, "Cluster '\(name)' is \(cluster.status.rawValue); \(refusal).")
            }
            try check(name, transaction)
            cluster.status = to
            try transaction.update(cluster)
            try transaction.record(EventRecord(sourceName: name, sourceType: .cluster, message: event, createdAt: configuration.clock.nowMilliseconds))
            return cluster
        }
        trigger.wake(cluster: name)
        return try view(of: record)
    }
}
