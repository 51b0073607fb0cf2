import Engine
import Model
import Store

/// Resharding, level-based: the stored shards say which slots each shard should serve; each
/// primary's own view (its slots and its open `[slot-<-id]` imports) says where things stand.
/// Slots are handed over whole (`DataPlane.moveSlots`), so a source never has a slot
/// MIGRATING; one found so (another tool's, or a crash of one) is closed. The same observation always gives the same next step, so a control
/// plane killed mid-move carries on from Redis' own state when it comes back.
extension ClusterPlanner {
    /// How many slots one `moveSlots` step takes: big enough to pipeline well, small enough that
    /// the loop observes (and a failover can intervene) between steps.
    public static let slotsPerMove = 1024

    /// What a resharding still has to do.
    public struct SlotWork: Equatable, Sendable {
        /// Slots to move, by source and target node.
        public var moves: [Move] = []
        /// Open migrations no move explains (left by a crash, or by a layout since changed).
        public var stale: [String: [Int]] = [:]
        /// Slots to move whose target has not heard who serves them yet (gossip will tell it).
        public var waiting = 0
        /// Shards beyond the cluster's count whose nodes serve nothing any more.
        public var drained: [Int] = []
        /// Shards beyond the cluster's count that still serve slots (somebody's view says so).
        public var draining: [Int] = []

        public struct Move: Equatable, Sendable {
            public var source: String
            public var target: String
            public var slots: [Int]
        }

        public var isDone: Bool { moves.isEmpty && waiting == 0 && stale.isEmpty && drained.isEmpty && draining.isEmpty }
    }

    public static func slotWork(_ observed: ObservedCluster) -> SlotWork {
        var work = SlotWork()
        // Only recorded primaries count: a node of the same shard that still claims its slots
        // (an old primary back after a failover, before it hears of it) is the failover's
        // business, and its stale keys must never be moved over the new primary's.
        let recorded = Set(observed.shards.map(\.primaryNode))
        let primaries = observed.nodes.filter { recorded.contains($0.record.name) && ($0.report?.isPrimary ?? false) }
        var claimants = [[String]](repeating: [], count: SlotRange.slotCount)
        for node in primaries {
            for range in node.report?.myself?.slots ?? [] {
                for slot in range.first...range.last { claimants[slot].append(node.record.name) }
            }
        }
        let names = Dictionary(observed.nodes.compactMap { node in node.report.map { ($0.myID, node.record.name) } }) { first, _ in first }
        var moves: [String: [String: [Int]]] = [:]
        for shard in observed.shards {
            guard let target = observed.node(shard.primaryNode), target.report?.isPrimary ?? false, let ranges = try? shard.slotRanges() else { continue }
            let importing = target.report?.myself?.importing ?? [:]
            for range in ranges {
                for slot in range.first...range.last {
                    for source in claimants[slot] where source != target.record.name {
                        moves[source, default: [:]][target.record.name, default: []].append(slot)
                    }
                    // Handed over by the source, not yet taken by the target (a crash between
                    // the two): nobody claims the slot; the move is finished from the target's
                    // import.
                    if claimants[slot].isEmpty, let id = importing[slot], let source = names[id], recorded.contains(source) {
                        moves[source, default: [:]][target.record.name, default: []].append(slot)
                    }
                }
            }
        }
        // An open migration is explained by a move still to make between the same two nodes.
        for node in primaries {
            guard let myself = node.report?.myself else { continue }
            let name = node.record.name
            var stale: [Int] = []
            for (slot, id) in myself.migrating where !(moves[name]?[names[id] ?? ""]?.contains(slot) ?? false) { stale.append(slot) }
            for (slot, id) in myself.importing where !(moves[names[id] ?? ""]?[name]?.contains(slot) ?? false) { stale.append(slot) }
            if !stale.isEmpty { work.stale[name] = stale.sorted() }
        }
        // A target takes a slot only once its own view has the slot's owner: a node importing
        // a slot ignores gossip about it, so one that set IMPORTING before it heard who serves
        // the slot would never hear it, and refuses the keys (-CLUSTERDOWN). Such a slot's
        // import is closed (it learns the owner from gossip, then the move starts again).
        for (source, targets) in moves.sorted(by: { $0.key < $1.key }) {
            for (target, slots) in targets.sorted(by: { $0.key < $1.key }) {
                guard let targetReport = observed.node(target)?.report, let sourceID = observed.node(source)?.report?.myID else { continue }
                let owners = viewedOwners(targetReport)
                let ready = slots.filter { owners[$0] == sourceID || owners[$0] == targetReport.myID }
                let blind = slots.filter { owners[$0] == nil && targetReport.myself?.importing[$0] != nil }
                if !blind.isEmpty { work.stale[target, default: []] += blind }
                if !ready.isEmpty { work.moves.append(SlotWork.Move(source: source, target: target, slots: ready.sorted())) }
                if ready.count < slots.count { work.waiting += slots.count - ready.count }
            }
        }
        for shard in observed.shards where shard.shardIndex > observed.cluster.numShards {
            let members = observed.nodes.filter { $0.record.shardIndex == shard.shardIndex }
            let ids = Set(members.compactMap { $0.report?.myID })
            // Every node's view, replicas' included: a node forgotten while some view still
            // has it serving slots would leave those slots unserved there.
            let servesSomewhere = observed.nodes.contains { node in
                node.report?.members.contains { ids.contains($0.id) && !$0.slots.isEmpty } ?? false
            }
            if servesSomewhere || members.contains(where: { $0.report == nil }) {
                work.draining.append(shard.shardIndex)
            } else {
                work.drained.append(shard.shardIndex)
            }
        }
        return work
    }

    /// Which node serves each slot in one node's view (its own line and its peers').
    static func viewedOwners(_ report: NodeObservation) -> [Int: String] {
        var owners: [Int: String] = [:]
        for member in report.members where member.isPrimary {
            for range in member.slots { for slot in range.first...range.last { owners[slot] = member.id } }
        }
        return owners
    }

    /// The next resharding step: close stale migrations, else move a batch of slots (once both
    /// nodes know each other), else retire a drained shard.
    static func planResharding(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let work = slotWork(observed)
        if let (node, slots) = work.stale.sorted(by: { $0.key < $1.key }).first {
            plan.actions.append(.stabilizeSlots(node, slots: SlotLayout.ranges(of: slots)))
            return
        }
        // Moves between distinct pairs run at once (each source and each target in one move at
        // most): a source hands over one slot at a time, so more sources go faster.
        var busy = Set<String>()
        for move in work.moves where !busy.contains(move.source) && !busy.contains(move.target) {
            // Both must know each other, and the target every slot's owner: a node whose
            // `cluster_state` is not ok refuses the keys (-CLUSTERDOWN).
            guard let source = observed.node(move.source)?.report, let target = observed.node(move.target)?.report,
                source.knownPeerIDs.contains(target.myID), target.knownPeerIDs.contains(source.myID), target.clusterStateOK
            else { continue }
            plan.actions.append(.moveSlots(from: move.source, to: move.target, slots: SlotLayout.ranges(of: Array(move.slots.prefix(slotsPerMove)))))
            busy.formUnion([move.source, move.target])
        }
        if !plan.actions.isEmpty { return }
        if work.moves.isEmpty && work.waiting == 0, let shard = work.drained.first {
            plan.actions.append(.retireShard(shard))
        }
    }
}
