import Ports
import Control
import Model
import Store

/// Failover: when a shard's primary is lost or asked to step down, and each step until its replica serves.
extension ClusterPlanner {
    // MARK: Failover

    /// Per shard: start a failover when its desired primary is lost and a replica can take
    /// over, and carry an operation in progress one step further.
    static func planFailovers(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let operations = Dictionary(uniqueKeysWithValues: observed.operations.map { ($0.shardIndex, $0) })
        for shard in observed.shards {
            if let operation = operations[shard.shardIndex] {
                continueFailover(operation, observed, into: &plan)
            } else if [.available, .updating, .snapshotting].contains(observed.cluster.status) {
                startFailoverIfNeeded(shard, observed, into: &plan)
            }
        }
    }

    static func startFailoverIfNeeded(_ shard: ShardRecord, _ observed: ObservedCluster, into plan: inout ClusterPlan) {
        guard let primary = observed.node(shard.primaryNode) else { return }
        let held = observed.isHeld(primary)
        let lost: String
        if held {
            // Already failed over (a replica serves the slots) when the primary is down for long.
            guard primary.pid != nil || !(observed.nodes.contains { $0.record.shardIndex == shard.shardIndex && ($0.report?.servesSlots ?? false) && $0.record.name != primary.record.name }) else { return }
            lost = "its availability zone \(primary.record.availabilityZone) was lost (drill)"
        } else if primary.pid == nil {
            lost = "its process ended"
        } else if primary.isHung {
            lost = "it stopped answering (no reply for \(silence(primary)) ms)"
        } else {
            restoreRecordedPrimary(shard, primary, observed, into: &plan)
            return
        }
        // A shard that serves no slot yet (a new shard before its first move) holds nothing to
        // fail over: its primary is restarted in place, and the moves wait for it.
        if !held && !servesAnySlot(shard.shardIndex, observed) { return }
        guard let replica = bestReplica(of: shard, excluding: primary, observed) else {
            // No replica to promote: restart in place (a hung one is killed first).
            if primary.isHung && !held { plan.actions.append(.killNode(primary.record.name)) }
            return
        }
        let kind: OperationKind = held ? .zoneFailover : .automaticFailover
        let operation = OperationRecord(
            clusterName: observed.cluster.name, shardIndex: shard.shardIndex, kind: kind, fromNode: primary.record.name,
            toNode: replica.record.name, phase: held ? .promoting : (primary.isHung ? .fencing : .restarting),
            reason: "primary \(primary.record.name) failed: \(lost)", startedAt: observed.now)
        plan.actions.append(.beginFailover(operation))
        if primary.isHung && !held { plan.actions.append(.killNode(primary.record.name)) }
    }

    /// A shard served by another node than its recorded primary, with no operation to explain
    /// it, is put back: the record is the truth, and a graceful failover restores it.
    static func restoreRecordedPrimary(_ shard: ShardRecord, _ primary: ObservedNode, _ observed: ObservedCluster, into plan: inout ClusterPlan) {
        guard let report = primary.report, !report.servesSlots,
            let serving = observed.nodes.first(where: { $0.record.shardIndex == shard.shardIndex && ($0.report?.servesSlots ?? false) }),
            report.primaryID == serving.report?.myID, report.primaryLinkUp
        else { return }
        plan.actions.append(
            .beginFailover(
                OperationRecord(
                    clusterName: observed.cluster.name, shardIndex: shard.shardIndex, kind: .failover, fromNode: serving.record.name,
                    toNode: primary.record.name, phase: .promoting,
                    reason: "shard \(shard.shardIndex) was served by \(serving.record.name), not its recorded primary \(primary.record.name); restoring it",
                    startedAt: observed.now)))
    }

    /// Whether any member of the shard claims a slot (in its own view, or in a view of it that
    /// some node holds: a silent primary's slots are still its own).
    static func servesAnySlot(_ shard: Int, _ observed: ObservedCluster) -> Bool {
        let members = observed.nodes.filter { $0.record.shardIndex == shard }
        if members.contains(where: { $0.report?.servesSlots ?? false }) { return true }
        let ids = Set(members.compactMap { $0.record.redisNodeID })
        return observed.nodes.contains { node in
            node.report?.members.contains { ids.contains($0.id) && $0.isPrimary && !$0.slots.isEmpty } ?? false
        }
    }

    /// The replica to promote: one that answers and runs (not held), preferring one linked to
    /// the primary, then the furthest along its stream, then the lowest node index.
    static func bestReplica(of shard: ShardRecord, excluding primary: ObservedNode, _ observed: ObservedCluster) -> ObservedNode? {
        let candidates = observed.nodes.filter { node in
            node.record.shardIndex == shard.shardIndex && node.record.name != primary.record.name && node.report != nil
                && node.pid != nil && !observed.isHeld(node) && !node.isHung
        }
        let primaryID = primary.record.redisNodeID
        return candidates.max { a, b in
            let aLinked = a.report?.primaryID == primaryID
            let bLinked = b.report?.primaryID == primaryID
            if aLinked != bLinked { return !aLinked }
            let aOffset = a.report?.replicationOffset ?? 0
            let bOffset = b.report?.replicationOffset ?? 0
            if aOffset != bOffset { return aOffset < bOffset }
            return a.record.nodeIndex > b.record.nodeIndex
        }
    }

    /// The next step of an operation, judged from what is observed now (level-based: the same
    /// observation always yields the same step, so a restarted control plane carries on).
    static func continueFailover(_ operation: OperationRecord, _ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let shard = operation.shardIndex
        guard let replica = observed.node(operation.toNode), let primary = observed.node(operation.fromNode) else {
            plan.actions.append(.abandonFailover(shard: shard, reason: "a node of the failover no longer exists"))
            return
        }
        if replica.report?.servesSlots ?? false {
            plan.actions.append(.finishFailover(shard: shard, newPrimary: replica.record.name))
            return
        }
        // The old primary back as a primary that claims no slot, with a replica that claims none
        // either: there is nothing to take over. Either the shard serves no slot yet (a new shard
        // before its first move), or the slots the views give it were handed to it before it
        // claimed them (a hand-over cut short by its death): the ownership rules then have it
        // claim them, with the keys it holds.
        if operation.kind != .zoneFailover, let report = primary.report, report.isPrimary, !report.servesSlots,
            !(replica.report?.servesSlots ?? false)
        {
            plan.actions.append(.abandonFailover(shard: shard, reason: "\(primary.record.name) is back and claims no slot, so there is nothing to take over"))
            return
        }
        // A shard serving no slot whose old primary stays away: the promoted replica is its
        // primary once it says so.
        if !servesAnySlot(shard, observed), let report = replica.report, report.isPrimary, report.primaryID == nil {
            plan.actions.append(.finishFailover(shard: shard, newPrimary: replica.record.name))
            return
        }
        if replica.pid == nil || observed.isHeld(replica) || replica.isHung {
            plan.actions.append(.abandonFailover(shard: shard, reason: "replica \(replica.record.name) is down too"))
            return
        }
        guard replica.report != nil else { return }
        if operation.kind == .zoneFailover {
            plan.actions.append(.promote(shard: shard, replica: replica.record.name, demoting: nil))
            return
        }
        if primary.isHung {
            plan.actions.append(.killNode(primary.record.name))
            return
        }
        // The old primary restarts from its AOF (planProcesses starts it); once it answers, the
        // replica takes its whole stream, then takes over. One that does not come back within
        // 10 s (its files are damaged) is given up on: the replica takes over with what it has.
        guard let primaryReport = primary.report, primaryReport.servesSlots else {
            if operation.kind == .automaticFailover && observed.now - operation.startedAt > 10_000 {
                plan.actions.append(.promote(shard: shard, replica: replica.record.name, demoting: nil))
            }
            return
        }
        guard let replicaReport = replica.report else { return }
        if replicaReport.primaryID == primaryReport.myID && replicaReport.primaryLinkUp {
            plan.actions.append(.promote(shard: shard, replica: replica.record.name, demoting: primary.record.name))
        } else if !replicaReport.syncInProgress && (operation.phase != .resyncing || observed.now - operation.updatedAt > 1000) {
            plan.actions.append(.resync(shard: shard, replica: replica.record.name, primaryID: primaryReport.myID))
        }
    }

    /// Each shard's primary (the node serving its slots, else the desired one), then replicas.
    ///
    /// A node that does not answer (restarting, still loading its data) is listed after every
    /// node that does, so a client is not handed to a node that would answer `-LOADING`; before
    /// any node of a shard answers (creation), its desired primary is listed as primary.
    static func endpointBackends(_ observed: ObservedCluster) -> [EndpointBackend] {
        var primaries: [EndpointBackend] = []
        var replicas: [EndpointBackend] = []
        var silent: [EndpointBackend] = []
        for shard in observed.shards {
            let members = observed.nodes.filter { $0.record.shardIndex == shard.shardIndex }.sorted { $0.record.nodeIndex < $1.record.nodeIndex }
            // Two claimants for a moment after a takeover: the higher config epoch has won.
            let serving = members.filter { ($0.report?.servesSlots ?? false) && !observed.isHeld($0) }
                .max { ($0.report?.myself?.configEpoch ?? 0) < ($1.report?.myself?.configEpoch ?? 0) }
            let anyAnswers = members.contains { $0.report != nil }
            let primary = serving?.record.name ?? shard.primaryNode
            for member in members {
                let answers = member.report != nil || !anyAnswers
                if member.record.name == primary && answers {
                    primaries.append(EndpointBackend(port: member.record.port, role: .primary))
                } else if answers {
                    replicas.append(EndpointBackend(port: member.record.port, role: .replica))
                } else {
                    silent.append(EndpointBackend(port: member.record.port, role: .replica))
                }
            }
        }
        return primaries + replicas + silent
    }

}
