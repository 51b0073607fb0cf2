import Ports
import Foundation
import Control
import Model
import Store

/// Resharding and slot ownership: slots moved between primaries (several pairs at once), open
/// migrations closed, unserved slots claimed, stray keys purged, drained shards and their nodes
/// retired.
struct ReshardingSteps: StepExecutor {
    let environment: StepEnvironment
    let slots: any SlotOwnership & ClusterMembership & NodeProcesses
    /// Which shards were last scanned for stray keys: a purge has its shard scanned again.
    let strayScans: StrayScanLedger

    func execute(_ step: ReconcileAction, _ context: StepContext) async throws -> StepOutcome {
        let cluster = context.cluster
        switch step {
        case .moveSlots(let from, let to, let ranges):
            await awaitSlotMapsAgree(context)
            try await moveSlots(from: from, to: to, ranges, context)
        case .stabilizeSlots(let name, let ranges):
            let closing = ranges.flatMap { Array($0.first...$0.last) }
            try await slots.stabilizeSlots(closing, on: try context.spec(name), owners: Self.owners(of: closing, context.observed))
            try environment.events.record(.migrationsClosed(node: name, slots: ranges), cluster: cluster.name)
        case .claimSlots(let name, let ranges):
            try await claimSlots(ranges, on: name, context)
        case .purgeStrayKeys(let primary, let ranges):
            try await purgeStrayKeys(ranges, through: primary, context)
        case .retireShard(let index):
            try environment.store.write { transaction in
                let members = try transaction.nodes(ofCluster: cluster.name).filter { $0.shardIndex == index }
                for member in members { try transaction.setStatus(ofNode: member.name, to: .deleting) }
                try transaction.deleteShard(index, ofCluster: cluster.name)
                try environment.events.record(.shardRetired(shard: index, members: members.map(\.name)), cluster: cluster.name, in: transaction)
            }
        case .retireNode(let name):
            try await retireNode(name, context)
        default:
            throw MisroutedStep(step: step, executor: "resharding")
        }
        return .done
    }

    /// Slot moves between distinct pairs of nodes, at once: each move's error, nil when it succeeded.
    func moveTogether(_ steps: [ReconcileAction], _ context: StepContext) async -> [(ReconcileAction, (any Error)?)] {
        await awaitSlotMapsAgree(context)
        return await withTaskGroup(of: (ReconcileAction, (any Error)?).self) { group in
            for step in steps {
                group.addTask {
                    do {
                        guard case .moveSlots(let from, let to, let ranges) = step else { throw MisroutedStep(step: step, executor: "resharding moves") }
                        try await self.moveSlots(from: from, to: to, ranges, context)
                        return (step, nil)
                    } catch {
                        return (step, error)
                    }
                }
            }
            var results: [(ReconcileAction, (any Error)?)] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    private func moveSlots(from: String, to: String, _ ranges: [SlotRange], _ context: StepContext) async throws {
        guard let sourceID = context.observed.node(from)?.report?.myID, let targetID = context.observed.node(to)?.report?.myID else { return }
        let primaries = Set(context.observed.shards.map(\.primaryNode))
        let others = try context.observed.nodes.filter { primaries.contains($0.record.name) && $0.record.name != from && $0.record.name != to }
            .map { try context.spec($0.record.name) }
        let clock = environment.configuration.clock
        let started = clock.monotonic
        let moving = ranges.flatMap { Array($0.first...$0.last) }
        let report = try await slots.moveSlots(
            moving, from: try context.spec(from), sourceID: sourceID, to: try context.spec(to), targetID: targetID, announcingTo: others)
        let summary = ClusterEvent.SlotMoveSummary(
            slots: ranges, slotCount: moving.count, keys: report.keys, fromShard: context.shardName(of: from), from: from, toShard: context.shardName(of: to),
            to: to, seconds: (clock.monotonic - started).seconds, groups: report.groups, longestHoldMilliseconds: report.longestHoldMilliseconds,
            longestHoldBreakdown: report.longestHoldBreakdown)
        try environment.events.record(.slotsMoved(summary), cluster: context.cluster.name)
    }

    /// New nodes, and the nodes that heard of new replicas, leave replicas out of their slot maps
    /// for a moment: moves start once every map agrees (at most one node timeout; a replica some
    /// node still leaves out then only costs clients a slower refresh). Once per batch of moves.
    private func awaitSlotMapsAgree(_ context: StepContext) async {
        // A node whose spec cannot be built fails the move itself, which reports why.
        guard let replicas = try? Self.replicasByPrimary(context),
            let answering = try? context.observed.nodes.filter({ $0.report != nil }).map({ try context.spec($0.record.name) })
        else { return }
        _ = await slots.awaitReplicasListed(replicas, by: answering, within: .seconds(5))
    }

    /// Each shard's primary port with the ports of its replicas that answer as replicas.
    private static func replicasByPrimary(_ context: StepContext) throws -> [Int: Set<Int>] {
        var replicas: [Int: Set<Int>] = [:]
        for shard in context.observed.shards {
            let members = context.observed.nodes.filter {
                $0.record.shardIndex == shard.shardIndex && $0.record.name != shard.primaryNode && $0.report?.isPrimary == false
            }
            replicas[try context.spec(shard.primaryNode).port] = Set(try members.map { try context.spec($0.record.name).port })
        }
        return replicas
    }

    /// Claims unserved slots on the node holding their keys.
    private func claimSlots(_ ranges: [SlotRange], on name: String, _ context: StepContext) async throws {
        let claimed = ranges.flatMap { Array($0.first...$0.last) }
        try await slots.claimSlots(claimed, on: try context.spec(name))
        let keys = claimed.reduce(0) { $0 + (context.observed.slotKeys[$1]?[name] ?? 0) }
        let importing = claimed.contains { context.observed.node(name)?.report?.myself?.importing[$0] != nil }
        try environment.events.record(.slotsClaimed(node: name, slots: ranges, keys: keys, afterCutHandover: importing), cluster: context.cluster.name)
    }

    /// The Redis id of each slot's one claimant (a primary claiming it in its own view); slots
    /// claimed by none or by several are left out.
    static func owners(of slots: [Int], _ observed: ObservedCluster) -> [Int: String] {
        let claimants = ClusterPlanner.claimants(observed)
        var owners: [Int: String] = [:]
        for slot in slots where claimants[slot].count == 1 {
            if let id = observed.node(claimants[slot][0])?.report?.myID { owners[slot] = id }
        }
        return owners
    }

    /// Deletes stray keys of a shard through its primary, then has the shard scanned again.
    private func purgeStrayKeys(_ ranges: [SlotRange], through primary: String, _ context: StepContext) async throws {
        let purged = ranges.flatMap { Array($0.first...$0.last) }
        let claimants = ClusterPlanner.claimants(context.observed)
        let owners = Self.owners(of: purged, context.observed)
        let ownerNames = Set(owners.keys.map { claimants[$0][0] })
        guard let shard = context.nodes[primary]?.shardIndex else { return }
        let copies = try context.observed.nodes.filter { $0.record.shardIndex == shard && $0.record.name != primary && $0.report != nil }
            .map { try context.spec($0.record.name) }
        let removed = try await slots.purgeStrayKeys(inSlots: purged, on: try context.spec(primary), owners: owners, copies: copies)
        strayScans.forget(cluster: context.cluster.name, shard: shard)
        try environment.events.record(
            .strayKeysRemoved(count: removed, slots: ranges, shard: shard, through: primary, owners: ownerNames.sorted()), cluster: context.cluster.name)
    }

    /// A node leaving the cluster for good: forgotten, its files deleted, its record removed.
    private func retireNode(_ name: String, _ context: StepContext) async throws {
        guard let record = context.nodes[name] else { return }
        if let id = record.redisNodeID {
            // Only the nodes that answer now: one that is down forgets it when it is back
            // (`forgetMembers`), and waiting for it here would keep it down.
            for other in context.nodes.values where other.name != name && other.status != .deleting && context.observed.node(other.name)?.report != nil {
                try await slots.forget(try context.spec(other.name), id: id)
            }
        }
        try slots.removeNodeFiles(try context.spec(name))
        try environment.store.write { transaction in
            try transaction.deleteNode(named: name)
            try environment.events.record(.nodeRemoved(node: name), cluster: context.cluster.name, in: transaction)
        }
    }
}
