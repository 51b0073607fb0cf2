import Ports
import Control
import Model
import Store

/// Rolling restarts: one node at a time, replicas first, to apply reboot-only parameters or an engine patch.
extension ClusterPlanner {
    // MARK: Rolling restarts

    /// Whether a node runs with other reboot-only values than its group now has, or from
    /// another engine binary than the configured one.
    static func needsRestart(_ node: ObservedNode, _ observed: ObservedCluster) -> Bool {
        parametersStale(node, observed) || engineStale(node, observed)
    }

    static func parametersStale(_ node: ObservedNode, _ observed: ObservedCluster) -> Bool {
        guard let target = observed.rebootTarget else { return false }
        return node.record.startedWithOtherValues(than: target)
    }

    static func engineStale(_ node: ObservedNode, _ observed: ObservedCluster) -> Bool {
        guard let engine = observed.engineTarget else { return false }
        return node.record.runningEngine(clusterPatch: observed.cluster.enginePatchVersion) != engine
    }

    /// Pending work (a rolling restart) runs in the cluster's weekly maintenance window, or at
    /// once after BatchUpdateCluster asked for it.
    static func mayApplyUpdates(_ observed: ObservedCluster) -> Bool {
        observed.cluster.updatesRequestedAt != nil
            || Windows.contains(maintenanceWindow: observed.cluster.maintenanceWindow, weekMinute: Windows.weekMinute(ofMilliseconds: observed.now))
    }

    /// One step of a rolling restart, taken only on a ready cluster (the previous step done)
    /// when updates may be applied: replicas first, one at a time; then each stale primary
    /// hands its shard to a synced replica (a lossless failover) and is restarted as a replica;
    /// a primary without a replica is restarted in place. Once nothing is stale, a request for
    /// the updates (or a new engine patch now run everywhere) is recorded as done.
    static func rollingRestartStep(_ observed: ObservedCluster) -> ReconcileAction? {
        guard observed.cluster.status == .available, observed.operations.isEmpty else { return nil }
        let stale = observed.nodes.filter { needsRestart($0, observed) }
        if stale.isEmpty {
            var patched = false
            if let engine = observed.engineTarget, engine != observed.cluster.enginePatchVersion { patched = true }
            return observed.cluster.updatesRequestedAt != nil || patched ? .finishServiceUpdates : nil
        }
        guard mayApplyUpdates(observed) else { return nil }
        // An engine update snapshots the cluster first; a failed snapshot holds the update back
        // (its event says so) until it is deleted.
        if let snapshot = observed.engineUpdateSnapshot, stale.contains(where: { engineStale($0, observed) }) {
            switch observed.engineUpdateSnapshotStatus {
            case nil: return .snapshotBeforeEngineUpdate(snapshot)
            case .available: break
            default: return nil
            }
        }
        let primaries = Set(observed.shards.map(\.primaryNode))
        if let replica = stale.first(where: { !primaries.contains($0.record.name) }) {
            return .restartNode(replica.record.name)
        }
        for shard in observed.shards {
            guard let primary = observed.node(shard.primaryNode), needsRestart(primary, observed) else { continue }
            let replica = observed.nodes.first { $0.record.shardIndex == shard.shardIndex && $0.record.name != primary.record.name && ($0.report?.primaryLinkUp ?? false) }
            guard let replica else { return .restartNode(primary.record.name) }
            return .beginFailover(
                OperationRecord(
                    clusterName: observed.cluster.name, shardIndex: shard.shardIndex, kind: .failover, fromNode: primary.record.name,
                    toNode: replica.record.name, phase: .promoting,
                    reason: "rolling restart: \(restartReason(primary, observed))", startedAt: observed.now))
        }
        return nil
    }

    /// Why a node is restarted, in words.
    static func restartReason(_ node: ObservedNode, _ observed: ObservedCluster) -> String {
        var reasons: [String] = []
        if parametersStale(node, observed) {
            reasons.append("reboot-only parameters of group \(observed.cluster.parameterGroupName) changed")
        }
        if engineStale(node, observed), let engine = observed.engineTarget {
            reasons.append("engine \(node.record.runningEngine(clusterPatch: observed.cluster.enginePatchVersion)) → \(engine)")
        }
        return reasons.joined(separator: "; ")
    }

}
