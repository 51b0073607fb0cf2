import Ports
import Control
import Model
import Store

/// Slot ownership, level-based.
///
/// **The invariant.** At every instant, each of the 16,384 slots has exactly one primary that
/// claims it (in its own `CLUSTER NODES` line) and holds all its keys; a slot's keys are never
/// deleted from the only node that has them. Slot moves keep it by construction (`SlotHandover`:
/// the target claims a group only once every key arrived, and the source deletes its copy and
/// gives the slots up only after that claim, in one script). Whatever a crash leaves, the
/// planner restores it from Redis' own state, in this order:
/// 1. a slot no live primary claims is claimed by the primary holding its keys (one importing it
///    first: a hand-over cut short after the source gave it up), else by its shard's primary;
/// 2. a slot two live primaries claim is left to Redis, whose epoch rule settles it within a
///    gossip round; the hand-over makes the higher epoch always the one with every key (a
///    target claims only after all keys arrived, bumping its epoch);
/// 3. an open migration no move explains is closed, its copies discarded first (the slot's
///    owner holds every key);
/// 4. keys a node holds in a slot its shard does not serve (left where a crash cut a hand-over
///    short) are deleted through its primary, so no stale value can resurface;
/// 5. only then are slots moved towards the stored layout, and drained shards retired.
/// The same observation always gives the same next step, so a control plane killed anywhere
/// carries on from what the nodes report when it comes back.
extension ClusterPlanner {
    /// How many slots one `moveSlots` step takes: big enough to pipeline well, small enough that
    /// the loop observes (and a failover can intervene) between steps.
    public static let slotsPerMove = 1024

    /// How long a drained shard's primary must have answered no client with `-MOVED` before it
    /// is retired: clients with a stale map are sent on while it lives; a dead one would give
    /// them connection errors (valkey-glide reports those; it relearns the map within ~2 s).
    public static let drainQuietMilliseconds: Int64 = 2000

    /// What restoring the invariant and reaching the stored layout still needs.
    public struct SlotWork: Equatable, Sendable {
        /// Slots no live primary claims, by the node that is to claim them.
        public var claims: [String: [Int]] = [:]
        /// Slots more than one live primary claims (Redis settles them by config epoch).
        public var contested: [Int] = []
        /// Slots to move, by source and target node.
        public var moves: [Move] = []
        /// Open migrations no move explains (left by a crash, or by a layout since changed).
        public var stale: [String: [Int]] = [:]
        /// Keys where they do not belong, by the primary that purges them (its own or its
        /// replicas'), with each slot's owner.
        public var strays: [String: [Int]] = [:]
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

        public var isDone: Bool {
            claims.isEmpty && contested.isEmpty && moves.isEmpty && waiting == 0 && stale.isEmpty && strays.isEmpty && drained.isEmpty
                && draining.isEmpty
        }
    }

    /// For each slot, the live primaries that claim it in their own view.
    static func claimants(_ observed: ObservedCluster) -> [[String]] {
        var claimants = [[String]](repeating: [], count: SlotRange.slotCount)
        for node in observed.nodes where node.report?.isPrimary ?? false {
            for range in node.report?.myself?.slots ?? [] {
                for slot in range.first...range.last { claimants[slot].append(node.record.name) }
            }
        }
        return claimants
    }

    /// Slots no live primary claims, once every node answers (before that, a silent primary may
    /// be the owner: that is the failover's business). Nil while some node does not answer.
    public static func unclaimedSlots(_ observed: ObservedCluster) -> [Int]? {
        guard observed.nodes.allSatisfy({ $0.report != nil }) else { return nil }
        // Before bootstrap assigns anything, nothing is "unclaimed": it is unassigned.
        guard observed.nodes.contains(where: { $0.report?.servesSlots ?? false }) else { return [] }
        return claimants(observed).enumerated().filter { $0.element.isEmpty }.map(\.offset)
    }

    public static func slotWork(_ observed: ObservedCluster) -> SlotWork {
        var work = SlotWork()
        let claimants = claimants(observed)
        let names = Dictionary(observed.nodes.compactMap { node in node.report.map { ($0.myID, node.record.name) } }) { first, _ in first }
        let layoutOwner = layoutOwners(observed)
        // 1. Unclaimed slots: the importer, else the node with the most keys, else the layout's.
        if let unclaimed = unclaimedSlots(observed), !unclaimed.isEmpty {
            let primaries = observed.nodes.filter { $0.report?.isPrimary ?? false }
            for slot in unclaimed {
                let importer = primaries.first { $0.report?.myself?.importing[slot] != nil }?.record.name
                let holder = observed.slotKeys[slot]?.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }?.key
                guard let claimer = importer ?? holder ?? layoutOwner[slot] else { continue }
                work.claims[claimer, default: []].append(slot)
            }
        }
        work.contested = claimants.enumerated().filter { $0.element.count > 1 }.map(\.offset)
        let contested = Set(work.contested)
        // 5. Moves. Only recorded primaries count as sources: a node of the same shard that still
        // claims its slots (an old primary back after a failover, before it hears of it) is the
        // failover's business, and its stale keys must never be moved over the new primary's.
        let recorded = Set(observed.shards.map(\.primaryNode))
        var moves: [String: [String: [Int]]] = [:]
        for shard in observed.shards {
            guard let target = observed.node(shard.primaryNode), target.report?.isPrimary ?? false, let ranges = try? shard.slotRanges() else { continue }
            for range in ranges {
                for slot in range.first...range.last where !contested.contains(slot) {
                    for source in claimants[slot] where source != target.record.name && recorded.contains(source) {
                        moves[source, default: [:]][target.record.name, default: []].append(slot)
                    }
                }
            }
        }
        // 3. An open migration is explained by a move still to make between the same two nodes
        // (or, for an import of a slot nobody claims, by the claim above).
        let claimed = Set(work.claims.values.joined())
        for node in observed.nodes where node.report?.isPrimary ?? false {
            guard let myself = node.report?.myself else { continue }
            let name = node.record.name
            var stale: [Int] = []
            for (slot, id) in myself.migrating where !(moves[name]?[names[id] ?? ""]?.contains(slot) ?? false) { stale.append(slot) }
            for (slot, id) in myself.importing where !claimed.contains(slot) && !(moves[names[id] ?? ""]?[name]?.contains(slot) ?? false) {
                stale.append(slot)
            }
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
        // A slot can be stale for both reasons above; it is closed once.
        for (node, slots) in work.stale { work.stale[node] = Array(Set(slots)).sorted() }
        planStraysAndDrains(observed, claimants: claimants, into: &work)
        return work
    }

    /// 4. Stray keys, and shards beyond the cluster's count still serving or drained.
    static func planStraysAndDrains(_ observed: ObservedCluster, claimants: [[String]], into work: inout SlotWork) {
        // 4. Stray keys, purged through their shard's primary once the slot has one owner
        // elsewhere (never the only copy: the owner holds every key).
        for (name, slots) in observed.strayKeys {
            guard let node = observed.node(name), let primary = observed.shards.first(where: { $0.shardIndex == node.record.shardIndex })?.primaryNode
            else { continue }
            let settled = slots.filter { slot in claimants[slot].count == 1 && claimants[slot][0] != primary }
            if !settled.isEmpty { work.strays[primary, default: []] += settled }
        }
        for (primary, slots) in work.strays { work.strays[primary] = Array(Set(slots)).sorted() }
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
    }

    /// The recorded primary the stored layout gives each slot to.
    static func layoutOwners(_ observed: ObservedCluster) -> [Int: String] {
        var owners: [Int: String] = [:]
        for shard in observed.shards {
            for range in (try? shard.slotRanges()) ?? [] {
                for slot in range.first...range.last { owners[slot] = shard.primaryNode }
            }
        }
        return owners
    }

    /// Which node serves each slot in one node's view (its own line and its peers').
    static func viewedOwners(_ report: NodeObservation) -> [Int: String] {
        var owners: [Int: String] = [:]
        for member in report.members where member.isPrimary {
            for range in member.slots { for slot in range.first...range.last { owners[slot] = member.id } }
        }
        return owners
    }

    /// While part of the cluster is away (a node restarting, a failover running), slots still
    /// move between shards that are whole and untouched: a target killed mid-reshard holds up
    /// only the moves to its own shard. Repairs wait for the whole cluster to answer.
    static func planMovesAroundTrouble(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let busy = Set(observed.operations.map(\.shardIndex))
        let whole = Set(observed.shards.map(\.shardIndex).filter { shard in
            !busy.contains(shard) && observed.nodes.filter { $0.record.shardIndex == shard }.allSatisfy { $0.report != nil && !$0.isHung }
        })
        let primaries = Set(observed.shards.filter { whole.contains($0.shardIndex) }.map(\.primaryNode))
        let work = slotWork(observed)
        var taken = Set<String>()
        for move in work.moves where primaries.contains(move.source) && primaries.contains(move.target) {
            guard !taken.contains(move.source), !taken.contains(move.target), let source = observed.node(move.source)?.report,
                let target = observed.node(move.target)?.report, source.knownPeerIDs.contains(target.myID), target.knownPeerIDs.contains(source.myID),
                target.clusterStateOK, source.clusterStateOK
            else { continue }
            plan.actions.append(.moveSlots(from: move.source, to: move.target, slots: SlotLayout.ranges(of: Array(move.slots.prefix(slotsPerMove)))))
            taken.formUnion([move.source, move.target])
        }
    }

    /// The next step towards the invariant and the layout: claim unclaimed slots, else close
    /// stale migrations, else purge stray keys, else move a batch of slots (once both nodes know
    /// each other), else retire a drained shard.
    static func planResharding(_ observed: ObservedCluster, into plan: inout ClusterPlan) {
        let work = slotWork(observed)
        if !work.claims.isEmpty {
            for (node, slots) in work.claims.sorted(by: { $0.key < $1.key }) {
                plan.actions.append(.claimSlots(node, slots: SlotLayout.ranges(of: slots.sorted())))
            }
            return
        }
        if let (node, slots) = work.stale.sorted(by: { $0.key < $1.key }).first {
            plan.actions.append(.stabilizeSlots(node, slots: SlotLayout.ranges(of: slots)))
            return
        }
        if let (primary, slots) = work.strays.sorted(by: { $0.key < $1.key }).first {
            plan.actions.append(.purgeStrayKeys(primary, slots: SlotLayout.ranges(of: slots)))
            return
        }
        // Moves between distinct pairs run at once (each source and each target in one move at
        // most): a source hands over one group at a time, so more sources go faster.
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
        if work.moves.isEmpty && work.waiting == 0 && work.contested.isEmpty, let shard = work.drained.first {
            if (observed.drainQuiet[shard] ?? 0) >= drainQuietMilliseconds {
                plan.actions.append(.retireShard(shard))
            } else {
                plan.waitMilliseconds = 200
            }
        }
    }
}
