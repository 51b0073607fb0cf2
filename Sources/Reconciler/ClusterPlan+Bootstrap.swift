import Ports
import Control
import Model
import Store

/// Bootstrap: fresh nodes made one Redis Cluster (epochs, meetings, slots, replication), and the readiness checks.
extension ClusterPlanner {
    // MARK: Bootstrap

    /// Epochs, introductions, slots and replication, each only where still missing.
    static func planBootstrap(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let nodes = observed.nodes
        // Distinct config epochs on fresh nodes spare Redis its epoch-collision dance.
        for (index, node) in nodes.enumerated() {
            guard let report = node.report, report.members.count == 1, (report.myself?.configEpoch ?? 0) == 0 else { continue }
            plan.actions.append(.setConfigEpoch(node.record.name, epoch: index + 1))
        }
        // Introduce every pair directly: gossip alone takes seconds to spread news of a node.
        for (index, node) in nodes.enumerated() {
            guard let report = node.report else { continue }
            let handshaking = Set(report.members.filter(\.inHandshake).map(\.port))
            let peers = nodes[(index + 1)...].filter { peer in
                guard let peerReport = peer.report else { return false }
                return !report.knownPeerIDs.contains(peerReport.myID)
                    && !peerReport.knownPeerIDs.contains(report.myID)
                    && !handshaking.contains(peer.record.port)
            }
            if !peers.isEmpty { plan.actions.append(.meet(node.record.name, peers: peers.map(\.record.name))) }
        }
        // While creating: a node that knows a primary but not yet the slots it serves hears them
        // at once from a fresh MEET (Redis applies the slot claims of any known sender) instead of
        // waiting a second or more for gossip. Once available, gossip alone keeps views in step.
        // The same for nodes joining a cluster being updated, while they still miss a
        // primary's slots (their `cluster_state` is not ok): a resharding waits for them.
        let updating = observed.cluster.status == .updating
        if observed.cluster.status == .creating || updating {
            for primary in nodes {
                guard let report = primary.report, report.isPrimary, let slots = report.myself?.slots, !slots.isEmpty else { continue }
                let handshaking = Set(report.members.filter(\.inHandshake).map(\.port))
                let behind = nodes.filter { node in
                    guard node.record.name != primary.record.name, let view = node.report, !(updating && view.clusterStateOK),
                        let entry = view.members.first(where: { $0.id == report.myID })
                    else { return false }
                    return entry.slots != slots && !handshaking.contains(node.record.port)
                }
                if !behind.isEmpty { plan.actions.append(.meet(primary.record.name, peers: behind.map(\.record.name))) }
            }
        }
        // A node that was down when a member was retired still knows it: it forgets it now.
        let members = Set(nodes.compactMap { $0.report?.myID ?? $0.record.redisNodeID }).union(observed.departing)
        for node in nodes {
            guard let report = node.report else { continue }
            let strangers = report.members.filter { !$0.isMyself && !$0.inHandshake && !members.contains($0.id) }.map(\.id)
            if !strangers.isEmpty { plan.actions.append(.forgetMembers(node.record.name, ids: strangers.sorted())) }
        }
        // While creating, slots no member serves go to their shard's desired primary. Later, a
        // slot nobody serves may have its keys on some node: `planResharding` gives it to them.
        guard observed.cluster.status == .creating else {
            planReplication(observed, into: &plan)
            return
        }
        let claimed = claimedSlots(observed)
        for shard in observed.shards {
            guard let primary = observed.node(shard.primaryNode), let ranges = try? shard.slotRanges() else { continue }
            let missing = ranges.flatMap { unclaimed($0, claimed: claimed) }
            if !missing.isEmpty { plan.actions.append(.addSlots(primary.record.name, missing)) }
        }
        planReplication(observed, into: &plan)
    }

    /// Every other node of a shard replicates its desired primary, once it knows the primary.
    static func planReplication(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let nodes = observed.nodes
        for shard in observed.shards {
            guard let primary = observed.node(shard.primaryNode), let primaryID = primary.report?.myID else { continue }
            for node in nodes where node.record.shardIndex == shard.shardIndex && node.record.name != primary.record.name {
                guard let report = node.report, report.primaryID != primaryID else { continue }
                guard report.knownPeerIDs.contains(primaryID), report.myself?.slots.isEmpty ?? true else { continue }
                plan.actions.append(.replicate(node.record.name, primaryID: primaryID))
            }
        }
    }

    /// The shard's desired primary.
    static func primary(ofShard shard: Int, in observed: ObservedCluster) -> ObservedNode? {
        guard let record = observed.shards.first(where: { $0.shardIndex == shard }) else { return nil }
        return observed.node(record.primaryNode)
    }

    /// Ready: everyone knows everyone, `cluster_state:ok` everywhere, each desired primary
    /// serves, replicas synced to it, and every slot served.
    static func isReady(_ observed: ObservedCluster) -> Bool {
        let reports = observed.nodes.compactMap(\.report)
        guard reports.count == observed.nodes.count else { return false }
        let ids = Set(reports.map(\.myID))
        for node in observed.nodes {
            guard let report = node.report else { return false }
            guard report.clusterStateOK, report.knownPeerIDs.isSuperset(of: ids.subtracting([report.myID])) else { return false }
            guard let primary = primary(ofShard: node.record.shardIndex, in: observed), let primaryID = primary.report?.myID else {
                return false
            }
            if node.record.name == primary.record.name {
                guard report.isPrimary else { return false }
            } else {
                guard report.primaryID == primaryID, report.primaryLinkUp else { return false }
            }
        }
        return claimedSlots(observed).allSatisfy { $0 }
    }

    /// Which slots any member is seen serving, by any node's report.
    static func claimedSlots(_ observed: ObservedCluster) -> [Bool] {
        var claimed = [Bool](repeating: false, count: SlotRange.slotCount)
        for report in observed.nodes.compactMap(\.report) {
            for member in report.members where member.isPrimary {
                for range in member.slots {
                    for slot in range.first...range.last { claimed[slot] = true }
                }
            }
        }
        return claimed
    }

    /// The sub-ranges of `range` that nobody serves.
    static func unclaimed(_ range: SlotRange, claimed: [Bool]) -> [SlotRange] {
        var result: [SlotRange] = []
        var start: Int?
        for slot in range.first...range.last {
            if !claimed[slot] {
                if start == nil { start = slot }
            } else if let first = start {
                result.append(SlotRange(first: first, last: slot - 1))
                start = nil
            }
        }
        if let first = start { result.append(SlotRange(first: first, last: range.last)) }
        return result
    }
}
